//! Queries of the invites domain.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::pagination::{PageDsl, PageRequest, load_page};
use crate::db::schema::invites;
use crate::error::AppResult;

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = invites, check_for_backend(diesel::pg::Pg))]
pub struct InviteRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub email: String,
    pub role: String,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub accepted_by: Option<Uuid>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl InviteRow {
    pub fn is_open(&self) -> bool {
        self.accepted_at.is_none() && self.revoked_at.is_none() && self.expires_at > Utc::now()
    }
}

#[derive(Insertable)]
#[diesel(table_name = invites)]
pub struct NewInvite<'a> {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub email: &'a str,
    pub role: &'a str,
    pub token_hash: &'a [u8],
    pub created_by: Option<Uuid>,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut AsyncPgConnection, invite: NewInvite<'_>) -> AppResult<InviteRow> {
    Ok(diesel::insert_into(invites::table)
        .values(&invite)
        .returning(InviteRow::as_returning())
        .get_result(conn)
        .await?)
}

/// A page of the tenant's invites, newest first, and how many there are.
pub async fn list(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    page: PageRequest,
) -> AppResult<(i64, Vec<InviteRow>)> {
    let of_tenant = invites::table.filter(invites::tenant_id.eq(tenant_id));
    let rows = of_tenant
        .order((invites::created_at.desc(), invites::id.desc()))
        .page(page)
        .select(InviteRow::as_select());
    load_page(conn, rows, of_tenant.count()).await
}

pub async fn find(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> AppResult<Option<InviteRow>> {
    Ok(invites::table
        .filter(invites::tenant_id.eq(tenant_id))
        .filter(invites::id.eq(id))
        .select(InviteRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

pub async fn find_by_token(
    conn: &mut AsyncPgConnection,
    token_hash: &[u8],
) -> AppResult<Option<InviteRow>> {
    Ok(invites::table
        .filter(invites::token_hash.eq(token_hash))
        .select(InviteRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Marks an open invite accepted; false when it was no longer open (so it is used once).
pub async fn accept(conn: &mut AsyncPgConnection, id: Uuid, user_id: Uuid) -> AppResult<bool> {
    Ok(diesel::update(
        invites::table
            .filter(invites::id.eq(id))
            .filter(invites::accepted_at.is_null())
            .filter(invites::revoked_at.is_null())
            .filter(invites::expires_at.gt(diesel::dsl::now)),
    )
    .set((
        invites::accepted_at.eq(diesel::dsl::now),
        invites::accepted_by.eq(user_id),
    ))
    .execute(conn)
    .await?
        == 1)
}

pub async fn revoke(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<InviteRow> {
    Ok(diesel::update(invites::table.find(id))
        .set(invites::revoked_at.eq(crate::db::first_revocation()))
        .returning(InviteRow::as_returning())
        .get_result(conn)
        .await?)
}
