//! A tenant's form layouts and their versions.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use uuid::Uuid;

use crate::db::schema::tenant_layouts;
use crate::error::AppResult;

/// One version of a tenant's layout of a type (no layout: the package's back in force).
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = tenant_layouts)]
pub struct LayoutRow {
    pub entity_type: String,
    pub version: i32,
    pub layout: Option<Value>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// The newest version of each type the tenant laid out.
pub async fn newest_layouts(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
) -> AppResult<Vec<LayoutRow>> {
    Ok(tenant_layouts::table
        .filter(tenant_layouts::tenant_id.eq(tenant_id))
        .distinct_on(tenant_layouts::entity_type)
        .order((tenant_layouts::entity_type, tenant_layouts::version.desc()))
        .select(LayoutRow::as_select())
        .load(conn)
        .await?)
}

/// A type's versions, newest first, at most `limit`.
pub async fn layout_versions(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    entity_type: &str,
    limit: i64,
) -> AppResult<Vec<LayoutRow>> {
    Ok(tenant_layouts::table
        .filter(tenant_layouts::tenant_id.eq(tenant_id))
        .filter(tenant_layouts::entity_type.eq(entity_type))
        .order(tenant_layouts::version.desc())
        .limit(limit)
        .select(LayoutRow::as_select())
        .load(conn)
        .await?)
}

/// Adds a version; false when another writer took that version number first.
pub async fn append_layout(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    entity_type: &str,
    version: i32,
    layout: Option<&Value>,
    user_id: Uuid,
) -> AppResult<bool> {
    Ok(diesel::insert_into(tenant_layouts::table)
        .values((
            tenant_layouts::tenant_id.eq(tenant_id),
            tenant_layouts::entity_type.eq(entity_type),
            tenant_layouts::version.eq(version),
            tenant_layouts::layout.eq(layout),
            tenant_layouts::created_by.eq(user_id),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?
        == 1)
}

/// Forgets a type's versions older than the newest `kept`.
pub async fn prune_layouts(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    entity_type: &str,
    newest: i32,
    kept: i32,
) -> AppResult<()> {
    diesel::delete(
        tenant_layouts::table
            .filter(tenant_layouts::tenant_id.eq(tenant_id))
            .filter(tenant_layouts::entity_type.eq(entity_type))
            .filter(tenant_layouts::version.le(newest - kept)),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Every version of a type's layout; how many there were.
pub async fn delete_layouts(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    entity_type: &str,
) -> AppResult<usize> {
    Ok(diesel::delete(
        tenant_layouts::table
            .filter(tenant_layouts::tenant_id.eq(tenant_id))
            .filter(tenant_layouts::entity_type.eq(entity_type)),
    )
    .execute(conn)
    .await?)
}
