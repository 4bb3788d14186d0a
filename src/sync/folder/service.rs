//! A tenant's project folder: binding it (ADMIN, only under the configured root), its status,
//! and synchronising it by hand (the watcher does the same on its own).

use std::path::PathBuf;
use std::sync::Arc;

use diesel_async::{AsyncConnection as _, AsyncPgConnection};

use super::disk;
use super::store::{self, FolderRow};
use super::sync::FolderSyncResult;
use super::watcher::{Folders, WatchStatus, folder_viewer};
use crate::auth::{Role, Viewer};
use crate::entities::service::{self as entities, Bin, EntityType};
use crate::error::{AppError, AppResult};
use crate::sync::import::{self, Batches, SourceFile};
use crate::sync::report::{FileAction, ImportMode, ImportReport};

pub use super::watcher::WatchState;

fn root(folders: &Folders) -> AppResult<&PathBuf> {
    folders.root.as_ref().ok_or_else(|| {
        AppError::unfit(
            None,
            "project folders are off on this server: set LOREGRAPH_PROJECTS_ROOT",
        )
    })
}

/// Binds the tenant to a folder under the projects root (ADMIN) and starts watching it; its
/// files are imported at once. Another tenant's folder cannot be bound (CONFLICT).
pub async fn bind(
    folders: &Arc<Folders>,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    requested: &str,
) -> AppResult<FolderRow> {
    viewer.require_role(Role::Admin)?;
    let root = root(folders)?.clone();
    let requested_owned = requested.to_owned();
    let (folder, stored) =
        tokio::task::spawn_blocking(move || disk::resolve(&root, &requested_owned))
            .await
            .map_err(|e| AppError::internal(anyhow::anyhow!("resolving a folder: {e}")))??;
    // One bind at a time, so two studios never both take overlapping folders.
    let row = conn
        .transaction::<_, AppError, _>(async |conn| {
            store::lock_binding(conn).await?;
            let overlapping = store::all_folders(conn).await?.into_iter().find(|other| {
                other.tenant_id != viewer.tenant_id && overlaps(&other.path, &stored)
            });
            if overlapping.is_some() {
                return Err(AppError::conflict(format!(
                    "`{requested}` is, holds or lies in another studio's project folder"
                )));
            }
            if store::folder(conn, viewer.tenant_id)
                .await?
                .is_some_and(|bound| bound.path != stored)
            {
                // Files recorded in the old folder mean nothing in the new one.
                store::forget_files(conn, viewer.tenant_id).await?;
            }
            store::bind(conn, viewer.tenant_id, &stored, viewer.user_id).await
        })
        .await?;
    folders.watch(
        viewer.tenant_id,
        folder,
        folder_viewer(viewer.tenant_id, viewer.user_id),
    );
    Ok(row)
}

/// Whether two folders (relative to the root) are one, or one holds the other.
fn overlaps(a: &str, b: &str) -> bool {
    a == b || a.starts_with(&format!("{b}/")) || b.starts_with(&format!("{a}/"))
}

/// Stops keeping the tenant's folder in sync (ADMIN); the files and entities stay.
pub async fn unbind(
    folders: &Folders,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
) -> AppResult<bool> {
    viewer.require_role(Role::Admin)?;
    folders.unwatch(viewer.tenant_id);
    store::unbind(conn, viewer.tenant_id).await
}

/// The tenant's folder: where, and what its watcher on this node is doing.
pub struct FolderStatus {
    pub folder: Option<FolderRow>,
    pub watch: Option<WatchStatus>,
}

pub async fn status(
    folders: &Folders,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
) -> AppResult<FolderStatus> {
    Ok(FolderStatus {
        folder: store::folder(conn, viewer.tenant_id).await?,
        watch: folders.status(viewer.tenant_id),
    })
}

/// The bound folder on disk and who its changes are made as; NOT_FOUND when none is bound.
async fn bound(
    folders: &Folders,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
) -> AppResult<(PathBuf, Viewer)> {
    let row = store::folder(conn, viewer.tenant_id)
        .await?
        .ok_or_else(|| AppError::not_found("no project folder is bound"))?;
    Ok((
        root(folders)?.join(&row.path),
        folder_viewer(row.tenant_id, row.bound_by),
    ))
}

/// What importing the folder would change, writing nothing: every file that creates,
/// changes or cannot be imported, and the files that were deleted (their entities would go
/// to the recycle bin).
pub async fn check(
    folders: &Folders,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
) -> AppResult<(ImportReport, Vec<String>)> {
    viewer.require_role(Role::Worldbuilder)?;
    let (folder, _) = bound(folders, conn, viewer).await?;
    let paths = folders.all_paths(viewer.tenant_id, &folder).await?;
    let mut sources = Vec::new();
    let mut deleted = Vec::new();
    for path in paths {
        let read = {
            let (folder, path) = (folder.clone(), path.clone());
            tokio::task::spawn_blocking(move || disk::read(&folder, &path))
                .await
                .map_err(|e| AppError::internal(anyhow::anyhow!("reading a file: {e}")))?
        };
        match read {
            Ok(Some(text)) => sources.push(SourceFile {
                path,
                text: Ok(text),
            }),
            Ok(None) => deleted.push(path),
            Err(reason) => sources.push(SourceFile {
                text: Err(crate::sync::report::FileProblem::new(format!(
                    "`{path}` {reason}"
                ))),
                path,
            }),
        }
    }
    let mut report = if sources.is_empty() {
        ImportReport::new(ImportMode::Preview)
    } else {
        import::import(
            folders.platform(),
            folders.templates(viewer.tenant_id).await?.as_ref(),
            conn,
            viewer,
            ImportMode::Preview,
            Batches::listed(sources),
        )
        .await?
    };
    report
        .files
        .retain(|file| file.action != FileAction::Unchanged);
    Ok((report, deleted))
}

/// Imports what changed in the folder (WORLDBUILDER): the files `check` finds, and the
/// deletions; with `everything`, every file again (a full re-sync).
pub async fn import_changes(
    folders: &Folders,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    everything: bool,
) -> AppResult<FolderSyncResult> {
    viewer.require_role(Role::Worldbuilder)?;
    let (folder, actor) = bound(folders, conn, viewer).await?;
    let paths = if everything {
        folders.all_paths(viewer.tenant_id, &folder).await?
    } else {
        let (report, deleted) = check(folders, conn, viewer).await?;
        report
            .files
            .into_iter()
            .map(|file| file.path)
            .chain(deleted)
            .collect()
    };
    let result = folders.sync(&actor, &folder, &paths).await?;
    folders.record(viewer.tenant_id, &result);
    Ok(result)
}

/// Writes one entity to its file now (WORLDBUILDER); the file's path in the folder.
pub async fn save_entity(
    folders: &Folders,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    entity_type: EntityType,
    entity_id: &str,
) -> AppResult<String> {
    viewer.require_role(Role::Worldbuilder)?;
    let (folder, _) = bound(folders, conn, viewer).await?;
    let row = entities::find_live(conn, viewer.tenant_id, entity_type, entity_id)
        .await?
        .ok_or_else(|| entities::not_found(entity_type, entity_id, Bin::Live))?;
    folders.save_entity(viewer.tenant_id, &folder, &row).await
}

/// Reads one entity from its file now (WORLDBUILDER): its recorded file, or its place in the
/// project layout.
pub async fn load_entity(
    folders: &Folders,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    entity_type: EntityType,
    entity_id: &str,
) -> AppResult<FolderSyncResult> {
    viewer.require_role(Role::Worldbuilder)?;
    if let Some(problem) = entities::entity_id_problem(entity_id) {
        return Err(AppError::bad_field("entityId", problem));
    }
    let (folder, actor) = bound(folders, conn, viewer).await?;
    let recorded = match entities::find_any(conn, viewer.tenant_id, entity_type, entity_id).await? {
        Some(row) => store::file_of(conn, viewer.tenant_id, row.id).await?,
        None => None,
    };
    let path =
        recorded.unwrap_or_else(|| crate::sync::entity_file::project_path(entity_type, entity_id));
    let result = folders.sync(&actor, &folder, &[path]).await?;
    folders.record(viewer.tenant_id, &result);
    Ok(result)
}
