//! Rows of the MUD domain.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{characters, chat_messages, rooms, worlds};

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = worlds, check_for_backend(diesel::pg::Pg))]
pub struct WorldRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub world_key: String,
    pub name: String,
    pub description: String,
    pub config: serde_json::Value,
    pub is_active: bool,
    pub universe_row_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The axis policy in force (`axis_policy::AxisPolicy` as JSON), if the world has one.
    pub axis_policy: Option<serde_json::Value>,
    /// Its hash: the state version of snapshots made under it.
    pub axis_policy_hash: Option<String>,
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = rooms, check_for_backend(diesel::pg::Pg))]
pub struct RoomRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub world_id: Uuid,
    pub room_key: String,
    pub zone_key: Option<String>,
    pub name: String,
    pub description: String,
    pub exits: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = characters, check_for_backend(diesel::pg::Pg))]
pub struct CharacterRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub world_id: Uuid,
    pub user_id: Option<Uuid>,
    pub name: String,
    pub inventory: serde_json::Value,
    pub base_state: serde_json::Value,
    pub current_state: serde_json::Value,
    pub state_seed: i64,
    pub state_version: Option<String>,
    pub state_updated_at: Option<DateTime<Utc>>,
    pub room_id: Option<Uuid>,
    pub moved_at: Option<DateTime<Utc>>,
    pub tombstoned_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A chat message (immutable once sent).
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = chat_messages, check_for_backend(diesel::pg::Pg))]
pub struct ChatMessageRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub world_id: Uuid,
    pub room_id: Uuid,
    pub user_id: Option<Uuid>,
    pub character_id: Option<Uuid>,
    pub character_name: String,
    pub channel: String,
    pub recipient_character_id: Option<Uuid>,
    pub recipient_name: Option<String>,
    pub text: String,
    pub created_at: DateTime<Utc>,
}
