//! What each agent of a turn is told, by the context keys its prompt refers to: the scene, who
//! is in it, the state, the shared history (the preset's window of it: the transcript's last
//! lines, this turn's included), the lore the scene and the input bring up, an actor's own
//! memory.

use serde_json::{Map, Value, json};

use super::super::SessionBody;
use super::super::characters::SessionCharacter;
use super::events::{Beat, BeatPurpose};
use crate::story::characters::CharacterBody;
use crate::story::library::Stored;
use crate::story::lore;
use crate::story::lorebooks::LorebookBody;
use crate::story::stories::graph::StoryNode;
use crate::story::stories::service::Bound;

/// A line of the shared history (or an actor's thought).
#[derive(Clone, Debug)]
pub struct Line {
    /// `player_input`, `narration`, `dialogue`, `action` or `thought`.
    pub kind: &'static str,
    pub speaker_id: Option<String>,
    pub speaker_name: Option<String>,
    pub text: String,
}

impl Line {
    pub fn is_thought(&self) -> bool {
        self.kind == "thought"
    }

    /// The line as the history tells it.
    pub fn told(&self) -> String {
        match (self.kind, self.speaker_name.as_deref()) {
            ("action", Some(name)) => format!("{name} (acts): {}", self.text),
            (_, Some(name)) => format!("{name}: {}", self.text),
            (_, None) => self.text.clone(),
        }
    }
}

/// A kind of transcript line as stored.
pub fn kind_of(stored: &str) -> &'static str {
    match stored {
        "player_input" => "player_input",
        "dialogue" => "dialogue",
        "action" => "action",
        "thought" => "thought",
        _ => "narration",
    }
}

/// The last `limit` lines of shared history (thoughts left out), oldest first.
pub fn history(before: &[Line], this_turn: &[Line], limit: i32) -> String {
    let lines: Vec<&Line> = before
        .iter()
        .chain(this_turn)
        .filter(|line| !line.is_thought())
        .collect();
    let limit = usize::try_from(limit).unwrap_or(0);
    lines[lines.len().saturating_sub(limit)..]
        .iter()
        .map(|line| line.told())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A node as a prompt tells it.
pub fn scene(node: Option<&StoryNode>) -> String {
    let Some(node) = node else {
        return String::new();
    };
    let mut told = vec![node.title.clone()];
    if !node.scene.is_empty() {
        told.push(node.scene.clone());
    }
    if !node.goal.is_empty() {
        told.push(format!("Goal: {}", node.goal));
    }
    told.join("\n")
}

/// Who a character is, as a prompt tells it.
pub fn card_profile(card: &CharacterBody) -> String {
    let mut told = vec![card.name.clone()];
    told.extend(card.personality.clone());
    told.extend(card.style.as_ref().map(|style| format!("Style: {style}")));
    told.join("\n")
}

pub fn session_profile(character: &SessionCharacter) -> String {
    let mut told = vec![character.name.clone()];
    told.extend(character.personality.clone());
    told.extend(character.description.clone());
    told.join("\n")
}

/// Everyone who may take part, with their ids, marked when in the scene.
pub fn characters(cards: &[Stored<CharacterBody>], body: &SessionBody) -> String {
    let in_scene = |id: &str| {
        if body.state.active_characters.iter().any(|c| c.0 == id) {
            " [in the scene]"
        } else {
            ""
        }
    };
    let cast = cards.iter().map(|card| {
        let id = card.id.to_string();
        let about = card.body.personality.as_deref().unwrap_or_default();
        format!("- {} (id {id}){}: {about}", card.body.name, in_scene(&id))
    });
    let temporary = body.session_characters.iter().map(|c| {
        let about = c.personality.as_deref().unwrap_or_default();
        format!("- {} (id {}){}: {about}", c.name, c.id.0, in_scene(&c.id.0))
    });
    cast.chain(temporary)
        .map(|line| line.trim_end_matches([' ', ':']).to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The lore the scene, the recent history and the input bring up.
pub fn lore_for(
    books: &[LorebookBody],
    node: Option<&StoryNode>,
    history: &str,
    input: &str,
) -> String {
    let text = format!("{}\n{history}\n{input}", scene(node));
    lore::for_turn(books, &text)
}

fn purpose(purpose: BeatPurpose) -> &'static str {
    match purpose {
        BeatPurpose::DescribeTransition => "describe the move into this scene",
        BeatPurpose::DescribeScene => "describe the scene",
        BeatPurpose::DescribeResult => "describe what the player's action led to",
        BeatPurpose::AdvanceGoal => "work toward your goal in this scene",
        BeatPurpose::ReactToPlayer => "react to the player",
        BeatPurpose::CommentOnScene => "comment on the scene",
    }
}

/// The beat as its narrator or actor is told it.
pub fn beat(beat: &Beat, node: Option<&StoryNode>) -> String {
    let goal = node.map(|n| n.goal.as_str()).unwrap_or_default();
    if goal.is_empty() {
        format!("Your beat: {}.", purpose(beat.purpose))
    } else {
        format!(
            "Your beat: {}. The scene's goal: {goal}",
            purpose(beat.purpose)
        )
    }
}

/// The state schemas, as the keeper is told them.
pub fn schemas(bound: &Bound) -> Value {
    json!({
        "world": bound.world,
        "player": bound.player,
        "characters": bound.characters,
    })
}

/// Builds a context from `(key, value)` pairs.
pub fn of<const N: usize>(pairs: [(&str, Value); N]) -> Map<String, Value> {
    pairs
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect()
}
