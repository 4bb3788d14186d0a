//! SQL of push channels and of the files the sync has seen.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::{drive_channels, drive_connections, drive_files};
use crate::error::AppResult;

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = drive_channels)]
pub struct ChannelRow {
    pub tenant_id: Uuid,
    pub id: String,
    pub user_id: Uuid,
    pub token: String,
    pub address: String,
    pub resource_id: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub stopped_at: Option<DateTime<Utc>>,
    pub last_message: i64,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_channel(conn: &mut AsyncPgConnection, row: &ChannelRow) -> AppResult<()> {
    diesel::insert_into(drive_channels::table)
        .values((
            drive_channels::tenant_id.eq(row.tenant_id),
            drive_channels::id.eq(&row.id),
            drive_channels::user_id.eq(row.user_id),
            drive_channels::token.eq(&row.token),
            drive_channels::address.eq(&row.address),
            drive_channels::resource_id.eq(&row.resource_id),
            drive_channels::expires_at.eq(row.expires_at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The member's live channel (not stopped, not expired), newest first.
pub async fn live_channel(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> AppResult<Option<ChannelRow>> {
    Ok(drive_channels::table
        .filter(drive_channels::tenant_id.eq(tenant_id))
        .filter(drive_channels::user_id.eq(user_id))
        .filter(drive_channels::stopped_at.is_null())
        .filter(drive_channels::expires_at.gt(diesel::dsl::now))
        .order(drive_channels::created_at.desc())
        .select(ChannelRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// A channel by the id Google's notification names (any tenant: the id is a random secret).
pub async fn channel_by_id(
    conn: &mut AsyncPgConnection,
    id: &str,
) -> AppResult<Option<ChannelRow>> {
    Ok(drive_channels::table
        .filter(drive_channels::id.eq(id))
        .select(ChannelRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Closes the member's open channels here (expired ones too); the ones closed.
pub async fn close_open_channels(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> AppResult<Vec<ChannelRow>> {
    Ok(diesel::update(
        drive_channels::table
            .filter(drive_channels::tenant_id.eq(tenant_id))
            .filter(drive_channels::user_id.eq(user_id))
            .filter(drive_channels::stopped_at.is_null()),
    )
    .set(drive_channels::stopped_at.eq(diesel::dsl::now))
    .returning(ChannelRow::as_returning())
    .get_results(conn)
    .await?)
}

/// Closes one channel here; false when it was closed already (another node renews it).
pub async fn close_channel(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: &str,
) -> AppResult<bool> {
    Ok(diesel::update(
        drive_channels::table
            .find((tenant_id, id))
            .filter(drive_channels::stopped_at.is_null()),
    )
    .set(drive_channels::stopped_at.eq(diesel::dsl::now))
    .execute(conn)
    .await?
        == 1)
}

/// Takes message `number` of a channel: true when it is newer than every one taken before
/// (a repeated or older delivery takes nothing).
pub async fn take_message(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: &str,
    number: i64,
) -> AppResult<bool> {
    Ok(diesel::update(
        drive_channels::table
            .find((tenant_id, id))
            .filter(drive_channels::last_message.lt(number)),
    )
    .set(drive_channels::last_message.eq(number))
    .execute(conn)
    .await?
        == 1)
}

/// Live channels that end within `within`, to be renewed.
pub async fn channels_ending(
    conn: &mut AsyncPgConnection,
    before: DateTime<Utc>,
) -> AppResult<Vec<ChannelRow>> {
    Ok(drive_channels::table
        .filter(drive_channels::stopped_at.is_null())
        .filter(drive_channels::expires_at.lt(before))
        .filter(drive_channels::expires_at.gt(diesel::dsl::now))
        .select(ChannelRow::as_select())
        .limit(100)
        .load(conn)
        .await?)
}

/// What the sync knows of one Drive file.
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = drive_files)]
pub struct FileRow {
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub file_id: String,
    pub entity_row: Option<Uuid>,
    pub version: i64,
    pub md5: Option<String>,
    pub entity_updated_at: Option<DateTime<Utc>>,
    pub synced_at: DateTime<Utc>,
    /// The entity's version when the file last matched it.
    pub entity_version: Option<i32>,
}

pub async fn file(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    file_id: &str,
) -> AppResult<Option<FileRow>> {
    Ok(drive_files::table
        .find((tenant_id, user_id, file_id))
        .select(FileRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// The state of an entity a Drive file holds.
#[derive(Clone, Copy, Debug)]
pub struct Held {
    pub row: Uuid,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// Records a file at `version`, holding the entity's state `held` (when known).
pub async fn record_file(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    file_id: &str,
    version: i64,
    md5: Option<&str>,
    held: Option<Held>,
) -> AppResult<()> {
    let entity_row = held.map(|h| h.row);
    let entity_updated_at = held.map(|h| h.updated_at);
    let entity_version = held.map(|h| h.version);
    diesel::insert_into(drive_files::table)
        .values((
            drive_files::tenant_id.eq(tenant_id),
            drive_files::user_id.eq(user_id),
            drive_files::file_id.eq(file_id),
            drive_files::version.eq(version),
            drive_files::md5.eq(md5),
            drive_files::entity_row.eq(entity_row),
            drive_files::entity_updated_at.eq(entity_updated_at),
            drive_files::entity_version.eq(entity_version),
        ))
        .on_conflict((
            drive_files::tenant_id,
            drive_files::user_id,
            drive_files::file_id,
        ))
        .do_update()
        .set((
            // Versions only grow: a late writer never takes a file back to an older one.
            drive_files::version.eq(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                "GREATEST(drive_files.version, excluded.version)",
            )),
            drive_files::md5.eq(md5),
            // A version that could not be imported keeps the entity the file held.
            drive_files::entity_row.eq(diesel::dsl::sql::<
                diesel::sql_types::Nullable<diesel::sql_types::Uuid>,
            >(
                "COALESCE(excluded.entity_row, drive_files.entity_row)"
            )),
            drive_files::entity_updated_at.eq(diesel::dsl::sql::<
                diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
            >(
                "COALESCE(excluded.entity_updated_at, drive_files.entity_updated_at)",
            )),
            drive_files::entity_version.eq(diesel::dsl::sql::<
                diesel::sql_types::Nullable<diesel::sql_types::Int4>,
            >(
                "COALESCE(excluded.entity_version, drive_files.entity_version)",
            )),
            drive_files::synced_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Forgets a file (deleted, trashed or moved out of the folder in Drive): no entity is
/// written to it any more.
pub async fn forget_file(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    file_id: &str,
) -> AppResult<()> {
    diesel::delete(drive_files::table.find((tenant_id, user_id, file_id)))
        .execute(conn)
        .await?;
    Ok(())
}

/// Claims a file for writing the entity's state of `updated_at` to it: false when it holds
/// that state (or a newer one) already, or another writer claimed it first.
pub async fn claim_write(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    file_id: &str,
    updated_at: DateTime<Utc>,
) -> AppResult<bool> {
    Ok(diesel::update(
        drive_files::table
            .find((tenant_id, user_id, file_id))
            .filter(
                drive_files::entity_updated_at
                    .is_null()
                    .or(drive_files::entity_updated_at.lt(updated_at)),
            ),
    )
    .set(drive_files::entity_updated_at.eq(updated_at))
    .execute(conn)
    .await?
        == 1)
}

/// The Drive files holding an entity (one per member who synced it).
pub async fn files_of_entity(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    entity_row: Uuid,
) -> AppResult<Vec<FileRow>> {
    Ok(drive_files::table
        .filter(drive_files::tenant_id.eq(tenant_id))
        .filter(drive_files::entity_row.eq(entity_row))
        .select(FileRow::as_select())
        .limit(100)
        .load(conn)
        .await?)
}

pub async fn count_files(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> AppResult<i64> {
    Ok(drive_files::table
        .filter(drive_files::tenant_id.eq(tenant_id))
        .filter(drive_files::user_id.eq(user_id))
        .count()
        .get_result(conn)
        .await?)
}

/// Every connection with a folder (the sync worker's round), in batches.
pub async fn connections_with_folder(
    conn: &mut AsyncPgConnection,
    after: Option<(Uuid, Uuid)>,
    limit: i64,
) -> AppResult<Vec<(Uuid, Uuid)>> {
    let (tenant, user) = after.unwrap_or((Uuid::nil(), Uuid::nil()));
    Ok(drive_connections::table
        .filter(drive_connections::folder_id.is_not_null())
        .filter(
            drive_connections::tenant_id
                .gt(tenant)
                .or(drive_connections::tenant_id
                    .eq(tenant)
                    .and(drive_connections::user_id.gt(user))),
        )
        .order((drive_connections::tenant_id, drive_connections::user_id))
        .select((drive_connections::tenant_id, drive_connections::user_id))
        .limit(limit)
        .load(conn)
        .await?)
}

/// Where the change feed stands, saved after each page read — unless the folder changed
/// meanwhile (its first listing is still to come).
pub async fn save_page_token(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    folder_id: &str,
    page_token: &str,
) -> AppResult<()> {
    diesel::update(
        drive_connections::table
            .find((tenant_id, user_id))
            .filter(drive_connections::folder_id.eq(folder_id)),
    )
    .set(drive_connections::page_token.eq(page_token))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn finish_round(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    error: Option<&str>,
) -> AppResult<()> {
    diesel::update(drive_connections::table.find((tenant_id, user_id)))
        .set((
            drive_connections::last_synced_at.eq(diesel::dsl::now),
            drive_connections::last_error.eq(error),
        ))
        .execute(conn)
        .await?;
    Ok(())
}
