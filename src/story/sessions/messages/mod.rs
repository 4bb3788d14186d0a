//! A session's transcript: the player's input and the story's narration, dialogue and actions,
//! in order by turn and sequence. Every member reads it; its session's owner (or a
//! WORLDBUILDER) writes it — turns append to it, and a player may correct or remove a line.

pub mod store;

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection as _;

use super::SessionBody;
use super::service::owned;
use crate::auth::Role;
use crate::context::ContextExt;
use crate::db::connection::{connection_type, page_of};
use crate::db::cursor::ConnectionArgs;
use crate::db::keyset::Window;
use crate::db::{parse_id, validate_text};
use crate::error::{AppError, AppResult};
use crate::story::library;
use store::{MessageRow, NewMessage};

/// Longest message, in characters.
const MAX_TEXT_CHARS: usize = 20_000;

/// What a transcript line is.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    /// What the player said or did.
    PlayerInput,
    /// The narrator's prose.
    Narration,
    /// A character's words.
    Dialogue,
    /// A character's action.
    Action,
    /// A character's private thought: their actor's memory, not the shared history (a
    /// player's view may hide it).
    Thought,
}

impl MessageKind {
    fn as_str(self) -> &'static str {
        match self {
            MessageKind::PlayerInput => "player_input",
            MessageKind::Narration => "narration",
            MessageKind::Dialogue => "dialogue",
            MessageKind::Action => "action",
            MessageKind::Thought => store::THOUGHT,
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "player_input" => MessageKind::PlayerInput,
            "dialogue" => MessageKind::Dialogue,
            "action" => MessageKind::Action,
            store::THOUGHT => MessageKind::Thought,
            _ => MessageKind::Narration,
        }
    }
}

/// A line of a session's transcript.
#[derive(SimpleObject)]
pub struct SessionMessage {
    /// Its place in the transcript (1 is the first).
    pub sequence: i32,
    /// The turn it belongs to.
    pub turn_index: i32,
    /// What it is.
    pub kind: MessageKind,
    /// Who spoke (a character's id), for dialogue and actions.
    pub speaker_id: Option<String>,
    /// The speaker's name as shown.
    pub speaker_name: Option<String>,
    /// The line.
    pub text: String,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<MessageRow> for SessionMessage {
    fn from(row: MessageRow) -> Self {
        Self {
            sequence: row.sequence,
            turn_index: row.turn_index,
            kind: MessageKind::parse(&row.kind),
            speaker_id: row.speaker_id,
            speaker_name: row.speaker_name,
            text: row.text,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

connection_type! {
    /// A session's transcript, a page at a time by cursor.
    pub struct SessionMessageConnection;
    /// A transcript line and its cursor.
    pub struct SessionMessageEdge(SessionMessage);
}

/// A new transcript line.
#[derive(InputObject)]
pub struct CreateSessionMessageInput {
    /// What it is.
    pub kind: MessageKind,
    /// Who spoke (a character's id).
    pub speaker_id: Option<String>,
    /// The speaker's name as shown (up to 100 characters).
    pub speaker_name: Option<String>,
    /// The line (1 to 20,000 characters).
    pub text: String,
    /// The turn it belongs to; the session's current turn when absent.
    pub turn_index: Option<i32>,
}

/// A change to a transcript line: only what is given changes.
#[derive(InputObject)]
pub struct UpdateSessionMessageInput {
    /// The line (1 to 20,000 characters).
    pub text: Option<String>,
    /// The speaker's name as shown (up to 100 characters).
    pub speaker_name: Option<String>,
}

fn checked_line(text: &str) -> AppResult<()> {
    validate_text("text", text, MAX_TEXT_CHARS)?;
    if text.trim().is_empty() {
        return Err(AppError::bad_field("text", "a line needs its text"));
    }
    Ok(())
}

fn checked_speaker(name: Option<&str>) -> AppResult<()> {
    name.map_or(Ok(()), |name| validate_text("speakerName", name, 100))
}

#[derive(Default)]
pub struct SessionMessageQuery;

#[Object]
impl SessionMessageQuery {
    /// A session's transcript by turn and sequence, a page at a time.
    async fn session_messages(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session.")] session_id: ID,
        #[graphql(desc = "How many to return after `after`: 1 to 200, 50 by default.")]
        first: Option<i32>,
        #[graphql(desc = "The cursor to go on after.")] after: Option<String>,
        #[graphql(desc = "How many to return before `before`: 1 to 200.")] last: Option<i32>,
        #[graphql(desc = "The cursor to go back from.")] before: Option<String>,
    ) -> AppResult<SessionMessageConnection> {
        let viewer = ctx.viewer()?;
        let id = parse_id("sessionId", &session_id)?;
        let cursors = ctx.cursors(format!("story/session-messages/{id}"))?;
        let window = cursors.window(ConnectionArgs {
            first,
            after,
            last,
            before,
        })?;
        let mut conn = ctx.conn().await?;
        if library::get::<SessionBody>(&mut conn, viewer, id)
            .await?
            .is_none()
        {
            return Err(AppError::not_found("story session not found"));
        }
        let rows = store::list(
            &mut conn,
            viewer.tenant_id,
            id,
            &Window::Keyset(window.clone()),
        )
        .await?;
        Ok(page_of(
            rows,
            &window,
            &cursors,
            |row| (row.turn_index, row.sequence),
            SessionMessage::from,
        )
        .into())
    }
}

#[derive(Default)]
pub struct SessionMessageMutation;

#[Object]
impl SessionMessageMutation {
    /// Appends a line to a session's transcript (its owner, or a WORLDBUILDER).
    async fn create_session_message(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session.")] session_id: ID,
        #[graphql(desc = "The line.")] input: CreateSessionMessageInput,
    ) -> AppResult<SessionMessage> {
        let viewer = ctx.viewer_with(Role::Player)?;
        let id = parse_id("sessionId", &session_id)?;
        checked_line(&input.text)?;
        checked_speaker(input.speaker_name.as_deref())?;
        if let Some(speaker) = &input.speaker_id {
            validate_text("speakerId", speaker, 100)?;
        }
        let mut conn = ctx.conn().await?;
        let row = conn
            .transaction::<_, AppError, _>(async |conn| {
                let session = owned(conn, viewer, id, None).await?.body;
                let new = NewMessage {
                    turn_index: input.turn_index.unwrap_or(session.state.turn_index).max(0),
                    kind: input.kind.as_str(),
                    speaker_id: input.speaker_id.as_deref(),
                    speaker_name: input.speaker_name.as_deref(),
                    text: &input.text,
                };
                store::append(conn, viewer.tenant_id, id, new).await
            })
            .await?;
        Ok(row.into())
    }

    /// Corrects a line of a session's transcript (its owner, or a WORLDBUILDER).
    async fn update_session_message(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session.")] session_id: ID,
        #[graphql(desc = "The line's sequence.")] sequence: i32,
        #[graphql(desc = "The changes; what is absent stays.")] input: UpdateSessionMessageInput,
    ) -> AppResult<SessionMessage> {
        let viewer = ctx.viewer_with(Role::Player)?;
        let id = parse_id("sessionId", &session_id)?;
        if let Some(text) = &input.text {
            checked_line(text)?;
        }
        checked_speaker(input.speaker_name.as_deref())?;
        let mut conn = ctx.conn().await?;
        let row = conn
            .transaction::<_, AppError, _>(async |conn| {
                owned(conn, viewer, id, None).await?;
                store::update(
                    conn,
                    viewer.tenant_id,
                    id,
                    sequence,
                    input.text.as_deref(),
                    input.speaker_name.as_deref(),
                )
                .await
            })
            .await?;
        row.map(SessionMessage::from)
            .ok_or_else(|| AppError::not_found("the session has no such line"))
    }

    /// Removes a line of a session's transcript (its owner, or a WORLDBUILDER).
    async fn delete_session_message(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session.")] session_id: ID,
        #[graphql(desc = "The line's sequence.")] sequence: i32,
    ) -> AppResult<bool> {
        let viewer = ctx.viewer_with(Role::Player)?;
        let id = parse_id("sessionId", &session_id)?;
        let mut conn = ctx.conn().await?;
        let deleted = conn
            .transaction::<_, AppError, _>(async |conn| {
                owned(conn, viewer, id, None).await?;
                store::delete(conn, viewer.tenant_id, id, sequence).await
            })
            .await?;
        if !deleted {
            return Err(AppError::not_found("the session has no such line"));
        }
        Ok(true)
    }
}
