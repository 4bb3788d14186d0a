//! Realtime: live WebSocket connections, presence, and keeping both honest across nodes — the
//! event relay between nodes, revocations reaching open sockets, heartbeats.

pub mod connections;
pub mod presence;

use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::auth::AuthService;
use crate::auth::Revocation;
use crate::context::Platform;
use crate::error::AppError;
use crate::events::bridge;
use connections::{LiveConnection, LiveConnections};
use presence::PresenceTracker;

/// WebSocket close codes of the graphql-ws protocols for credentials that are missing or have
/// ended (reconnect with fresh ones) and for access that was refused or changed.
pub const CLOSE_UNAUTHORIZED: u16 = 4401;
pub const CLOSE_FORBIDDEN: u16 = 4403;

/// The node's background tasks: the relay to other nodes, the presence tracker, and the
/// revocation watcher.
pub struct Realtime {
    tracker: JoinHandle<()>,
    watcher: JoinHandle<()>,
    bridge: JoinHandle<()>,
    bridge_stop: CancellationToken,
}

impl Realtime {
    pub fn start(platform: &Platform, live: &LiveConnections, presence: &PresenceTracker) -> Self {
        let bridge_stop = CancellationToken::new();
        Self {
            tracker: tokio::spawn(presence::run(platform.clone(), presence.clone())),
            watcher: tokio::spawn(watch_revocations(platform.clone(), live.clone())),
            bridge: tokio::spawn(bridge::run(
                platform.events.clone(),
                platform.database_url.to_string(),
                platform.config.realtime.relay_retry,
                bridge_stop.clone(),
            )),
            bridge_stop,
        }
    }

    /// After shutdown began: lets the tracker take this node's presence away, then stops the
    /// relay once it has told the other nodes.
    pub async fn stop(self) {
        let _ = self.tracker.await;
        let _ = self.watcher.await;
        self.bridge_stop.cancel();
        let _ = self.bridge.await;
    }
}

async fn watch_revocations(platform: Platform, live: LiveConnections) {
    let mut revocations = platform.events.revocations();
    loop {
        let revocation = tokio::select! {
            () = platform.shutdown.cancelled() => return,
            revocation = revocations.recv() => revocation,
        };
        let revocation = match revocation {
            Ok(revocation) => revocation,
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(
                    missed,
                    "revocations arrived faster than handled; re-checking every socket"
                );
                Revocation::All
            }
            Err(RecvError::Closed) => return,
        };
        live.note_revocation();
        platform.auth.forget(revocation).await;
        for connection in live.matching(|viewer| revocation.covers(viewer)) {
            recheck(&platform.auth, &connection).await;
        }
    }
}

/// Authenticates a socket's credentials again, closing it when they no longer work (4401) or
/// now act as someone else, elsewhere or with another role (4403). A socket whose credentials
/// cannot be checked (database down) is closed too: revocations fail closed.
pub async fn recheck(auth: &AuthService, connection: &LiveConnection) {
    let outcome = auth
        .authenticate(connection.credentials.clone(), connection.client.clone())
        .await;
    match outcome {
        Ok(auth)
            if auth
                .viewer
                .as_ref()
                .is_some_and(|v| v.same_access(&connection.viewer)) => {}
        Ok(_) => connection.closer.close(
            CLOSE_FORBIDDEN,
            "Forbidden: your access changed (role, tenant or membership); reconnect",
        ),
        Err(error @ AppError::Unauthenticated(_)) => connection.closer.close(
            CLOSE_UNAUTHORIZED,
            format!("Unauthorized: {}", error.message()),
        ),
        Err(_) => connection.closer.close(
            CLOSE_UNAUTHORIZED,
            "Unauthorized: your credentials could not be checked again; reconnect",
        ),
    }
}
