//! This node's live WebSocket connections: who each one runs as, and the handle that closes it.
//! Revocations, expiring credentials and slow readers close connections through it; a
//! connection's registration is also its user's presence on this node.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::presence::PresenceTracker;
use crate::auth::viewer::ClientInfo;
use crate::auth::{Credentials, Viewer};

/// Asks a socket to close, with the first reason given.
#[derive(Default)]
pub struct SocketCloser {
    requested: CancellationToken,
    reason: Mutex<Option<(u16, String)>>,
}

impl SocketCloser {
    /// Records why the socket must close; the first reason stands.
    fn note(&self, code: u16, reason: impl Into<String>) {
        let mut slot = self.reason.lock().unwrap_or_else(|p| p.into_inner());
        slot.get_or_insert_with(|| (code, reason.into()));
    }

    pub fn close(&self, code: u16, reason: impl Into<String>) {
        self.note(code, reason);
        self.requested.cancel();
    }

    pub fn reason(&self) -> Option<(u16, String)> {
        self.reason
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub async fn requested(&self) {
        self.requested.cancelled().await;
    }
}

/// An authenticated socket.
pub struct LiveConnection {
    pub viewer: Viewer,
    /// What it authenticated with, to check again when something is revoked.
    pub credentials: Credentials,
    pub client: ClientInfo,
    /// When the credentials stop working; the socket closes then.
    pub expires_at: Option<DateTime<Utc>>,
    pub closer: Arc<SocketCloser>,
}

#[derive(Clone, Default)]
pub struct LiveConnections {
    inner: Arc<Registry>,
}

#[derive(Default)]
struct Registry {
    next_id: AtomicU64,
    connections: Mutex<HashMap<u64, Arc<LiveConnection>>>,
    /// Revocations handled so far: a socket that authenticated before a revocation was handled
    /// and registered after it checks its credentials again.
    revocations: AtomicU64,
}

impl LiveConnections {
    /// Adds a connection until the returned registration is dropped; its user is online here
    /// for as long.
    pub async fn register(
        &self,
        connection: Arc<LiveConnection>,
        presence: &PresenceTracker,
    ) -> Registration {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(id, connection.clone());
        // Made before the wait, so that the registration's drop (should the socket go while
        // this waits) always pairs with the count.
        let registration = Registration {
            id,
            connection: connection.clone(),
            registry: self.inner.clone(),
            presence: presence.clone(),
        };
        presence
            .connected(connection.viewer.tenant_id, connection.viewer.user_id)
            .await;
        registration
    }

    /// Counts a revocation about to be handled (before the sockets are checked).
    pub fn note_revocation(&self) {
        self.inner.revocations.fetch_add(1, Ordering::AcqRel);
    }

    /// How many revocations have been handled; compare before and after registering.
    pub fn revocations_seen(&self) -> u64 {
        self.inner.revocations.load(Ordering::Acquire)
    }

    /// The connections whose viewer matches.
    pub fn matching(&self, wanted: impl Fn(&Viewer) -> bool) -> Vec<Arc<LiveConnection>> {
        self.lock()
            .values()
            .filter(|c| wanted(&c.viewer))
            .cloned()
            .collect()
    }

    pub fn count(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<LiveConnection>>> {
        self.inner
            .connections
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }
}

/// A registered connection; dropping it unregisters the connection.
pub struct Registration {
    id: u64,
    connection: Arc<LiveConnection>,
    registry: Arc<Registry>,
    presence: PresenceTracker,
}

impl Registration {
    pub fn connection(&self) -> &Arc<LiveConnection> {
        &self.connection
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.registry
            .connections
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.id);
        let viewer = &self.connection.viewer;
        self.presence.disconnected(viewer.tenant_id, viewer.user_id);
    }
}
