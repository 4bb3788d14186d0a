//! Queries of the MUD's worlds and rooms, always within one tenant.

use crate::db::fragment::Fragment;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::keyset::{Window, load_window, windowed};
use crate::db::schema::{rooms, worlds};
use crate::error::{AppError, AppResult};
use crate::mud::model::{RoomRow, WorldRow};

/// A unique-key clash reported as CONFLICT with `message`.
fn conflict_as(message: &'static str) -> impl Fn(diesel::result::Error) -> AppError {
    move |error| match AppError::from(error) {
        AppError::Conflict(_) => AppError::conflict(message),
        other => other,
    }
}

// ---- worlds ----

#[derive(Insertable, AsChangeset, Default)]
#[diesel(table_name = worlds)]
pub struct WorldValues {
    pub world_key: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub config: Option<serde_json::Value>,
    pub is_active: Option<bool>,
    pub universe_row_id: Option<Option<Uuid>>,
}

pub async fn insert_world(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    values: &WorldValues,
) -> AppResult<WorldRow> {
    diesel::insert_into(worlds::table)
        .values((
            worlds::id.eq(Uuid::now_v7()),
            worlds::tenant_id.eq(tenant_id),
            values,
        ))
        .returning(WorldRow::as_returning())
        .get_result(conn)
        .await
        .map_err(conflict_as("a world with this worldId already exists"))
}

pub async fn update_world(
    conn: &mut AsyncPgConnection,
    world: &WorldRow,
    values: &WorldValues,
) -> AppResult<WorldRow> {
    Ok(
        diesel::update(worlds::table.find((world.tenant_id, world.id)))
            .filter(worlds::tenant_id.eq(world.tenant_id))
            .set((values, worlds::updated_at.eq(diesel::dsl::now)))
            .returning(WorldRow::as_returning())
            .get_result(conn)
            .await?,
    )
}

/// A world of the tenant by its key (the seed's world_id).
pub async fn find_world(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    world_key: &str,
) -> AppResult<Option<WorldRow>> {
    Ok(worlds::table
        .filter(worlds::tenant_id.eq(tenant_id))
        .filter(worlds::world_key.eq(world_key))
        .select(WorldRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

pub async fn worlds_by_ids(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    ids: &[Uuid],
) -> AppResult<Vec<WorldRow>> {
    Ok(worlds::table
        .filter(worlds::tenant_id.eq(tenant_id))
        .filter(worlds::id.eq_any(ids))
        .select(WorldRow::as_select())
        .load(conn)
        .await?)
}

fn filtered_worlds(tenant_id: Uuid, only_active: bool) -> worlds::BoxedQuery<'static, Pg> {
    let mut query = worlds::table
        .filter(worlds::tenant_id.eq(tenant_id))
        .into_boxed();
    if only_active {
        query = query.filter(worlds::is_active);
    }
    query
}

/// Where a world sits in the list: its key, and its id (the key is unique in the tenant; the
/// id makes the order's end a column of its own).
pub type WorldKey = (String, Uuid);

/// A page of the tenant's worlds by key, optionally only the active ones: an offset page with
/// how many there are, or a page by cursor.
pub async fn list_worlds(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    only_active: bool,
    window: &Window<WorldKey>,
) -> AppResult<(Option<i64>, Vec<WorldRow>)> {
    let rows = windowed!(
        filtered_worlds(tenant_id, only_active),
        window.clone(),
        asc(worlds::world_key, worlds::id)
    )
    .select(WorldRow::as_select());
    load_window(
        conn,
        window,
        rows,
        filtered_worlds(tenant_id, only_active).count(),
    )
    .await
}

// ---- rooms ----

#[derive(Insertable, AsChangeset, Default)]
#[diesel(table_name = rooms)]
pub struct RoomValues {
    pub room_key: Option<String>,
    pub zone_key: Option<Option<String>>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub exits: Option<serde_json::Value>,
}

pub async fn insert_room(
    conn: &mut AsyncPgConnection,
    world: &WorldRow,
    values: &RoomValues,
) -> AppResult<RoomRow> {
    diesel::insert_into(rooms::table)
        .values((
            rooms::id.eq(Uuid::now_v7()),
            rooms::tenant_id.eq(world.tenant_id),
            rooms::world_id.eq(world.id),
            values,
        ))
        .returning(RoomRow::as_returning())
        .get_result(conn)
        .await
        .map_err(conflict_as(
            "this world already has a room with this roomId",
        ))
}

pub async fn update_room(
    conn: &mut AsyncPgConnection,
    room: &RoomRow,
    values: &RoomValues,
) -> AppResult<RoomRow> {
    diesel::update(rooms::table.find((room.tenant_id, room.id)))
        .filter(rooms::tenant_id.eq(room.tenant_id))
        .set((values, rooms::updated_at.eq(diesel::dsl::now)))
        .returning(RoomRow::as_returning())
        .get_result(conn)
        .await
        .map_err(conflict_as(
            "this world already has a room with this roomId",
        ))
}

/// A room of a world by its key.
pub async fn find_room(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    world_id: Uuid,
    room_key: &str,
) -> AppResult<Option<RoomRow>> {
    Ok(rooms::table
        .filter(rooms::tenant_id.eq(tenant_id))
        .filter(rooms::world_id.eq(world_id))
        .filter(rooms::room_key.eq(room_key))
        .select(RoomRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

pub async fn rooms_by_ids(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    ids: &[Uuid],
) -> AppResult<Vec<RoomRow>> {
    Ok(rooms::table
        .filter(rooms::tenant_id.eq(tenant_id))
        .filter(rooms::id.eq_any(ids))
        .select(RoomRow::as_select())
        .load(conn)
        .await?)
}

diesel::define_sql_function! {
    /// PostgreSQL's `coalesce` of a text that may be null and one that is not.
    fn coalesce(x: Nullable<Text>, y: Text) -> Text;
}

/// The zone a room without one sorts by in the key: `''` written into the statement (not
/// bound), so an index on `coalesce(zone_key, '')` matches it.
fn no_zone() -> Fragment<Text> {
    Fragment::text("''")
}

fn filtered_rooms<'a>(world: &WorldRow, zone: Option<&'a str>) -> rooms::BoxedQuery<'a, Pg> {
    let mut query = rooms::table
        .filter(rooms::tenant_id.eq(world.tenant_id))
        .filter(rooms::world_id.eq(world.id))
        .into_boxed();
    if let Some(zone) = zone {
        query = query.filter(rooms::zone_key.eq(zone));
    }
    query
}

/// Where a room sits in its world's list: whether it has no zone (those come last), its zone
/// (empty without one), and its key (unique in the world).
pub type RoomKey = (bool, String, String);

/// The key of a room in its world's list.
pub fn room_key_of(room: &RoomRow) -> RoomKey {
    (
        room.zone_key.is_none(),
        room.zone_key.clone().unwrap_or_default(),
        room.room_key.clone(),
    )
}

/// A page of a world's rooms by zone (rooms without one last) and key, optionally of one
/// zone: an offset page with how many there are, or a page by cursor.
pub async fn list_rooms(
    conn: &mut AsyncPgConnection,
    world: &WorldRow,
    zone: Option<&str>,
    window: &Window<RoomKey>,
) -> AppResult<(Option<i64>, Vec<RoomRow>)> {
    // `zone_key` may be null, which a row comparison cannot order: the key spells out
    // PostgreSQL's ascending order (nulls last) in columns that are never null.
    let rows = windowed!(
        filtered_rooms(world, zone),
        window.clone(),
        asc(
            rooms::zone_key.is_null(),
            coalesce(rooms::zone_key, no_zone()),
            rooms::room_key
        )
    )
    .select(RoomRow::as_select());
    load_window(conn, window, rows, filtered_rooms(world, zone).count()).await
}
