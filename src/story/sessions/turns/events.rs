//! What a turn's stream says, in order: each event numbered from 1 in its turn (`sequence`),
//! so a client sees at once if one is missing or out of place.

use async_graphql::{Enum, ID, Json, SimpleObject, Union};
use serde_json::Value;

use super::super::characters::SessionCharacter;
use super::super::snapshot::SessionSnapshot;
use crate::story::groups::AgentRole;
use crate::story::stories::graph::StateOperation;

/// A stage of a turn (where a failed turn stopped).
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TurnStage {
    /// Recording the player's input.
    RecordInput,
    /// The keeper reading the input.
    KeeperAfterInput,
    /// The director moving the story and planning the answer.
    Director,
    /// A narrator's beat.
    Narrator,
    /// An actor's beat.
    Actor,
    /// The keeper reading the answer.
    KeeperAfterOutputs,
    /// Saving the turn.
    Save,
}

/// One model call of a turn and what it cost.
#[derive(SimpleObject, Clone, Debug)]
pub struct TurnUsage {
    /// The agent that called.
    pub agent: AgentRole,
    /// The stage it called in.
    pub stage: TurnStage,
    /// The beat, for narrators and actors (0 is the first).
    pub beat: Option<i32>,
    /// The model asked.
    pub model: String,
    /// Tokens of the prompt, as the provider counted them.
    pub prompt_tokens: Option<u32>,
    /// Tokens of the answer, as the provider counted them.
    pub completion_tokens: Option<u32>,
    /// BrainBits taken (0 when not metered).
    pub charged: i64,
}

/// The turn began.
#[derive(SimpleObject, Clone, Debug)]
pub struct TurnStarted {
    /// 1 for the first event of a turn, then one more for each.
    pub sequence: i32,
    /// The turn's id (`cancelTurn` takes the session's id).
    pub turn_id: ID,
    /// The turn played (the session's turn count once it completes).
    pub turn_index: i32,
    /// The session's version the turn started from.
    pub session_version: i32,
}

/// The player's input is in the shared history.
#[derive(SimpleObject, Clone, Debug)]
pub struct PlayerInputRecorded {
    /// Its place in the turn's events.
    pub sequence: i32,
    /// The input, trimmed.
    pub text: String,
    /// The player's name as the story knows it.
    pub speaker_name: String,
}

/// When the keeper read the story.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeeperPhase {
    /// After the player's input (it may not move the story to another node).
    AfterInput,
    /// After the turn's narration and dialogue.
    AfterOutputs,
}

/// An operation the keeper asked for that was not made.
#[derive(SimpleObject, Clone, Debug)]
pub struct RejectedOperation {
    /// The operation as the keeper wrote it.
    pub operation: Json<Value>,
    /// Why it was not made.
    pub reason: String,
}

/// The keeper's operations were checked and the valid ones made.
#[derive(SimpleObject, Clone, Debug)]
pub struct KeeperApplied {
    /// Its place in the turn's events.
    pub sequence: i32,
    /// When it read the story.
    pub phase: KeeperPhase,
    /// The operations made, in order.
    pub applied: Vec<StateOperation>,
    /// The operations refused (each changed nothing).
    pub rejected: Vec<RejectedOperation>,
}

/// A beat's kind.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BeatKind {
    /// The narrator tells it.
    Narrator,
    /// A character in the scene plays it.
    Actor,
}

/// What a beat is for.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BeatPurpose {
    /// The narrator describes the move to a new scene.
    DescribeTransition,
    /// The narrator describes the scene.
    DescribeScene,
    /// The narrator describes what the player's action led to.
    DescribeResult,
    /// A character works toward the scene's goal.
    AdvanceGoal,
    /// A character reacts to the player.
    ReactToPlayer,
    /// A character comments on the scene.
    CommentOnScene,
}

/// One beat of the director's plan.
#[derive(SimpleObject, Clone, Debug)]
pub struct Beat {
    /// Who tells it.
    pub kind: BeatKind,
    /// The character who plays it (actors).
    pub speaker_id: Option<ID>,
    /// What it is for.
    pub purpose: BeatPurpose,
}

/// What the director does with the scene's characters.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleActionKind {
    /// A new session character is made and enters.
    CreateAndEnter,
    /// A character enters the scene.
    EnterScene,
    /// A character leaves the scene.
    LeaveScene,
}

/// One of the director's moves of a character.
#[derive(SimpleObject, Clone, Debug)]
pub struct RoleAction {
    /// What it does.
    pub kind: RoleActionKind,
    /// The character (for a new one, its id once made).
    pub character_id: Option<ID>,
    /// The character's name.
    pub name: Option<String>,
}

/// The transition the director took.
#[derive(SimpleObject, Clone, Debug)]
pub struct TakenTransition {
    /// The node left.
    pub from: String,
    /// The node entered.
    pub to: String,
}

/// The director moved the story (at most one hop) and planned the answer.
#[derive(SimpleObject, Clone, Debug)]
pub struct DirectorCompleted {
    /// Its place in the turn's events.
    pub sequence: i32,
    /// The transition taken: the first of the node's, in the graph's order, whose condition
    /// holds; null when none does.
    pub transition: Option<TakenTransition>,
    /// The node the turn plays in.
    pub node_id: String,
    /// The moves of characters, in order.
    pub role_actions: Vec<RoleAction>,
    /// The beats, in order.
    pub beats: Vec<Beat>,
    /// Parts of the director's plan left out, and why.
    pub ignored: Vec<String>,
}

/// A session character was made.
#[derive(SimpleObject, Clone, Debug)]
pub struct SessionCharacterCreated {
    /// Its place in the turn's events.
    pub sequence: i32,
    /// The character.
    pub character: SessionCharacter,
}

/// A character entered the scene.
#[derive(SimpleObject, Clone, Debug)]
pub struct SessionCharacterEntered {
    /// Its place in the turn's events.
    pub sequence: i32,
    /// Who.
    pub character_id: ID,
    /// Their name.
    pub name: String,
}

/// A character left the scene.
#[derive(SimpleObject, Clone, Debug)]
pub struct SessionCharacterLeft {
    /// Its place in the turn's events.
    pub sequence: i32,
    /// Who.
    pub character_id: ID,
    /// Their name.
    pub name: String,
}

/// A beat began.
#[derive(SimpleObject, Clone, Debug)]
pub struct BeatStarted {
    /// Its place in the turn's events.
    pub sequence: i32,
    /// The beat (0 is the first).
    pub beat: i32,
    /// Who tells it.
    pub kind: BeatKind,
    /// What it is for.
    pub purpose: BeatPurpose,
    /// The character playing it (actors).
    pub speaker_id: Option<ID>,
    /// Their name (actors).
    pub speaker_name: Option<String>,
}

/// Which text a delta adds to.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextChannel {
    /// The narrator's prose.
    Narration,
    /// An actor's private thought.
    Thought,
    /// An actor's action.
    Action,
    /// An actor's words.
    Dialogue,
}

/// A piece of a beat's text as the model wrote it.
#[derive(SimpleObject, Clone, Debug)]
pub struct TextDelta {
    /// Its place in the turn's events.
    pub sequence: i32,
    /// The beat.
    pub beat: i32,
    /// Which text it adds to.
    pub channel: TextChannel,
    /// The piece.
    pub text: String,
}

/// A beat ended.
#[derive(SimpleObject, Clone, Debug)]
pub struct BeatCompleted {
    /// Its place in the turn's events.
    pub sequence: i32,
    /// The beat.
    pub beat: i32,
    /// The narration (narrators).
    pub narration: Option<String>,
    /// The thought (actors; kept as the actor's memory, not shown to the player's history).
    pub thought: Option<String>,
    /// The action (actors).
    pub action: Option<String>,
    /// The words (actors).
    pub dialogue: Option<String>,
    /// The call and its cost.
    pub usage: TurnUsage,
}

/// The turn is saved.
#[derive(SimpleObject, Clone, Debug)]
pub struct TurnCompleted {
    /// Its place in the turn's events.
    pub sequence: i32,
    /// Turns played, this one included.
    pub turn_index: i32,
    /// The session as the turn left it.
    pub snapshot: SessionSnapshot,
    /// Every model call of the turn.
    pub usage: Vec<TurnUsage>,
    /// BrainBits the turn took in all.
    pub charged: i64,
    /// The tenant's BrainBits balance after the turn's last metered call (null when none was).
    pub balance: Option<i64>,
}

/// The turn failed or was cancelled: the session is exactly as it was before it.
#[derive(SimpleObject, Clone, Debug)]
pub struct TurnFailed {
    /// Its place in the turn's events.
    pub sequence: i32,
    /// Where it stopped.
    pub stage: TurnStage,
    /// The error's code (as `extensions.code` would say it); CANCELLED when cancelled.
    pub code: String,
    /// What went wrong.
    pub message: String,
    /// Whether it was cancelled (by `cancelTurn`, or the client leaving).
    pub cancelled: bool,
    /// The model calls made before it stopped (they are paid for: the provider answered).
    pub usage: Vec<TurnUsage>,
    /// BrainBits those calls took.
    pub charged: i64,
}

/// An event of a running turn.
#[derive(Union, Clone, Debug)]
pub enum TurnEvent {
    Started(TurnStarted),
    PlayerInputRecorded(PlayerInputRecorded),
    KeeperApplied(KeeperApplied),
    DirectorCompleted(DirectorCompleted),
    SessionCharacterCreated(SessionCharacterCreated),
    SessionCharacterEntered(SessionCharacterEntered),
    SessionCharacterLeft(SessionCharacterLeft),
    BeatStarted(BeatStarted),
    TextDelta(TextDelta),
    BeatCompleted(BeatCompleted),
    Completed(Box<TurnCompleted>),
    Failed(TurnFailed),
}

impl TurnEvent {
    /// Numbers the event.
    pub fn numbered(mut self, sequence: i32) -> Self {
        let slot = match &mut self {
            Self::Started(e) => &mut e.sequence,
            Self::PlayerInputRecorded(e) => &mut e.sequence,
            Self::KeeperApplied(e) => &mut e.sequence,
            Self::DirectorCompleted(e) => &mut e.sequence,
            Self::SessionCharacterCreated(e) => &mut e.sequence,
            Self::SessionCharacterEntered(e) => &mut e.sequence,
            Self::SessionCharacterLeft(e) => &mut e.sequence,
            Self::BeatStarted(e) => &mut e.sequence,
            Self::TextDelta(e) => &mut e.sequence,
            Self::BeatCompleted(e) => &mut e.sequence,
            Self::Completed(e) => &mut e.sequence,
            Self::Failed(e) => &mut e.sequence,
        };
        *slot = sequence;
        self
    }

    /// Whether it ends the turn's stream.
    pub fn is_last(&self) -> bool {
        matches!(self, Self::Completed(_) | Self::Failed(_))
    }
}
