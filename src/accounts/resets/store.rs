//! SQL of reset links (kept as hashes of their tokens).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::password_resets;
use crate::error::AppResult;

pub async fn insert(
    conn: &mut AsyncPgConnection,
    token_hash: &[u8],
    user_id: Uuid,
    expires_at: DateTime<Utc>,
) -> AppResult<()> {
    diesel::insert_into(password_resets::table)
        .values((
            password_resets::token_hash.eq(token_hash),
            password_resets::user_id.eq(user_id),
            password_resets::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The account a live (unused, unexpired) link is for.
pub async fn live(conn: &mut AsyncPgConnection, token_hash: &[u8]) -> AppResult<Option<Uuid>> {
    Ok(password_resets::table
        .filter(password_resets::token_hash.eq(token_hash))
        .filter(password_resets::used_at.is_null())
        .filter(password_resets::expires_at.gt(diesel::dsl::now))
        .select(password_resets::user_id)
        .first(conn)
        .await
        .optional()?)
}

/// Uses a live link, once: a second use (even a concurrent one) finds nothing.
pub async fn consume(conn: &mut AsyncPgConnection, token_hash: &[u8]) -> AppResult<Option<Uuid>> {
    Ok(diesel::update(
        password_resets::table
            .filter(password_resets::token_hash.eq(token_hash))
            .filter(password_resets::used_at.is_null())
            .filter(password_resets::expires_at.gt(diesel::dsl::now)),
    )
    .set(password_resets::used_at.eq(diesel::dsl::now))
    .returning(password_resets::user_id)
    .get_result(conn)
    .await
    .optional()?)
}

/// Retires the account's other live links (a reset makes them pointless, and risky).
pub async fn retire_all(conn: &mut AsyncPgConnection, user_id: Uuid) -> AppResult<usize> {
    Ok(diesel::update(
        password_resets::table
            .filter(password_resets::user_id.eq(user_id))
            .filter(password_resets::used_at.is_null()),
    )
    .set(password_resets::used_at.eq(diesel::dsl::now))
    .execute(conn)
    .await?)
}

/// Forgets up to `limit` links that expired a day ago or more; how many.
pub async fn prune(conn: &mut AsyncPgConnection, limit: i64) -> AppResult<usize> {
    Ok(diesel::sql_query(
        "DELETE FROM password_resets WHERE token_hash IN (SELECT token_hash FROM password_resets \
         WHERE expires_at < now() - interval '1 day' LIMIT $1)",
    )
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .execute(conn)
    .await?)
}
