//! Bringing files of a project folder into the tenant's entities, each file alone (one bad
//! file never holds up the rest): a file that is there is imported, a file that is gone
//! takes the entity it held to the recycle bin.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Mutex;

use uuid::Uuid;

use async_graphql::SimpleObject;
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use serde::Serialize;

use super::watcher::Folders;
use super::{disk, store};
use crate::auth::Viewer;
use crate::context::Platform;
use crate::entities::service::{self as entities, Bin, EntityType};
use crate::error::{AppError, AppResult};
use crate::events::{EventPayload, SyncSummary};
use crate::sync::import::{self, Batches, SourceFile};
use crate::sync::report::{FileAction, ImportMode};

/// A file that could not be synchronised, and why.
#[derive(SimpleObject, Clone, Debug, Serialize)]
pub struct FolderFileError {
    /// The file, relative to the project folder.
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

/// What one synchronisation of folder files did.
#[derive(SimpleObject, Clone, Debug, Serialize)]
pub struct FolderSyncResult {
    /// When it finished.
    pub at: DateTime<Utc>,
    /// Entities created from new files.
    pub created: i32,
    /// Entities changed from edited files.
    pub updated: i32,
    /// Entities sent to the recycle bin because their file was deleted.
    pub deleted: i32,
    /// Files whose entity already had their content.
    pub unchanged: i32,
    /// Files that could not be imported.
    pub failed: i32,
    /// The failed files and why (the first 50).
    pub errors: Vec<FolderFileError>,
}

const MAX_ERRORS_LISTED: usize = 50;

impl FolderSyncResult {
    fn new() -> Self {
        Self {
            at: Utc::now(),
            created: 0,
            updated: 0,
            deleted: 0,
            unchanged: 0,
            failed: 0,
            errors: Vec::new(),
        }
    }

    fn fail(&mut self, path: &str, message: String) {
        self.failed += 1;
        if self.errors.len() < MAX_ERRORS_LISTED {
            self.errors.push(FolderFileError {
                path: path.to_owned(),
                message,
            });
        }
    }
}

/// Synchronises these files (relative to `folder`) into the tenant's entities, and raises
/// `syncCompleted` (source WATCHER) when anything changed. Files that are there are read
/// first, then the ones that are gone (a file moved within the folder is its entity moving,
/// not a deletion). An error with one file is reported with it; the rest go on.
pub async fn sync_paths(
    folders: &Folders,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    folder: &Path,
    paths: &[String],
) -> AppResult<FolderSyncResult> {
    let mut result = FolderSyncResult::new();
    let mut gone = Vec::new();
    for path in paths {
        let read = {
            let folder = folder.to_path_buf();
            let path = path.clone();
            tokio::task::spawn_blocking(move || disk::read(&folder, &path))
                .await
                .map_err(|error| AppError::internal(anyhow::anyhow!("reading a file: {error}")))?
        };
        match read {
            Err(reason) => result.fail(path, format!("`{path}` {reason}")),
            Ok(Some(text)) => {
                if let Err(error) = import_one(folders, conn, viewer, path, text, &mut result).await
                {
                    result.fail(path, error.message());
                }
            }
            Ok(None) => gone.push(path),
        }
    }
    let known = store::files(conn, viewer.tenant_id).await?.len();
    if known > 0 && gone.len() >= known && result.created + result.updated + result.unchanged == 0 {
        // Every file the folder held is gone at once: an unmounted or emptied folder, not a
        // studio deleting its world. Nothing is deleted; a refresh after the fact decides.
        result.fail(
            "",
            format!(
                "all {known} files are gone at once: no entity was deleted (run refreshAll once \
                 the folder is as it should be)"
            ),
        );
    } else {
        for path in gone {
            match recycle_gone(folders.platform(), conn, viewer, path).await {
                Ok(true) => result.deleted += 1,
                Ok(false) => {}
                Err(error) => result.fail(path, error.message()),
            }
        }
    }
    result.at = Utc::now();
    if result.created + result.updated + result.deleted > 0 {
        folders.platform().events.publish(
            viewer.tenant_id,
            Some(viewer.user_id),
            EventPayload::SyncCompleted(SyncSummary {
                source: "watcher".into(),
                created: result.created,
                updated: result.updated,
                deleted: result.deleted,
                conflicts: 0,
                unchanged: result.unchanged,
            }),
        );
    }
    Ok(result)
}

async fn import_one(
    folders: &Folders,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    path: &str,
    text: String,
    result: &mut FolderSyncResult,
) -> AppResult<()> {
    // While the file is imported, the write-back leaves its entity alone: the file is where
    // the change comes from (and is recorded as its file just after).
    let key = crate::sync::entity_file::read(path, &text)
        .ok()
        .map(|file| {
            (
                viewer.tenant_id,
                file.entity_type.slug().to_owned(),
                file.content.entity_id,
            )
        });
    let _importing = key.map(|key| Importing::start(&folders.importing, key));
    let files = vec![SourceFile {
        path: path.to_owned(),
        text: Ok(text),
    }];
    let report = import::import(
        folders.platform(),
        folders.templates(viewer.tenant_id).await?.as_ref(),
        conn,
        viewer,
        ImportMode::Apply,
        Batches::listed(files),
    )
    .await?;
    let Some(file) = report.files.into_iter().next() else {
        return Ok(());
    };
    match file.action {
        FileAction::Error => {
            let message = file
                .errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; ");
            result.fail(path, message);
            return Ok(());
        }
        FileAction::Create => result.created += 1,
        FileAction::Update => result.updated += 1,
        FileAction::Unchanged => result.unchanged += 1,
    }
    if let (Some(entity_type), Some(entity_id)) = (file.entity_type, file.entity_id)
        && let Some(row) =
            entities::find_live(conn, viewer.tenant_id, entity_type, &entity_id).await?
    {
        store::record(conn, viewer.tenant_id, row.id, path).await?;
    }
    Ok(())
}

/// An entity marked as being imported from its file, until dropped.
struct Importing<'a> {
    set: &'a Mutex<HashSet<(Uuid, String, String)>>,
    key: (Uuid, String, String),
}

impl<'a> Importing<'a> {
    fn start(set: &'a Mutex<HashSet<(Uuid, String, String)>>, key: (Uuid, String, String)) -> Self {
        set.lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(key.clone());
        Self { set, key }
    }
}

impl Drop for Importing<'_> {
    fn drop(&mut self) {
        self.set
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(&self.key);
    }
}

/// The entity a deleted file held goes to the recycle bin; whether there was one.
async fn recycle_gone(
    platform: &Platform,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    path: &str,
) -> AppResult<bool> {
    let Some(row_id) = store::entity_of(conn, viewer.tenant_id, path).await? else {
        return Ok(false);
    };
    let written = conn
        .transaction::<_, AppError, _>(async |conn| {
            let rows = entities::entities_by_row_ids(conn, viewer.tenant_id, &[row_id]).await?;
            let Some(row) = rows.into_iter().next().filter(|row| !row.is_deleted()) else {
                store::forget(conn, viewer.tenant_id, row_id).await?;
                return Ok(None);
            };
            let entity_type = EntityType::from_slug(&row.entity_type)
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("an entity's type")))?;
            let locked = entities::lock(
                conn,
                viewer.tenant_id,
                entity_type,
                &row.entity_id,
                Bin::Live,
            )
            .await?;
            let written = entities::recycle(conn, viewer, &locked).await?;
            store::forget(conn, viewer.tenant_id, row_id).await?;
            Ok(Some(written))
        })
        .await?;
    let recycled = written.is_some();
    if let Some(written) = written {
        entities::announce(platform, viewer, written);
    }
    Ok(recycled)
}
