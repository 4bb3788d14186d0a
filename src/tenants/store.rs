//! Queries of the tenants domain.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::TenantRow;
use crate::db::keyset::{Window, load_window, windowed};
use crate::db::schema::{memberships, tenants};
use crate::error::AppResult;

/// A URL-friendly, unique slug: the name's letters and digits plus a short random suffix.
fn slug_for(name: &str, id: Uuid) -> String {
    let mut slug = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
        if slug.len() >= 40 {
            break;
        }
    }
    let simple = id.simple().to_string();
    let suffix = &simple[simple.len() - 6..];
    format!("{}-{suffix}", slug.trim_end_matches('-'))
        .trim_start_matches('-')
        .to_owned()
}

pub async fn insert_tenant(conn: &mut AsyncPgConnection, name: &str) -> AppResult<TenantRow> {
    let id = Uuid::now_v7();
    Ok(diesel::insert_into(tenants::table)
        .values((
            tenants::id.eq(id),
            tenants::name.eq(name),
            tenants::slug.eq(slug_for(name, id)),
        ))
        .returning(TenantRow::as_returning())
        .get_result(conn)
        .await?)
}

pub async fn find_tenant(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Option<TenantRow>> {
    Ok(tenants::table
        .find(id)
        .select(TenantRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

pub async fn tenants_by_ids(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> AppResult<Vec<TenantRow>> {
    Ok(tenants::table
        .filter(tenants::id.eq_any(ids))
        .select(TenantRow::as_select())
        .load(conn)
        .await?)
}

/// Where a tenant sits in the list: when it was created, and its id.
pub type TenantKey = (DateTime<Utc>, Uuid);

/// Every tenant (superusers), newest first: an offset page with the total the search matches,
/// or a page by cursor.
pub async fn list_tenants(
    conn: &mut AsyncPgConnection,
    search: Option<&str>,
    window: &Window<TenantKey>,
) -> AppResult<(Option<i64>, Vec<TenantRow>)> {
    let pattern = search.map(|s| format!("%{}%", crate::db::escape_like(s)));
    let filtered = || {
        let mut query = tenants::table.into_boxed();
        if let Some(pattern) = &pattern {
            query = query.filter(
                tenants::name
                    .ilike(pattern.clone())
                    .or(tenants::slug.ilike(pattern.clone())),
            );
        }
        query
    };
    let rows = windowed!(
        filtered(),
        window.clone(),
        desc(tenants::created_at, tenants::id)
    )
    .select(TenantRow::as_select());
    load_window(conn, window, rows, filtered().count()).await
}

/// Writes what changes (nothing but the stamp when neither is given); None when the tenant is
/// gone.
pub async fn update_tenant(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    name: Option<&str>,
    retention: Option<Option<i32>>,
) -> AppResult<Option<TenantRow>> {
    #[derive(AsChangeset)]
    #[diesel(table_name = tenants)]
    struct Changes<'a> {
        name: Option<&'a str>,
        // The outer Option: whether to write; the inner: the value, NULL included.
        recycle_retention_days: Option<Option<i32>>,
        updated_at: DateTime<Utc>,
    }
    Ok(diesel::update(tenants::table.find(id))
        .set(Changes {
            name,
            recycle_retention_days: retention,
            updated_at: Utc::now(),
        })
        .returning(TenantRow::as_returning())
        .get_result(conn)
        .await
        .optional()?)
}

/// Member counts for many tenants (the member-count loader).
pub async fn member_counts(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> AppResult<Vec<(Uuid, i64)>> {
    Ok(memberships::table
        .filter(memberships::tenant_id.eq_any(ids))
        .group_by(memberships::tenant_id)
        .select((memberships::tenant_id, diesel::dsl::count_star()))
        .load(conn)
        .await?)
}
