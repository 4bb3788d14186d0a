//! The write-back: changes made elsewhere (the API, another node) written to the files of the
//! folders this node watches — atomically, to the file each entity came from — and a rename's
//! file renamed. A file that already says what its entity holds is left as it is.

use std::path::Path;
use std::sync::Arc;

use uuid::Uuid;

use super::watcher::{Folders, lock};
use super::{disk, store};
use crate::entities::service::{self as entities, EntityRow, EntityType};
use crate::error::AppResult;
use crate::events::{EntityAction, EntityChange, EventPayload};
use crate::sync::entity_file::{self, file_name, project_path};

impl Folders {
    /// Writes changes made elsewhere back to the files of the folders this node watches.
    pub(super) async fn write_back(self: Arc<Self>) {
        let mut events = self.platform.events.subscribe();
        loop {
            let event = tokio::select! {
                () = self.platform.shutdown.cancelled() => return,
                event = events.recv() => event,
            };
            match event {
                Ok(event) => {
                    let EventPayload::Entity(change) = &event.payload else {
                        continue;
                    };
                    let Some(folder) = self.folder_of(event.tenant_id) else {
                        continue;
                    };
                    let key = (
                        event.tenant_id,
                        change.entity_type.clone(),
                        change.entity_id.clone(),
                    );
                    if lock(&self.importing).contains(&key) {
                        continue;
                    }
                    if let Err(error) = self.write_change(event.tenant_id, &folder, change).await {
                        tracing::warn!(error = %error.message(), "writing an entity back to its file failed");
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(
                        missed,
                        "the folder write-back fell behind; some files may be stale until the next save or refresh"
                    );
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    }

    /// Saves an entity to its file now (its recorded file, or `<Folder>/<prefix><id>.md`);
    /// the file's path. A file that already says what the entity holds is left as it is.
    pub async fn save_entity(
        &self,
        tenant_id: Uuid,
        folder: &Path,
        row: &EntityRow,
    ) -> AppResult<String> {
        let mut conn = self.platform.pool.get().await?;
        let entity_type = row.kind();
        let path = match store::file_of(&mut conn, tenant_id, row.id).await? {
            Some(path) => path,
            None => project_path(entity_type, &row.entity_id),
        };
        store::record(&mut conn, tenant_id, row.id, &path).await?;
        let content = entities::content_of(row);
        let templates = self.templates(tenant_id).await?;
        let (folder, path_on_disk) = (folder.to_path_buf(), path.clone());
        let row_for_dates = row.clone();
        let file = entity_file::render(
            templates.type_template(entity_type),
            entity_type,
            &content,
            row.created_at,
            row.updated_at,
        );
        tokio::task::spawn_blocking(move || {
            // Unchanged in substance: leave the writer's file (its comments, its order) alone.
            if let Ok(Some(text)) = disk::read(&folder, &path_on_disk)
                && let Ok(mut on_disk) = entity_file::read(&path_on_disk, &text)
                && on_disk.entity_type == entity_type
            {
                crate::sync::import::drop_exported_dates(&row_for_dates, &mut on_disk.content);
                if on_disk.content == content {
                    return Ok(());
                }
            }
            disk::write(&folder, &path_on_disk, &file)
        })
        .await
        .map_err(|e| crate::error::AppError::internal(anyhow::anyhow!("writing a file: {e}")))?
        .map_err(|e| crate::error::AppError::internal(anyhow::anyhow!("writing a file: {e}")))?;
        Ok(path)
    }

    async fn write_change(
        &self,
        tenant_id: Uuid,
        folder: &Path,
        change: &EntityChange,
    ) -> AppResult<()> {
        let Some(entity_type) = EntityType::from_slug(&change.entity_type) else {
            return Ok(());
        };
        let mut conn = self.platform.pool.get().await?;
        match change.action {
            EntityAction::Created | EntityAction::Updated | EntityAction::Restored => {
                if let Some(row) =
                    entities::find_live(&mut conn, tenant_id, entity_type, &change.entity_id)
                        .await?
                {
                    drop(conn);
                    self.save_entity(tenant_id, folder, &row).await?;
                }
            }
            EntityAction::Renamed => {
                let Some(row) =
                    entities::find_live(&mut conn, tenant_id, entity_type, &change.entity_id)
                        .await?
                else {
                    return Ok(());
                };
                let old = store::file_of(&mut conn, tenant_id, row.id).await?;
                // The new file is recorded before the old one goes, so the watcher never reads
                // the old file's removal as the entity's deletion.
                let new = match &old {
                    Some(old) => match old.rsplit_once('/') {
                        Some((dir, _)) => {
                            format!("{dir}/{}", file_name(entity_type, &row.entity_id))
                        }
                        None => file_name(entity_type, &row.entity_id),
                    },
                    None => project_path(entity_type, &row.entity_id),
                };
                store::record(&mut conn, tenant_id, row.id, &new).await?;
                drop(conn);
                self.save_entity(tenant_id, folder, &row).await?;
                if let Some(old) = old.filter(|old| *old != new) {
                    remove(folder, &old).await?;
                }
            }
            EntityAction::Deleted | EntityAction::Purged => {
                if let Some(path) = store::file_of(&mut conn, tenant_id, change.row_id).await? {
                    // Forgotten first, so the watcher never takes the removal for news.
                    store::forget(&mut conn, tenant_id, change.row_id).await?;
                    remove(folder, &path).await?;
                }
            }
        }
        Ok(())
    }
}

async fn remove(folder: &Path, path: &str) -> AppResult<()> {
    let (folder, path) = (folder.to_path_buf(), path.to_owned());
    tokio::task::spawn_blocking(move || disk::remove(&folder, &path))
        .await
        .map_err(|e| crate::error::AppError::internal(anyhow::anyhow!("removing a file: {e}")))?
        .map_err(|e| crate::error::AppError::internal(anyhow::anyhow!("removing a file: {e}")))
}
