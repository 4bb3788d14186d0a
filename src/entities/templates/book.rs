//! The templates in force, swapped whole by `reloadTemplates`: requests and sync workers take
//! the catalog current when they begin and keep it to their end, so a reload never changes the
//! templates under a write. A tenant with templates of its own gets the package's with its own
//! laid over them ([`TemplateBook::for_tenant`]), built once and kept until the tenant changes
//! one (on any node: the change's event reaches them all) or the package is reloaded.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use anyhow::Context as _;
use moka::future::Cache;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use super::catalog::TemplateCatalog;
use crate::db::DbPool;
use crate::entities::store::templates as store;
use crate::error::{AppError, AppResult};
use crate::events::{EventBus, EventPayload};
use diesel_async::AsyncPgConnection;

/// What the kept catalogs may weigh, in KiB of the tenants' own templates and schemas (each
/// tenant weighs at least 1: the rest of its catalog is shared with the package's), and how
/// long one is kept at most (a change heard of from another node ends it sooner; the limit
/// bounds what a lost notice can cost).
const TENANTS_KIB: u64 = 256 * 1024;
const TENANT_TTL: Duration = Duration::from_secs(300);

pub struct TemplateBook {
    dir: Option<PathBuf>,
    current: RwLock<Arc<TemplateCatalog>>,
    /// One reload at a time, so the package read last is the one in force.
    reloading: tokio::sync::Mutex<()>,
    /// Each tenant's catalog, with the package's catalog it was laid over.
    tenants: Cache<Uuid, TenantCatalog>,
    /// Counts the times a tenant's catalog was forgotten, and when each tenant's last was: a
    /// catalog whose rows were read before that is stale even if it was kept after the forget
    /// (its read was under way as the change committed).
    forgets: AtomicU64,
    forgotten: Mutex<HashMap<Uuid, u64>>,
    /// When every tenant's was last forgotten (notices were missed).
    all_forgotten: AtomicU64,
}

#[derive(Clone)]
struct TenantCatalog {
    base: Arc<TemplateCatalog>,
    catalog: Arc<TemplateCatalog>,
    /// `forgets` as its rows were about to be read.
    read_at: u64,
    /// KiB of the tenant's own templates and schemas (at least 1).
    weight: u32,
}

impl TemplateBook {
    /// The built-in templates, or the package in `dir` over them (a package that does not read
    /// stops the start, naming the file).
    pub fn load(dir: Option<PathBuf>) -> anyhow::Result<Self> {
        let catalog = read(dir.as_ref())?;
        Ok(Self {
            dir,
            current: RwLock::new(catalog),
            reloading: tokio::sync::Mutex::new(()),
            tenants: Cache::builder()
                .max_capacity(TENANTS_KIB)
                .weigher(|_, kept: &TenantCatalog| kept.weight)
                .time_to_live(TENANT_TTL)
                .build(),
            forgets: AtomicU64::new(0),
            forgotten: Mutex::new(HashMap::new()),
            all_forgotten: AtomicU64::new(0),
        })
    }

    /// The templates in force for a tenant: the package's, with the tenant's own over them
    /// when it has any (looked up once, then kept).
    pub async fn for_tenant(
        &self,
        pool: &DbPool,
        tenant_id: Uuid,
    ) -> AppResult<Arc<TemplateCatalog>> {
        let base = self.current();
        if let Some(kept) = self.tenants.get(&tenant_id).await {
            if Arc::ptr_eq(&kept.base, &base) && kept.read_at >= self.forgotten_at(tenant_id) {
                return Ok(kept.catalog);
            }
            // Laid over a package since reloaded, or read as the tenant changed a template.
            self.tenants.invalidate(&tenant_id).await;
        }
        let built = self
            .tenants
            .try_get_with(tenant_id, async {
                let read_at = self.forgets.load(Ordering::SeqCst);
                let mut conn = pool.get().await?;
                let (catalog, weight) = lay_over(&base, &mut conn, tenant_id).await?;
                Ok::<_, AppError>(TenantCatalog {
                    base: base.clone(),
                    catalog,
                    read_at,
                    weight,
                })
            })
            .await
            .map_err(|e| AppError::from_shared(&e))?;
        Ok(built.catalog)
    }

    /// The tenant's templates in force as the database holds them now, built afresh (not
    /// kept): what a re-validation judges by.
    pub async fn read_for_tenant(
        &self,
        conn: &mut AsyncPgConnection,
        tenant_id: Uuid,
    ) -> AppResult<Arc<TemplateCatalog>> {
        Ok(lay_over(&self.current(), conn, tenant_id).await?.0)
    }

    /// Forgets a tenant's catalog on this node (it changed a template; the change committed).
    pub async fn forget_tenant(&self, tenant_id: Uuid) {
        let now = self.forgets.fetch_add(1, Ordering::SeqCst) + 1;
        lock(&self.forgotten).insert(tenant_id, now);
        self.tenants.invalidate(&tenant_id).await;
    }

    /// Forgets every tenant's catalog on this node.
    fn forget_all(&self) {
        let now = self.forgets.fetch_add(1, Ordering::SeqCst) + 1;
        self.all_forgotten.store(now, Ordering::SeqCst);
        self.tenants.invalidate_all();
    }

    fn forgotten_at(&self, tenant_id: Uuid) -> u64 {
        let own = lock(&self.forgotten).get(&tenant_id).copied().unwrap_or(0);
        own.max(self.all_forgotten.load(Ordering::SeqCst))
    }

    /// Forgets the catalogs of tenants that change a template on other nodes, until shutdown.
    pub async fn follow(
        self: Arc<Self>,
        events: EventBus,
        shutdown: tokio_util::sync::CancellationToken,
    ) {
        let mut received = events.subscribe();
        let mut losses = events.losses();
        loop {
            let event = tokio::select! {
                () = shutdown.cancelled() => return,
                event = received.recv() => event,
                // Events were lost before they were logged: a change may have been among them.
                lost = losses.changed() => {
                    if lost.is_err() {
                        return;
                    }
                    self.forget_all();
                    continue;
                }
            };
            match event {
                // A new version (a re-validation's progress changes no template).
                Ok(event) => {
                    if let EventPayload::TemplateChanged(change) = &event.payload
                        && change.announces_a_version()
                    {
                        self.forget_tenant(event.tenant_id).await;
                    }
                }
                // Notices were missed: any tenant's may have been among them.
                Err(RecvError::Lagged(_)) => self.forget_all(),
                Err(RecvError::Closed) => return,
            }
        }
    }

    pub fn current(&self) -> Arc<TemplateCatalog> {
        match self.current.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Reads the package again, off the async workers; a package that does not read changes
    /// nothing and says why (BAD_USER_INPUT).
    pub async fn reload(self: &Arc<Self>) -> AppResult<Arc<TemplateCatalog>> {
        let _one_at_a_time = self.reloading.lock().await;
        let book = self.clone();
        let catalog = tokio::task::spawn_blocking(move || read(book.dir.as_ref()))
            .await
            .map_err(AppError::internal)?
            .map_err(|error| {
                AppError::bad_input(format!("the templates were not reloaded: {error:#}"))
            })?;
        match self.current.write() {
            Ok(mut guard) => *guard = catalog.clone(),
            Err(poisoned) => *poisoned.into_inner() = catalog.clone(),
        }
        Ok(catalog)
    }
}

/// The package's catalog with the tenant's own templates laid over it (the schemas compiled off
/// the async workers), and what they weigh in KiB.
async fn lay_over(
    base: &Arc<TemplateCatalog>,
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
) -> AppResult<(Arc<TemplateCatalog>, u32)> {
    let rows = store::templates_in_force(conn, tenant_id).await?;
    if rows.is_empty() {
        return Ok((base.clone(), 1));
    }
    let bytes: usize = rows
        .iter()
        .map(|row| {
            row.content.as_ref().map_or(0, String::len)
                + row
                    .json_schema
                    .as_ref()
                    .map_or(0, |schema| schema.to_string().len())
        })
        .sum();
    let weight = u32::try_from(bytes / 1024 + 1).unwrap_or(u32::MAX);
    let over = base.clone();
    let catalog = tokio::task::spawn_blocking(move || over.with_tenant(&rows))
        .await
        .map_err(AppError::internal)?;
    Ok((Arc::new(catalog), weight))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn read(dir: Option<&PathBuf>) -> anyhow::Result<Arc<TemplateCatalog>> {
    Ok(match dir {
        Some(dir) => {
            let catalog = TemplateCatalog::load(dir)
                .with_context(|| format!("loading the templates in {}", dir.display()))?;
            tracing::info!(dir = %dir.display(), "loaded the template package");
            Arc::new(catalog)
        }
        None => TemplateCatalog::builtin(),
    })
}
