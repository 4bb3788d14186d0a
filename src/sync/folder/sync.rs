//! Bringing files of a project folder into the tenant's entities, each file alone (one bad
//! file never holds up the rest): a file that is there is imported, a file that is gone
//! takes the entity it held to the recycle bin.

use std::path::Path;

use async_graphql::SimpleObject;
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use serde::Serialize;

use super::{disk, store};
use crate::auth::Viewer;
use crate::context::Platform;
use crate::entities::service::{self as entities, Bin, EntityType, TemplateCatalog};
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
/// `syncCompleted` (source WATCHER) when anything changed.
pub async fn sync_paths(
    platform: &Platform,
    templates: &TemplateCatalog,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    folder: &Path,
    paths: &[String],
) -> AppResult<FolderSyncResult> {
    let mut result = FolderSyncResult::new();
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
                import_one(platform, templates, conn, viewer, path, text, &mut result).await?
            }
            Ok(None) => {
                if recycle_gone(platform, conn, viewer, path).await? {
                    result.deleted += 1;
                }
            }
        }
    }
    result.at = Utc::now();
    if result.created + result.updated + result.deleted > 0 {
        platform.events.publish(
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
    platform: &Platform,
    templates: &TemplateCatalog,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    path: &str,
    text: String,
    result: &mut FolderSyncResult,
) -> AppResult<()> {
    let files = vec![SourceFile {
        path: path.to_owned(),
        text: Ok(text),
    }];
    let report = import::import(
        platform,
        templates,
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
