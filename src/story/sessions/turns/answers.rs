//! Reading the JSON agents' answers — the director's plan, the keeper's operations — and
//! filling the placeholders of a prompt. Models wrap JSON in prose or code fences and name
//! things loosely, so the reading is forgiving where the meaning is clear and bounded
//! everywhere: at most 8 beats, 4 character moves and 32 state operations a call.

use serde_json::{Map, Value};

use super::events::{BeatKind, BeatPurpose};
use crate::error::{AppError, AppResult};
use crate::story::stories::graph::StateOperation;

/// Most beats one plan plays.
pub const MAX_BEATS: usize = 8;
/// Most character moves one plan makes.
pub const MAX_ROLE_ACTIONS: usize = 4;
/// Most operations one keeper answer makes.
pub const MAX_OPERATIONS: usize = 32;
/// Most items of a plan read (valid or not), and most reasons for leaving one out.
const MAX_ITEMS: usize = 64;
const MAX_IGNORED: usize = 16;
/// Longest saved line of model text, in characters (as a transcript line may be).
pub const MAX_LINE_CHARS: usize = 20_000;

/// Model text as it is kept: without NUL or other control characters (but for line breaks
/// and tabs), at most [`MAX_LINE_CHARS`] characters.
pub fn clean(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .take(MAX_LINE_CHARS)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// A model's words quoted in a message: at most 40 characters.
fn quoted(text: &str) -> String {
    clean(text).chars().take(40).collect()
}

/// The JSON object in a model's answer: the whole answer, else what a code fence holds, else
/// what lies between its first `{` and its last `}`.
pub fn json_object(answer: &str) -> Option<Map<String, Value>> {
    let trimmed = answer.trim();
    let fenced = trimmed
        .strip_prefix("```json")
        .or_else(|| trimmed.strip_prefix("```"))
        .and_then(|rest| rest.trim_end().strip_suffix("```"));
    let braced = match (trimmed.find('{'), trimmed.rfind('}')) {
        (Some(start), Some(end)) if start < end => Some(&trimmed[start..=end]),
        _ => None,
    };
    [Some(trimmed), fenced, braced]
        .into_iter()
        .flatten()
        .find_map(|text| match serde_json::from_str(text) {
            Ok(Value::Object(object)) => Some(object),
            _ => None,
        })
}

/// A character move of the plan, as written.
#[derive(Clone, Debug, PartialEq)]
pub enum PlannedAction {
    Create {
        name: String,
        personality: Option<String>,
        description: Option<String>,
    },
    /// By id or name.
    Enter(String),
    /// By id or name.
    Leave(String),
}

/// A beat of the plan, as written.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedBeat {
    pub kind: BeatKind,
    /// The speaker's id or name (actors).
    pub speaker: Option<String>,
    pub purpose: BeatPurpose,
}

/// The director's plan.
#[derive(Debug, Default)]
pub struct Plan {
    pub actions: Vec<PlannedAction>,
    pub beats: Vec<PlannedBeat>,
    /// What was left out, and why.
    pub ignored: Vec<String>,
}

/// The text under the first of `keys` that holds one.
fn text(object: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter()
        .find_map(|key| object.get(*key)?.as_str())
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

/// A word as a name: lower case, `_` for spaces and dashes.
fn word(text: &str) -> String {
    text.trim().to_lowercase().replace([' ', '-'], "_")
}

fn purpose(written: Option<String>, kind: BeatKind) -> BeatPurpose {
    use BeatPurpose as P;
    match written.as_deref().map(word).as_deref() {
        Some("describe_transition" | "transition") => P::DescribeTransition,
        Some("describe_scene" | "scene") => P::DescribeScene,
        Some("describe_result" | "result") => P::DescribeResult,
        Some("advance_goal" | "goal") => P::AdvanceGoal,
        Some("react_to_player" | "react") => P::ReactToPlayer,
        Some("comment_on_scene" | "comment") => P::CommentOnScene,
        _ if kind == BeatKind::Narrator => P::DescribeResult,
        _ => P::ReactToPlayer,
    }
}

fn action(item: &Value) -> Result<PlannedAction, String> {
    let object = item
        .as_object()
        .ok_or("a role action that is not an object")?;
    let kind = text(object, &["type", "action", "kind"]).map(|k| word(&k));
    let who = text(object, &["character_id", "character", "id", "name"]);
    match kind.as_deref() {
        Some("create_and_enter" | "create") => Ok(PlannedAction::Create {
            name: text(object, &["name", "character_name"])
                .ok_or("a new character without a name")?,
            personality: text(object, &["personality"]),
            description: text(object, &["description", "appearance"]),
        }),
        Some("enter_scene" | "enter") => who
            .map(PlannedAction::Enter)
            .ok_or_else(|| "an entrance without its character".into()),
        Some("leave_scene" | "leave" | "exit") => who
            .map(PlannedAction::Leave)
            .ok_or_else(|| "an exit without its character".into()),
        other => Err(format!("an unknown role action {:?}", other.map(quoted))),
    }
}

fn beat(item: &Value) -> Result<PlannedBeat, String> {
    let object = item.as_object().ok_or("a beat that is not an object")?;
    let speaker = text(
        object,
        &["speaker_id", "speaker", "character_id", "character"],
    );
    let kind = match text(object, &["type", "kind", "agent"])
        .map(|k| word(&k))
        .as_deref()
    {
        Some("narrator" | "narration") => BeatKind::Narrator,
        Some("actor" | "character" | "dialogue") => BeatKind::Actor,
        None if speaker.is_some() => BeatKind::Actor,
        None => BeatKind::Narrator,
        Some(other) => return Err(format!("a beat of unknown kind `{}`", quoted(other))),
    };
    if kind == BeatKind::Actor && speaker.is_none() {
        return Err("an actor's beat without its speaker".into());
    }
    Ok(PlannedBeat {
        kind,
        speaker: speaker.filter(|_| kind == BeatKind::Actor),
        purpose: purpose(text(object, &["purpose", "intent"]), kind),
    })
}

fn list<'a>(object: &'a Map<String, Value>, keys: &[&str]) -> &'a [Value] {
    keys.iter()
        .find_map(|key| object.get(*key)?.as_array())
        .map_or(&[], Vec::as_slice)
}

/// The director's plan in its answer (`{"role_actions": [...], "beats": [...]}`); an answer
/// without a JSON object fails the call (as the provider's fault).
pub fn director_plan(answer: &str) -> AppResult<Plan> {
    let object = json_object(answer)
        .ok_or_else(|| AppError::Upstream("the director's answer held no JSON plan".into()))?;
    let mut plan = Plan::default();
    let ignore = |ignored: &mut Vec<String>, why: String| {
        if ignored.len() < MAX_IGNORED {
            ignored.push(why);
        }
    };
    let actions = list(&object, &["role_actions", "roleActions", "actions"]);
    for item in actions.iter().take(MAX_ITEMS) {
        match action(item) {
            Ok(_) if plan.actions.len() == MAX_ROLE_ACTIONS => {
                let why = format!("more than {MAX_ROLE_ACTIONS} role actions");
                ignore(&mut plan.ignored, why);
                break;
            }
            Ok(action) => plan.actions.push(action),
            Err(why) => ignore(&mut plan.ignored, why),
        }
    }
    for item in list(&object, &["beats"]).iter().take(MAX_ITEMS) {
        match beat(item) {
            Ok(_) if plan.beats.len() == MAX_BEATS => {
                ignore(&mut plan.ignored, format!("more than {MAX_BEATS} beats"));
                break;
            }
            Ok(beat) => plan.beats.push(beat),
            Err(why) => ignore(&mut plan.ignored, why),
        }
    }
    Ok(plan)
}

/// The keeper's operations in its answer (`{"operations": [...]}`): each read as a state
/// operation, or given back as written with why it is not one.
pub fn keeper_operations(answer: &str) -> AppResult<Vec<Result<StateOperation, (Value, String)>>> {
    let object = json_object(answer)
        .ok_or_else(|| AppError::Upstream("the keeper's answer held no JSON operations".into()))?;
    let items = list(&object, &["operations", "ops", "updates"]);
    let mut read: Vec<_> = items
        .iter()
        .take(MAX_OPERATIONS)
        .map(|item| {
            // PostgreSQL keeps no NUL in text or JSON: such a value would fail the save.
            if item.to_string().contains("\\u0000") {
                return Err((Value::Null, "a value with a NUL character".to_owned()));
            }
            serde_json::from_value::<StateOperation>(item.clone())
                .map_err(|error| (item.clone(), format!("not a state operation: {error}")))
        })
        .collect();
    if let Some(extra) = items.get(MAX_OPERATIONS) {
        read.push(Err((
            extra.clone(),
            format!("more than {MAX_OPERATIONS} operations: the rest were left out"),
        )));
    }
    Ok(read)
}

/// `text` with `{{char}}`, `{{user}}` and `{{field}}` filled in (a field from `values`: the
/// character's state over its schema's defaults); unknown placeholders are left as they are.
pub fn fill(
    text: &str,
    character: Option<&str>,
    user: &str,
    values: &Map<String, Value>,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let key = after[..end].trim();
        let filled = match key {
            "char" => character.map(str::to_owned),
            "user" => Some(user.to_owned()),
            _ => values.get(key).map(|value| match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            }),
        };
        match filled {
            Some(value) => out.push_str(&value),
            None => out.push_str(&rest[start..start + 4 + end]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_plan_is_read_from_fenced_or_wrapped_json_and_bounded() {
        let answer = "Here is the plan:\n```json\n{\"role_actions\": [{\"type\": \"create_and_enter\", \"name\": \"Guard\"}, {\"type\": \"leave scene\", \"character\": \"Arya\"}, {\"type\": \"dance\"}], \"beats\": [{\"type\": \"narrator\", \"purpose\": \"describe scene\"}, {\"speaker_id\": \"arya\"}, {\"type\": \"actor\"}]}\n```";
        let plan = director_plan(answer).unwrap();
        assert_eq!(plan.actions.len(), 2);
        assert_eq!(plan.actions[1], PlannedAction::Leave("Arya".into()));
        assert_eq!(plan.beats[0].purpose, BeatPurpose::DescribeScene);
        assert_eq!(plan.beats[1].kind, BeatKind::Actor);
        assert_eq!(plan.beats[1].purpose, BeatPurpose::ReactToPlayer);
        assert_eq!(plan.ignored.len(), 2, "{:?}", plan.ignored);
        assert!(director_plan("no plan today").is_err());
        let many = json!({ "beats": vec![json!({"type": "narrator"}); 20] }).to_string();
        assert_eq!(director_plan(&many).unwrap().beats.len(), MAX_BEATS);
    }

    #[test]
    fn keeper_operations_are_read_one_by_one() {
        let answer = r#"{"operations": [{"type": "SetState", "key": "day", "value": 2}, {"type": "Explode"}]}"#;
        let read = keeper_operations(answer).unwrap();
        assert!(read[0].is_ok());
        assert!(
            read[1]
                .as_ref()
                .unwrap_err()
                .1
                .starts_with("not a state operation")
        );
    }

    #[test]
    fn placeholders_are_filled_and_unknown_ones_kept() {
        let values = json!({ "mood": "grim", "hp": 3 });
        let filled = fill(
            "{{char}} greets {{ user }} ({{mood}}, {{hp}}) {{nope}} {{open",
            Some("Arya"),
            "Jon",
            values.as_object().unwrap(),
        );
        assert_eq!(filled, "Arya greets Jon (grim, 3) {{nope}} {{open");
        assert_eq!(fill("{{char}}", None, "Jon", &Map::new()), "{{char}}");
    }
}
