//! The rules a story graph keeps before it is saved ([`check`]): nodes and unique ids, the
//! start node, transition targets, **every node reachable from the start**, node casts within
//! the story's cast, and condition and update keys within the bound schemas (values of the
//! field's type, and among its enum values). [`check_operation`] also guards every state
//! operation a session makes.

use std::collections::{HashMap, HashSet, VecDeque};

use async_graphql::ID;
use serde_json::Value;

use super::graph::{
    Condition, ConditionOp, ConditionScope, StateOperation, StateOperationType, StoryGraph,
};
use crate::error::{AppError, AppResult};
use crate::story::schemas::{StateField, StateSchemaBody, ValueType, checked_key};

/// Most nodes one graph holds.
const MAX_NODES: usize = 500;
/// Most transitions or updates one node holds.
const MAX_PER_NODE: usize = 50;

/// What a graph is checked against: the story's cast and the schemas bound to it.
pub struct Bindings<'a> {
    pub cast: &'a [ID],
    pub world: Option<&'a StateSchemaBody>,
    pub player: Option<&'a StateSchemaBody>,
    /// Each character's schema, by character id.
    pub characters: &'a HashMap<String, StateSchemaBody>,
}

fn bad(message: String) -> AppError {
    AppError::bad_field("graph", message)
}

/// Checks `graph` against `bindings` and puts its text in stored form.
pub fn check(graph: &mut StoryGraph, bindings: &Bindings<'_>) -> AppResult<()> {
    check_shape(graph, bindings)?;
    unreachable_nodes(graph).map_or(Ok(()), |lost| {
        Err(bad(format!(
            "no path from the start node reaches {}",
            lost.iter()
                .map(|id| format!("`{id}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )))
    })
}

/// Every rule of [`check`] but reachability: what a graph still being drafted keeps (its
/// later sections may not be linked in yet).
pub fn check_shape(graph: &mut StoryGraph, bindings: &Bindings<'_>) -> AppResult<()> {
    if graph.nodes.is_empty() {
        return Err(bad("a story graph needs at least one node".into()));
    }
    if graph.nodes.len() > MAX_NODES {
        return Err(bad(format!(
            "a story graph holds at most {MAX_NODES} nodes"
        )));
    }
    let mut ids = HashSet::new();
    for node in &mut graph.nodes {
        node.id = checked_key("graph", &node.id)?;
        if !ids.insert(node.id.clone()) {
            return Err(bad(format!("the node id `{}` is used twice", node.id)));
        }
        check_text(&mut node.title, "title", 200, true)?;
        check_text(&mut node.scene, "scene", 8_000, false)?;
        check_text(&mut node.goal, "goal", 2_000, false)?;
        if node.transitions.len() > MAX_PER_NODE || node.on_enter_updates.len() > MAX_PER_NODE {
            return Err(bad(format!(
                "node `{}` takes at most {MAX_PER_NODE} transitions and {MAX_PER_NODE} updates",
                node.id
            )));
        }
    }
    graph.start_node = graph.start_node.trim().to_owned();
    if !ids.contains(&graph.start_node) {
        return Err(bad(format!(
            "the start node `{}` is not a node",
            graph.start_node
        )));
    }
    for node in &graph.nodes {
        for character in &node.characters {
            in_cast(bindings, character, &node.id)?;
        }
        for transition in &node.transitions {
            if !ids.contains(transition.to.trim()) {
                return Err(bad(format!(
                    "node `{}` leads to `{}`, which is not a node",
                    node.id, transition.to
                )));
            }
            if let Some(condition) = &transition.condition {
                check_condition(condition, bindings, &node.id)?;
            }
        }
        for operation in &node.on_enter_updates {
            check_operation(operation, bindings, &ids, &node.id)?;
        }
    }
    Ok(())
}

fn check_text(text: &mut String, field: &str, max: usize, required: bool) -> AppResult<()> {
    let trimmed = text.trim();
    if trimmed.chars().count() > max || trimmed.contains('\0') || (required && trimmed.is_empty()) {
        return Err(bad(format!("a node's {field} takes 1 to {max} characters")));
    }
    *text = trimmed.to_owned();
    Ok(())
}

/// The nodes no path from the start reaches (None when every node is reached).
fn unreachable_nodes(graph: &StoryGraph) -> Option<Vec<String>> {
    let edges: HashMap<&str, Vec<&str>> = graph
        .nodes
        .iter()
        .map(|node| {
            let to = node.transitions.iter().map(|t| t.to.trim()).collect();
            (node.id.as_str(), to)
        })
        .collect();
    let mut seen = HashSet::from([graph.start_node.as_str()]);
    let mut queue = VecDeque::from([graph.start_node.as_str()]);
    while let Some(id) = queue.pop_front() {
        for next in edges.get(id).into_iter().flatten() {
            if seen.insert(next) {
                queue.push_back(next);
            }
        }
    }
    let lost: Vec<String> = graph
        .nodes
        .iter()
        .filter(|node| !seen.contains(node.id.as_str()))
        .map(|node| node.id.clone())
        .collect();
    (!lost.is_empty()).then_some(lost)
}

fn in_cast(bindings: &Bindings<'_>, character: &ID, node: &str) -> AppResult<()> {
    if bindings.cast.iter().any(|member| member == character) {
        Ok(())
    } else {
        Err(bad(format!(
            "node `{node}` names the character {}, who is not in the story's cast",
            character.0
        )))
    }
}

/// The field `key` of the schema bound for `scope`.
fn field<'a>(
    bindings: &'a Bindings<'_>,
    scope: ConditionScope,
    character: Option<&ID>,
    key: &str,
    node: &str,
) -> AppResult<&'a StateField> {
    let (schema, whose) = match scope {
        ConditionScope::Global => (bindings.world, "the world".to_owned()),
        ConditionScope::Player => (bindings.player, "the player".to_owned()),
        ConditionScope::Character => {
            let character = character.ok_or_else(|| {
                bad(format!(
                    "node `{node}`: a character's state needs its `character`"
                ))
            })?;
            in_cast(bindings, character, node)?;
            (
                bindings.characters.get(&character.0),
                format!("character {}", character.0),
            )
        }
    };
    let schema = schema.ok_or_else(|| {
        bad(format!(
            "node `{node}` reads {whose}'s `{key}`, but no schema is bound for it"
        ))
    })?;
    schema.field(key).ok_or_else(|| {
        bad(format!(
            "node `{node}`: `{key}` is not a key of {whose}'s schema"
        ))
    })
}

fn check_condition(condition: &Condition, bindings: &Bindings<'_>, node: &str) -> AppResult<()> {
    let field = field(
        bindings,
        condition.scope,
        condition.character.as_ref(),
        &condition.key,
        node,
    )?;
    let ordered = matches!(
        condition.op,
        ConditionOp::Gt | ConditionOp::Gte | ConditionOp::Lt | ConditionOp::Lte
    );
    if ordered
        && !(condition.value.is_number()
            && matches!(field.value_type, ValueType::Int | ValueType::Float))
    {
        return Err(bad(format!(
            "node `{node}`: `{}` compares in order only numbers with a number field",
            condition.key
        )));
    }
    Ok(())
}

/// Checks one state operation against the bindings and the graph's nodes (`node` names where
/// it comes from, for the message).
pub fn check_operation(
    operation: &StateOperation,
    bindings: &Bindings<'_>,
    nodes: &HashSet<String>,
    node: &str,
) -> AppResult<()> {
    use StateOperationType as Op;
    let need = |what: &str| bad(format!("node `{node}`: {:?} needs `{what}`", operation.op));
    match operation.op {
        Op::SetCurrentNode => {
            let target = operation.node_id.as_deref().ok_or_else(|| need("nodeId"))?;
            if !nodes.contains(target) {
                return Err(bad(format!(
                    "node `{node}` moves to `{target}`, which is not a node"
                )));
            }
        }
        Op::SetActiveCharacters => {
            for character in operation
                .characters
                .as_ref()
                .ok_or_else(|| need("characters"))?
            {
                in_cast(bindings, character, node)?;
            }
        }
        Op::AddActiveCharacter | Op::RemoveActiveCharacter => {
            in_cast(
                bindings,
                operation
                    .character
                    .as_ref()
                    .ok_or_else(|| need("character"))?,
                node,
            )?;
        }
        Op::SetState
        | Op::RemoveState
        | Op::SetPlayerState
        | Op::RemovePlayerState
        | Op::SetCharacterState
        | Op::RemoveCharacterState => {
            let scope = match operation.op {
                Op::SetState | Op::RemoveState => ConditionScope::Global,
                Op::SetPlayerState | Op::RemovePlayerState => ConditionScope::Player,
                _ => ConditionScope::Character,
            };
            let key = operation.key.as_deref().ok_or_else(|| need("key"))?;
            let field = field(bindings, scope, operation.character.as_ref(), key, node)?;
            if matches!(
                operation.op,
                Op::SetState | Op::SetPlayerState | Op::SetCharacterState
            ) {
                let value = operation.value.as_ref().ok_or_else(|| need("value"))?;
                if !fits(field, value) {
                    return Err(bad(format!(
                        "node `{node}`: {} does not fit `{key}` ({:?}{})",
                        value.0,
                        field.value_type,
                        if field.enum_values.is_some() {
                            ", one of its enum values"
                        } else {
                            ""
                        }
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Whether `value` is of the field's type and among its enum values.
pub fn fits(field: &StateField, value: &Value) -> bool {
    field.value_type.fits(value)
        && field
            .enum_values
            .as_ref()
            .is_none_or(|values| values.iter().any(|allowed| allowed.0 == *value))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema(fields: Value) -> StateSchemaBody {
        serde_json::from_value(json!({ "fields": fields })).unwrap()
    }

    fn graph(value: Value) -> StoryGraph {
        serde_json::from_value(value).unwrap()
    }

    fn checked(value: Value) -> AppResult<()> {
        let world = schema(json!([
            { "key": "weather", "value_type": "string", "enum_values": ["rain", "sun"] },
            { "key": "day", "value_type": "int" }
        ]));
        let characters = HashMap::from([(
            "arya".to_owned(),
            schema(json!([{ "key": "trust", "value_type": "int" }])),
        )]);
        let cast = [ID("arya".into())];
        let bindings = Bindings {
            cast: &cast,
            world: Some(&world),
            player: None,
            characters: &characters,
        };
        check(&mut graph(value), &bindings)
    }

    fn node(id: &str, to: &[&str]) -> Value {
        json!({ "id": id, "title": id, "transitions": to.iter().map(|t| json!({ "to": t })).collect::<Vec<_>>() })
    }

    fn refusal(value: Value) -> String {
        match checked(value) {
            Err(AppError::BadInput { message, .. }) => message,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_graph_keeps_every_rule_before_it_is_saved() {
        let mut good = json!({ "start_node": "gate", "nodes": [node("gate", &["hall"]), node("hall", &["gate"])] });
        good["nodes"][0]["transitions"][0]["condition"] =
            json!({ "key": "day", "op": "gte", "value": 2 });
        good["nodes"][1]["characters"] = json!(["arya"]);
        good["nodes"][1]["on_enter_updates"] = json!([
            { "type": "SetState", "key": "weather", "value": "sun" },
            { "type": "SetCharacterState", "character": "arya", "key": "trust", "value": 4 }
        ]);
        assert!(checked(good.clone()).is_ok());

        let lost =
            json!({ "start_node": "gate", "nodes": [node("gate", &[]), node("cellar", &[])] });
        assert!(refusal(lost).contains("no path from the start node reaches `cellar`"));
        let nowhere = json!({ "start_node": "gate", "nodes": [node("gate", &["moon"])] });
        assert!(refusal(nowhere).contains("`moon`, which is not a node"));
        let twice =
            json!({ "start_node": "gate", "nodes": [node("gate", &[]), node("gate", &[])] });
        assert!(refusal(twice).contains("used twice"));
        assert!(
            refusal(json!({ "start_node": "x", "nodes": [node("gate", &[])] }))
                .contains("start node")
        );
        assert!(refusal(json!({ "start_node": "x", "nodes": [] })).contains("at least one node"));

        let mut stranger = good.clone();
        stranger["nodes"][1]["characters"] = json!(["hodor"]);
        assert!(refusal(stranger).contains("not in the story's cast"));
        let mut unknown_key = good.clone();
        unknown_key["nodes"][0]["transitions"][0]["condition"]["key"] = json!("moon");
        assert!(refusal(unknown_key).contains("not a key of the world's schema"));
        let mut text_order = good.clone();
        text_order["nodes"][0]["transitions"][0]["condition"] =
            json!({ "key": "weather", "op": "gt", "value": "rain" });
        assert!(refusal(text_order).contains("only numbers"));
        let mut player = good.clone();
        player["nodes"][0]["transitions"][0]["condition"]["scope"] = json!("player");
        assert!(refusal(player).contains("no schema is bound"));
        let mut off_enum = good.clone();
        off_enum["nodes"][1]["on_enter_updates"][0]["value"] = json!("snow");
        assert!(refusal(off_enum).contains("does not fit `weather`"));
        let mut untyped = good;
        untyped["nodes"][1]["on_enter_updates"][1]["value"] = json!("very");
        assert!(refusal(untyped).contains("does not fit `trust`"));
    }
}
