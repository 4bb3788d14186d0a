//! SQL of project folders: which folder a tenant is bound to, and which file holds which
//! entity.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::{project_files, project_folders};
use crate::error::AppResult;

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = project_folders, check_for_backend(diesel::pg::Pg))]
pub struct FolderRow {
    pub tenant_id: Uuid,
    pub path: String,
    pub bound_by: Uuid,
    pub bound_at: DateTime<Utc>,
}

/// The tenant's folder, if bound.
pub async fn folder(conn: &mut AsyncPgConnection, tenant_id: Uuid) -> AppResult<Option<FolderRow>> {
    Ok(project_folders::table
        .filter(project_folders::tenant_id.eq(tenant_id))
        .select(FolderRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Every bound folder (a node starts watching them all when it starts).
pub async fn all_folders(conn: &mut AsyncPgConnection) -> AppResult<Vec<FolderRow>> {
    Ok(project_folders::table
        .select(FolderRow::as_select())
        .load(conn)
        .await?)
}

/// Takes the lock that makes binds one at a time (inside a transaction, until it ends).
pub async fn lock_binding(conn: &mut AsyncPgConnection) -> AppResult<()> {
    diesel::sql_query(
        "SELECT pg_advisory_xact_lock(hashtextextended('loregraph-project-folders', 0))",
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets which file held which entity (a folder bound anew).
pub async fn forget_files(conn: &mut AsyncPgConnection, tenant_id: Uuid) -> AppResult<()> {
    diesel::delete(project_files::table.filter(project_files::tenant_id.eq(tenant_id)))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn bind(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    path: &str,
    user_id: Uuid,
) -> AppResult<FolderRow> {
    Ok(diesel::insert_into(project_folders::table)
        .values((
            project_folders::tenant_id.eq(tenant_id),
            project_folders::path.eq(path),
            project_folders::bound_by.eq(user_id),
        ))
        .on_conflict(project_folders::tenant_id)
        .do_update()
        .set((
            project_folders::path.eq(path),
            project_folders::bound_by.eq(user_id),
            project_folders::bound_at.eq(Utc::now()),
        ))
        .returning(FolderRow::as_returning())
        .get_result(conn)
        .await?)
}

/// Unbinds the tenant's folder and forgets its files; whether it was bound.
pub async fn unbind(conn: &mut AsyncPgConnection, tenant_id: Uuid) -> AppResult<bool> {
    diesel::delete(project_files::table.filter(project_files::tenant_id.eq(tenant_id)))
        .execute(conn)
        .await?;
    Ok(
        diesel::delete(project_folders::table.filter(project_folders::tenant_id.eq(tenant_id)))
            .execute(conn)
            .await?
            > 0,
    )
}

/// The file that holds an entity, relative to the folder.
pub async fn file_of(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    row_id: Uuid,
) -> AppResult<Option<String>> {
    Ok(project_files::table
        .filter(project_files::tenant_id.eq(tenant_id))
        .filter(project_files::row_id.eq(row_id))
        .select(project_files::path)
        .first(conn)
        .await
        .optional()?)
}

/// The entity a file holds.
pub async fn entity_of(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    path: &str,
) -> AppResult<Option<Uuid>> {
    Ok(project_files::table
        .filter(project_files::tenant_id.eq(tenant_id))
        .filter(project_files::path.eq(path))
        .select(project_files::row_id)
        .first(conn)
        .await
        .optional()?)
}

/// Every file the folder is known to hold.
pub async fn files(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
) -> AppResult<Vec<(Uuid, String)>> {
    Ok(project_files::table
        .filter(project_files::tenant_id.eq(tenant_id))
        .select((project_files::row_id, project_files::path))
        .load(conn)
        .await?)
}

/// Records that `path` holds the entity `row_id` (a file holds one entity, an entity one file).
pub async fn record(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    row_id: Uuid,
    path: &str,
) -> AppResult<()> {
    diesel::delete(
        project_files::table
            .filter(project_files::tenant_id.eq(tenant_id))
            .filter(project_files::path.eq(path))
            .filter(project_files::row_id.ne(row_id)),
    )
    .execute(conn)
    .await?;
    diesel::insert_into(project_files::table)
        .values((
            project_files::tenant_id.eq(tenant_id),
            project_files::row_id.eq(row_id),
            project_files::path.eq(path),
        ))
        .on_conflict((project_files::tenant_id, project_files::row_id))
        .do_update()
        .set(project_files::path.eq(path))
        .execute(conn)
        .await?;
    Ok(())
}

/// Forgets the file of an entity.
pub async fn forget(conn: &mut AsyncPgConnection, tenant_id: Uuid, row_id: Uuid) -> AppResult<()> {
    diesel::delete(
        project_files::table
            .filter(project_files::tenant_id.eq(tenant_id))
            .filter(project_files::row_id.eq(row_id)),
    )
    .execute(conn)
    .await?;
    Ok(())
}
