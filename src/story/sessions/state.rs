//! A session's state and the rules that move it: where the player is, who is in the scene,
//! the world's, the player's and each character's values; conditions read it (a missing value
//! never matches; ordered comparisons on numbers; `contains` is an array element, a substring
//! or an object key) and state operations change it, each checked first against the story's
//! schemas, cast and nodes, so an invalid one changes nothing.

use std::collections::{BTreeMap, HashSet};

use async_graphql::{ID, Json, SimpleObject};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::AppResult;
use crate::story::schemas::StateSchemaBody;
use crate::story::stories::graph::{
    Condition, ConditionOp, ConditionScope, StateOperation, StateOperationType, StoryGraph,
    StoryNode, Transition,
};
use crate::story::stories::rules::{Bindings, check_operation};

/// Where a session stands.
#[derive(SimpleObject, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct SessionState {
    /// The node the player is in.
    pub current_node: String,
    /// Who is in the scene.
    pub active_characters: Vec<ID>,
    /// The world's values (a JSON object).
    pub world: Json<Map<String, Value>>,
    /// The player's values (a JSON object).
    pub player: Json<Map<String, Value>>,
    /// Each character's values, by character id (a JSON object of objects).
    pub characters: Json<BTreeMap<String, Map<String, Value>>>,
    /// Turns played (0 before the first).
    pub turn_index: i32,
}

/// A schema's defaults: each field's default, else nothing (a missing value).
fn defaults(schema: Option<&StateSchemaBody>) -> Map<String, Value> {
    schema
        .into_iter()
        .flat_map(|schema| &schema.fields)
        .filter_map(|field| Some((field.key.clone(), field.default.as_ref()?.0.clone())))
        .collect()
}

/// A new session's state: the schemas' defaults, at the start node with its cast, its on-enter
/// updates made.
pub fn initial(graph: &StoryGraph, bindings: &Bindings<'_>) -> AppResult<SessionState> {
    let characters = bindings
        .cast
        .iter()
        .map(|id| (id.0.clone(), defaults(bindings.characters.get(&id.0))))
        .collect();
    let mut state = SessionState {
        world: Json(defaults(bindings.world)),
        player: Json(defaults(bindings.player)),
        characters: Json(characters),
        ..SessionState::default()
    };
    enter(&mut state, graph, &graph.start_node, bindings)?;
    Ok(state)
}

fn node<'a>(graph: &'a StoryGraph, id: &str) -> Option<&'a StoryNode> {
    graph.nodes.iter().find(|node| node.id == id)
}

/// Enters `node_id`: its cast becomes the scene's, its on-enter updates are made (a new
/// session's start: an update that does not fit refuses the start).
pub fn enter(
    state: &mut SessionState,
    graph: &StoryGraph,
    node_id: &str,
    bindings: &Bindings<'_>,
) -> AppResult<()> {
    enter_skipping(state, graph, node_id, bindings)
        .into_iter()
        .next()
        .map_or(Ok(()), Err)
}

/// Enters `node_id` as a turn does: an on-enter update that no longer fits (its schema was
/// edited after the story was saved) is skipped rather than fatal, so the session stays
/// playable; the refusals of those skipped.
pub fn enter_skipping(
    state: &mut SessionState,
    graph: &StoryGraph,
    node_id: &str,
    bindings: &Bindings<'_>,
) -> Vec<crate::error::AppError> {
    let Some(entered) = node(graph, node_id) else {
        return Vec::new();
    };
    state.current_node = entered.id.clone();
    state.active_characters = entered.characters.clone();
    entered
        .on_enter_updates
        .iter()
        .filter_map(|operation| apply(state, operation, graph, bindings).err())
        .collect()
}

/// Makes one operation after checking it (BAD_USER_INPUT, nothing changed, when it does not
/// fit the schemas, the cast or the graph).
pub fn apply(
    state: &mut SessionState,
    operation: &StateOperation,
    graph: &StoryGraph,
    bindings: &Bindings<'_>,
) -> AppResult<()> {
    let nodes: HashSet<String> = graph.nodes.iter().map(|n| n.id.clone()).collect();
    check_operation(operation, bindings, &nodes, "the session")?;
    use StateOperationType as Op;
    let key = operation.key.clone().unwrap_or_default();
    let value = operation
        .value
        .as_ref()
        .map(|v| v.0.clone())
        .unwrap_or(Value::Null);
    let character = operation
        .character
        .as_ref()
        .map(|c| c.0.clone())
        .unwrap_or_default();
    match operation.op {
        Op::SetCurrentNode => state.current_node = operation.node_id.clone().unwrap_or_default(),
        Op::SetActiveCharacters => {
            state.active_characters = operation.characters.clone().unwrap_or_default();
        }
        Op::AddActiveCharacter => {
            let id = ID(character);
            if !state.active_characters.contains(&id) {
                state.active_characters.push(id);
            }
        }
        Op::RemoveActiveCharacter => state.active_characters.retain(|c| c.0 != character),
        Op::SetState => {
            state.world.0.insert(key, value);
        }
        Op::RemoveState => {
            state.world.0.remove(&key);
        }
        Op::SetPlayerState => {
            state.player.0.insert(key, value);
        }
        Op::RemovePlayerState => {
            state.player.0.remove(&key);
        }
        Op::SetCharacterState => {
            state
                .characters
                .0
                .entry(character)
                .or_default()
                .insert(key, value);
        }
        Op::RemoveCharacterState => {
            if let Some(values) = state.characters.0.get_mut(&character) {
                values.remove(&key);
            }
        }
    }
    Ok(())
}

/// Whether `operation` is one of the six that change values (what variable updates may do).
pub fn is_variable_operation(operation: &StateOperation) -> bool {
    use StateOperationType as Op;
    matches!(
        operation.op,
        Op::SetState
            | Op::RemoveState
            | Op::SetPlayerState
            | Op::RemovePlayerState
            | Op::SetCharacterState
            | Op::RemoveCharacterState
    )
}

/// Whether `condition` holds in `state`.
pub fn holds(state: &SessionState, condition: &Condition) -> bool {
    let values = match condition.scope {
        ConditionScope::Global => Some(&state.world.0),
        ConditionScope::Player => Some(&state.player.0),
        ConditionScope::Character => condition
            .character
            .as_ref()
            .and_then(|id| state.characters.0.get(&id.0)),
    };
    let Some(actual) = values.and_then(|values| values.get(&condition.key)) else {
        return false;
    };
    let expected = &condition.value.0;
    let numbers = actual.as_f64().zip(expected.as_f64());
    match condition.op {
        ConditionOp::Eq => numbers.map_or(actual == expected, |(a, b)| a == b),
        ConditionOp::Ne => numbers.map_or(actual != expected, |(a, b)| a != b),
        ConditionOp::Gt => numbers.is_some_and(|(a, b)| a > b),
        ConditionOp::Gte => numbers.is_some_and(|(a, b)| a >= b),
        ConditionOp::Lt => numbers.is_some_and(|(a, b)| a < b),
        ConditionOp::Lte => numbers.is_some_and(|(a, b)| a <= b),
        ConditionOp::Contains => match actual {
            Value::Array(items) => items.contains(expected),
            Value::String(text) => expected.as_str().is_some_and(|part| text.contains(part)),
            Value::Object(fields) => expected
                .as_str()
                .is_some_and(|key| fields.contains_key(key)),
            _ => false,
        },
    }
}

/// The transition the director takes from the current node: the first, in the order the graph
/// lists them, whose condition holds (or that has none).
pub fn next_transition<'a>(state: &SessionState, graph: &'a StoryGraph) -> Option<&'a Transition> {
    node(graph, &state.current_node)?
        .transitions
        .iter()
        .find(|transition| {
            transition
                .condition
                .as_ref()
                .is_none_or(|c| holds(state, c))
        })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde_json::json;

    use super::*;

    fn parse<T: serde::de::DeserializeOwned>(value: Value) -> T {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn state_starts_from_defaults_moves_by_checked_operations_and_reads_by_conditions() {
        let world: StateSchemaBody = parse(json!({ "fields": [
            { "key": "day", "value_type": "int", "default": 1 },
            { "key": "bag", "value_type": "array", "default": ["rope"] },
            { "key": "mood", "value_type": "string", "enum_values": ["calm", "wild"] } ] }));
        let cast = [ID("arya".into())];
        let characters = HashMap::new();
        let bindings = Bindings {
            cast: &cast,
            world: Some(&world),
            player: None,
            characters: &characters,
        };
        let graph: StoryGraph = parse(json!({ "start_node": "gate", "nodes": [
            { "id": "gate", "title": "Gate", "characters": ["arya"],
              "on_enter_updates": [{ "type": "SetState", "key": "mood", "value": "calm" }],
              "transitions": [
                { "to": "hall", "condition": { "key": "day", "op": "gte", "value": 2 } },
                { "to": "yard" } ] },
            { "id": "hall", "title": "Hall" }, { "id": "yard", "title": "Yard" } ] }));
        let mut state = initial(&graph, &bindings).unwrap();
        assert_eq!(state.current_node, "gate");
        assert_eq!(state.active_characters, cast);
        assert_eq!(state.world.0["day"], json!(1));
        assert_eq!(state.world.0["mood"], json!("calm"));
        assert_eq!(
            next_transition(&state, &graph).unwrap().to,
            "yard",
            "the first that holds"
        );

        let set_day: StateOperation =
            parse(json!({ "type": "SetState", "key": "day", "value": 2 }));
        apply(&mut state, &set_day, &graph, &bindings).unwrap();
        assert_eq!(next_transition(&state, &graph).unwrap().to, "hall");
        let before = state.clone();
        for bad in [
            json!({ "type": "SetState", "key": "mood", "value": "sad" }),
            json!({ "type": "SetState", "key": "moon", "value": 1 }),
            json!({ "type": "AddActiveCharacter", "character": "hodor" }),
            json!({ "type": "SetCurrentNode", "node_id": "sea" }),
        ] {
            assert!(apply(&mut state, &parse(bad), &graph, &bindings).is_err());
        }
        assert_eq!(state, before, "a refused operation changes nothing");

        let condition = |op: &str, value: Value, key: &str| -> Condition {
            parse(json!({ "key": key, "op": op, "value": value }))
        };
        assert!(holds(&state, &condition("contains", json!("rope"), "bag")));
        assert!(
            holds(&state, &condition("eq", json!(2.0), "day")),
            "numbers compare as numbers"
        );
        assert!(!holds(&state, &condition("gt", json!("1"), "day")));
        assert!(holds(&state, &condition("contains", json!("al"), "mood")));
        assert!(
            !holds(&state, &condition("ne", json!(1), "missing")),
            "a missing value never matches"
        );
    }

    #[test]
    fn a_turn_skips_an_on_enter_update_that_no_longer_fits() {
        let world: StateSchemaBody = parse(json!({ "fields": [
            { "key": "day", "value_type": "int", "default": 1 } ] }));
        let characters = HashMap::new();
        let bindings = Bindings {
            cast: &[],
            world: Some(&world),
            player: None,
            characters: &characters,
        };
        let graph: StoryGraph = parse(json!({ "start_node": "a", "nodes": [
            { "id": "a", "title": "A", "transitions": [{ "to": "b" }] },
            { "id": "b", "title": "B", "on_enter_updates": [
                { "type": "SetState", "key": "gone", "value": 1 },
                { "type": "SetState", "key": "day", "value": 5 } ] } ] }));
        let mut state = initial(&graph, &bindings).unwrap();
        assert!(
            enter(&mut state.clone(), &graph, "b", &bindings).is_err(),
            "a session does not start on it"
        );
        let skipped = enter_skipping(&mut state, &graph, "b", &bindings);
        assert_eq!(skipped.len(), 1);
        assert_eq!(state.current_node, "b");
        assert_eq!(
            state.world.0["day"],
            json!(5),
            "the updates that fit are made"
        );
    }
}
