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
use crate::entities::service::{self as entities, EntityRow, EntityType, TemplateCatalog};
use crate::error::AppResult;
use crate::events::{EntityAction, EntityChange, EventPayload};
use crate::sync::entity_file::{self, file_name, project_path};

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
    platform: Platform,
    templates: Arc<TemplateCatalog>,
    watches: Mutex<HashMap<Uuid, Watch>>,
    /// Entities a folder sync is importing right now (tenant, type, id): their files are where
    /// the change comes from, so the write-back leaves them alone.
    pub(super) importing: Mutex<HashSet<(Uuid, String, String)>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
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
        templates: Arc<TemplateCatalog>,
    ) -> Arc<Self> {
        Arc::new(Self {
            root,
            platform,
            templates,
            watches: Mutex::new(HashMap::new()),
            importing: Mutex::new(HashSet::new()),
        })
    }

    pub fn templates(&self) -> &TemplateCatalog {
        &self.templates
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
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(RETRY) => continue,
                }
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
                    tokio::select! {
                        () = stop.cancelled() => return,
                        () = tokio::time::sleep(RETRY) => continue,
                    }
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
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(RETRY) => continue,
                }
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
                        .filter(|relative| disk::is_entity_file(relative))
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

    /// Writes changes made elsewhere back to the files of the folders this node watches.
    async fn write_back(self: Arc<Self>) {
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
        let (folder, path_on_disk) = (folder.to_path_buf(), path.clone());
        let row_for_dates = row.clone();
        let file = entity_file::render(
            self.templates.type_template(entity_type),
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
