//! Queries of the MUD's characters and the sessions that play them, always within one tenant.

use chrono::Utc;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::keyset::{Window, load_window, windowed};
use crate::db::lower;
use crate::db::schema::{characters, sessions};
use crate::error::AppResult;
use crate::mud::model::{CharacterRow, WorldRow};

// ---- characters ----

pub struct NewCharacter<'a> {
    pub world: &'a WorldRow,
    pub user_id: Uuid,
    pub name: &'a str,
    pub state_seed: i64,
}

/// Inserts a character; None when the world already has one by that name (ignoring case).
pub async fn insert_character(
    conn: &mut AsyncPgConnection,
    new: NewCharacter<'_>,
) -> AppResult<Option<CharacterRow>> {
    Ok(diesel::insert_into(characters::table)
        .values((
            characters::id.eq(Uuid::now_v7()),
            characters::tenant_id.eq(new.world.tenant_id),
            characters::world_id.eq(new.world.id),
            characters::user_id.eq(new.user_id),
            characters::name.eq(new.name),
            characters::state_seed.eq(new.state_seed),
        ))
        .on_conflict_do_nothing()
        .returning(CharacterRow::as_returning())
        .get_result(conn)
        .await
        .optional()?)
}

pub async fn find_character(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> AppResult<Option<CharacterRow>> {
    Ok(characters::table
        .filter(characters::tenant_id.eq(tenant_id))
        .filter(characters::id.eq(id))
        .select(CharacterRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// The world's character with this name (ignoring case).
pub async fn find_character_by_name(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    world_id: Uuid,
    name: &str,
) -> AppResult<Option<CharacterRow>> {
    Ok(characters::table
        .filter(characters::tenant_id.eq(tenant_id))
        .filter(characters::world_id.eq(world_id))
        .filter(lower(characters::name).eq(name.to_lowercase()))
        .select(CharacterRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// A character of the tenant, locked until the transaction ends.
pub async fn lock_character(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> AppResult<Option<CharacterRow>> {
    Ok(characters::table
        .filter(characters::tenant_id.eq(tenant_id))
        .filter(characters::id.eq(id))
        .for_update()
        .select(CharacterRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

pub async fn characters_by_ids(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    ids: &[Uuid],
) -> AppResult<Vec<CharacterRow>> {
    Ok(characters::table
        .filter(characters::tenant_id.eq(tenant_id))
        .filter(characters::id.eq_any(ids))
        .select(CharacterRow::as_select())
        .load(conn)
        .await?)
}

/// Which characters to list.
#[derive(Default)]
pub struct CharacterFilter {
    pub world_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub include_tombstoned: bool,
}

fn filtered_characters(
    tenant_id: Uuid,
    filter: &CharacterFilter,
) -> characters::BoxedQuery<'static, Pg> {
    let mut query = characters::table
        .filter(characters::tenant_id.eq(tenant_id))
        .into_boxed();
    if let Some(world_id) = filter.world_id {
        query = query.filter(characters::world_id.eq(world_id));
    }
    if let Some(user_id) = filter.user_id {
        query = query.filter(characters::user_id.eq(user_id));
    }
    if !filter.include_tombstoned {
        query = query.filter(characters::tombstoned_at.is_null());
    }
    query
}

/// Where a character sits in the list: its name as PostgreSQL lower-cases it, and its id.
pub type CharacterKey = (String, Uuid);

/// A page of the tenant's characters by name (ignoring case; of equal names, the lower id
/// first), each with its name lower-cased as the database does it (the key: Rust's lower case
/// differs in a few scripts): an offset page with how many there are, or a page by cursor.
pub async fn list_characters(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    filter: &CharacterFilter,
    window: &Window<CharacterKey>,
) -> AppResult<(Option<i64>, Vec<(CharacterRow, String)>)> {
    let rows = windowed!(
        filtered_characters(tenant_id, filter),
        window.clone(),
        asc(lower(characters::name), characters::id)
    )
    .select((CharacterRow::as_select(), lower(characters::name)));
    let total = filtered_characters(tenant_id, filter).count();
    load_window(conn, window, rows, total).await
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = characters)]
pub struct CharacterChanges {
    pub inventory: Option<serde_json::Value>,
    pub room_id: Option<Option<Uuid>>,
    pub moved_at: Option<Option<chrono::DateTime<Utc>>>,
}

pub async fn update_character(
    conn: &mut AsyncPgConnection,
    character: &CharacterRow,
    changes: &CharacterChanges,
) -> AppResult<CharacterRow> {
    Ok(
        diesel::update(characters::table.find((character.tenant_id, character.id)))
            .filter(characters::tenant_id.eq(character.tenant_id))
            .set((changes, characters::updated_at.eq(diesel::dsl::now)))
            .returning(CharacterRow::as_returning())
            .get_result(conn)
            .await?,
    )
}

/// Keeps the character's history but frees it: no owner, a name that no longer takes the
/// original's place in its world.
pub async fn tombstone_character(
    conn: &mut AsyncPgConnection,
    character: &CharacterRow,
) -> AppResult<CharacterRow> {
    let short_id: String = character
        .id
        .simple()
        .to_string()
        .chars()
        .rev()
        .take(8)
        .collect();
    let tombstone_name = format!("{} [removed {short_id}]", character.name);
    Ok(
        diesel::update(characters::table.find((character.tenant_id, character.id)))
            .filter(characters::tenant_id.eq(character.tenant_id))
            .set((
                characters::user_id.eq(None::<Uuid>),
                characters::name.eq(tombstone_name),
                characters::tombstoned_at.eq(diesel::dsl::now),
                characters::updated_at.eq(diesel::dsl::now),
            ))
            .returning(CharacterRow::as_returning())
            .get_result(conn)
            .await?,
    )
}

pub async fn delete_character(
    conn: &mut AsyncPgConnection,
    character: &CharacterRow,
) -> AppResult<bool> {
    Ok(
        diesel::delete(characters::table.find((character.tenant_id, character.id)))
            .filter(characters::tenant_id.eq(character.tenant_id))
            .execute(conn)
            .await?
            > 0,
    )
}

// ---- sessions in worlds ----

/// Binds a character to a session.
pub async fn bind_session(
    conn: &mut AsyncPgConnection,
    session_id: Uuid,
    character_id: Uuid,
) -> AppResult<()> {
    diesel::update(sessions::table.find(session_id))
        .set(sessions::character_id.eq(character_id))
        .execute(conn)
        .await?;
    Ok(())
}

/// Unbinds whatever character a session plays; whether it played one.
pub async fn unbind_session(conn: &mut AsyncPgConnection, session_id: Uuid) -> AppResult<bool> {
    Ok(diesel::update(sessions::table.find(session_id))
        .filter(sessions::character_id.is_not_null())
        .set(sessions::character_id.eq(None::<Uuid>))
        .execute(conn)
        .await?
        > 0)
}

/// Unbinds a character from every session it is bound to; the sessions' ids.
pub async fn unbind_character(
    conn: &mut AsyncPgConnection,
    character_id: Uuid,
) -> AppResult<Vec<Uuid>> {
    Ok(diesel::update(sessions::table)
        .filter(sessions::character_id.eq(character_id))
        .set(sessions::character_id.eq(None::<Uuid>))
        .returning(sessions::id)
        .get_results(conn)
        .await?)
}
