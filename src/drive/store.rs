//! SQL of Drive connections.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::ConnectionRow;
use crate::db::schema::drive_connections;
use crate::error::AppResult;

pub async fn find(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> AppResult<Option<ConnectionRow>> {
    Ok(drive_connections::table
        .find((tenant_id, user_id))
        .select(ConnectionRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// The connection, locked for the transaction (one refresh of its tokens at a time).
pub async fn lock(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> AppResult<Option<ConnectionRow>> {
    Ok(drive_connections::table
        .find((tenant_id, user_id))
        .select(ConnectionRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?)
}

/// Keeps a new consent. Reconnecting the same Google account keeps the folder chosen; another
/// account starts over.
pub async fn upsert(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    google_email: Option<&str>,
    scopes: &str,
    sealed_tokens: &[u8],
    access_expires_at: DateTime<Utc>,
) -> AppResult<ConnectionRow> {
    Ok(diesel::sql_query(
        "INSERT INTO drive_connections AS c \
           (tenant_id, user_id, google_email, scopes, sealed_tokens, access_expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (tenant_id, user_id) DO UPDATE SET \
           scopes = EXCLUDED.scopes, sealed_tokens = EXCLUDED.sealed_tokens, \
           access_expires_at = EXCLUDED.access_expires_at, connected_at = now(), \
           refreshed_at = NULL, last_error = NULL, \
           folder_id = CASE WHEN c.google_email IS NOT DISTINCT FROM EXCLUDED.google_email \
                       THEN c.folder_id END, \
           folder_name = CASE WHEN c.google_email IS NOT DISTINCT FROM EXCLUDED.google_email \
                         THEN c.folder_name END, \
           page_token = CASE WHEN c.google_email IS NOT DISTINCT FROM EXCLUDED.google_email \
                        THEN c.page_token END, \
           google_email = EXCLUDED.google_email \
         RETURNING *",
    )
    .bind::<diesel::sql_types::Uuid, _>(tenant_id)
    .bind::<diesel::sql_types::Uuid, _>(user_id)
    .bind::<diesel::sql_types::Nullable<diesel::sql_types::Text>, _>(google_email)
    .bind::<diesel::sql_types::Text, _>(scopes)
    .bind::<diesel::sql_types::Bytea, _>(sealed_tokens)
    .bind::<diesel::sql_types::Timestamptz, _>(access_expires_at)
    .get_result(conn)
    .await?)
}

/// New tokens after a refresh (sealed again, under the current key).
pub async fn save_tokens(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    sealed_tokens: &[u8],
    access_expires_at: DateTime<Utc>,
) -> AppResult<()> {
    diesel::update(drive_connections::table.find((tenant_id, user_id)))
        .set((
            drive_connections::sealed_tokens.eq(sealed_tokens),
            drive_connections::access_expires_at.eq(access_expires_at),
            drive_connections::refreshed_at.eq(diesel::dsl::now),
            drive_connections::last_error.eq(None::<String>),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_error(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    error: Option<&str>,
) -> AppResult<()> {
    diesel::update(drive_connections::table.find((tenant_id, user_id)))
        .set(drive_connections::last_error.eq(error))
        .execute(conn)
        .await?;
    Ok(())
}

/// The folder the studio's files live in; the change feed starts afresh from `page_token`.
pub async fn set_folder(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    folder_id: &str,
    folder_name: &str,
) -> AppResult<Option<ConnectionRow>> {
    forget_files(conn, tenant_id, user_id).await?;
    Ok(
        diesel::update(drive_connections::table.find((tenant_id, user_id)))
            .set((
                drive_connections::folder_id.eq(folder_id),
                drive_connections::folder_name.eq(folder_name),
                drive_connections::page_token.eq(None::<String>),
            ))
            .returning(ConnectionRow::as_returning())
            .get_result(conn)
            .await
            .optional()?,
    )
}

/// Forgets which Drive files hold which entities (another folder or Google account: its
/// files are not these).
pub async fn forget_files(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> AppResult<usize> {
    use crate::db::schema::drive_files;
    Ok(diesel::delete(
        drive_files::table
            .filter(drive_files::tenant_id.eq(tenant_id))
            .filter(drive_files::user_id.eq(user_id)),
    )
    .execute(conn)
    .await?)
}

/// Claims the connection for a sync round until `until` (false: another round holds it).
pub async fn claim_round(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    until: DateTime<Utc>,
) -> AppResult<bool> {
    Ok(diesel::update(
        drive_connections::table.find((tenant_id, user_id)).filter(
            drive_connections::round_until
                .is_null()
                .or(drive_connections::round_until.lt(diesel::dsl::now)),
        ),
    )
    .set(drive_connections::round_until.eq(until))
    .execute(conn)
    .await?
        == 1)
}

pub async fn release_round(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> AppResult<()> {
    diesel::update(drive_connections::table.find((tenant_id, user_id)))
        .set(drive_connections::round_until.eq(None::<DateTime<Utc>>))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> AppResult<bool> {
    Ok(
        diesel::delete(drive_connections::table.find((tenant_id, user_id)))
            .execute(conn)
            .await?
            > 0,
    )
}
