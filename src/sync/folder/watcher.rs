//! The folders this node keeps in sync: a watcher per bound tenant that imports a file within
//! a second of its save (debounced: a burst of events is one sync), and one task that writes
//! changes made elsewhere (the API, another node) back to the files they belong to.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::Enum;
use notify::{RecursiveMode, Watcher as _};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::sync::{FolderSyncResult, sync_paths};
use super::{disk, store};
use crate::auth::{Role, Viewer};
use crate::context::Platform;
use crate::entities::service::{TemplateBook, TemplateCatalog};
use crate::error::AppResult;
use crate::sync::entity_file::is_entity_path;

/// How long a folder is quiet before a burst of changes is synchronised.
const QUIET: Duration = Duration::from_millis(250);
/// The longest a burst is gathered before it is synchronised anyway.
const LONGEST_BURST: Duration = Duration::from_secs(1);
/// How often a missing folder is looked for again.
const RETRY: Duration = Duration::from_secs(2);
/// File events queued before the watcher falls back to rescanning the whole folder.
const QUEUED_EVENTS: usize = 4096;

/// What a folder's watcher is doing.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum WatchState {
    /// Starting up (a first full sync).
    Starting,
    /// Watching for changes.
    Watching,
    /// The folder is not there (or cannot be watched); looked for again every two seconds.
    FolderMissing,
}

/// A watcher's state, its last sync, and what waits.
#[derive(Clone, Debug)]
pub struct WatchStatus {
    pub state: WatchState,
    pub message: Option<String>,
    /// Changed files gathered and not yet synchronised.
    pub pending: i32,
    pub last: Option<FolderSyncResult>,
}

struct Watch {
    folder: PathBuf,
    status: Arc<Mutex<WatchStatus>>,
    stop: CancellationToken,
}

/// This node's bound folders (a runtime part: the schema and the background tasks hold it).
pub struct Folders {
    /// Where bound folders may be (`LOREGRAPH_PROJECTS_ROOT`); none: binding is off.
    pub root: Option<PathBuf>,
    pub(super) platform: Platform,
    pub(super) templates: Arc<TemplateBook>,
    watches: Mutex<HashMap<Uuid, Watch>>,
    /// Entities a folder sync is importing right now (tenant, type, id): their files are where
    /// the change comes from, so the write-back leaves them alone.
    pub(super) importing: Mutex<HashSet<(Uuid, String, String)>>,
}

/// Waits before the folder is looked at again; false when the watch stopped meanwhile.
async fn wait_to_retry(stop: &CancellationToken) -> bool {
    tokio::select! {
        () = stop.cancelled() => false,
        () = tokio::time::sleep(RETRY) => true,
    }
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Who a folder's changes are made as: the member who bound it, as a WORLDBUILDER.
pub fn folder_viewer(tenant_id: Uuid, bound_by: Uuid) -> Viewer {
    Viewer {
        user_id: bound_by,
        tenant_id,
        role: Role::Worldbuilder,
        session_id: None,
        api_key_id: None,
        expires_at: None,
    }
}

impl Folders {
    pub fn new(
        root: Option<PathBuf>,
        platform: Platform,
        templates: Arc<TemplateBook>,
    ) -> Arc<Self> {
        Arc::new(Self {
            root,
            platform,
            templates,
            watches: Mutex::new(HashMap::new()),
            importing: Mutex::new(HashSet::new()),
        })
    }

    /// The tenant's templates in force now (a reload or a change of the tenant's swaps them
    /// between two files, never during one).
    pub async fn templates(&self, tenant_id: Uuid) -> AppResult<Arc<TemplateCatalog>> {
        self.templates
            .for_tenant(&self.platform.pool, tenant_id)
            .await
    }

    pub fn platform(&self) -> &Platform {
        &self.platform
    }

    /// Starts watching every bound folder, and the write-back (at start-up).
    pub async fn start(self: &Arc<Self>) -> AppResult<()> {
        let Some(root) = &self.root else {
            return Ok(());
        };
        // The write-back first: a database that fails below must not leave it unstarted.
        tokio::spawn(self.clone().write_back());
        let mut conn = self.platform.pool.get().await?;
        for folder in store::all_folders(&mut conn).await? {
            self.watch(
                folder.tenant_id,
                root.join(&folder.path),
                folder_viewer(folder.tenant_id, folder.bound_by),
            );
        }
        Ok(())
    }

    /// The folder a tenant's watcher keeps, if this node watches one.
    pub fn folder_of(&self, tenant_id: Uuid) -> Option<PathBuf> {
        lock(&self.watches)
            .get(&tenant_id)
            .map(|w| w.folder.clone())
    }

    pub fn status(&self, tenant_id: Uuid) -> Option<WatchStatus> {
        lock(&self.watches)
            .get(&tenant_id)
            .map(|w| lock(&w.status).clone())
    }

    /// Records a sync run from outside the watcher (an API call) as the last result.
    pub fn record(&self, tenant_id: Uuid, result: &FolderSyncResult) {
        if let Some(watch) = lock(&self.watches).get(&tenant_id) {
            lock(&watch.status).last = Some(result.clone());
        }
    }

    /// Watches a tenant's folder (replacing a watch it had).
    pub fn watch(self: &Arc<Self>, tenant_id: Uuid, folder: PathBuf, viewer: Viewer) {
        let stop = self.platform.shutdown.child_token();
        let status = Arc::new(Mutex::new(WatchStatus {
            state: WatchState::Starting,
            message: None,
            pending: 0,
            last: None,
        }));
        let previous = lock(&self.watches).insert(
            tenant_id,
            Watch {
                folder: folder.clone(),
                status: status.clone(),
                stop: stop.clone(),
            },
        );
        if let Some(previous) = previous {
            previous.stop.cancel();
        }
        tokio::spawn(self.clone().run(folder, viewer, status, stop));
    }

    /// Stops watching a tenant's folder.
    pub fn unwatch(&self, tenant_id: Uuid) {
        if let Some(watch) = lock(&self.watches).remove(&tenant_id) {
            watch.stop.cancel();
        }
    }

    /// Synchronises files of a tenant's folder now.
    pub async fn sync(
        &self,
        viewer: &Viewer,
        folder: &Path,
        paths: &[String],
    ) -> AppResult<FolderSyncResult> {
        let mut conn = self.platform.pool.get().await?;
        sync_paths(self, &mut conn, viewer, folder, paths).await
    }

    /// Every file of the folder, and every file it held that is gone.
    pub async fn all_paths(&self, tenant_id: Uuid, folder: &Path) -> AppResult<Vec<String>> {
        let scanned = {
            let folder = folder.to_path_buf();
            tokio::task::spawn_blocking(move || disk::scan(&folder))
                .await
                .map_err(|e| crate::error::AppError::internal(anyhow::anyhow!("scanning: {e}")))??
        };
        let mut conn = self.platform.pool.get().await?;
        let known = store::files(&mut conn, tenant_id).await?;
        let present: HashSet<&String> = scanned.iter().collect();
        let mut paths: Vec<String> = known
            .into_iter()
            .map(|(_, path)| path)
            .filter(|path| !present.contains(path))
            .collect();
        paths.extend(scanned);
        Ok(paths)
    }

    async fn run(
        self: Arc<Self>,
        folder: PathBuf,
        viewer: Viewer,
        status: Arc<Mutex<WatchStatus>>,
        stop: CancellationToken,
    ) {
        let set = |state: WatchState, message: Option<String>| {
            let mut status = lock(&status);
            status.state = state;
            status.message = message;
        };
        while !stop.is_cancelled() {
            if !folder.is_dir() {
                set(
                    WatchState::FolderMissing,
                    Some(format!("{} is not there", folder.display())),
                );
                if !wait_to_retry(&stop).await {
                    return;
                }
                continue;
            }
            let (sender, mut receiver) = mpsc::channel::<PathBuf>(QUEUED_EVENTS);
            let overflow = Arc::new(AtomicBool::new(false));
            let flag = overflow.clone();
            // Changes only (reads, the watcher's own included, are not events), and links are
            // not followed out of the folder.
            let config = notify::Config::default()
                .with_event_kinds(notify::EventKindMask::CORE)
                .with_follow_symlinks(false);
            let handler = move |event: notify::Result<notify::Event>| match event {
                Ok(event) => {
                    if event.need_rescan() {
                        flag.store(true, Ordering::Relaxed);
                    }
                    for path in event.paths {
                        if sender.try_send(path).is_err() {
                            flag.store(true, Ordering::Relaxed);
                        }
                    }
                }
                Err(_) => flag.store(true, Ordering::Relaxed),
            };
            let watcher = notify::RecommendedWatcher::new(handler, config);
            let watcher = match watcher {
                Ok(watcher) => watcher,
                Err(error) => {
                    set(
                        WatchState::FolderMissing,
                        Some(format!("cannot watch: {error}")),
                    );
                    if !wait_to_retry(&stop).await {
                        return;
                    }
                    continue;
                }
            };
            // Watching walks the whole tree: off the async workers.
            let watched = {
                let folder = folder.clone();
                let mut watcher = watcher;
                tokio::task::spawn_blocking(move || {
                    let outcome = watcher.watch(&folder, RecursiveMode::Recursive);
                    (watcher, outcome)
                })
                .await
            };
            let Ok((watcher, outcome)) = watched else {
                set(
                    WatchState::FolderMissing,
                    Some("cannot watch the folder".into()),
                );
                continue;
            };
            if let Err(error) = outcome {
                set(
                    WatchState::FolderMissing,
                    Some(format!("cannot watch: {error}")),
                );
                if !wait_to_retry(&stop).await {
                    return;
                }
                continue;
            }
            // Whatever changed while nobody watched.
            self.sync_all(&viewer, &folder, &status).await;
            set(WatchState::Watching, None);
            loop {
                let first = tokio::select! {
                    () = stop.cancelled() => return,
                    first = receiver.recv() => first,
                    () = tokio::time::sleep(RETRY) => {
                        if folder.is_dir() { continue } else { break }
                    }
                };
                let Some(first) = first else { break };
                let mut changed = HashSet::from([first]);
                let began = tokio::time::Instant::now();
                while began.elapsed() < LONGEST_BURST {
                    match tokio::time::timeout(QUIET, receiver.recv()).await {
                        Ok(Some(path)) => {
                            changed.insert(path);
                        }
                        _ => break,
                    }
                }
                lock(&status).pending = changed.len() as i32;
                if !folder.is_dir() {
                    break;
                }
                let rescan = overflow.swap(false, Ordering::Relaxed)
                    || changed.iter().any(|path| {
                        path.is_dir() || (!path.exists() && path.extension().is_none())
                    });
                if rescan {
                    self.sync_all(&viewer, &folder, &status).await;
                } else {
                    let paths: Vec<String> = changed
                        .iter()
                        .filter_map(|path| disk::relative_to(&folder, path))
                        .filter(|relative| is_entity_path(relative))
                        .collect();
                    self.sync_some(&viewer, &folder, &paths, &status).await;
                }
            }
            drop(watcher);
        }
    }

    async fn sync_all(&self, viewer: &Viewer, folder: &Path, status: &Mutex<WatchStatus>) {
        match self.all_paths(viewer.tenant_id, folder).await {
            Ok(paths) => self.sync_some(viewer, folder, &paths, status).await,
            Err(error) => {
                lock(status).message = Some(error.message());
            }
        }
    }

    async fn sync_some(
        &self,
        viewer: &Viewer,
        folder: &Path,
        paths: &[String],
        status: &Mutex<WatchStatus>,
    ) {
        let outcome = self.sync(viewer, folder, paths).await;
        let mut status = lock(status);
        status.pending = 0;
        match outcome {
            Ok(result) => status.last = Some(result),
            Err(error) => {
                tracing::warn!(error = %error.message(), "a project folder sync failed");
                status.message = Some(error.message());
            }
        }
    }
}
