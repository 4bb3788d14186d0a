//! The event bus: every domain publishes here, subscriptions read from here. Events are
//! tenant-scoped, published after their transaction commits, and carry ids rather than bodies,
//! so they stay small enough to cross nodes: `bridge` writes each to the event log (`log`),
//! which numbers it, and notifies every node on the same database (this one included) through
//! LISTEN/NOTIFY. Every node hands events to its subscribers in the log's order, each with its
//! sequence number, so a subscriber can resume after the last one it saw.

pub mod bridge;
pub mod log;

use std::any::Any;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{broadcast, mpsc, watch};
use uuid::Uuid;

use crate::auth::{Revocation, Role};

/// Events a slow subscriber may fall behind by before it starts losing them (and is
/// disconnected, so it can reconnect and resume with `since`, or refetch). Also the most
/// events one resuming subscriber is replayed.
pub const CAPACITY: usize = 4096;
/// Messages waiting for the bridge to log and relay them; beyond this (the database is
/// unreachable for long) events are dropped, and a warning says so.
const OUTBOX_CAPACITY: usize = 16_384;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Event {
    /// Its place in the event log (ascending, but not gapless: a number may be skipped); 0
    /// until the relay has logged it.
    #[serde(skip)]
    pub seq: i64,
    /// Given when published: the log records each event once, however often it is sent.
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub actor_id: Option<Uuid>,
    pub at: DateTime<Utc>,
    pub payload: EventPayload,
    /// What this node loaded for the event, once, for all its subscribers.
    #[serde(skip)]
    pub loaded: Loaded,
}

/// What an event's subscribers share: the first one to need it (the entity's row, the chat
/// message) loads it and the others wait for that load. Every subscriber of an event is in its
/// tenant, where rows look the same to everyone, so ten thousand subscribers cost one query
/// rather than ten thousand. The bus does not know what is kept: the domain that streams the
/// event does, and each kind of event keeps one thing.
#[derive(Clone, Debug, Default)]
pub struct Loaded(tokio::sync::OnceCell<Option<Arc<dyn Any + Send + Sync>>>);

impl Loaded {
    /// What was loaded for the event, loading it with `load` first if no one has.
    pub async fn get_or_try_init<T, E>(
        &self,
        load: impl AsyncFnOnce() -> Result<Option<Arc<T>>, E>,
    ) -> Result<Option<Arc<T>>, E>
    where
        T: Any + Send + Sync,
    {
        let shared = self
            .0
            .get_or_try_init(async || {
                Ok(load()
                    .await?
                    .map(|loaded| loaded as Arc<dyn Any + Send + Sync>))
            })
            .await?;
        Ok(shared
            .clone()
            .and_then(|loaded| loaded.downcast::<T>().ok()))
    }
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
    /// A story draft moved on (a section drafted, finalized, or a step failed).
    StoryDraftProgress(DraftProgress),
    /// Markdown files were synchronised with the tenant's entities (an import, a watched
    /// folder, a client's push).
    SyncCompleted(SyncSummary),
    /// A tenant changed its template of a type, or the re-validation that set off moved on
    /// (every node forgets the tenant's templates it kept).
    TemplateChanged(TemplateChange),
}

impl EventPayload {
    /// The payload's type as the log files it (its serde tag): a resuming subscriber reads
    /// only the kinds it streams.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Member { .. } => kinds::MEMBER,
            Self::Entity(_) => kinds::ENTITY,
            Self::AssetProcessed { .. } => kinds::ASSET_PROCESSED,
            Self::Presence(_) => kinds::PRESENCE,
            Self::Chat(_) => kinds::CHAT,
            Self::BrainbitsDeducted(_) => kinds::BRAINBITS_DEDUCTED,
            Self::StoryDraftProgress(_) => kinds::STORY_DRAFT_PROGRESS,
            Self::SyncCompleted(_) => kinds::SYNC_COMPLETED,
            Self::TemplateChanged(_) => kinds::TEMPLATE_CHANGED,
        }
    }
}

/// The kinds of event, as `EventPayload::kind` names them.
pub mod kinds {
    pub const MEMBER: &str = "member";
    pub const ENTITY: &str = "entity";
    pub const ASSET_PROCESSED: &str = "asset_processed";
    pub const PRESENCE: &str = "presence";
    pub const CHAT: &str = "chat";
    pub const BRAINBITS_DEDUCTED: &str = "brainbits_deducted";
    pub const STORY_DRAFT_PROGRESS: &str = "story_draft_progress";
    pub const SYNC_COMPLETED: &str = "sync_completed";
    pub const TEMPLATE_CHANGED: &str = "template_changed";
}

/// A tenant's template of a type changed, or its re-validation moved on (small and final).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TemplateChange {
    /// The type's slug.
    pub entity_type: String,
    /// The version made.
    pub version: i32,
    /// The version's re-validation: `not_needed`, `pending`, `done`, `failed`, `superseded`.
    pub revalidation: String,
    pub checked: i32,
    pub valid: i32,
    pub invalid: i32,
}

impl TemplateChange {
    /// Whether it tells of a new version (rather than of a re-validation moving on).
    pub fn announces_a_version(&self) -> bool {
        matches!(self.revalidation.as_str(), "pending" | "not_needed")
    }
}

/// What a synchronisation of markdown files did (small and final).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SyncSummary {
    /// `import`, `watcher` or `push`.
    pub source: String,
    pub created: i32,
    pub updated: i32,
    pub deleted: i32,
    pub conflicts: i32,
    pub unchanged: i32,
}

/// How far a story draft has come (small and final: subscribers need nothing else).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DraftProgress {
    pub draft_id: Uuid,
    /// `started`, `section`, `finalized` or `failed`.
    pub step: String,
    pub sections_done: i32,
    pub sections: i32,
    /// What failed, for `failed`.
    pub message: Option<String>,
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

/// A chat message was sent. Subscribers load the message (once per node); who hears it where
/// is decided as it is said, so a subscriber resuming later hears what it heard then.
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
    /// The rooms that hear it: its own, and for a yell those its exits lead to.
    #[serde(default)]
    pub heard_in: Vec<HeardIn>,
}

/// A room that hears a chat message, and the users whose characters stood there as it was
/// said, played by a live session: the PLAYERs who hear it there.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HeardIn {
    pub room_id: Uuid,
    pub players: Vec<Uuid>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EntityChange {
    pub action: EntityAction,
    /// The entity's type as its slug (`character`, `style_bible`): the bus carries it and the
    /// entities domain reads it.
    pub entity_type: String,
    pub entity_id: String,
    /// The id before a rename.
    pub previous_entity_id: Option<String>,
    pub row_id: Uuid,
}

/// What happened to an entity.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityAction {
    /// The entity was created.
    Created,
    /// The entity was changed.
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
    /// The user became a member of the tenant.
    Joined,
    /// The member's role changed.
    Updated,
    /// The user is no longer a member.
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
    /// The entity's type as its slug (`character`).
    pub entity_type: String,
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
    Revoked {
        revocation: Revocation,
    },
    /// Events were lost before they were logged: every node ends its subscriptions.
    Lost,
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
    /// Counts events lost before they were logged (the outbox overflowed while the database
    /// was away, or the log refused one): subscriptions end when it moves, since no replay can
    /// give those back.
    losses: watch::Sender<u64>,
    /// A loss every node must hear of, waiting for the bridge to tell them.
    loss_to_relay: AtomicBool,
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
                losses: watch::channel(0).0,
                loss_to_relay: AtomicBool::new(false),
            }),
        }
    }
}

impl EventBus {
    pub fn node_id(&self) -> Uuid {
        self.inner.node_id
    }

    /// Hands an event to the bridge, which logs it, then delivers it to this node's
    /// subscribers and relays it to the other nodes.
    pub fn publish(&self, tenant_id: Uuid, actor_id: Option<Uuid>, payload: EventPayload) {
        let event = Arc::new(Event {
            seq: 0,
            id: Uuid::now_v7(),
            tenant_id,
            actor_id,
            at: Utc::now(),
            payload,
            loaded: Loaded::default(),
        });
        crate::metrics::event_published(event.payload.kind());
        if self
            .inner
            .outbox
            .try_send(BusMessage::Event(event))
            .is_err()
        {
            tracing::warn!("the event outbox is full: an event is dropped");
            self.note_loss();
        }
    }

    /// Notes that an event was lost before it was logged.
    /// Every node's subscribers hear of it: this one's at once, the others' through the bridge
    /// (flagged rather than queued: the outbox may be what overflowed).
    pub(crate) fn note_loss(&self) {
        self.inner.loss_to_relay.store(true, Ordering::Release);
        let _ = self.inner.outbox.try_send(BusMessage::Lost);
        self.note_loss_locally();
    }

    /// Notes a loss on this node only (one only it suffered, or another node's).
    pub(crate) fn note_loss_locally(&self) {
        crate::metrics::events_lost();
        self.inner.losses.send_modify(|losses| *losses += 1);
    }

    /// Flags again a loss the bridge could not tell.
    pub(crate) fn note_loss_to_relay_again(&self) {
        self.inner.loss_to_relay.store(true, Ordering::Release);
    }

    /// Whether a loss waits to be told to the other nodes (clearing the flag).
    pub(crate) fn take_loss_to_relay(&self) -> bool {
        self.inner.loss_to_relay.swap(false, Ordering::AcqRel)
    }

    /// Changes whenever an event is lost before it was logged.
    pub fn losses(&self) -> watch::Receiver<u64> {
        self.inner.losses.subscribe()
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
            BusMessage::Lost => self.note_loss_locally(),
        }
    }

    /// Hands a logged event to this node's subscribers (the bridge does, in the log's order).
    pub(crate) fn deliver_event(&self, event: Arc<Event>) {
        crate::metrics::event_delivered(event.payload.kind(), event.at);
        // No receivers is not an error: nobody is listening right now.
        let _ = self.inner.events.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.inner.events.subscribe()
    }

    pub fn revocations(&self) -> broadcast::Receiver<Revocation> {
        self.inner.revocations.subscribe()
    }

    /// Messages waiting for the bridge to log and relay them.
    pub fn outbox_len(&self) -> usize {
        OUTBOX_CAPACITY.saturating_sub(self.inner.outbox.capacity())
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
