//! Live play: a turn of a session, streamed as it happens (seed 003 `session.run_turn`).
//!
//! - one turn at a time per session, whichever node runs it: a turn claims the session's row
//!   in `story_session_turns` before it begins ([`store`]; a second is CONFLICT), beats every
//!   second while it runs (a node that stops beating loses the claim after 30 seconds) and
//!   ends the claim in the transaction that saves it;
//! - atomic: the turn works on a copy of the session and writes once, at the end, checking the
//!   session is still at the version it began from ([`play`], [`load`]); a failed or
//!   cancelled turn leaves the session exactly as it was, and says at which stage it stopped;
//! - cancellable: the client leaving the stream, or `cancelTurn` (on any node: the claim's row
//!   carries the request to the node running it), stops the model calls upstream;
//! - [`events`] are what the stream says; [`tags`] split an actor's streamed answer;
//!   [`answers`] read the director's and keeper's JSON; [`context`] is what each agent is
//!   told; [`api`] is the GraphQL.

pub mod answers;
pub mod api;
pub mod beats;
pub mod context;
pub mod director;
pub mod events;
pub mod load;
pub mod play;
pub mod store;
pub mod tags;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::auth::Viewer;
use crate::context::Platform;
use crate::llm::service::LlmRuntime;
use events::{TurnEvent, TurnFailed, TurnStage};
use play::Turn;

/// Hands a turn's events to its stream, numbered in order.
#[derive(Clone)]
pub struct Emitter {
    events: mpsc::UnboundedSender<TurnEvent>,
    sent: Arc<AtomicI32>,
}

impl Emitter {
    pub fn new(events: mpsc::UnboundedSender<TurnEvent>) -> Self {
        Self {
            events,
            sent: Arc::new(AtomicI32::new(0)),
        }
    }

    /// Sends `event` as the next of the turn (dropped if the client has gone: the turn is
    /// being cancelled then).
    pub fn send(&self, event: TurnEvent) {
        let sequence = self.sent.fetch_add(1, Ordering::SeqCst) + 1;
        let _ = self.events.send(event.numbered(sequence));
    }
}

/// The turns this node runs, by tenant and session: how `cancelTurn` reaches one at once.
#[derive(Default)]
pub struct TurnRegistry {
    running: Mutex<HashMap<(Uuid, Uuid), (Uuid, CancellationToken)>>,
}

impl TurnRegistry {
    fn insert(&self, key: (Uuid, Uuid), turn_id: Uuid, cancel: CancellationToken) {
        if let Ok(mut running) = self.running.lock() {
            running.insert(key, (turn_id, cancel));
        }
    }

    fn remove(&self, key: (Uuid, Uuid), turn_id: Uuid) {
        if let Ok(mut running) = self.running.lock()
            && running.get(&key).is_some_and(|(id, _)| *id == turn_id)
        {
            running.remove(&key);
        }
    }

    /// Cancels the turn if this node runs it; whether it did.
    pub fn cancel(&self, key: (Uuid, Uuid), turn_id: Uuid) -> bool {
        let running = self.running.lock().ok();
        let found = running
            .as_ref()
            .and_then(|running| running.get(&key).cloned());
        match found {
            Some((id, cancel)) if id == turn_id => {
                cancel.cancel();
                true
            }
            _ => false,
        }
    }
}

/// What a claimed turn needs to run on its own.
pub struct Claimed {
    pub platform: Platform,
    pub runtime: Arc<LlmRuntime>,
    pub registry: Arc<TurnRegistry>,
    pub viewer: Viewer,
    pub session_id: Uuid,
    pub turn_id: Uuid,
    pub input: String,
}

/// Runs a claimed turn to its end, its events to `events`: completed and saved, or failed
/// (cancelled included) with the session untouched and the claim ended.
pub async fn run(
    claimed: Claimed,
    cancel: CancellationToken,
    events: mpsc::UnboundedSender<TurnEvent>,
) {
    let Claimed {
        platform,
        runtime,
        registry,
        viewer,
        session_id,
        turn_id,
        input,
    } = claimed;
    let key = (viewer.tenant_id, session_id);
    registry.insert(key, turn_id, cancel.clone());
    let beating = Beating(tokio::spawn(beat(
        platform.clone(),
        key,
        turn_id,
        cancel.clone(),
    )));
    let mut turn = Turn {
        platform: &platform,
        runtime: &runtime,
        viewer: &viewer,
        session_id,
        turn_id,
        cancel: cancel.clone(),
        emit: Emitter::new(events),
        stage: TurnStage::RecordInput,
        usage: Vec::new(),
        balance: None,
    };
    let played = tokio::select! {
        // A stage between calls (a database read) stops here too when cancelled.
        _ = cancel.cancelled() => Err(cancelled()),
        played = turn.play(input) => played,
    };
    // The last moment a cancel is heeded: the save that follows is not raced, so the client
    // is never told "cancelled" of a turn that was saved.
    let outcome = match played {
        Ok(_) if cancel.is_cancelled() => Err(cancelled()),
        Ok(played) => turn.save(played).await,
        Err(error) => Err(error),
    };
    drop(beating);
    registry.remove(key, turn_id);
    match outcome {
        Ok(completed) => turn.emit.send(TurnEvent::Completed(Box::new(completed))),
        Err(error) => {
            release(&platform, key, turn_id).await;
            let cancelled = cancel.is_cancelled() && turn.stage != TurnStage::Save;
            if !cancelled && matches!(error, crate::error::AppError::Internal(_)) {
                tracing::error!(session = %session_id, stage = ?turn.stage, error = ?error, "a turn failed");
            }
            turn.emit.send(TurnEvent::Failed(TurnFailed {
                sequence: 0,
                stage: turn.stage,
                code: if cancelled {
                    "CANCELLED".to_owned()
                } else {
                    error.code().to_owned()
                },
                message: if cancelled {
                    "the turn was cancelled; the session is as it was before it".to_owned()
                } else {
                    error.message()
                },
                cancelled,
                charged: turn.usage.iter().map(|u| u.charged).sum(),
                usage: turn.usage,
            }));
        }
    }
}

fn cancelled() -> crate::error::AppError {
    crate::error::AppError::bad_input("the turn was cancelled")
}

/// The heartbeat of a running turn, stopped however the turn ends (a panic included).
struct Beating(tokio::task::JoinHandle<()>);

impl Drop for Beating {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Ends a failed turn's claim (should the database be unreachable, the claim lapses).
async fn release(platform: &Platform, (tenant_id, session_id): (Uuid, Uuid), turn_id: Uuid) {
    let released = async {
        let mut conn = platform.pool.get().await?;
        store::release(&mut conn, tenant_id, session_id, turn_id).await
    }
    .await;
    if released.is_err() {
        tracing::warn!(session = %session_id, "a failed turn's claim is left to lapse");
    }
}

/// Beats for a running turn every second, and cancels it when a cancel was asked on another
/// node (or its claim was lost).
async fn beat(
    platform: Platform,
    (tenant_id, session_id): (Uuid, Uuid),
    turn_id: Uuid,
    cancel: CancellationToken,
) {
    let mut every = tokio::time::interval(Duration::from_secs(1));
    every.tick().await;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = every.tick() => {}
        }
        let asked = async {
            let mut conn = platform.pool.get().await?;
            store::beat(&mut conn, tenant_id, session_id, turn_id).await
        }
        .await;
        if asked.unwrap_or(false) {
            cancel.cancel();
            return;
        }
    }
}
