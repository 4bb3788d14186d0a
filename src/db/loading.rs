//! Helpers for per-request DataLoaders: errors shared between the waiters of one batch, loading
//! one or many keys, feeding a loader what a list already fetched, and running a batch on a
//! pooled connection. Each domain's loaders use them; `graphql::loaders` assembles them.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{CacheFactory, DataLoader, HashMapCache, Loader};

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
