//! GraphQL of Drive's push channel and sync worker.

use std::sync::Arc;

use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Utc};

use crate::auth::Role;
use crate::context::ContextExt;
use crate::drive::connection::not_connected;
use crate::drive::sync::DriveSync;
use crate::drive::sync_store::{self, ChannelRow};
use crate::drive::{store, watch};
use crate::error::AppResult;

/// A push channel through which Google tells the server your Drive changed.
#[derive(SimpleObject)]
pub struct DriveWatch {
    /// When the channel was opened.
    pub opened_at: DateTime<Utc>,
    /// When it ends (it is renewed before then).
    pub expires_at: DateTime<Utc>,
    /// Where Google posts its notifications.
    pub address: String,
    /// The last notification number taken.
    pub last_message: i64,
}

impl From<ChannelRow> for DriveWatch {
    fn from(row: ChannelRow) -> Self {
        Self {
            opened_at: row.created_at,
            expires_at: row.expires_at,
            address: row.address,
            last_message: row.last_message,
        }
    }
}

/// Where your Drive folder's sync stands.
#[derive(SimpleObject)]
pub struct DriveSyncStatus {
    /// Whether a folder is chosen (nothing syncs without one).
    pub has_folder: bool,
    /// Whether the folder was read once already (later rounds read only changes).
    pub started: bool,
    /// When the last round ended.
    pub last_synced_at: Option<DateTime<Utc>>,
    /// What went wrong in the last round, if anything.
    pub last_error: Option<String>,
    /// Drive files the sync knows.
    pub files_tracked: i64,
    /// The live push channel, if any.
    pub watch: Option<DriveWatch>,
}

/// What `forceDriveSync` did.
#[derive(SimpleObject)]
pub struct DriveSyncRound {
    /// False when a round for you kept running for a minute (this one did nothing).
    pub ran: bool,
    /// New versions of markdown files imported.
    pub imported: i32,
    /// Versions already seen, or with nothing new.
    pub unchanged: i32,
    /// Files that could not be imported.
    pub failed: i32,
    /// Changes that are not markdown files of the folder.
    pub skipped: i32,
    /// New versions of files whose entity changed here meanwhile: kept as sync conflicts
    /// (`syncConflicts`, resolved with `resolveConflict`), the entity unchanged.
    pub conflicts: i32,
}

#[derive(Default)]
pub struct DriveSyncQuery;

#[Object]
impl DriveSyncQuery {
    /// Your live push channel, if any (WORLDBUILDER).
    async fn drive_watch_status(&self, ctx: &Context<'_>) -> AppResult<Option<DriveWatch>> {
        Ok(watch::status(ctx.platform(), ctx.viewer()?)
            .await?
            .map(DriveWatch::from))
    }

    /// Where your Drive folder's sync stands (WORLDBUILDER).
    async fn drive_sync_status(&self, ctx: &Context<'_>) -> AppResult<DriveSyncStatus> {
        let viewer = ctx.viewer()?;
        viewer.require_role(Role::Worldbuilder)?;
        let mut conn = ctx.platform().pool.get().await?;
        let row = store::find(&mut conn, viewer.tenant_id, viewer.user_id)
            .await?
            .ok_or_else(not_connected)?;
        let files_tracked =
            sync_store::count_files(&mut conn, viewer.tenant_id, viewer.user_id).await?;
        let watch = sync_store::live_channel(&mut conn, viewer.tenant_id, viewer.user_id).await?;
        Ok(DriveSyncStatus {
            has_folder: row.folder_id.is_some(),
            started: row.page_token.is_some(),
            last_synced_at: row.last_synced_at,
            last_error: row.last_error,
            files_tracked,
            watch: watch.map(DriveWatch::from),
        })
    }
}

/// `forceDriveSync` calls one member may make in a minute.
const FORCED_ROUNDS_PER_MINUTE: u32 = 10;

#[derive(Default)]
pub struct DriveSyncMutation;

#[Object]
impl DriveSyncMutation {
    /// Opens a push channel for your Drive (Google's `changes.watch`): its changes reach the
    /// sync within seconds. Replaces a live one; renewed before it ends.
    async fn register_drive_watch(&self, ctx: &Context<'_>) -> AppResult<DriveWatch> {
        Ok(
            watch::register(ctx.platform(), ctx.viewer()?, &ctx.auth().client)
                .await?
                .into(),
        )
    }

    /// Closes your push channel (`channels.stop`); false when there was none.
    async fn unregister_drive_watch(&self, ctx: &Context<'_>) -> AppResult<bool> {
        watch::unregister(ctx.platform(), ctx.viewer()?).await
    }

    /// Runs a sync round for your Drive folder now and says what it did.
    async fn force_drive_sync(&self, ctx: &Context<'_>) -> AppResult<DriveSyncRound> {
        let viewer = ctx.viewer()?;
        viewer.require_role(Role::Worldbuilder)?;
        // A round can be long: a member may ask for one a few times a minute.
        let mut conn = ctx.platform().pool.get().await?;
        crate::auth::rate_window::ensure_within(
            &mut conn,
            &format!("drive-sync:{}:{}", viewer.tenant_id, viewer.user_id),
            FORCED_ROUNDS_PER_MINUTE,
            std::time::Duration::from_secs(60),
            "too many forced Drive syncs; the worker runs on its own too",
        )
        .await?;
        drop(conn);
        let round = ctx
            .part::<Arc<DriveSync>>()?
            .sync_now(viewer.tenant_id, viewer.user_id, true)
            .await?;
        Ok(DriveSyncRound {
            ran: round.ran,
            imported: round.imported,
            unchanged: round.unchanged,
            failed: round.failed,
            skipped: round.skipped,
            conflicts: round.conflicts,
        })
    }
}
