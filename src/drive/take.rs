//! One Drive file's new version, taken by a sync round: a file the sync has not seen is
//! imported through the markdown importer; a file that holds an entity is pushed as a desktop
//! client pushes (`sync::service::push`) with the entity's version it last matched as its base,
//! so an entity changed here meanwhile makes a sync conflict instead of being overwritten.

use uuid::Uuid;

use super::client::DriveError;
use super::model::DriveFile;
use super::sync::{DriveSync, Round};
use super::sync_store::{self, Held};
use crate::auth::Viewer;
use crate::entities::service::{self as entities, EntityRow};
use crate::error::{AppError, AppResult};
use crate::sync::service::{ImportMode, PushStatus, PushedChange, import_files, push};

/// The client id Drive's pushes (and their conflicts) carry.
const CLIENT_ID: &str = "google-drive";

fn held(row: &EntityRow) -> Held {
    Held {
        row: row.id,
        updated_at: row.updated_at,
        version: row.version,
    }
}

impl DriveSync {
    /// Takes one file's new version (once). A file that cannot be read or imported is counted
    /// as failed and its version recorded (a newer one is tried); only Google's trouble ends
    /// the round (for the next one to resume).
    pub(super) async fn take(
        &self,
        viewer: &Viewer,
        file: DriveFile,
        round: &mut Round,
    ) -> AppResult<()> {
        if file.trashed
            || file.is_folder()
            || file.mime_type.starts_with("application/vnd.google-apps.")
            || !file.name.ends_with(".md")
        {
            round.skipped += 1;
            return Ok(());
        }
        let version: i64 = file
            .version
            .as_deref()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let (tenant_id, user_id) = (viewer.tenant_id, viewer.user_id);
        let mut conn = self.platform().pool.get().await?;
        let known = sync_store::file(&mut conn, tenant_id, user_id, &file.id).await?;
        if known.as_ref().is_some_and(|known| known.version >= version) {
            round.unchanged += 1;
            return Ok(());
        }
        drop(conn);
        let downloaded = self
            .with_drive(tenant_id, user_id, async |drive| {
                Ok(drive.download(&file.id).await.map(|(bytes, _)| bytes))
            })
            .await?;
        let text = match downloaded {
            Ok(bytes) => String::from_utf8(bytes).ok(),
            Err(DriveError::Retryable(_)) | Err(DriveError::Unauthorized) => {
                return Err(AppError::Upstream(
                    "Google Drive is busy or unavailable; the next round resumes here".into(),
                ));
            }
            Err(other) => {
                tracing::info!(file = %file.name, error = ?other, "a Drive file could not be downloaded");
                None
            }
        };
        let mapped = known
            .as_ref()
            .and_then(|known| Some((known.entity_row?, known.entity_version?)));
        let held = match (text, mapped) {
            (None, _) => {
                round.failed += 1;
                None
            }
            (Some(text), Some((row, base))) => {
                self.push_version(viewer, &file, version, text, row, base, round)
                    .await?
            }
            (Some(text), None) => self.import_new(viewer, &file, text, round).await?,
        };
        // Seen, taken or not: the same version is not tried again (a new one will be).
        let mut conn = self.platform().pool.get().await?;
        sync_store::record_file(
            &mut conn,
            tenant_id,
            user_id,
            &file.id,
            version,
            file.md5_checksum.as_deref(),
            held,
        )
        .await
    }

    /// Imports a file the sync has not seen; the entity it holds.
    async fn import_new(
        &self,
        viewer: &Viewer,
        file: &DriveFile,
        text: String,
        round: &mut Round,
    ) -> AppResult<Option<Held>> {
        let mut conn = self.platform().pool.get().await?;
        let report = import_files(
            self.platform(),
            self.templates(viewer.tenant_id).await?.as_ref(),
            &mut conn,
            viewer,
            ImportMode::Apply,
            vec![(file.name.clone(), text)],
        )
        .await;
        match report {
            Ok(report) if report.applied => {
                if report.unchanged > 0 {
                    round.unchanged += 1;
                } else {
                    round.imported += 1;
                }
                if let Some(found) = <[_]>::first(&report.files)
                    && let (Some(entity_type), Some(entity_id)) =
                        (found.entity_type, &found.entity_id)
                    && let Some(row) =
                        entities::find_live(&mut conn, viewer.tenant_id, entity_type, entity_id)
                            .await?
                {
                    return Ok(Some(held(&row)));
                }
                Ok(None)
            }
            Ok(report) => {
                round.failed += 1;
                let why = <[_]>::first(&report.files)
                    .and_then(|f| <[_]>::first(&f.errors))
                    .map(|e| e.message.clone())
                    .unwrap_or_default();
                tracing::info!(file = %file.name, why, "a Drive file could not be imported");
                Ok(None)
            }
            Err(error) => {
                round.failed += 1;
                tracing::info!(file = %file.name, error = %error.message(), "a Drive file could not be imported");
                Ok(None)
            }
        }
    }

    /// Pushes a new version of a file that holds an entity, based on the entity's version it
    /// last matched; the entity's state it holds now (none after a conflict: it still holds
    /// what it held).
    #[allow(clippy::too_many_arguments)]
    async fn push_version(
        &self,
        viewer: &Viewer,
        file: &DriveFile,
        version: i64,
        text: String,
        row: Uuid,
        base: i32,
        round: &mut Round,
    ) -> AppResult<Option<Held>> {
        let mut conn = self.platform().pool.get().await?;
        let Some(current) = entities::entities_by_row_ids(&mut conn, viewer.tenant_id, &[row])
            .await?
            .into_iter()
            .next()
        else {
            // The entity was purged: the file is new again.
            drop(conn);
            return self.import_new(viewer, file, text, round).await;
        };
        let change = PushedChange {
            change_id: format!("{}:{version}", file.id),
            entity_type: current.kind(),
            entity_id: current.entity_id.clone(),
            base_version: Some(base),
            content: Some(text),
        };
        let results = push(
            self.platform(),
            self.templates(viewer.tenant_id).await?.as_ref(),
            &mut conn,
            viewer,
            CLIENT_ID,
            vec![change],
        )
        .await?;
        let status = results.first().map(|result| result.status);
        match status {
            Some(PushStatus::Applied) => {
                round.imported += 1;
                let now = entities::find_live(
                    &mut conn,
                    viewer.tenant_id,
                    current.kind(),
                    &current.entity_id,
                )
                .await?;
                Ok(now.as_ref().map(held))
            }
            Some(PushStatus::Conflict) => {
                round.conflicts += 1;
                Ok(None)
            }
            _ => {
                round.failed += 1;
                tracing::info!(file = %file.name, errors = ?results.first().map(|r| &r.errors), "a Drive file's change was refused");
                Ok(None)
            }
        }
    }
}
