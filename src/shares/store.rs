//! SQL of shares.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{NewShare, ShareRow};
use crate::db::pagination::{PageDsl, PageRequest, load_page};
use crate::db::schema::shares;
use crate::error::AppResult;

pub async fn insert(conn: &mut AsyncPgConnection, new: NewShare<'_>) -> AppResult<ShareRow> {
    Ok(diesel::insert_into(shares::table)
        .values(new)
        .returning(ShareRow::as_returning())
        .get_result(conn)
        .await?)
}

/// A share by its id alone (the public side, before the tenant is known).
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Option<ShareRow>> {
    Ok(shares::table
        .find(id)
        .select(ShareRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// A share of the tenant.
pub async fn find_in(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> AppResult<Option<ShareRow>> {
    Ok(shares::table
        .filter(shares::tenant_id.eq(tenant_id))
        .filter(shares::id.eq(id))
        .select(ShareRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Whose shares a list shows: all of the tenant's, or those `user_id` made or that were made
/// for one of `team_ids`.
pub enum Visible<'a> {
    All,
    Of { user_id: Uuid, team_ids: &'a [Uuid] },
}

/// A page of the tenant's shares, newest first, and how many.
pub async fn list(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    visible: Visible<'_>,
    page: PageRequest,
) -> AppResult<(i64, Vec<ShareRow>)> {
    let scoped = || {
        let query = shares::table
            .filter(shares::tenant_id.eq(tenant_id))
            .into_boxed();
        match &visible {
            Visible::All => query,
            Visible::Of { user_id, team_ids } => query.filter(
                shares::created_by
                    .eq(*user_id)
                    .or(shares::team_id.eq_any(team_ids.to_vec())),
            ),
        }
    };
    let rows = scoped()
        .order((shares::created_at.desc(), shares::id.desc()))
        .select(ShareRow::as_select())
        .page(page);
    load_page(conn, rows, scoped().count()).await
}

pub async fn revoke(
    conn: &mut AsyncPgConnection,
    share: &ShareRow,
    by: Uuid,
) -> AppResult<ShareRow> {
    Ok(diesel::update(shares::table.find(share.id))
        .set((
            shares::revoked_at.eq(diesel::dsl::now),
            shares::revoked_by.eq(by),
        ))
        .returning(ShareRow::as_returning())
        .get_result(conn)
        .await?)
}

/// Counts one opening of a share.
pub async fn touch(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<()> {
    diesel::update(shares::table.find(id))
        .set((
            shares::last_accessed_at.eq(diesel::dsl::now),
            shares::access_count.eq(shares::access_count + 1),
        ))
        .execute(conn)
        .await?;
    Ok(())
}
