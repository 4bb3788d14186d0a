//! What every handler shares: the platform's services and each domain's runtime, and the
//! schema that carries them to the resolvers.

use std::sync::Arc;

use tokio_util::task::TaskTracker;

use crate::assets::service::AssetRuntime;
use crate::assets::storage::BlobStore;
use crate::billing::stripe::StripeClient;
use crate::config::AppConfig;
use crate::context::Platform;
use crate::db::DbPool;
use crate::drive::sync::DriveSync;
use crate::entities::templates::TemplateBook;
use crate::graphql::ws::SharedSubscriptions;
use crate::graphql::{
    AppSchema, DocumentCache, PersistedQueries, SlowResolverSpans, schema_builder,
};
use crate::health::probe::DatabaseProbe;
use crate::llm::service::LlmRuntime;
use crate::mud::ollama::Ollama;
use crate::realtime::connections::LiveConnections;
use crate::realtime::presence::PresenceTracker;
use crate::sync::folder::watcher::Folders;

/// The application state: the edges (handlers, sockets, background tasks) hand each domain
/// the parts it needs, never the whole. It reads as its [`Shared`] parts, and they as the
/// [`Platform`] they hold. One pointer: the router clones the state for every request (three
/// times on the way to the GraphQL handler), which cost about 2,700 instructions per request
/// when it was the parts themselves (each cache and runtime its own reference count).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] points to.
pub struct Shared {
    pub platform: Platform,
    /// WebSocket connections, so shutdown can wait for their close frames to go out.
    pub connections: TaskTracker,
    /// Every operation, HTTP or WebSocket, is parsed (through `documents`) and CSRF-checked
    /// before it reaches the schema. The schema holds the platform and the domains' runtimes
    /// as data, for the resolvers.
    pub schema: AppSchema,
    pub documents: DocumentCache,
    /// The documents of automatic persisted queries (shared by the nodes through the database).
    pub persisted: PersistedQueries,
    pub assets: AssetRuntime,
    /// This node's authenticated WebSockets.
    pub live: LiveConnections,
    /// Subscriptions run once for all the sockets that ask the same.
    pub subscriptions: SharedSubscriptions,
    pub presence: PresenceTracker,
    /// Stripe, when billing is configured.
    pub stripe: Option<Arc<StripeClient>>,
    /// The client for the configured Ollama servers.
    pub ollama: Arc<Ollama>,
    /// The entity templates in force (built-in, or the package of `LOREGRAPH_TEMPLATES_DIR`).
    pub templates: Arc<TemplateBook>,
    /// The template package's rule sets (the assembly export judges by them).
    pub rules: Arc<crate::rules::service::RuleBook>,
    /// The template package's export profiles.
    pub export_profiles: Arc<crate::assemblies::profiles::ProfileBook>,
    /// Whether the database answers (`/health`).
    pub database_probe: Arc<DatabaseProbe>,
    /// The project folders this node keeps in sync.
    pub folders: Arc<Folders>,
    /// The Drive sync worker (its queue is fed by Drive's notifications).
    pub drive_sync: Arc<DriveSync>,
}

impl std::ops::Deref for Shared {
    type Target = Platform;

    fn deref(&self) -> &Platform {
        &self.platform
    }
}

impl AppState {
    /// `database_url` is where `pool` connects. Fails when the asset store cannot be opened (a
    /// directory that cannot be created, a bucket URL without its settings).
    pub fn new(config: AppConfig, pool: DbPool, database_url: &str) -> anyhow::Result<Self> {
        // An empty HMAC key would sign tokens anyone can forge.
        anyhow::ensure!(
            !config.jwt_secret.is_empty(),
            "no signing secret: set LOREGRAPH_JWT_SECRET or let the server keep one in the database"
        );
        let assets = AssetRuntime {
            blobs: BlobStore::open(&config.assets.store, &config.assets.store_options)?,
            wake: Arc::new(tokio::sync::Notify::new()),
        };
        let stripe = StripeClient::new(&config.billing)?.map(Arc::new);
        let ollama = Arc::new(Ollama::new(config.ollama.clone())?);
        let llm = Arc::new(LlmRuntime::new(&config.llm)?);
        let templates = Arc::new(TemplateBook::load(config.templates_dir.clone())?);
        // The package's rules beside its templates (a broken rule file stops the start, as a
        // broken template does).
        let rule_book = Arc::new(crate::rules::service::RuleBook::load(
            config.templates_dir.clone(),
        )?);
        // The package's export profiles likewise.
        let export_profiles = Arc::new(crate::assemblies::profiles::ProfileBook::load(
            config.templates_dir.clone(),
        )?);
        let platform = Platform::new(config, pool, database_url)?;
        let folders = Folders::new(
            platform.config.projects_root.clone(),
            platform.clone(),
            templates.clone(),
        );
        let drive_sync = DriveSync::new(platform.clone(), templates.clone());
        let mut schema = schema_builder(&platform.config.limits)
            .data(platform.clone())
            .data(assets.clone())
            .data(ollama.clone())
            .data(llm)
            .data(Arc::new(
                crate::story::sessions::turns::TurnRegistry::default(),
            ))
            .data(templates.clone())
            .data(rule_book.clone())
            .data(export_profiles.clone())
            .data(folders.clone())
            .data(drive_sync.clone())
            .data(Arc::new(crate::admin::backups::Backups::new(
                &platform.config.backups,
                database_url,
            )));
        if let Some(stripe) = &stripe {
            schema = schema.data(stripe.clone());
        }
        if let Some(threshold) = crate::telemetry::resolver_threshold() {
            schema = schema.extension(SlowResolverSpans { threshold });
        }
        Ok(Self(Arc::new(Shared {
            connections: TaskTracker::new(),
            schema: schema.finish(),
            // Query texts of up to 4 MiB in all: thousands of distinct operations.
            documents: DocumentCache::new(4 * 1024 * 1024, platform.config.limits.max_query_fields),
            persisted: PersistedQueries::new(
                platform.pool.clone(),
                4 * 1024 * 1024,
                platform.config.limits.max_persisted_queries,
            ),
            assets,
            live: LiveConnections::default(),
            subscriptions: SharedSubscriptions::default(),
            presence: PresenceTracker::default(),
            stripe,
            ollama,
            templates,
            rules: rule_book,
            export_profiles,
            database_probe: Arc::new(DatabaseProbe::new(database_url)),
            folders,
            drive_sync,
            platform,
        })))
    }
}
