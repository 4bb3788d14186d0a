//! What every domain is handed: the platform's services in one cheap handle ([`Platform`]),
//! and the shortcuts a resolver uses to reach them, its viewer and its loaders through the
//! GraphQL context ([`ContextExt`]).
//!
//! The edge (`state::AppState`) owns a `Platform` and gives each domain the parts it needs; the
//! schema carries it (and each domain's own runtime, such as the asset store) as data, so a
//! resolver never sees the application state, and the domains never depend on the schema.

pub mod loaders;
pub mod subscriptions;

use std::any::Any;
use std::sync::Arc;
use std::time::Instant;

use async_graphql::Context;
use tokio_util::sync::CancellationToken;

pub use loaders::{LoaderSet, Loaders};

use crate::auth::viewer::{Account, ClientInfo, RequestAuth};
use crate::auth::{AuthService, Revocation, Role, Viewer};
use crate::config::AppConfig;
use crate::db::cursor::{CursorCodec, CursorScope};
use crate::db::{Conn, DbPool};
use crate::error::{AppError, AppResult};
use crate::events::EventBus;
use crate::mail::Mailer;
use crate::oidc::Providers;
use crate::sealing::Sealer;

/// The platform's services, cloned cheaply (each part is shared).
#[derive(Clone)]
pub struct Platform {
    pub pool: DbPool,
    /// Where `pool` connects; the event relay opens its own connection there.
    pub database_url: Arc<str>,
    pub config: Arc<AppConfig>,
    pub auth: Arc<AuthService>,
    pub events: EventBus,
    pub started_at: Instant,
    /// Seals and opens the cursors of keyset pages (keyed from the signing secret).
    pub cursors: CursorCodec,
    /// Cancelled when the server begins shutting down; long-lived work watches it.
    pub shutdown: CancellationToken,
    /// Seals secrets kept in the database (API keys); None without a secrets key.
    pub sealer: Option<Sealer>,
    /// The OpenID providers users may sign in with.
    pub providers: Arc<Providers>,
    /// Outgoing mail (password resets).
    pub mailer: Arc<Mailer>,
}

impl Platform {
    /// Fails when a configured part cannot work (a mail relay URL that is not one).
    pub fn new(config: AppConfig, pool: DbPool, database_url: &str) -> anyhow::Result<Self> {
        Ok(Self {
            providers: Arc::new(Providers::new(&config.identity)?),
            mailer: Arc::new(Mailer::new(&config.identity)?),
            auth: Arc::new(AuthService::new(&config, pool.clone())),
            cursors: CursorCodec::new(&config.jwt_secret),
            sealer: config
                .llm
                .secrets_key
                .as_ref()
                .map(|key| Sealer::rotating(key, &config.llm.secrets_key_previous)),
            pool,
            database_url: database_url.into(),
            config: Arc::new(config),
            events: EventBus::default(),
            started_at: Instant::now(),
            shutdown: CancellationToken::new(),
        })
    }

    /// This server's address as browsers (and Google's notifications) reach it:
    /// `LOREGRAPH_PUBLIC_URL`, else the request's Host. Never for links in mails, which anyone
    /// may have sent to someone else's address (see `accounts::resets`).
    pub fn public_base(&self, client: &ClientInfo) -> AppResult<String> {
        if let Some(url) = &self.config.identity.public_url {
            return Ok(url.clone());
        }
        let host = client.host.as_deref().ok_or_else(|| {
            AppError::bad_input(
                "set LOREGRAPH_PUBLIC_URL: this request does not say which host it is for",
            )
        })?;
        let scheme = if self.config.cookie_secure {
            "https"
        } else {
            "http"
        };
        Ok(format!("{scheme}://{host}"))
    }

    /// Revokes credentials at once on this node (its cache) and, through the bus, on every
    /// node: their caches, and the live sockets the credentials opened.
    pub async fn revoke(&self, revocation: Revocation) {
        self.auth.forget(revocation).await;
        self.events.revoke(revocation);
    }
}

/// Shortcuts from a resolver's context to the platform, the request's viewer and its loaders.
pub trait ContextExt {
    fn platform(&self) -> &Platform;
    fn auth(&self) -> &RequestAuth;
    /// The request's loaders of one domain (built on first use, for the viewer's tenant).
    fn loaders<T: LoaderSet>(&self) -> Arc<T>;
    /// Whether the request's loaders keep what they load (not on a socket).
    fn caches_loads(&self) -> bool;
    /// A part the server gave the schema (a domain's runtime: the asset store, the Stripe
    /// client); INTERNAL when the server was built without it.
    fn part<T: Any + Send + Sync>(&self) -> AppResult<&T>;

    /// The signed-in viewer, or UNAUTHENTICATED.
    fn viewer(&self) -> AppResult<&Viewer> {
        self.auth().viewer()
    }

    /// The signed-in account, in a tenant or in none (a session of an account that belongs to
    /// no tenant); UNAUTHENTICATED without credentials.
    fn account(&self) -> AppResult<Account> {
        self.auth().account()
    }

    /// The viewer if they hold at least `role`; UNAUTHENTICATED or FORBIDDEN otherwise.
    fn viewer_with(&self, role: Role) -> AppResult<&Viewer> {
        let viewer = self.viewer()?;
        viewer.require_role(role)?;
        Ok(viewer)
    }

    fn conn(&self) -> impl Future<Output = AppResult<Conn>> + Send;

    /// The cursors of one keyset list of the viewer's tenant (`list` names the list and its
    /// sort, so a cursor works only where it was given out); UNAUTHENTICATED without a viewer.
    fn cursors(&self, list: impl Into<String>) -> AppResult<CursorScope> {
        Ok(CursorScope {
            codec: self.platform().cursors.clone(),
            tenant_id: self.viewer()?.tenant_id,
            list: list.into(),
        })
    }
}

impl ContextExt for Context<'_> {
    fn platform(&self) -> &Platform {
        self.data_unchecked::<Platform>()
    }

    fn auth(&self) -> &RequestAuth {
        static ANONYMOUS: std::sync::LazyLock<RequestAuth> =
            std::sync::LazyLock::new(RequestAuth::default);
        self.data_opt::<RequestAuth>().unwrap_or(&ANONYMOUS)
    }

    fn loaders<T: LoaderSet>(&self) -> Arc<T> {
        self.data_unchecked::<Arc<Loaders>>().get::<T>()
    }

    fn caches_loads(&self) -> bool {
        self.data_unchecked::<Arc<Loaders>>().caches()
    }

    fn part<T: Any + Send + Sync>(&self) -> AppResult<&T> {
        self.data_opt::<T>().ok_or_else(|| {
            AppError::internal(anyhow::anyhow!(
                "the schema was built without its {}",
                std::any::type_name::<T>()
            ))
        })
    }

    async fn conn(&self) -> AppResult<Conn> {
        self.platform().pool.get().await.map_err(AppError::from)
    }
}
