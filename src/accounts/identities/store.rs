//! SQL of identities and of the flows in flight.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::{id_token_uses, oauth_flows, user_identities};
use crate::error::AppResult;

/// An account never holds more identities than this (it is a list on a settings page).
pub const MAX_IDENTITIES_PER_ACCOUNT: i64 = 20;

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = user_identities)]
pub struct IdentityRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub provider: String,
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

pub async fn find(
    conn: &mut AsyncPgConnection,
    provider: &str,
    subject: &str,
) -> AppResult<Option<IdentityRow>> {
    Ok(user_identities::table
        .filter(user_identities::provider.eq(provider))
        .filter(user_identities::subject.eq(subject))
        .select(IdentityRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Adds an identity to an account; None when the identity belongs to an account already.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    provider: &str,
    subject: &str,
    email: Option<&str>,
    email_verified: bool,
) -> AppResult<Option<IdentityRow>> {
    Ok(diesel::insert_into(user_identities::table)
        .values((
            user_identities::id.eq(Uuid::now_v7()),
            user_identities::user_id.eq(user_id),
            user_identities::provider.eq(provider),
            user_identities::subject.eq(subject),
            user_identities::email.eq(email),
            user_identities::email_verified.eq(email_verified),
            user_identities::last_used_at.eq(diesel::dsl::now),
        ))
        .on_conflict((user_identities::provider, user_identities::subject))
        .do_nothing()
        .returning(IdentityRow::as_returning())
        .get_result(conn)
        .await
        .optional()?)
}

/// Records a sign-in with the identity and what the provider says of it now.
pub async fn touch(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    email: Option<&str>,
    email_verified: bool,
) -> AppResult<()> {
    diesel::update(user_identities::table.find(id))
        .set((
            user_identities::email.eq(email),
            user_identities::email_verified.eq(email_verified),
            user_identities::last_used_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// An account's identities, oldest first.
pub async fn of_user(conn: &mut AsyncPgConnection, user_id: Uuid) -> AppResult<Vec<IdentityRow>> {
    Ok(user_identities::table
        .filter(user_identities::user_id.eq(user_id))
        .order((user_identities::created_at, user_identities::id))
        .limit(MAX_IDENTITIES_PER_ACCOUNT)
        .select(IdentityRow::as_select())
        .load(conn)
        .await?)
}

/// Removes one of the account's identities; whether there was one.
pub async fn delete(conn: &mut AsyncPgConnection, user_id: Uuid, id: Uuid) -> AppResult<bool> {
    Ok(diesel::delete(
        user_identities::table
            .filter(user_identities::id.eq(id))
            .filter(user_identities::user_id.eq(user_id)),
    )
    .execute(conn)
    .await?
        > 0)
}

/// Removes every identity of the account (a password reset takes the account back); how many.
pub async fn delete_all_of_user(conn: &mut AsyncPgConnection, user_id: Uuid) -> AppResult<usize> {
    Ok(
        diesel::delete(user_identities::table.filter(user_identities::user_id.eq(user_id)))
            .execute(conn)
            .await?,
    )
}

/// Records a use of an ID token until it expires; false when it was used already.
pub async fn record_id_token_use(
    conn: &mut AsyncPgConnection,
    token_hash: &[u8],
    expires_at: DateTime<Utc>,
) -> AppResult<bool> {
    Ok(diesel::insert_into(id_token_uses::table)
        .values((
            id_token_uses::token_hash.eq(token_hash),
            id_token_uses::expires_at.eq(expires_at),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?
        == 1)
}

/// A flow in flight (see the migration for what each column binds).
#[derive(Insertable, Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = oauth_flows)]
pub struct FlowRow {
    pub state_hash: Vec<u8>,
    pub provider: String,
    pub purpose: String,
    pub pkce_verifier: String,
    pub nonce: String,
    pub browser_hash: Option<Vec<u8>>,
    pub user_id: Option<Uuid>,
    pub tenant_id: Option<Uuid>,
    pub redirect_uri: String,
    pub return_to: String,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert_flow(conn: &mut AsyncPgConnection, flow: &FlowRow) -> AppResult<()> {
    diesel::insert_into(oauth_flows::table)
        .values(flow)
        .execute(conn)
        .await?;
    Ok(())
}

/// Takes the flow a `state` names, once: whoever comes back with it second finds nothing.
pub async fn take_flow(
    conn: &mut AsyncPgConnection,
    state_hash: &[u8],
) -> AppResult<Option<FlowRow>> {
    Ok(
        diesel::delete(oauth_flows::table.filter(oauth_flows::state_hash.eq(state_hash)))
            .returning(FlowRow::as_returning())
            .get_result(conn)
            .await
            .optional()?,
    )
}

/// Forgets up to `limit` flows that expired (browsers that never came back); how many.
pub async fn prune_flows(conn: &mut AsyncPgConnection, limit: i64) -> AppResult<usize> {
    Ok(diesel::sql_query(
        "DELETE FROM oauth_flows WHERE state_hash IN \
         (SELECT state_hash FROM oauth_flows WHERE expires_at < now() LIMIT $1)",
    )
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .execute(conn)
    .await?)
}

/// Forgets up to `limit` used ID tokens that expired; how many.
pub async fn prune_id_token_uses(conn: &mut AsyncPgConnection, limit: i64) -> AppResult<usize> {
    Ok(diesel::sql_query(
        "DELETE FROM id_token_uses WHERE token_hash IN \
         (SELECT token_hash FROM id_token_uses WHERE expires_at < now() LIMIT $1)",
    )
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .execute(conn)
    .await?)
}
