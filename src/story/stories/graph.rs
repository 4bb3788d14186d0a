//! The story graph: scenes (nodes) the player moves through, each with its goal, its cast, the
//! transitions out of it (taken in the order listed, when their condition holds) and the state
//! updates made on entering it; conditions on world, player or character state; and the state
//! operations. The rules a graph keeps are in `super::rules`.

use async_graphql::{Enum, ID, InputObject, Json, SimpleObject};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Whose state a condition reads.
#[derive(Enum, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum ConditionScope {
    /// The world's state (the default).
    #[default]
    Global,
    /// The player's state.
    Player,
    /// One character's state.
    Character,
}

/// How a condition compares.
#[derive(Enum, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ConditionOp {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Greater than (numbers).
    Gt,
    /// Greater than or equal (numbers).
    Gte,
    /// Less than (numbers).
    Lt,
    /// Less than or equal (numbers).
    Lte,
    /// An array element, a substring, or an object key.
    Contains,
}

/// A condition on state: a missing value never matches.
#[derive(SimpleObject, InputObject, Serialize, Deserialize, Clone, Debug)]
#[graphql(input_name = "ConditionInput")]
pub struct Condition {
    /// Whose state it reads (GLOBAL when absent).
    #[serde(default)]
    #[graphql(default)]
    pub scope: ConditionScope,
    /// The character, for CHARACTER conditions.
    #[serde(default)]
    pub character: Option<ID>,
    /// The state key (a key of the bound schema).
    pub key: String,
    /// How it compares.
    pub op: ConditionOp,
    /// What it compares with.
    pub value: Json<Value>,
}

/// A way out of a node.
#[derive(SimpleObject, InputObject, Serialize, Deserialize, Clone, Debug)]
#[graphql(input_name = "TransitionInput")]
pub struct Transition {
    /// The node it leads to.
    pub to: String,
    /// Taken only when this holds; always when absent.
    #[serde(default)]
    pub condition: Option<Condition>,
}

/// What a state operation does.
#[derive(Enum, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateOperationType {
    /// Moves to `nodeId`.
    SetCurrentNode,
    /// Makes `characters` the active cast.
    SetActiveCharacters,
    /// Brings `character` into the scene.
    AddActiveCharacter,
    /// Takes `character` out of the scene.
    RemoveActiveCharacter,
    /// Sets the world's `key` to `value`.
    SetState,
    /// Removes the world's `key`.
    RemoveState,
    /// Sets the player's `key` to `value`.
    SetPlayerState,
    /// Removes the player's `key`.
    RemovePlayerState,
    /// Sets `character`'s `key` to `value`.
    SetCharacterState,
    /// Removes `character`'s `key`.
    RemoveCharacterState,
}

/// A change to a session's state (as the keeper and nodes' on-enter updates make them).
#[derive(SimpleObject, InputObject, Serialize, Deserialize, Clone, Debug)]
#[graphql(input_name = "StateOperationInput")]
pub struct StateOperation {
    /// What it does.
    #[serde(rename = "type")]
    #[graphql(name = "type")]
    pub op: StateOperationType,
    /// The node, for SET_CURRENT_NODE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_id: Option<String>,
    /// The cast, for SET_ACTIVE_CHARACTERS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub characters: Option<Vec<ID>>,
    /// The character, for the character operations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub character: Option<ID>,
    /// The state key, for the state operations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The value, for the SET_…_STATE operations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Json<Value>>,
}

impl StateOperation {
    /// An operation on one character alone (bringing them in, taking them out).
    pub fn on_character(op: StateOperationType, character: ID) -> Self {
        Self {
            op,
            node_id: None,
            characters: None,
            character: Some(character),
            key: None,
            value: None,
        }
    }
}

/// A scene of the story.
#[derive(SimpleObject, InputObject, Serialize, Deserialize, Clone, Debug)]
#[graphql(input_name = "StoryNodeInput")]
pub struct StoryNode {
    /// Unique in the graph (1 to 64 letters, digits, `_`, `-` or `.`).
    pub id: String,
    /// Its title (1 to 200 characters).
    pub title: String,
    /// What the scene is (up to 8,000 characters).
    #[serde(default)]
    #[graphql(default)]
    pub scene: String,
    /// What the player is after here (up to 2,000 characters).
    #[serde(default)]
    #[graphql(default)]
    pub goal: String,
    /// Who is in it (characters of the story's cast).
    #[serde(default)]
    #[graphql(default)]
    pub characters: Vec<ID>,
    /// The ways out, in the order they are tried.
    #[serde(default)]
    #[graphql(default)]
    pub transitions: Vec<Transition>,
    /// State updates made on entering it.
    #[serde(default)]
    #[graphql(default)]
    pub on_enter_updates: Vec<StateOperation>,
}

/// A story's graph.
#[derive(SimpleObject, InputObject, Serialize, Deserialize, Clone, Debug)]
#[graphql(input_name = "StoryGraphInput")]
pub struct StoryGraph {
    /// Where the story begins.
    pub start_node: String,
    /// Its scenes.
    pub nodes: Vec<StoryNode>,
}
