//! What every handler and resolver shares.

use std::sync::Arc;
use std::time::Instant;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::assets::service::AssetRuntime;
use crate::assets::storage::BlobStore;
use crate::auth::{AuthService, Revocation};
use crate::config::AppConfig;
use crate::db::DbPool;
use crate::events::EventBus;
use crate::graphql::ws::SharedSubscriptions;
use crate::graphql::{AppSchema, DocumentCache, build_schema};
use crate::realtime::connections::LiveConnections;
use crate::realtime::presence::PresenceTracker;

#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    /// Where `pool` connects; the event relay opens its own connection there.
    pub database_url: Arc<str>,
    pub config: Arc<AppConfig>,
    pub auth: Arc<AuthService>,
    pub events: EventBus,
    pub started_at: Instant,
    /// Cancelled when the server begins shutting down; long-lived connections watch it.
    pub shutdown: CancellationToken,
    /// WebSocket connections, so shutdown can wait for their close frames to go out.
    pub connections: TaskTracker,
    /// Every operation, HTTP or WebSocket, is parsed (through `documents`) and CSRF-checked
    /// before it reaches the schema.
    pub schema: AppSchema,
    pub documents: DocumentCache,
    pub assets: AssetRuntime,
    /// This node's authenticated WebSockets.
    pub live: LiveConnections,
    /// Subscriptions run once for all the sockets that ask the same.
    pub subscriptions: SharedSubscriptions,
    pub presence: PresenceTracker,
    /// Stripe, when billing is configured.
    pub stripe: Option<Arc<crate::billing::stripe::StripeClient>>,
    /// The client for the configured Ollama servers.
    pub ollama: Arc<crate::mud::ollama::Ollama>,
    /// Whether the database answers (`/health`).
    pub database_probe: Arc<crate::health::probe::DatabaseProbe>,
}

impl AppState {
    /// `database_url` is where `pool` connects. Fails when the asset store cannot be opened (a directory that cannot be created, a
    /// bucket URL without its settings).
    pub fn new(config: AppConfig, pool: DbPool, database_url: &str) -> anyhow::Result<Self> {
        let auth = Arc::new(AuthService::new(&config, pool.clone()));
        let assets = AssetRuntime {
            blobs: BlobStore::open(&config.assets.store, &config.assets.store_options)?,
            wake: Arc::new(tokio::sync::Notify::new()),
        };
        let stripe = crate::billing::stripe::StripeClient::new(&config.billing)?.map(Arc::new);
        let ollama = Arc::new(crate::mud::ollama::Ollama::new(config.ollama.clone())?);
        Ok(Self {
            pool,
            database_url: database_url.into(),
            auth,
            events: EventBus::default(),
            started_at: Instant::now(),
            shutdown: CancellationToken::new(),
            connections: TaskTracker::new(),
            schema: build_schema(&config.limits),
            // Query texts of up to 4 MiB in all: thousands of distinct operations.
            documents: DocumentCache::new(4 * 1024 * 1024, config.limits.max_query_fields),
            assets,
            live: LiveConnections::default(),
            subscriptions: SharedSubscriptions::default(),
            presence: PresenceTracker::default(),
            stripe,
            ollama,
            database_probe: Arc::new(crate::health::probe::DatabaseProbe::new(database_url)),
            config: Arc::new(config),
        })
    }

    /// Revokes credentials at once on this node (its cache) and, through the bus, on every
    /// node: their caches, and the live sockets the credentials opened.
    pub async fn revoke(&self, revocation: Revocation) {
        self.auth.forget(revocation).await;
        self.events.revoke(revocation);
    }
}
