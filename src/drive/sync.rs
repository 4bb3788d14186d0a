//! The Drive sync worker (seed "Drive Cloud Sync"): for each member with a chosen folder, it
//! reads Drive's change feed from the saved page token (the whole folder the first time),
//! imports each new version of a markdown file there through the markdown importer, and writes
//! entity changes back to the Drive files that hold them.
//!
//! - Rounds run every `LOREGRAPH_DRIVE_SYNC_INTERVAL`, and at once for a member whose channel
//!   was notified or who asked (`forceDriveSync`); one round per member at a time across
//!   nodes (a lease on the connection's row, which a round that died gives up when it ends).
//! - The page token is saved after each page, so a restart resumes where the last round was.
//! - A file version is imported once: `drive_files` keeps the version last seen, and an older
//!   or equal one is skipped however often it is reported.
//! - Google's 429 and 5xx answers are retried with exponential backoff and jitter (three
//!   tries), then left for the next round.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use uuid::Uuid;

use super::client::{Drive, DriveError};
use super::connection::not_connected;
use super::store;
use super::sync_store;
use crate::auth::{Role, Viewer};
use crate::context::Platform;
use crate::entities::service::{TemplateBook, TemplateCatalog};
use crate::error::{AppError, AppResult};

/// Pages of changes (or of a first listing) read per round, at most.
const MAX_PAGES: usize = 50;
/// Files per page of a first listing (each answer stays well within the JSON bound).
const LIST_PAGE: u32 = 200;
/// How long a round may hold its member's connection before another may start.
const ROUND_LEASE: Duration = Duration::from_secs(15 * 60);
const TRIES: u32 = 3;

/// What one round did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Round {
    /// New versions of markdown files imported (an entity created or changed).
    pub imported: i32,
    /// Versions already seen, or files whose entity already said the same.
    pub unchanged: i32,
    /// Files that could not be imported (see the connection's last error).
    pub failed: i32,
    /// Changes that are not markdown files of the folder.
    pub skipped: i32,
    /// New versions of files whose entity changed here meanwhile: kept as sync conflicts
    /// (`syncConflicts`, `resolveConflict`), the entity unchanged.
    pub conflicts: i32,
    /// False when another round for the member was already running (this one did nothing).
    pub ran: bool,
}

/// The worker, a runtime part of the server.
pub struct DriveSync {
    platform: Platform,
    templates: Arc<TemplateBook>,
    pending: Arc<Mutex<HashSet<(Uuid, Uuid)>>>,
    wake: Arc<tokio::sync::Notify>,
}

impl DriveSync {
    pub fn new(platform: Platform, templates: Arc<TemplateBook>) -> Arc<Self> {
        Arc::new(Self {
            platform,
            templates,
            pending: Arc::new(Mutex::new(HashSet::new())),
            wake: Arc::new(tokio::sync::Notify::new()),
        })
    }

    /// Starts the rounds and the write-back, when Google is configured.
    pub fn start(self: &Arc<Self>) {
        if self
            .platform
            .providers
            .get(crate::config::ProviderId::Google)
            .is_none()
        {
            return;
        }
        tokio::spawn(self.clone().rounds());
        tokio::spawn(self.clone().write_back());
    }

    fn pending_handle(&self) -> Arc<Mutex<HashSet<(Uuid, Uuid)>>> {
        self.pending.clone()
    }

    fn wake_handle(&self) -> Arc<tokio::sync::Notify> {
        self.wake.clone()
    }

    pub(super) fn platform(&self) -> &Platform {
        &self.platform
    }

    /// The tenant's templates in force now (a reload or a change of the tenant's swaps them
    /// between two files, never during one).
    pub(super) async fn templates(&self, tenant_id: Uuid) -> AppResult<Arc<TemplateCatalog>> {
        self.templates
            .for_tenant(&self.platform.pool, tenant_id)
            .await
    }

    /// Asks for a round for the member soon (a notification came).
    pub fn enqueue(&self, tenant_id: Uuid, user_id: Uuid) {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((tenant_id, user_id));
        self.wake.notify_one();
    }

    async fn rounds(self: Arc<Self>) {
        let mut every = tokio::time::interval(self.platform.config.drive.sync_interval);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = self.platform.shutdown.cancelled() => return,
                () = self.wake.notified() => {
                    let due: Vec<_> = self.pending.lock().unwrap_or_else(|e| e.into_inner()).drain().collect();
                    for (tenant_id, user_id) in due {
                        self.round_logged(tenant_id, user_id, true).await;
                    }
                }
                _ = every.tick() => self.everyone().await,
            }
        }
    }

    async fn everyone(&self) {
        if let Err(error) = super::watch::renew_ending(&self.platform).await {
            tracing::warn!(error = %error.message(), "renewing Drive channels failed");
        }
        let mut after = None;
        loop {
            let batch = match self.platform.pool.get().await {
                Ok(mut conn) => sync_store::connections_with_folder(&mut conn, after, 100).await,
                Err(error) => Err(error.into()),
            };
            let Ok(batch) = batch else { return };
            for &(tenant_id, user_id) in &batch {
                if self.platform.shutdown.is_cancelled() {
                    return;
                }
                self.round_logged(tenant_id, user_id, false).await;
            }
            match batch.last() {
                Some(&last) if batch.len() == 100 => after = Some(last),
                _ => return,
            }
        }
    }

    async fn round_logged(&self, tenant_id: Uuid, user_id: Uuid, queued: bool) {
        match self.sync_now(tenant_id, user_id, false).await {
            // A notified member whose round is running elsewhere gets one after it.
            Ok(round) if !round.ran && queued => {
                let (pending, wake) = (self.pending_handle(), self.wake_handle());
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    pending
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert((tenant_id, user_id));
                    wake.notify_one();
                });
            }
            Ok(_) => {}
            Err(error) => {
                tracing::info!(%tenant_id, %user_id, error = %error.message(), "a Drive sync round failed");
            }
        }
    }

    /// Runs a round for the member now. While one is running (anywhere), a `wait`ing caller
    /// waits for it to end (up to a minute, holding no connection) and then runs its own;
    /// others skip theirs.
    pub async fn sync_now(&self, tenant_id: Uuid, user_id: Uuid, wait: bool) -> AppResult<Round> {
        let mut tries = if wait { 300 } else { 1 };
        loop {
            // A lease, not a lock on a connection: a round that dies lets go when it ends.
            let until = chrono::Utc::now()
                + chrono::Duration::from_std(ROUND_LEASE).map_err(AppError::internal)?;
            let mut conn = self.platform.pool.get().await?;
            if store::claim_round(&mut conn, tenant_id, user_id, until).await? {
                break;
            }
            drop(conn);
            tries -= 1;
            if tries == 0 {
                return Ok(Round::default());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let result = self.round(tenant_id, user_id).await;
        let mut conn = self.platform.pool.get().await?;
        store::release_round(&mut conn, tenant_id, user_id).await?;
        let error = match &result {
            Ok(round) if round.failed > 0 => {
                Some(format!("{} file(s) could not be imported", round.failed))
            }
            Ok(_) => None,
            Err(AppError::Forbidden {
                reason: Some("drive_not_connected"),
                ..
            }) => return result,
            Err(error) => Some(error.message()),
        };
        sync_store::finish_round(&mut conn, tenant_id, user_id, error.as_deref()).await?;
        result.map(|round| Round { ran: true, ..round })
    }

    async fn round(&self, tenant_id: Uuid, user_id: Uuid) -> AppResult<Round> {
        let platform = &self.platform;
        let mut conn = platform.pool.get().await?;
        let connection = store::find(&mut conn, tenant_id, user_id)
            .await?
            .ok_or_else(not_connected)?;
        let Some(folder) = connection.folder_id.clone() else {
            return Ok(Round::default());
        };
        let role = crate::accounts::service::membership(&mut conn, tenant_id, user_id)
            .await?
            .map(|m| m.role());
        drop(conn);
        // A member who left, or lost WORLDBUILDER, takes no more of the studio's files.
        let Some(role) = role.filter(|role| *role >= Role::Worldbuilder) else {
            super::connection::disconnect(platform, tenant_id, user_id).await?;
            return Err(AppError::forbidden(
                "the Drive's owner is no longer a WORLDBUILDER here; the connection was removed",
            ));
        };
        let viewer = Viewer {
            user_id,
            tenant_id,
            role,
            session_id: None,
            api_key_id: None,
            expires_at: None,
        };
        let mut round = Round::default();
        match connection.page_token {
            None => {
                // Taken before the listing, so what changes during it comes in the next round.
                let start = self
                    .with_drive(tenant_id, user_id, async |drive| {
                        retried(|| drive.start_page_token()).await
                    })
                    .await?;
                let query = format!("'{folder}' in parents and trashed = false");
                let mut page_token: Option<String> = None;
                for _ in 0..MAX_PAGES {
                    let page = self
                        .with_drive(tenant_id, user_id, async |drive| {
                            retried(|| drive.list(&query, page_token.as_deref(), LIST_PAGE)).await
                        })
                        .await?;
                    for file in page.files {
                        self.take(&viewer, file, &mut round).await?;
                    }
                    page_token = page.next_page_token;
                    if page_token.is_none() {
                        break;
                    }
                }
                let mut conn = platform.pool.get().await?;
                sync_store::save_page_token(&mut conn, tenant_id, user_id, &folder, &start).await?;
            }
            Some(mut page_token) => {
                for _ in 0..MAX_PAGES {
                    let page = self
                        .with_drive(tenant_id, user_id, async |drive| {
                            retried(|| drive.changes(&page_token)).await
                        })
                        .await?;
                    for change in page.changes {
                        match change.file {
                            Some(file)
                                if !change.removed
                                    && !file.trashed
                                    && file.parents.contains(&folder) =>
                            {
                                self.take(&viewer, file, &mut round).await?;
                            }
                            // Gone, trashed or moved out: no entity is written there any more.
                            _ => {
                                round.skipped += 1;
                                if let Some(file_id) = change.file_id {
                                    let mut conn = platform.pool.get().await?;
                                    sync_store::forget_file(
                                        &mut conn, tenant_id, user_id, &file_id,
                                    )
                                    .await?;
                                }
                            }
                        }
                    }
                    let mut conn = platform.pool.get().await?;
                    match (page.next_page_token, page.new_start_page_token) {
                        (Some(next), _) => {
                            sync_store::save_page_token(
                                &mut conn, tenant_id, user_id, &folder, &next,
                            )
                            .await?;
                            page_token = next;
                        }
                        (None, Some(start)) => {
                            sync_store::save_page_token(
                                &mut conn, tenant_id, user_id, &folder, &start,
                            )
                            .await?;
                            break;
                        }
                        (None, None) => break,
                    }
                }
            }
        }
        Ok(round)
    }

    /// Runs `call` with the member's Drive and a live access token (fetched for each call: a
    /// long round outlives one).
    pub(super) async fn with_drive<T>(
        &self,
        tenant_id: Uuid,
        user_id: Uuid,
        call: impl AsyncFnOnce(&Drive<'_>) -> AppResult<T>,
    ) -> AppResult<T> {
        super::connection::with_drive(&self.platform, tenant_id, user_id, call).await
    }
}

/// `call`, tried again after Google's 429s and 5xx with exponential backoff and jitter.
pub(super) async fn retried<T, F>(mut call: impl FnMut() -> F) -> AppResult<T>
where
    F: Future<Output = Result<T, DriveError>>,
{
    let mut delay = Duration::from_millis(500);
    for attempt in 1..=TRIES {
        match call().await {
            Err(DriveError::Retryable(message)) if attempt < TRIES => {
                let jitter = Duration::from_millis(rand::random::<u64>() % 250);
                tracing::info!(%message, attempt, "Drive asked us to slow down; trying again");
                tokio::time::sleep(delay + jitter).await;
                delay *= 4;
            }
            other => return Ok(other?),
        }
    }
    Err(AppError::Upstream(
        "Drive kept refusing; the next round tries again".into(),
    ))
}
