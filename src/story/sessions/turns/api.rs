//! GraphQL of live play: `runTurn` (a subscription: the turn's events as they happen) and
//! `cancelTurn`.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, Subscription};
use futures_util::{Stream, StreamExt};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::events::TurnEvent;
use super::{Claimed, TurnRegistry, run, store};
use crate::auth::Role;
use crate::context::ContextExt;
use crate::db::{parse_id, validate_text};
use crate::error::{AppError, AppResult};
use crate::llm::service::LlmRuntime;
use crate::story::library;
use crate::story::sessions::SessionBody;
use crate::story::sessions::service::ensure_owner;

/// Longest player input, in characters.
const MAX_INPUT_CHARS: usize = 4_000;

fn checked_input(input: &str) -> AppResult<String> {
    validate_text("playerInput", input, MAX_INPUT_CHARS)?;
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(AppError::bad_field("playerInput", "say or do something"));
    }
    Ok(trimmed.to_owned())
}

#[derive(Default)]
pub struct TurnSubscription;

#[Subscription]
impl TurnSubscription {
    /// Plays a turn of a session (its owner, or a WORLDBUILDER) and streams it: turn started;
    /// player input recorded; keeper applied (after the input); director completed (the
    /// transition taken — the first of the node's, in the order the graph lists them, whose
    /// condition holds; one hop at most — and the plan); session characters created, entered
    /// or left; for each beat: started, text deltas, completed; keeper applied (after the
    /// answer); then turn completed with the session's snapshot and the turn's cost — or turn
    /// failed with its stage, the session left exactly as it was. One turn at a time per
    /// session (CONFLICT otherwise); leaving the stream cancels the turn.
    async fn run_turn(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session.")] session_id: ID,
        #[graphql(desc = "What the player says or does (1 to 4,000 characters).")]
        player_input: String,
    ) -> async_graphql::Result<impl Stream<Item = TurnEvent> + use<>> {
        let viewer = ctx.viewer_with(Role::Player)?.clone();
        let id = parse_id("sessionId", &session_id)?;
        let input = checked_input(&player_input)?;
        let platform = ctx.platform().clone();
        let runtime = ctx.part::<Arc<LlmRuntime>>()?.clone();
        let registry = ctx.part::<Arc<TurnRegistry>>()?.clone();
        let turn_id = Uuid::now_v7();
        {
            let mut conn = platform.pool.get().await.map_err(AppError::from)?;
            let session = library::get::<SessionBody>(&mut conn, &viewer, id)
                .await?
                .ok_or_else(|| AppError::not_found("story session not found"))?;
            ensure_owner(&viewer, &session.body)?;
            if !store::claim(&mut conn, viewer.tenant_id, id, turn_id, viewer.user_id).await? {
                return Err(AppError::conflict(
                    "a turn is already running in this session: wait for it, or cancel it",
                )
                .into());
            }
        }
        let claimed = Claimed {
            runtime,
            registry,
            platform: platform.clone(),
            viewer,
            session_id: id,
            turn_id,
            input,
        };
        // The turn stops with the server, or when the client leaves the stream (the guard
        // goes with the stream); it then rolls back and ends its claim on its own.
        let cancel = platform.shutdown.child_token();
        let leaving = cancel.clone().drop_guard();
        let (events, mut received) = mpsc::unbounded_channel();
        tokio::spawn(run(claimed, cancel, events));
        Ok(
            futures_util::stream::poll_fn(move |cx| received.poll_recv(cx)).map(move |event| {
                let _held = &leaving;
                event
            }),
        )
    }
}

#[derive(Default)]
pub struct TurnMutation;

#[Object]
impl TurnMutation {
    /// Cancels the turn a session is running (its owner, or a WORLDBUILDER), on whichever node
    /// runs it: its model calls are stopped and the session is left as it was before the turn.
    /// False when no turn runs.
    async fn cancel_turn(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session.")] session_id: ID,
    ) -> AppResult<bool> {
        let viewer = ctx.viewer_with(Role::Player)?;
        let id = parse_id("sessionId", &session_id)?;
        let mut conn = ctx.conn().await?;
        let session = library::get::<SessionBody>(&mut conn, viewer, id)
            .await?
            .ok_or_else(|| AppError::not_found("story session not found"))?;
        ensure_owner(viewer, &session.body)?;
        let Some((turn_id, _)) = store::running(&mut conn, viewer.tenant_id, id).await? else {
            return Ok(false);
        };
        let registry = ctx.part::<Arc<TurnRegistry>>()?;
        if registry.cancel((viewer.tenant_id, id), turn_id) {
            return Ok(true);
        }
        store::request_cancel(&mut conn, viewer.tenant_id, id, turn_id).await
    }
}
