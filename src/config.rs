//! Runtime configuration of the server (the CLI in `main.rs` fills it from flags and
//! `LOREGRAPH_*` variables; tests build it directly).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::billing::tiers::Tier;
use crate::entities::templates::TemplateCatalog;

#[derive(Clone, Debug)]
pub struct AppConfig {
    /// HMAC key for access tokens.
    pub jwt_secret: Vec<u8>,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// Lifetime of a cookie (web) session.
    pub web_session_ttl: Duration,
    pub invite_ttl: Duration,
    /// Adds `Secure` to the session cookie (turn on behind HTTPS).
    pub cookie_secure: bool,
    pub limits: Limits,
    pub login_throttle: LoginThrottle,
    /// The entity templates in force (built-in, or a package from `LOREGRAPH_TEMPLATES_DIR`).
    pub templates: Arc<TemplateCatalog>,
    pub assets: AssetSettings,
    pub realtime: RealtimeSettings,
    pub retention: RetentionSettings,
    /// The Ollama servers admins may address (`ollamaCommand`).
    pub ollama: crate::mud::ollama::OllamaSettings,
    pub billing: BillingSettings,
}

/// Stripe and what it sells. Without a secret key billing is not configured: billing
/// operations say so, feature gates stay open (a self-hosted server has every feature), and
/// everything else works.
#[derive(Clone, Debug)]
pub struct BillingSettings {
    pub stripe_secret_key: Option<String>,
    /// The signing secret of the webhook endpoint (`whsec_…`).
    pub webhook_secret: Option<String>,
    /// Stripe's API base URL; tests point it at a fake that speaks Stripe's wire format.
    pub api_base: String,
    /// The subscription price of each paid tier.
    pub prices: Vec<(Tier, String)>,
    /// BrainBits sold in blocks, each with its Stripe price.
    pub token_blocks: Vec<TokenBlock>,
    /// Where Stripe sends the browser back after checkout or the customer portal.
    pub return_url: String,
}

/// A block of BrainBits for sale.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenBlock {
    pub id: String,
    pub brainbits: i64,
    pub price_id: String,
}

impl Default for BillingSettings {
    fn default() -> Self {
        Self {
            stripe_secret_key: None,
            webhook_secret: None,
            api_base: "https://api.stripe.com/".into(),
            prices: Vec::new(),
            token_blocks: Vec::new(),
            return_url: "http://localhost:8201/".into(),
        }
    }
}

impl BillingSettings {
    /// Whether a Stripe secret key is set.
    pub fn configured(&self) -> bool {
        self.stripe_secret_key.is_some()
    }

    pub fn tier_of_price(&self, price_id: &str) -> Option<Tier> {
        self.prices
            .iter()
            .find(|(_, price)| price == price_id)
            .map(|(tier, _)| *tier)
    }

    pub fn price_of_tier(&self, tier: Tier) -> Option<&str> {
        self.prices
            .iter()
            .find(|(t, _)| *t == tier)
            .map(|(_, price)| price.as_str())
    }

    pub fn block(&self, id: &str) -> Option<&TokenBlock> {
        self.token_blocks.iter().find(|block| block.id == id)
    }
}

/// Live connections.
#[derive(Clone, Debug)]
pub struct RealtimeSettings {
    /// A socket that has answered nothing (not even a ping) for this long is dropped, and its
    /// user goes offline; a node silent for this long is taken for dead. Pings go out three
    /// times per period.
    pub heartbeat_timeout: Duration,
    /// How long one message may wait for a subscriber to read before it is disconnected as too
    /// slow.
    pub send_timeout: Duration,
    /// Bytes of results one socket may leave unread, across its subscriptions, before it is
    /// disconnected as too slow.
    pub max_unread_bytes: usize,
    /// The pause before the event relay first tries to reconnect after losing its connection
    /// (it doubles, up to 5 s, while attempts fail).
    pub relay_retry: Duration,
}

impl Default for RealtimeSettings {
    fn default() -> Self {
        Self {
            heartbeat_timeout: Duration::from_secs(30),
            send_timeout: Duration::from_secs(10),
            max_unread_bytes: 16 * 1024 * 1024,
            relay_retry: Duration::from_millis(100),
        }
    }
}

/// How long what the server keeps for a while is kept; the sweeper (`retention`) removes the
/// rest, a bounded batch of each kind per run.
#[derive(Clone, Debug)]
pub struct RetentionSettings {
    /// How often a node sweeps (one node at a time: the others skip while it does).
    pub interval: Duration,
    /// Most rows (or stored objects) of each kind one run removes.
    pub batch: i64,
    /// Finished asset jobs (done or failed) are kept this long after they finished.
    pub asset_jobs: Duration,
    /// Stored image bytes no asset row refers to (a deleted tenant's, or an upload whose
    /// transaction failed) are removed once they are this old.
    pub orphaned_bytes: Duration,
    /// Ollama conversations untouched this long are removed (those of ended sessions and
    /// revoked keys at once).
    pub ollama_conversations: Duration,
    /// Stripe event ids (kept so a redelivery changes nothing) are kept this long; Stripe
    /// redelivers for three days.
    pub stripe_events: Duration,
    /// Entity revisions older than this are removed, except each entity's newest
    /// `revisions_kept`. Zero keeps every revision.
    pub revisions: Duration,
    pub revisions_kept: i64,
    /// Events are kept in the event log this long: how far back a relay that was cut off, or
    /// a subscriber resuming with `since`, can catch up.
    pub event_log: Duration,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        const DAY: u64 = 24 * 3600;
        Self {
            interval: Duration::from_secs(600),
            batch: 1_000,
            asset_jobs: Duration::from_secs(7 * DAY),
            orphaned_bytes: Duration::from_secs(DAY),
            ollama_conversations: Duration::from_secs(30 * DAY),
            stripe_events: Duration::from_secs(90 * DAY),
            revisions: Duration::from_secs(365 * DAY),
            revisions_kept: 50,
            event_log: Duration::from_secs(3600),
        }
    }
}

/// Where uploaded images go and what is accepted.
#[derive(Clone, Debug)]
pub struct AssetSettings {
    /// A directory, or an `s3://bucket/prefix` URL for any S3-compatible store (credentials,
    /// region and endpoint from the standard `AWS_*` variables).
    pub store: String,
    /// Settings of an S3 store that override the environment's (object_store's names, such
    /// as `aws_endpoint` or `aws_allow_http`).
    pub store_options: Vec<(String, String)>,
    /// The server's public address (`https://api.example.com`): asset URLs are absolute under
    /// it; without it they are paths on this server.
    pub public_base_url: Option<String>,
    /// Largest image accepted, bytes.
    pub max_bytes: usize,
    /// Longest side accepted, pixels; with `max_pixels`, what keeps decompression bombs out.
    pub max_side: u32,
    pub max_pixels: u64,
    /// Thumbnails fit in a square of this many pixels.
    pub thumbnail_side: u32,
    /// Processing attempts before a job is marked failed; the waits between them double.
    pub max_attempts: i32,
    pub first_retry: Duration,
    /// How long a worker may hold a job before another may take it over.
    pub lease: Duration,
    /// How often an idle worker looks for due jobs (new uploads wake it at once).
    pub poll_interval: Duration,
}

impl Default for AssetSettings {
    fn default() -> Self {
        Self {
            store: "./data/assets".into(),
            store_options: Vec::new(),
            public_base_url: None,
            max_bytes: 20 * 1024 * 1024,
            max_side: 16_384,
            max_pixels: 100_000_000,
            thumbnail_side: 256,
            max_attempts: 5,
            first_retry: Duration::from_secs(5),
            lease: Duration::from_secs(300),
            poll_interval: Duration::from_secs(5),
        }
    }
}

/// Request limits: each one exceeded gives a clear error instead of work.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_query_depth: usize,
    pub max_query_complexity: usize,
    /// Most fields (and fragment spreads) a document may select once its fragments are
    /// expanded.
    pub max_query_fields: usize,
    pub max_batch_size: usize,
    /// Largest JSON request body.
    pub max_body_bytes: usize,
    /// Largest multipart (upload) request body.
    pub max_upload_bytes: usize,
    pub max_upload_files: usize,
}

/// Failed logins allowed inside `window` before further attempts are refused.
#[derive(Clone, Debug)]
pub struct LoginThrottle {
    pub max_failures_per_account: u32,
    pub max_failures_per_address: u32,
    pub window: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_query_depth: 15,
            max_query_complexity: 2_000,
            max_query_fields: 5_000,
            max_batch_size: 20,
            max_body_bytes: 1024 * 1024,
            max_upload_bytes: 20 * 1024 * 1024 + 64 * 1024,
            max_upload_files: 10,
        }
    }
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            max_failures_per_account: 5,
            max_failures_per_address: 30,
            window: Duration::from_secs(15 * 60),
        }
    }
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
            login_throttle: LoginThrottle::default(),
            templates: TemplateCatalog::builtin(),
            assets: AssetSettings::default(),
            realtime: RealtimeSettings::default(),
            retention: RetentionSettings::default(),
            ollama: crate::mud::ollama::OllamaSettings::default(),
            billing: BillingSettings::default(),
        }
    }
}

/// Reads the signing secret kept in the data dir, generating it (0600) on first use, so tokens
/// survive restarts without any configuration.
pub fn load_or_create_secret(data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;

    let path = data_dir.join("jwt_secret");
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => return Ok(text.trim().as_bytes().to_vec()),
        Ok(_) => anyhow::bail!(
            "{} is empty; delete it to generate a new secret",
            path.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    std::fs::create_dir_all(data_dir)?;
    let secret = crate::auth::tokens::random_token(48);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(secret.as_bytes())?;
    file.sync_all()?;
    Ok(secret.into_bytes())
}
