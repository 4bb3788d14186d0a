//! Queries of the API keys domain.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::api_keys;
use crate::error::AppResult;

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = api_keys, check_for_backend(diesel::pg::Pg))]
pub struct ApiKeyRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Insertable)]
#[diesel(table_name = api_keys)]
pub struct NewApiKey<'a> {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub name: &'a str,
    pub prefix: &'a str,
    pub key_hash: &'a [u8],
    pub expires_at: Option<DateTime<Utc>>,
}

pub async fn insert(conn: &mut AsyncPgConnection, key: NewApiKey<'_>) -> AppResult<ApiKeyRow> {
    Ok(diesel::insert_into(api_keys::table)
        .values(&key)
        .returning(ApiKeyRow::as_returning())
        .get_result(conn)
        .await?)
}

/// A tenant's keys, newest first; only `owner`'s when given.
pub async fn list(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    owner: Option<Uuid>,
    include_revoked: bool,
    offset: i64,
    limit: i64,
) -> AppResult<(i64, Vec<ApiKeyRow>)> {
    let filtered = || {
        let mut query = api_keys::table
            .filter(api_keys::tenant_id.eq(tenant_id))
            .into_boxed();
        if let Some(owner) = owner {
            query = query.filter(api_keys::user_id.eq(owner));
        }
        if !include_revoked {
            query = query.filter(api_keys::revoked_at.is_null());
        }
        query
    };
    let total = filtered().count().get_result(conn).await?;
    let rows = filtered()
        .order((api_keys::created_at.desc(), api_keys::id.desc()))
        .offset(offset)
        .limit(limit)
        .select(ApiKeyRow::as_select())
        .load(conn)
        .await?;
    Ok((total, rows))
}

pub async fn find(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> AppResult<Option<ApiKeyRow>> {
    Ok(api_keys::table
        .filter(api_keys::tenant_id.eq(tenant_id))
        .filter(api_keys::id.eq(id))
        .select(ApiKeyRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

pub async fn revoke(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<ApiKeyRow> {
    Ok(diesel::update(api_keys::table.find(id))
        .set(api_keys::revoked_at.eq(crate::db::first_revocation()))
        .returning(ApiKeyRow::as_returning())
        .get_result(conn)
        .await?)
}

/// Revokes every live key a user holds in a tenant (when they leave it).
pub async fn revoke_user_keys(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> AppResult<usize> {
    Ok(diesel::update(
        api_keys::table
            .filter(api_keys::tenant_id.eq(tenant_id))
            .filter(api_keys::user_id.eq(user_id))
            .filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(diesel::dsl::now))
    .execute(conn)
    .await?)
}
