//! The Drive write-back: an entity changed through the API (or any other way) is uploaded to
//! each Drive file that holds it — once, whichever node gets there first: the files' rows are
//! locked and record which state of the entity they hold.

use std::sync::Arc;

use uuid::Uuid;

use super::client::{Drive, DriveError};
use super::connection::access_token;
use super::model::MARKDOWN_MIME;
use super::sync::{DriveSync, retried};
use super::sync_store;
use crate::auth::{Role, Viewer};
use crate::entities::service::{self as entities, EntityType};
use crate::error::AppResult;
use crate::events::{EntityAction, EventPayload};

impl DriveSync {
    /// Writes entity changes back to the Drive files that hold them.
    pub(super) async fn write_back(self: Arc<Self>) {
        let mut events = self.platform().events.subscribe();
        loop {
            let event = tokio::select! {
                () = self.platform().shutdown.cancelled() => return,
                event = events.recv() => event,
            };
            match event {
                Ok(event) => {
                    let EventPayload::Entity(change) = &event.payload else {
                        continue;
                    };
                    if !matches!(
                        change.action,
                        EntityAction::Created
                            | EntityAction::Updated
                            | EntityAction::Restored
                            | EntityAction::Renamed
                    ) {
                        continue;
                    }
                    let Some(entity_type) = EntityType::from_slug(&change.entity_type) else {
                        continue;
                    };
                    if let Err(error) = self
                        .write_entity(event.tenant_id, entity_type, &change.entity_id)
                        .await
                    {
                        tracing::info!(error = %error.message(), "writing an entity back to Drive failed");
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(
                        missed,
                        "the Drive write-back fell behind; some Drive files may be stale until their entities change again"
                    );
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    }

    /// Uploads the entity's markdown to each Drive file holding an older state of it, once
    /// whichever node gets there first (the rows are locked, and record what they hold).
    async fn write_entity(
        &self,
        tenant_id: Uuid,
        entity_type: EntityType,
        entity_id: &str,
    ) -> AppResult<()> {
        let platform = self.platform();
        let mut conn = platform.pool.get().await?;
        let Some(row) = entities::find_live(&mut conn, tenant_id, entity_type, entity_id).await?
        else {
            return Ok(());
        };
        let files = sync_store::files_of_entity(&mut conn, tenant_id, row.id).await?;
        drop(conn);
        // Each file on its own: one that fails does not hold the others back.
        for file in files {
            if let Err(error) = self.write_file(tenant_id, entity_type, &row, &file).await {
                tracing::info!(file = %file.file_id, error = %error.message(), "writing an entity to its Drive file failed");
            }
        }
        Ok(())
    }

    /// Writes one entity's state to one member's Drive file, if this node claims it first and
    /// Drive has nothing newer than what the sync saw (a change made in Drive since is never
    /// overwritten: the next round imports it instead).
    async fn write_file(
        &self,
        tenant_id: Uuid,
        entity_type: EntityType,
        row: &entities::EntityRow,
        file: &sync_store::FileRow,
    ) -> AppResult<()> {
        let platform = self.platform();
        let mut conn = platform.pool.get().await?;
        // Only a member who may still hold the studio's files gets them.
        let role = crate::accounts::service::membership(&mut conn, tenant_id, file.user_id)
            .await?
            .map(|m| m.role());
        let Some(role) = role.filter(|role| *role >= Role::Worldbuilder) else {
            return Ok(());
        };
        if file
            .entity_updated_at
            .is_some_and(|held| held >= row.updated_at)
            || !sync_store::claim_write(
                &mut conn,
                tenant_id,
                file.user_id,
                &file.file_id,
                row.updated_at,
            )
            .await?
        {
            return Ok(());
        }
        let viewer = Viewer {
            user_id: file.user_id,
            tenant_id,
            role,
            session_id: None,
            api_key_id: None,
            expires_at: None,
        };
        let exported = crate::sync::service::export(
            self.templates(tenant_id).await?.as_ref(),
            &mut conn,
            &viewer,
            entity_type,
            &row.entity_id,
        )
        .await?;
        drop(conn);
        let token = access_token(platform, tenant_id, file.user_id).await?;
        let drive = Drive::of(platform, &token);
        let current = match drive.get(&file.file_id).await {
            Ok(current) => current,
            Err(DriveError::NotFound) => {
                let mut conn = platform.pool.get().await?;
                return sync_store::forget_file(&mut conn, tenant_id, file.user_id, &file.file_id)
                    .await;
            }
            Err(other) => return Err(other.into()),
        };
        let drive_version: i64 = current
            .version
            .as_deref()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if drive_version > file.version {
            tracing::info!(file = %file.file_id, "a Drive file changed since the last round; it is imported, not overwritten");
            return Ok(());
        }
        let written = retried(|| {
            drive.update_content(
                &file.file_id,
                exported.content.clone().into_bytes(),
                MARKDOWN_MIME,
            )
        })
        .await?;
        let version = written
            .version
            .as_deref()
            .and_then(|v| v.parse().ok())
            .unwrap_or(file.version + 1);
        let mut conn = platform.pool.get().await?;
        sync_store::record_file(
            &mut conn,
            tenant_id,
            file.user_id,
            &file.file_id,
            version,
            written.md5_checksum.as_deref(),
            Some(sync_store::Held {
                row: row.id,
                updated_at: row.updated_at,
                version: row.version,
            }),
        )
        .await
    }
}
