//! Backups of the database on demand (SUPERUSER): one at a time per server, written in the
//! background (a large database takes longer than a request may), listed from the backup
//! folder with the one under way and the last failure. Restoring is the command line's, with
//! the server stopped (`loregraph backup restore`): a server cannot swap its own database
//! from under its requests.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use crate::auth::{Role, Viewer};
use crate::config::BackupSettings;
use crate::db::backup;
use crate::error::{AppError, AppResult};

/// Where a backup stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackupState {
    Running,
    Complete,
    Failed,
}

/// A backup as `backups` lists it.
#[derive(Clone, Debug)]
pub struct Backup {
    pub name: String,
    pub state: BackupState,
    pub started_at: DateTime<Utc>,
    /// Its size, once complete.
    pub bytes: Option<u64>,
    /// Why it failed.
    pub error: Option<String>,
}

#[derive(Default)]
struct Progress {
    running: Option<Backup>,
    last_failure: Option<Backup>,
}

/// This server's backups: the folder, the tools, and the one under way.
pub struct Backups {
    settings: BackupSettings,
    database_url: String,
    progress: Arc<Mutex<Progress>>,
}

impl Backups {
    pub fn new(settings: &BackupSettings, database_url: &str) -> Self {
        Self {
            settings: settings.clone(),
            database_url: database_url.to_owned(),
            progress: Arc::default(),
        }
    }

    fn dir(&self) -> AppResult<&PathBuf> {
        self.settings.dir.as_ref().ok_or_else(|| {
            AppError::conflict("backups are off on this server (no backup folder is configured)")
        })
    }

    /// Begins a backup (SUPERUSER); CONFLICT while one is under way. It is listed as running
    /// until `pg_dump` finished, then as complete or failed.
    pub async fn start(&self, viewer: &Viewer) -> AppResult<Backup> {
        viewer.require_role(Role::Superuser)?;
        let dir = self.dir()?.clone();
        // Finding the tools may run `pg_config`: off the async workers.
        let explicit = self.settings.pg_bin_dir.clone();
        let tools = blocking(move || backup::tools_dir(explicit.as_deref()))
            .await?
            .map_err(|error| AppError::conflict(format!("backups are unavailable: {error}")))?;
        let started_at = Utc::now();
        let backup = Backup {
            name: backup::name_at(started_at),
            state: BackupState::Running,
            started_at,
            bytes: None,
            error: None,
        };
        {
            let mut progress = lock(&self.progress);
            if let Some(running) = &progress.running {
                return Err(AppError::conflict(format!(
                    "a backup is under way ({}); wait for it to finish",
                    running.name
                )));
            }
            // Two in the same second would share a name.
            if backup::path_of(&dir, &backup.name).is_some() {
                return Err(AppError::conflict(
                    "a backup was made this second; try again in a moment",
                ));
            }
            progress.running = Some(backup.clone());
        }
        let (progress, url, keep, name) = (
            self.progress.clone(),
            self.database_url.clone(),
            self.settings.keep,
            backup.name.clone(),
        );
        tokio::spawn(async move {
            // Whatever happens to this task (a panic included), the next backup may begin.
            let _clear = ClearRunning(progress.clone());
            let outcome = backup::dump(&tools, &url, &dir, &name).await;
            if let Ok(bytes) = &outcome {
                tracing::info!(backup = %name, bytes, "backup written");
                let pruned = tokio::task::spawn_blocking(move || backup::prune(&dir, keep)).await;
                match pruned {
                    Ok(Ok(removed)) if !removed.is_empty() => {
                        tracing::info!(?removed, "removed the oldest backups");
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(error)) => tracing::warn!(error = %error, "old backups not removed"),
                    Err(error) => tracing::warn!(error = %error, "old backups not removed"),
                }
            }
            let mut progress = lock(&progress);
            let Some(mut finished) = progress.running.take() else {
                return;
            };
            if let Err(error) = outcome {
                tracing::error!(backup = %name, error = %format!("{error:#}"), "backup failed");
                finished.state = BackupState::Failed;
                finished.error = Some(format!("{error:#}"));
                progress.last_failure = Some(finished);
            }
        });
        Ok(backup)
    }

    /// The backups, newest first: the one under way, the last that failed (while it is the
    /// newest), and every complete one in the folder (SUPERUSER).
    pub async fn list(&self, viewer: &Viewer) -> AppResult<Vec<Backup>> {
        viewer.require_role(Role::Superuser)?;
        let Some(dir) = self.settings.dir.clone() else {
            return Ok(Vec::new());
        };
        let files = blocking(move || backup::list(&dir))
            .await?
            .map_err(AppError::internal)?;
        let progress = lock(&self.progress);
        let newest_file = files.first().map(|file| file.started_at);
        let mut all: Vec<Backup> = progress.running.iter().cloned().collect();
        all.extend(
            progress
                .last_failure
                .iter()
                .filter(|failed| newest_file.is_none_or(|newest| failed.started_at > newest))
                .cloned(),
        );
        all.extend(files.into_iter().map(|file| Backup {
            name: file.name,
            state: BackupState::Complete,
            started_at: file.started_at,
            bytes: Some(file.bytes),
            error: None,
        }));
        Ok(all)
    }

    /// Removes a complete backup (SUPERUSER); NOT_FOUND for any name that is not one.
    pub async fn delete(&self, viewer: &Viewer, name: &str) -> AppResult<()> {
        viewer.require_role(Role::Superuser)?;
        let (dir, name) = (self.dir()?.clone(), name.to_owned());
        blocking(move || {
            let path = backup::path_of(&dir, &name)
                .ok_or_else(|| AppError::not_found(format!("no backup named {name:?}")))?;
            std::fs::remove_file(path).map_err(AppError::internal)
        })
        .await?
    }
}

/// Runs file-system work on a blocking thread.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(AppError::internal)
}

/// Clears the backup under way when dropped, if the task did not.
struct ClearRunning(Arc<Mutex<Progress>>);

impl Drop for ClearRunning {
    fn drop(&mut self) {
        lock(&self.0).running = None;
    }
}

/// The progress, whatever a panicking holder left (it holds plain values).
fn lock(progress: &Mutex<Progress>) -> std::sync::MutexGuard<'_, Progress> {
    progress
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
