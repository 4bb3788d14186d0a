//! The rules of worlds and rooms: what their keys, names, descriptions and JSON may be, finding
//! them (NOT_FOUND otherwise), and the UNIVERSE a world belongs to.

use super::store::{self, RoomValues, WorldValues};
use crate::auth::{Role, Viewer};
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

fn validate_name(field: &'static str, name: &str) -> AppResult<String> {
    validate_text(field, name, MAX_NAME_CHARS)?;
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::bad_field(field, "the name must not be empty"));
    }
    Ok(name.to_owned())
}

fn validate_description(description: &str) -> AppResult<String> {
    validate_text("description", description, MAX_DESCRIPTION_CHARS)?;
    Ok(description.to_owned())
}

/// A JSON object of bounded size.
fn validate_object(field: &'static str, value: Value) -> AppResult<Value> {
    if !value.is_object() {
        return Err(AppError::bad_field(field, "this must be a JSON object"));
    }
    if value.to_string().len() > MAX_JSON_BYTES {
        return Err(AppError::bad_field(field, "this is larger than 64 KiB"));
    }
    Ok(value)
}

/// Exits: an object mapping a direction to the roomId it leads to.
fn validate_exits(value: Value) -> AppResult<Value> {
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

async fn universe_row_id(
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

/// A world's fields as a client gives them: all of them to create one; to change one, only
/// what changes.
#[derive(Default)]
pub struct WorldChange<'a> {
    /// Its key (only when it is created).
    pub world_key: Option<&'a str>,
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    pub config: Option<Value>,
    pub is_active: Option<bool>,
    /// The entityId of the UNIVERSE it belongs to; `Some(None)` detaches it.
    pub universe_id: Option<Option<&'a str>>,
}

/// Creates a world in the viewer's tenant (WORLDBUILDER).
pub async fn create_world(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    change: WorldChange<'_>,
) -> AppResult<WorldRow> {
    viewer.require_role(Role::Worldbuilder)?;
    let world_key = validate_key("worldId", change.world_key.unwrap_or_default())?;
    // A new world has a name and a description (empty when not given).
    let change = WorldChange {
        name: Some(change.name.unwrap_or_default()),
        description: Some(change.description.unwrap_or_default()),
        ..change
    };
    let values = WorldValues {
        world_key: Some(world_key),
        ..world_values(conn, viewer, change).await?
    };
    store::insert_world(conn, viewer.tenant_id, &values).await
}

/// Changes the viewer's tenant's world with this worldId (WORLDBUILDER).
pub async fn update_world(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    world_id: &str,
    change: WorldChange<'_>,
) -> AppResult<WorldRow> {
    viewer.require_role(Role::Worldbuilder)?;
    let values = world_values(conn, viewer, change).await?;
    let world = world_or_not_found(conn, viewer.tenant_id, world_id).await?;
    store::update_world(conn, &world, &values).await
}

/// The checked values of a change (its key aside).
async fn world_values(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    change: WorldChange<'_>,
) -> AppResult<WorldValues> {
    let mut values = WorldValues {
        world_key: None,
        name: change.name.map(|n| validate_name("name", n)).transpose()?,
        description: change.description.map(validate_description).transpose()?,
        config: change
            .config
            .map(|c| validate_object("config", c))
            .transpose()?,
        is_active: change.is_active,
        universe_row_id: None,
    };
    values.universe_row_id = match change.universe_id {
        None => None,
        Some(None) => Some(None),
        Some(Some(universe_id)) => Some(Some(
            universe_row_id(conn, viewer.tenant_id, universe_id).await?,
        )),
    };
    Ok(values)
}

/// A room's fields as a client gives them: all of them to create one; to change one, only
/// what changes.
#[derive(Default)]
pub struct RoomChange<'a> {
    /// Its key (only when it is created).
    pub room_key: Option<&'a str>,
    /// Its zone; `Some(None)` clears it.
    pub zone_key: Option<Option<&'a str>>,
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    /// An object mapping a direction to the roomId it leads to.
    pub exits: Option<Value>,
}

/// Adds a room to the viewer's tenant's world with this worldId (WORLDBUILDER).
pub async fn create_room(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    world_id: &str,
    change: RoomChange<'_>,
) -> AppResult<RoomRow> {
    viewer.require_role(Role::Worldbuilder)?;
    let room_key = validate_key("roomId", change.room_key.unwrap_or_default())?;
    let zone_key = change
        .zone_key
        .flatten()
        .map(|z| validate_key("zoneId", z))
        .transpose()?;
    // A new room has a name and a description (empty when not given).
    let change = RoomChange {
        name: Some(change.name.unwrap_or_default()),
        description: Some(change.description.unwrap_or_default()),
        ..change
    };
    let values = RoomValues {
        room_key: Some(room_key),
        zone_key: Some(zone_key),
        ..room_values(change)?
    };
    let world = world_or_not_found(conn, viewer.tenant_id, world_id).await?;
    store::insert_room(conn, &world, &values).await
}

/// Changes a room of the viewer's tenant's world with this worldId (WORLDBUILDER).
pub async fn update_room(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    world_id: &str,
    room_id: &str,
    change: RoomChange<'_>,
) -> AppResult<RoomRow> {
    viewer.require_role(Role::Worldbuilder)?;
    let values = RoomValues {
        zone_key: match change.zone_key {
            None => None,
            Some(None) => Some(None),
            Some(Some(zone)) => Some(Some(validate_key("zoneId", zone)?)),
        },
        ..room_values(change)?
    };
    let world = world_or_not_found(conn, viewer.tenant_id, world_id).await?;
    let room = room_or_not_found(conn, &world, room_id).await?;
    store::update_room(conn, &room, &values).await
}

/// The checked values of a change (its key and zone aside).
fn room_values(change: RoomChange<'_>) -> AppResult<RoomValues> {
    Ok(RoomValues {
        room_key: None,
        zone_key: None,
        name: change.name.map(|n| validate_name("name", n)).transpose()?,
        description: change.description.map(validate_description).transpose()?,
        exits: change.exits.map(validate_exits).transpose()?,
    })
}
