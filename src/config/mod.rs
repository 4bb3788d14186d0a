//! Runtime configuration of the server, one section per file. Each section is a settings type
//! (what the code reads, with its defaults) and, beside it, the clap `Args` that fill it from
//! the command line and `LOREGRAPH_*` variables; `serve` flattens them all ([`ConfigArgs`]).
//! Tests build an [`AppConfig`] directly.

pub mod assets;
pub mod auth;
pub mod backups;
pub mod billing;
pub mod database;
pub mod drive;
pub mod http;
pub mod identity;
pub mod limits;
pub mod llm;
pub mod ollama;
pub mod package;
pub mod realtime;
pub mod retention;

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

pub use assets::AssetSettings;
pub use auth::{LoginThrottle, legacy_secret};
pub use backups::BackupSettings;
pub use billing::{BillingSettings, Tier, TokenBlock};
pub use drive::DriveSettings;
pub use http::{CorsOrigins, HttpSettings};
pub use identity::{IdentitySettings, ProviderId, ProviderSettings};
pub use limits::Limits;
pub use llm::{LlmSettings, StudioProvider};
pub use ollama::OllamaSettings;
pub use realtime::RealtimeSettings;
pub use retention::RetentionSettings;

use crate::db::PoolOptions;

/// Multipart framing an upload may add to the image it carries: the request-size limit allows
/// the largest image plus this much.
pub const UPLOAD_FORM_OVERHEAD: usize = 64 * 1024;

#[derive(Clone, Debug)]
pub struct AppConfig {
    /// HMAC key for access tokens. Empty until the server has read the deployment's own from
    /// the database (`auth::signing_secret`) when the operator gave none.
    pub jwt_secret: Vec<u8>,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// Lifetime of a cookie (web) session.
    pub web_session_ttl: Duration,
    pub invite_ttl: Duration,
    /// Adds `Secure` to the session cookie (turn on behind HTTPS).
    pub cookie_secure: bool,
    pub limits: Limits,
    /// CORS and compression.
    pub http: HttpSettings,
    pub login_throttle: LoginThrottle,
    /// A StudioBrain-style template package whose entity schemas, layouts and markdown
    /// templates replace the built-in ones.
    pub templates_dir: Option<PathBuf>,
    /// Where tenants' project folders may be bound (none: binding is off).
    pub projects_root: Option<PathBuf>,
    pub assets: AssetSettings,
    pub realtime: RealtimeSettings,
    pub retention: RetentionSettings,
    /// The Ollama servers admins may address (`ollamaCommand`).
    pub ollama: OllamaSettings,
    pub billing: BillingSettings,
    /// Language-model calls: sealing API keys, reach, the studio's provider.
    pub llm: LlmSettings,
    /// Signing in with Google and Microsoft, and password-reset mails.
    pub identity: IdentitySettings,
    /// Google Drive: its API, a connection's scopes, the sync worker's pace.
    pub drive: DriveSettings,
    /// Where database backups go and how many are kept.
    pub backups: BackupSettings,
}

impl AppConfig {
    /// A configuration with every default and the given signing secret.
    pub fn with_secret(jwt_secret: Vec<u8>) -> Self {
        Self {
            jwt_secret,
            access_token_ttl: Duration::from_secs(15 * 60),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            web_session_ttl: Duration::from_secs(7 * 24 * 3600),
            invite_ttl: Duration::from_secs(7 * 24 * 3600),
            cookie_secure: false,
            limits: Limits::default(),
            http: HttpSettings::default(),
            login_throttle: LoginThrottle::default(),
            templates_dir: None,
            projects_root: None,
            assets: AssetSettings::default(),
            realtime: RealtimeSettings::default(),
            retention: RetentionSettings::default(),
            ollama: OllamaSettings::default(),
            billing: BillingSettings::default(),
            llm: LlmSettings::default(),
            identity: IdentitySettings::default(),
            drive: DriveSettings::default(),
            backups: BackupSettings::default(),
        }
    }
}

/// Every section's arguments, as `serve` takes them.
#[derive(Args, Clone, Debug)]
pub struct ConfigArgs {
    #[command(flatten)]
    pub auth: auth::AuthArgs,
    #[command(flatten)]
    pub limits: limits::LimitsArgs,
    #[command(flatten)]
    pub http: http::HttpArgs,
    #[command(flatten)]
    pub database: database::DatabaseArgs,
    #[command(flatten)]
    pub assets: assets::AssetArgs,
    #[command(flatten)]
    pub realtime: realtime::RealtimeArgs,
    #[command(flatten)]
    pub retention: retention::RetentionArgs,
    #[command(flatten)]
    pub ollama: ollama::OllamaArgs,
    #[command(flatten)]
    pub billing: billing::BillingArgs,
    #[command(flatten)]
    pub llm: llm::LlmArgs,
    #[command(flatten)]
    pub identity: identity::IdentityArgs,
    #[command(flatten)]
    pub drive: drive::DriveArgs,
    #[command(flatten)]
    pub backups: backups::BackupArgs,
    /// A StudioBrain-style template package (schemas/, templates/, templates/Layouts/) whose
    /// entity schemas, layouts and markdown templates replace the built-in ones.
    #[arg(long, env = "LOREGRAPH_TEMPLATES_DIR", help_heading = "Entities")]
    pub templates_dir: Option<PathBuf>,
    /// The folder under which an ADMIN may bind the studio's project folder
    /// (`bindProjectFolder`): its markdown files and the entities are kept in sync both ways.
    #[arg(long, env = "LOREGRAPH_PROJECTS_ROOT", help_heading = "Entities")]
    pub projects_root: Option<PathBuf>,
}

impl ConfigArgs {
    /// The configuration these arguments describe, and the database pool's options. The default
    /// asset store goes under `data_dir`. Without `LOREGRAPH_JWT_SECRET` the signing secret is
    /// left empty, for the server to read the deployment's from the database. Malformed values
    /// (a price list, a block list) are refused.
    pub fn into_config(self, data_dir: &Path) -> anyhow::Result<(AppConfig, PoolOptions)> {
        let mut config = AppConfig::with_secret(self.auth.explicit_secret().unwrap_or_default());
        self.auth.apply(&mut config);
        config.limits = self.limits.settings();
        config.http = self.http.settings()?;
        config.assets = self.assets.settings(data_dir);
        config.identity = self
            .identity
            .settings(config.assets.public_base_url.clone())?;
        // An upload of the largest image accepted must fit in a request.
        config.limits.max_upload_bytes = config
            .limits
            .max_upload_bytes
            .max(config.assets.max_bytes.saturating_add(UPLOAD_FORM_OVERHEAD));
        config.realtime = self.realtime.settings();
        config.drive = self.drive.settings();
        config.retention = self.retention.settings();
        config.ollama = self.ollama.settings();
        config.billing = self.billing.settings()?;
        config.llm = self.llm.settings(data_dir)?;
        config.templates_dir = self.templates_dir;
        config.projects_root = self.projects_root;
        config.backups = self.backups.settings(data_dir.join("backups"));
        Ok((config, self.database.pool_options()))
    }
}
