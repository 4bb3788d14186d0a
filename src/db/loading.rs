//! Helpers for per-request DataLoaders: errors shared between the waiters of one batch, loading
//! one or many keys, feeding a loader what a list already fetched, and running a batch on a
//! pooled connection. Each domain's loaders use them; `context::loaders` builds each domain's set per request.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;

use async_graphql::dataloader::{CacheFactory, DataLoader, HashMapCache, Loader};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::DbPool;
use crate::error::{AppError, AppResult};

/// Loader errors are shared between waiters; `load` turns them back into ours.
pub type SharedError = Arc<AppError>;

pub async fn load<L, K, C>(loader: &DataLoader<L, C>, key: K) -> AppResult<Option<L::Value>>
where
    L: Loader<K, Error = SharedError>,
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    C: CacheFactory,
{
    loader
        .load_one(key)
        .await
        .map_err(|e| AppError::from_shared(&e))
}

/// Loads many keys in one batch (filling the cache, when there is one).
pub async fn load_many<L, K, C>(
    loader: &DataLoader<L, C>,
    keys: impl IntoIterator<Item = K>,
) -> AppResult<HashMap<K, L::Value>>
where
    L: Loader<K, Error = SharedError>,
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    C: CacheFactory,
{
    loader
        .load_many(keys)
        .await
        .map_err(|e| AppError::from_shared(&e))
}

/// Loads keys the caller already has all of straight through the loader, skipping the batching
/// window (nothing else is coming to join the batch), and keeps what it found in the cache for
/// the field resolvers that ask next.
pub async fn prefetch_many<L, K>(
    loader: &DataLoader<L, HashMapCache>,
    keys: impl IntoIterator<Item = K>,
) -> AppResult<HashMap<K, L::Value>>
where
    L: Loader<K, Error = SharedError>,
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
{
    let keys: Vec<K> = keys
        .into_iter()
        .collect::<std::collections::HashSet<K>>()
        .into_iter()
        .collect();
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let found = loader
        .loader()
        .load(&keys)
        .await
        .map_err(|e| AppError::from_shared(&e))?;
    loader.feed_many(found.clone()).await;
    Ok(found)
}

pub async fn with_conn<T>(
    pool: &DbPool,
    work: impl AsyncFnOnce(&mut diesel_async::AsyncPgConnection) -> AppResult<T>,
) -> Result<T, SharedError> {
    let run = async {
        let mut conn = pool.get().await?;
        work(&mut conn).await
    };
    run.await.map_err(Arc::new)
}

/// A loader with a cache, used only when its [`LoaderScope`] caches.
pub type Cached<T> = DataLoader<T, HashMapCache>;

/// Whom a request's loaders load for, and whether they keep what they load.
#[derive(Clone)]
pub struct LoaderScope {
    pub pool: DbPool,
    /// The viewer's tenant; without one (an anonymous request) tenant-scoped loads find nothing.
    pub tenant_id: Option<Uuid>,
    /// Kept until the request ends (writes clear what they touch), so list resolvers can
    /// prefetch what nested fields will ask for; never on a long-lived socket, where every
    /// event must show the data as it is then.
    pub cached: bool,
}

impl LoaderScope {
    /// The tenant a loader of this scope reads in.
    pub fn tenant(&self) -> Scope {
        Scope::new(&self.pool, self.tenant_id)
    }

    /// `loader` batched, and caching when the scope does.
    pub fn cached<T: Send + Sync + 'static>(&self, loader: T) -> Cached<T> {
        let loader = DataLoader::with_cache(loader, tokio::spawn, HashMapCache::default());
        loader.enable_all_cache(self.cached);
        loader
    }
}

/// A loader's tenant; without one (an anonymous request) every load finds nothing.
pub struct Scope {
    pool: DbPool,
    tenant_id: Option<Uuid>,
}

impl Scope {
    pub fn new(pool: &DbPool, tenant_id: Option<Uuid>) -> Self {
        Self {
            pool: pool.clone(),
            tenant_id,
        }
    }

    pub async fn run<T: Default>(
        &self,
        work: impl AsyncFnOnce(&mut diesel_async::AsyncPgConnection, Uuid) -> AppResult<T>,
    ) -> Result<T, SharedError> {
        let Some(tenant_id) = self.tenant_id else {
            return Ok(T::default());
        };
        with_conn(&self.pool, async |conn| work(conn, tenant_id).await).await
    }
}

/// A tenant-owned row that can be fetched by ids: the one by-ids finder shape every domain's
/// loaders use (implement it with [`tenant_row!`] over the store's `…_by_ids` function).
pub trait TenantRow: Send + Sync + 'static {
    fn id(&self) -> Uuid;

    fn fetch<'a>(
        conn: &'a mut AsyncPgConnection,
        tenant_id: Uuid,
        ids: &'a [Uuid],
    ) -> impl Future<Output = AppResult<Vec<Self>>> + Send + 'a
    where
        Self: Sized;
}

/// Implements [`TenantRow`] for a row type with an `id` and a store function fetching by ids
/// (`fn(conn, tenant_id, ids) -> AppResult<Vec<Row>>`).
#[macro_export]
macro_rules! tenant_row {
    ($row:ty, $fetch:path) => {
        impl $crate::db::loading::TenantRow for $row {
            fn id(&self) -> ::uuid::Uuid {
                self.id
            }

            fn fetch<'a>(
                conn: &'a mut ::diesel_async::AsyncPgConnection,
                tenant_id: ::uuid::Uuid,
                ids: &'a [::uuid::Uuid],
            ) -> impl Future<Output = $crate::error::AppResult<Vec<Self>>> + Send + 'a {
                $fetch(conn, tenant_id, ids)
            }
        }
    };
}

/// Importable from here (`use crate::db::loading::tenant_row`).
pub use crate::tenant_row;

/// Rows of one kind by id, within the viewer's tenant.
pub struct RowsById<R>(Scope, PhantomData<fn() -> R>);

impl<R> RowsById<R> {
    pub fn new(scope: Scope) -> Self {
        Self(scope, PhantomData)
    }
}

impl<R: TenantRow> Loader<Uuid> for RowsById<R> {
    type Value = Arc<R>;
    type Error = SharedError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Arc<R>>, SharedError> {
        let rows = self
            .0
            .run(async |conn, tenant| R::fetch(conn, tenant, keys).await)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| (row.id(), Arc::new(row)))
            .collect())
    }
}
