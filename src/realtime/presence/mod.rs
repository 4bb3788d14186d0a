//! Presence: who is online in a tenant and who edits what, across every node.
//!
//! Each node counts its own sockets per user in memory (`tracker`) and keeps one row per user
//! and node while the count is above zero, so the database knows everyone online without a
//! write per socket. Nodes prove they are alive by heartbeat; any node sweeps a dead one's rows.

pub mod api;
pub mod editing;
pub mod store;
mod tracker;

use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

pub use tracker::run;

use crate::events::{EditedEntity, EventBus, EventPayload, PresenceChange, PresenceKind};
use store::{EndedMark, Member};

enum Change {
    /// With whom to tell once the member's presence is recorded.
    Connected(Member, oneshot::Sender<()>),
    Disconnected(Member),
}

/// How long a new socket waits for its presence to be recorded before it is acknowledged
/// anyway (the database is slow or down; the tracker keeps retrying).
const RECORDING_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Hands socket openings and closings to this node's tracker task.
#[derive(Clone)]
pub struct PresenceTracker {
    changes: mpsc::UnboundedSender<Change>,
    receiver: Arc<Mutex<Option<mpsc::UnboundedReceiver<Change>>>>,
}

impl Default for PresenceTracker {
    fn default() -> Self {
        let (changes, receiver) = mpsc::unbounded_channel();
        Self {
            changes,
            receiver: Arc::new(Mutex::new(Some(receiver))),
        }
    }
}

impl PresenceTracker {
    /// Counts a new socket and waits until its user's presence is recorded, so that a user
    /// whose socket was acknowledged is online on every node (and a socket closing elsewhere
    /// meanwhile cannot take them offline).
    pub async fn connected(&self, tenant_id: Uuid, user_id: Uuid) {
        let (recorded, wait) = oneshot::channel();
        if self
            .changes
            .send(Change::Connected((tenant_id, user_id), recorded))
            .is_ok()
        {
            let _ = tokio::time::timeout(RECORDING_WAIT, wait).await;
        }
    }

    pub fn disconnected(&self, tenant_id: Uuid, user_id: Uuid) {
        let _ = self
            .changes
            .send(Change::Disconnected((tenant_id, user_id)));
    }

    fn take_receiver(&self) -> Option<mpsc::UnboundedReceiver<Change>> {
        self.receiver
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }
}

/// Publishes one presence event, with the user as its actor.
fn publish(
    bus: &EventBus,
    (tenant_id, user_id): Member,
    kind: PresenceKind,
    entity: Option<EditedEntity>,
) {
    bus.publish(
        tenant_id,
        Some(user_id),
        EventPayload::Presence(PresenceChange {
            kind,
            user_id,
            entity,
        }),
    );
}

/// STOPPED_EDITING for each ended mark.
fn publish_ended(bus: &EventBus, ended: Vec<EndedMark>) {
    for mark in ended {
        publish(
            bus,
            (mark.tenant_id, mark.user_id),
            PresenceKind::StoppedEditing,
            Some(mark.entity),
        );
    }
}

/// OFFLINE for each member, and STOPPED_EDITING for each ended mark.
fn publish_departures(bus: &EventBus, offline: &[Member], ended: Vec<EndedMark>) {
    publish_ended(bus, ended);
    for member in offline {
        publish(bus, *member, PresenceKind::Offline, None);
    }
}
