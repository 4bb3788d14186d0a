//! What every handler and resolver shares.

use std::sync::Arc;
use std::time::Instant;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::AuthService;
use crate::config::AppConfig;
use crate::db::DbPool;
use crate::events::EventBus;
use crate::graphql::{AppSchema, build_schema};

#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    pub config: Arc<AppConfig>,
    pub auth: Arc<AuthService>,
    pub events: EventBus,
    pub started_at: Instant,
    /// Cancelled when the server begins shutting down; long-lived connections watch it.
    pub shutdown: CancellationToken,
    /// WebSocket connections, so shutdown can wait for their close frames to go out.
    pub connections: TaskTracker,
    pub schema: AppSchema,
}

impl AppState {
    pub fn new(config: AppConfig, pool: DbPool) -> Self {
        let auth = Arc::new(AuthService::new(&config, pool.clone()));
        Self {
            pool,
            auth,
            events: EventBus::default(),
            started_at: Instant::now(),
            shutdown: CancellationToken::new(),
            connections: TaskTracker::new(),
            schema: build_schema(&config.limits),
            config: Arc::new(config),
        }
    }
}
