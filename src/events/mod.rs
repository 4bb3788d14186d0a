//! The event bus: every domain publishes here, subscriptions read from here. Events are
//! tenant-scoped, published after their transaction commits, and carry ids rather than bodies,
//! so they stay small enough to cross nodes: `bridge` relays them (and revocations) to every
//! other node on the same database through LISTEN/NOTIFY.

pub mod bridge;

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{broadcast, mpsc};
use uuid::Uuid;

use crate::auth::{Revocation, Role};
use crate::entities::model::EntityRow;
use crate::entities::types::EntityType;
use crate::mud::chat_store::LoadedChat;

/// Events a slow subscriber may fall behind by before it starts losing them (and is
/// disconnected, so it can reconnect and catch up from queries).
const CAPACITY: usize = 4096;
/// Messages waiting for the bridge to send them to other nodes; beyond this (the database is
/// unreachable for long) other nodes miss them, and a warning says so.
const OUTBOX_CAPACITY: usize = 16_384;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Event {
    pub tenant_id: Uuid,
    pub actor_id: Option<Uuid>,
    pub at: DateTime<Utc>,
    pub payload: EventPayload,
    /// What this node loaded for the event, once, for all its subscribers.
    #[serde(skip)]
    pub loaded: Loaded,
}

/// Rows an event's subscribers share: the first one to need a row loads it and the others
/// wait for that load. Every subscriber of an event is in its tenant, where rows look the
/// same to everyone, so ten thousand subscribers cost one query rather than ten thousand.
#[derive(Clone, Debug, Default)]
pub struct Loaded {
    pub entity: tokio::sync::OnceCell<Option<Arc<EntityRow>>>,
    pub chat: tokio::sync::OnceCell<Option<Arc<LoadedChat>>>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventPayload {
    Member {
        action: MemberAction,
        user_id: Uuid,
        role: Option<Role>,
    },
    /// Subscribers load the entity themselves.
    Entity(EntityChange),
    /// An asset's processing finished (thumbnail made) or failed for good.
    AssetProcessed { asset_id: Uuid },
    /// Someone came online, went offline, or started or stopped editing.
    Presence(PresenceChange),
    /// A character spoke in a world's room.
    Chat(ChatPosted),
    /// BrainBits were consumed (the event carries the debit: it is small and final).
    BrainbitsDeducted(BrainbitsDebit),
}

/// A debit of the BrainBits ledger.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BrainbitsDebit {
    pub entry_id: i64,
    pub user_id: Uuid,
    pub amount: i64,
    pub balance: i64,
    pub operation: String,
    pub provider: String,
}

/// A chat message was sent. Subscribers load the message (once per node) and where it is heard.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ChatPosted {
    pub message_id: Uuid,
    pub world_id: Uuid,
    pub room_id: Uuid,
    pub whisper: bool,
    pub yell: bool,
    /// A whisper is seen live only by its sender and its recipient's player.
    pub sender_user_id: Option<Uuid>,
    pub recipient_user_id: Option<Uuid>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EntityChange {
    pub action: EntityAction,
    pub entity_type: EntityType,
    pub entity_id: String,
    /// The id before a rename.
    pub previous_entity_id: Option<String>,
    pub row_id: Uuid,
}

/// What happened to an entity.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityAction {
    Created,
    Updated,
    /// Moved to the recycle bin.
    Deleted,
    /// Brought back from the recycle bin.
    Restored,
    /// Its id changed (references to it were rewritten).
    Renamed,
    /// Removed for good from the recycle bin.
    Purged,
}

/// What happened to a membership.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberAction {
    Joined,
    Updated,
    Removed,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PresenceChange {
    pub kind: PresenceKind,
    pub user_id: Uuid,
    /// The entity, for EDITING and STOPPED_EDITING.
    pub entity: Option<EditedEntity>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditedEntity {
    pub row_id: Uuid,
    pub entity_type: EntityType,
    pub entity_id: String,
}

/// What a presence event says about its user.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PresenceKind {
    /// Their first live connection opened (on any node).
    Online,
    /// Their last live connection closed, or stopped answering heartbeats.
    Offline,
    /// They opened an entity for editing.
    Editing,
    /// They closed it, went offline, or their mark lapsed.
    StoppedEditing,
}

/// What crosses from one node to the others.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BusMessage {
    Event(Arc<Event>),
    Revoked { revocation: Revocation },
}

#[derive(Clone)]
pub struct EventBus {
    inner: Arc<Inner>,
}

struct Inner {
    /// This process, so that it can tell its own messages from other nodes'.
    node_id: Uuid,
    events: broadcast::Sender<Arc<Event>>,
    revocations: broadcast::Sender<Revocation>,
    outbox: mpsc::Sender<BusMessage>,
    /// Taken by the bridge when it starts.
    outbox_receiver: Mutex<Option<mpsc::Receiver<BusMessage>>>,
}

impl Default for EventBus {
    fn default() -> Self {
        let (outbox, outbox_receiver) = mpsc::channel(OUTBOX_CAPACITY);
        Self {
            inner: Arc::new(Inner {
                node_id: Uuid::new_v4(),
                events: broadcast::channel(CAPACITY).0,
                revocations: broadcast::channel(256).0,
                outbox,
                outbox_receiver: Mutex::new(Some(outbox_receiver)),
            }),
        }
    }
}

impl EventBus {
    pub fn node_id(&self) -> Uuid {
        self.inner.node_id
    }

    /// Publishes to this node's subscribers at once and to other nodes through the bridge.
    pub fn publish(&self, tenant_id: Uuid, actor_id: Option<Uuid>, payload: EventPayload) {
        let event = Arc::new(Event {
            tenant_id,
            actor_id,
            at: Utc::now(),
            payload,
            loaded: Loaded::default(),
        });
        self.relay(BusMessage::Event(event.clone()));
        self.deliver_event(event);
    }

    /// Tells every node (this one included) that credentials were revoked. A revocation is never
    /// dropped for a full outbox: it waits for room instead.
    pub fn revoke(&self, revocation: Revocation) {
        let message = BusMessage::Revoked { revocation };
        if let Err(TrySendError::Full(message)) = self.inner.outbox.try_send(message) {
            let outbox = self.inner.outbox.clone();
            tokio::spawn(async move {
                let _ = outbox.send(message).await;
            });
        }
        self.revoke_locally(revocation);
    }

    /// Tells this node only (its cache and sockets).
    pub fn revoke_locally(&self, revocation: Revocation) {
        let _ = self.inner.revocations.send(revocation);
    }

    /// A message from another node, for this node's subscribers only.
    pub fn deliver(&self, message: BusMessage) {
        match message {
            BusMessage::Event(event) => self.deliver_event(event),
            BusMessage::Revoked { revocation } => self.revoke_locally(revocation),
        }
    }

    fn deliver_event(&self, event: Arc<Event>) {
        // No receivers is not an error: nobody is listening right now.
        let _ = self.inner.events.send(event);
    }

    fn relay(&self, message: BusMessage) {
        if self.inner.outbox.try_send(message).is_err() {
            tracing::warn!("the event outbox is full: other nodes miss this event");
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.inner.events.subscribe()
    }

    pub fn revocations(&self) -> broadcast::Receiver<Revocation> {
        self.inner.revocations.subscribe()
    }

    /// The messages to relay; only the first caller (the bridge) gets them.
    pub(crate) fn take_outbox(&self) -> Option<mpsc::Receiver<BusMessage>> {
        self.inner
            .outbox_receiver
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }
}
