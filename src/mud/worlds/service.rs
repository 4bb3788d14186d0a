//! The rules of worlds and rooms: what their keys, names, descriptions and JSON may be, finding
//! them (NOT_FOUND otherwise), and the UNIVERSE a world belongs to.

use super::store::{self};
use crate::db::validate_text;
use crate::entities::service as entities;
use crate::entities::service::EntityType;
use crate::error::{AppError, AppResult};
use crate::mud::model::{RoomRow, WorldRow};
use diesel_async::AsyncPgConnection;
use serde_json::Value;
use uuid::Uuid;

const MAX_KEY_CHARS: usize = 64;
const MAX_NAME_CHARS: usize = 100;
const MAX_DESCRIPTION_CHARS: usize = 20_000;
/// Configuration and exits are small documents.
const MAX_JSON_BYTES: usize = 64 * 1024;

/// Checks a key (worldId, roomId, zoneId): 1 to 64 lower-case letters, digits, `_` or `-`.
pub fn validate_key(field: &'static str, key: &str) -> AppResult<String> {
    let key = key.trim();
    let valid = (1..=MAX_KEY_CHARS).contains(&key.len())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-'));
    if valid {
        Ok(key.to_owned())
    } else {
        Err(AppError::bad_field(
            field,
            "use 1 to 64 lower-case letters, digits, `_` or `-`",
        ))
    }
}

pub fn validate_name(field: &'static str, name: &str) -> AppResult<String> {
    validate_text(field, name, MAX_NAME_CHARS)?;
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::bad_field(field, "the name must not be empty"));
    }
    Ok(name.to_owned())
}

pub fn validate_description(description: &str) -> AppResult<String> {
    validate_text("description", description, MAX_DESCRIPTION_CHARS)?;
    Ok(description.to_owned())
}

/// A JSON object of bounded size.
pub fn validate_object(field: &'static str, value: Value) -> AppResult<Value> {
    if !value.is_object() {
        return Err(AppError::bad_field(field, "this must be a JSON object"));
    }
    if value.to_string().len() > MAX_JSON_BYTES {
        return Err(AppError::bad_field(field, "this is larger than 64 KiB"));
    }
    Ok(value)
}

/// Exits: an object mapping a direction to the roomId it leads to.
pub fn validate_exits(value: Value) -> AppResult<Value> {
    let value = validate_object("exits", value)?;
    for (direction, target) in value.as_object().into_iter().flatten() {
        let Some(target) = target.as_str() else {
            return Err(AppError::bad_field(
                "exits",
                format!("the exit `{direction}` must name a roomId"),
            ));
        };
        validate_key("exits", target)?;
    }
    Ok(value)
}

/// The tenant's world with this worldId, or NOT_FOUND.
pub async fn world_or_not_found(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    world_id: &str,
) -> AppResult<WorldRow> {
    store::find_world(conn, tenant_id, world_id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("there is no world `{world_id}`")))
}

/// The world's room with this roomId, or NOT_FOUND.
pub async fn room_or_not_found(
    conn: &mut AsyncPgConnection,
    world: &WorldRow,
    room_id: &str,
) -> AppResult<RoomRow> {
    store::find_room(conn, world.tenant_id, world.id, room_id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("there is no room `{room_id}`")))
}

pub async fn universe_row_id(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    universe_id: &str,
) -> AppResult<Uuid> {
    entities::find_live(conn, tenant_id, EntityType::Universe, universe_id)
        .await?
        .map(|row| row.id)
        .ok_or_else(|| {
            AppError::bad_field(
                "universeId",
                format!("there is no UNIVERSE `{universe_id}` here"),
            )
        })
}
