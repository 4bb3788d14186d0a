//! The event bus: every domain publishes here, subscriptions read from here. Events are
//! tenant-scoped and published after their transaction commits.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::auth::Role;
use crate::entities::types::EntityType;

/// Events a slow subscriber may fall behind by before it starts losing them (it is told how many).
const CAPACITY: usize = 4096;

#[derive(Clone, Debug)]
pub struct Event {
    pub tenant_id: Uuid,
    pub actor_id: Option<Uuid>,
    pub at: DateTime<Utc>,
    pub payload: EventPayload,
}

#[derive(Clone, Debug)]
pub enum EventPayload {
    Member {
        action: MemberAction,
        user_id: Uuid,
        role: Option<Role>,
    },
    /// Carries ids only: subscribers load the entity themselves, so the event stays small
    /// enough to cross nodes later.
    Entity(EntityChange),
    /// An asset's processing finished (thumbnail made) or failed for good.
    AssetProcessed { asset_id: Uuid },
}

#[derive(Clone, Debug)]
pub struct EntityChange {
    pub action: EntityAction,
    pub entity_type: EntityType,
    pub entity_id: String,
    /// The id before a rename.
    pub previous_entity_id: Option<String>,
    pub row_id: Uuid,
}

/// What happened to an entity.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
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
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum MemberAction {
    Joined,
    Updated,
    Removed,
}

#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Arc<Event>>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(CAPACITY).0,
        }
    }
}

impl EventBus {
    pub fn publish(&self, tenant_id: Uuid, actor_id: Option<Uuid>, payload: EventPayload) {
        // No receivers is not an error: nobody is listening right now.
        let _ = self.sender.send(Arc::new(Event {
            tenant_id,
            actor_id,
            at: Utc::now(),
            payload,
        }));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.sender.subscribe()
    }
}
