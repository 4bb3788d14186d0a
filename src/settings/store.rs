//! SQL of user settings and provider keys.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::{user_provider_keys, user_settings};
use crate::error::AppResult;

/// The stored document and when it last changed; None before the first change.
pub async fn settings(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
) -> AppResult<Option<(serde_json::Value, DateTime<Utc>)>> {
    Ok(user_settings::table
        .find(user_id)
        .select((user_settings::settings, user_settings::updated_at))
        .first(conn)
        .await
        .optional()?)
}

/// Merges `patch` into the document in one statement (a key set to null is removed), and
/// returns the result.
pub async fn merge_settings(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    patch: &serde_json::Value,
) -> AppResult<(serde_json::Value, DateTime<Utc>)> {
    #[derive(QueryableByName)]
    struct Merged {
        #[diesel(sql_type = diesel::sql_types::Jsonb)]
        settings: serde_json::Value,
        #[diesel(sql_type = diesel::sql_types::Timestamptz)]
        updated_at: DateTime<Utc>,
    }
    let merged: Merged = diesel::sql_query(
        "INSERT INTO user_settings AS s (user_id, settings) VALUES ($1, jsonb_strip_nulls($2)) \
         ON CONFLICT (user_id) DO UPDATE \
           SET settings = jsonb_strip_nulls(s.settings || $2), updated_at = now() \
         RETURNING settings, updated_at",
    )
    .bind::<diesel::sql_types::Uuid, _>(user_id)
    .bind::<diesel::sql_types::Jsonb, _>(patch)
    .get_result(conn)
    .await?;
    Ok((merged.settings, merged.updated_at))
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = user_provider_keys, check_for_backend(diesel::pg::Pg))]
pub struct ProviderKeyRow {
    pub user_id: Uuid,
    pub provider: String,
    pub sealed_key: Vec<u8>,
    pub last_four: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The origin the key may be sent to.
    pub origin: String,
}

pub async fn keys(conn: &mut AsyncPgConnection, user_id: Uuid) -> AppResult<Vec<ProviderKeyRow>> {
    Ok(user_provider_keys::table
        .filter(user_provider_keys::user_id.eq(user_id))
        .order(user_provider_keys::provider.asc())
        .select(ProviderKeyRow::as_select())
        .load(conn)
        .await?)
}

pub async fn key(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    provider: &str,
) -> AppResult<Option<ProviderKeyRow>> {
    Ok(user_provider_keys::table
        .find((user_id, provider))
        .select(ProviderKeyRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

pub async fn put_key(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    provider: &str,
    sealed: &[u8],
    last_four: &str,
    origin: &str,
) -> AppResult<ProviderKeyRow> {
    Ok(diesel::insert_into(user_provider_keys::table)
        .values((
            user_provider_keys::user_id.eq(user_id),
            user_provider_keys::provider.eq(provider),
            user_provider_keys::sealed_key.eq(sealed),
            user_provider_keys::last_four.eq(last_four),
            user_provider_keys::origin.eq(origin),
        ))
        .on_conflict((user_provider_keys::user_id, user_provider_keys::provider))
        .do_update()
        .set((
            user_provider_keys::sealed_key.eq(sealed),
            user_provider_keys::last_four.eq(last_four),
            user_provider_keys::origin.eq(origin),
            user_provider_keys::updated_at.eq(diesel::dsl::now),
        ))
        .returning(ProviderKeyRow::as_returning())
        .get_result(conn)
        .await?)
}

/// Replaces a key's sealed bytes (re-sealed under the current secrets key), unless it changed
/// since it was read.
pub async fn reseal_key(
    conn: &mut AsyncPgConnection,
    row: &ProviderKeyRow,
    sealed: &[u8],
) -> AppResult<()> {
    diesel::update(
        user_provider_keys::table
            .find((row.user_id, &row.provider))
            .filter(user_provider_keys::sealed_key.eq(&row.sealed_key)),
    )
    .set(user_provider_keys::sealed_key.eq(sealed))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete_key(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    provider: &str,
) -> AppResult<bool> {
    let deleted = diesel::delete(user_provider_keys::table.find((user_id, provider)))
        .execute(conn)
        .await?;
    Ok(deleted > 0)
}
