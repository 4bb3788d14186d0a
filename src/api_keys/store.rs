//! Queries of the API keys domain.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::pagination::{PageDsl, PageRequest, load_page};
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
    /// The key this one was created with: it dies with it.
    pub parent_key_id: Option<Uuid>,
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
    pub parent_key_id: Option<Uuid>,
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
    page: PageRequest,
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
    let rows = filtered()
        .order((api_keys::created_at.desc(), api_keys::id.desc()))
        .page(page)
        .select(ApiKeyRow::as_select());
    load_page(conn, rows, filtered().count()).await
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

/// A key that may still create keys, locked against a concurrent revocation until the caller's
/// transaction ends (a child inserted under it is then seen by that revocation).
pub async fn lock_live(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Option<ApiKeyRow>> {
    Ok(api_keys::table
        .find(id)
        .filter(api_keys::revoked_at.is_null())
        .select(ApiKeyRow::as_select())
        .for_share()
        .first(conn)
        .await
        .optional()?)
}

/// Revokes a key and every key created with it, or with those, and so on; returns the key and
/// the ids of the descendants revoked now. Run in a transaction.
pub async fn revoke_with_descendants(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> AppResult<(ApiKeyRow, Vec<Uuid>)> {
    // Separate statements on purpose: each one sees what committed before it started. The
    // first holds the key's row lock, so the next sees every child whose creation committed
    // while we waited for it; a grandchild minted by such a child, while the descendants'
    // update waited for that child's lock, is seen by the update after. Once an update finds
    // nothing live below, nothing more can appear: a creation locks its live parent first.
    let key = diesel::update(api_keys::table.find(id))
        .set(api_keys::revoked_at.eq(crate::db::first_revocation()))
        .returning(ApiKeyRow::as_returning())
        .get_result(conn)
        .await?;
    #[derive(diesel::QueryableByName)]
    struct Revoked {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: Uuid,
    }
    let mut descendants = Vec::new();
    loop {
        let revoked: Vec<Revoked> = diesel::sql_query(
            "WITH RECURSIVE tree(id) AS ( \
               SELECT id FROM api_keys WHERE parent_key_id = $1 \
               UNION SELECT k.id FROM api_keys k JOIN tree ON k.parent_key_id = tree.id) \
             UPDATE api_keys SET revoked_at = now() \
             WHERE id IN (SELECT id FROM tree) AND revoked_at IS NULL RETURNING id",
        )
        .bind::<diesel::sql_types::Uuid, _>(id)
        .load(conn)
        .await?;
        if revoked.is_empty() {
            return Ok((key, descendants));
        }
        descendants.extend(revoked.into_iter().map(|row| row.id));
    }
}
