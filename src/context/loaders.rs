//! The request's DataLoaders: every by-id load in a resolver goes through one, so a list of N
//! objects costs one query per kind of related object, not N. Each domain keeps its own set
//! (`<domain>/loaders.rs`, a [`LoaderSet`]); a request builds a domain's set the first time a
//! resolver asks for it, for the viewer's tenant, and never shares it with another request.

use std::any::Any;
use std::sync::{Arc, Mutex};

use uuid::Uuid;

use crate::db::DbPool;
use crate::db::loading::LoaderScope;

/// One domain's loaders, built from the request's scope.
pub trait LoaderSet: Any + Send + Sync {
    fn build(scope: &LoaderScope) -> Self;
}

/// The loader sets of one request (or one socket), each built on first use: a request needs
/// few of them.
pub struct Loaders {
    scope: LoaderScope,
    // A handful of sets at most, so a scan under a lock no one else holds for long.
    sets: Mutex<Vec<Arc<dyn Any + Send + Sync>>>,
}

impl Loaders {
    /// Loaders for one request: what they load is cached until the request ends.
    pub fn new(pool: &DbPool, tenant_id: Option<Uuid>) -> Self {
        Self::build(pool, tenant_id, true)
    }

    /// Loaders for a long-lived WebSocket connection: batching only, never caching.
    pub fn uncached(pool: &DbPool, tenant_id: Option<Uuid>) -> Self {
        Self::build(pool, tenant_id, false)
    }

    fn build(pool: &DbPool, tenant_id: Option<Uuid>, cached: bool) -> Self {
        Self {
            scope: LoaderScope {
                pool: pool.clone(),
                tenant_id,
                cached,
            },
            sets: Mutex::new(Vec::new()),
        }
    }

    /// Whether what they load is kept for the rest of the request.
    pub fn caches(&self) -> bool {
        self.scope.cached
    }

    /// The domain's set, built now if no resolver of this request asked for it before.
    pub fn get<T: LoaderSet>(&self) -> Arc<T> {
        // A poisoned lock only means another resolver panicked while holding it: the sets
        // themselves are whole (a push either happened or not).
        let mut sets = self
            .sets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(set) = sets.iter().find(|set| set.is::<T>())
            && let Ok(set) = Arc::clone(set).downcast::<T>()
        {
            return set;
        }
        let set = Arc::new(T::build(&self.scope));
        sets.push(set.clone());
        set
    }
}
