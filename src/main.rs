//! The `loregraph` command: `serve` (the default), `migrate`, `schema`, `admin`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{ArgAction, Args, Parser, Subcommand};
use loregraph::config::{AppConfig, Limits, LoginThrottle, load_or_create_secret};
use loregraph::db::{PoolOptions, build_pool, migrations};
use loregraph::entities::templates::TemplateCatalog;
use loregraph::logging::{self, LogFormat};
use loregraph::runtime::Database;
use loregraph::state::AppState;

// A request allocates many small short-lived objects across worker threads; mimalloc serves
// them with less contention and fragmentation than the system allocator (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// One GraphQL API server for studios that build worlds and run games in them.
///
/// With no DATABASE_URL, loregraph runs its own PostgreSQL cluster in the data directory.
#[derive(Parser)]
#[command(name = "loregraph", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(flatten)]
    serve: ServeArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Args)]
struct GlobalArgs {
    /// Directory for the embedded PostgreSQL cluster, its log and the generated signing secret.
    #[arg(
        long,
        global = true,
        env = "LOREGRAPH_DATA_DIR",
        default_value = "./data"
    )]
    data_dir: PathBuf,
    /// An external PostgreSQL server to use instead of the embedded one.
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Where the PostgreSQL server binaries (initdb, postgres) are; searched for when unset.
    #[arg(long, global = true, env = "LOREGRAPH_PG_BIN_DIR")]
    pg_bin_dir: Option<PathBuf>,
    /// Log output format (filter with RUST_LOG).
    #[arg(
        long,
        global = true,
        env = "LOREGRAPH_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    log_format: LogFormat,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve(Box<ServeArgs>),
    /// Manage database migrations (default: run pending ones).
    Migrate {
        #[command(subcommand)]
        action: Option<MigrateAction>,
    },
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Administrative helpers.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand, Clone, Copy)]
enum MigrateAction {
    /// Apply every pending migration.
    Run,
    /// Revert the most recent migration.
    Revert,
    /// List migrations and whether each is applied.
    Status,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a SUPERUSER (or promote an existing account and set its password).
    CreateSuperuser {
        #[arg(long, env = "LOREGRAPH_ADMIN_EMAIL")]
        email: String,
        #[arg(long, env = "LOREGRAPH_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long, default_value = "Superuser")]
        display_name: String,
    },
}

#[derive(Args, Clone)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "LOREGRAPH_BIND", default_value = "0.0.0.0:8201")]
    bind: String,
    /// Secret for signing access tokens; generated into the data dir when unset. Every node of
    /// a cluster of servers needs the same one.
    #[arg(long, env = "LOREGRAPH_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// Access token lifetime, seconds.
    #[arg(long, env = "LOREGRAPH_ACCESS_TOKEN_TTL", default_value_t = 900)]
    access_token_ttl: u64,
    /// Refresh token (and API session) lifetime, seconds.
    #[arg(long, env = "LOREGRAPH_REFRESH_TOKEN_TTL", default_value_t = 30 * 24 * 3600)]
    refresh_token_ttl: u64,
    /// Web (cookie) session lifetime, seconds.
    #[arg(long, env = "LOREGRAPH_WEB_SESSION_TTL", default_value_t = 7 * 24 * 3600)]
    web_session_ttl: u64,
    /// Invite lifetime, seconds.
    #[arg(long, env = "LOREGRAPH_INVITE_TTL", default_value_t = 7 * 24 * 3600)]
    invite_ttl: u64,
    /// Mark the session cookie Secure (serve behind HTTPS).
    #[arg(long, env = "LOREGRAPH_COOKIE_SECURE", action = ArgAction::Set, default_value_t = false)]
    cookie_secure: bool,
    /// Deepest query accepted.
    #[arg(long, env = "LOREGRAPH_MAX_QUERY_DEPTH", default_value_t = Limits::default().max_query_depth)]
    max_query_depth: usize,
    /// Highest query complexity accepted (one point per field, lists multiplied by their limit).
    #[arg(long, env = "LOREGRAPH_MAX_QUERY_COMPLEXITY", default_value_t = Limits::default().max_query_complexity)]
    max_query_complexity: usize,
    /// Most fields (and fragment spreads) a document may select once its fragments are
    /// expanded.
    #[arg(long, env = "LOREGRAPH_MAX_QUERY_FIELDS", default_value_t = Limits::default().max_query_fields)]
    max_query_fields: usize,
    /// Most operations in one batched request.
    #[arg(long, env = "LOREGRAPH_MAX_BATCH_SIZE", default_value_t = Limits::default().max_batch_size)]
    max_batch_size: usize,
    /// Largest JSON request body, bytes.
    #[arg(long, env = "LOREGRAPH_MAX_BODY_BYTES", default_value_t = Limits::default().max_body_bytes)]
    max_body_bytes: usize,
    /// Largest multipart (upload) request body, bytes.
    #[arg(long, env = "LOREGRAPH_MAX_UPLOAD_BYTES", default_value_t = Limits::default().max_upload_bytes)]
    max_upload_bytes: usize,
    /// Where uploaded images are stored: a directory, or an `s3://bucket/prefix` URL for any
    /// S3-compatible store (credentials, region and endpoint from the AWS_* variables).
    /// Default: `assets` in the data directory.
    #[arg(long, env = "LOREGRAPH_ASSET_STORE")]
    asset_store: Option<String>,
    /// The server's public address (e.g. https://api.example.com): asset URLs are absolute under
    /// it; without it they are paths on this server.
    #[arg(long, env = "LOREGRAPH_PUBLIC_URL")]
    public_url: Option<String>,
    /// Largest image accepted for upload, bytes.
    #[arg(long, env = "LOREGRAPH_MAX_ASSET_BYTES", default_value_t = loregraph::config::AssetSettings::default().max_bytes)]
    max_asset_bytes: usize,
    /// Seconds a WebSocket peer may stay silent (pings go out three times per period) before
    /// it is dropped and its user goes offline; also how long a silent node counts as alive.
    #[arg(long, env = "LOREGRAPH_HEARTBEAT_TIMEOUT", default_value_t = 30)]
    heartbeat_timeout: u64,
    /// Seconds one message may wait for a WebSocket subscriber to read it before the subscriber
    /// is disconnected as too slow.
    #[arg(long, env = "LOREGRAPH_WS_SEND_TIMEOUT", default_value_t = 10)]
    ws_send_timeout: u64,
    /// Bytes of results one WebSocket may leave unread, across its subscriptions, before it is
    /// disconnected as too slow.
    #[arg(long, env = "LOREGRAPH_WS_MAX_UNREAD_BYTES", default_value_t = loregraph::config::RealtimeSettings::default().max_unread_bytes)]
    ws_max_unread_bytes: usize,
    /// Milliseconds the event relay waits before its first attempt to reconnect (doubling up to
    /// 5 s while attempts fail).
    #[arg(long, env = "LOREGRAPH_EVENT_RELAY_RETRY_MS", default_value_t = 100)]
    event_relay_retry_ms: u64,
    /// Seconds between retention sweeps (one node sweeps at a time).
    #[arg(long, env = "LOREGRAPH_RETENTION_INTERVAL", default_value_t = 600)]
    retention_interval: u64,
    /// Days finished asset jobs are kept.
    #[arg(long, env = "LOREGRAPH_RETAIN_ASSET_JOBS_DAYS", default_value_t = 7)]
    retain_asset_jobs_days: u64,
    /// Hours stored image bytes that no asset uses are kept before they are removed.
    #[arg(
        long,
        env = "LOREGRAPH_RETAIN_ORPHANED_BYTES_HOURS",
        default_value_t = 24
    )]
    retain_orphaned_bytes_hours: u64,
    /// Days an idle Ollama conversation is kept (those of ended sessions go at once).
    #[arg(long, env = "LOREGRAPH_RETAIN_OLLAMA_DAYS", default_value_t = 30)]
    retain_ollama_days: u64,
    /// Days Stripe event ids are kept (at least 3: Stripe redelivers for three).
    #[arg(
        long,
        env = "LOREGRAPH_RETAIN_STRIPE_EVENTS_DAYS",
        default_value_t = 90
    )]
    retain_stripe_events_days: u64,
    /// Days entity revisions are kept beyond each entity's newest (0 keeps them all).
    #[arg(long, env = "LOREGRAPH_RETAIN_REVISIONS_DAYS", default_value_t = 365)]
    retain_revisions_days: u64,
    /// Revisions of each entity always kept, however old (at least 1).
    #[arg(long, env = "LOREGRAPH_RETAIN_REVISIONS_KEPT", default_value_t = 50)]
    retain_revisions_kept: i64,
    /// Minutes events are kept in the event log, for relays and subscribers catching up (at
    /// least 1).
    #[arg(long, env = "LOREGRAPH_RETAIN_EVENT_LOG_MINUTES", default_value_t = 60)]
    retain_event_log_minutes: u64,
    /// Ollama servers admins may address with `ollamaCommand` (comma-separated base URLs, such
    /// as http://localhost:11434); no other URL is ever contacted.
    #[arg(
        long = "ollama-server",
        env = "LOREGRAPH_OLLAMA_SERVERS",
        value_delimiter = ','
    )]
    ollama_servers: Vec<String>,
    /// Seconds one Ollama request may take.
    #[arg(long, env = "LOREGRAPH_OLLAMA_TIMEOUT", default_value_t = 60)]
    ollama_timeout: u64,
    /// Stripe's secret API key; without it billing is off (and nothing is feature-gated).
    #[arg(long, env = "STRIPE_SECRET_KEY", hide_env_values = true)]
    stripe_secret_key: Option<String>,
    /// The signing secret of Stripe's webhook endpoint (`whsec_…`).
    #[arg(long, env = "STRIPE_WEBHOOK_SECRET", hide_env_values = true)]
    stripe_webhook_secret: Option<String>,
    /// Stripe's API base URL.
    #[arg(
        long,
        env = "STRIPE_API_BASE",
        default_value = "https://api.stripe.com/"
    )]
    stripe_api_base: String,
    /// The Stripe price of each paid tier: `pro=price_…,studio=price_…`.
    #[arg(long, env = "LOREGRAPH_STRIPE_PRICES", value_delimiter = ',')]
    stripe_prices: Vec<String>,
    /// BrainBits blocks for sale: `id=brainbits:price_…`, comma-separated.
    #[arg(long, env = "LOREGRAPH_STRIPE_TOKEN_BLOCKS", value_delimiter = ',')]
    stripe_token_blocks: Vec<String>,
    /// Where Stripe sends the browser back after checkout or the customer portal.
    #[arg(
        long,
        env = "LOREGRAPH_BILLING_RETURN_URL",
        default_value = "http://localhost:8201/"
    )]
    billing_return_url: String,
    /// Database connections per server.
    #[arg(long, env = "LOREGRAPH_DB_POOL_SIZE", default_value_t = 16)]
    db_pool_size: usize,
    /// statement_timeout of every database connection, milliseconds.
    #[arg(
        long,
        env = "LOREGRAPH_DB_STATEMENT_TIMEOUT_MS",
        default_value_t = 30_000
    )]
    db_statement_timeout_ms: u64,
    /// A StudioBrain-style template package (schemas/, templates/, templates/Layouts/) whose
    /// entity schemas, layouts and markdown templates replace the built-in ones.
    #[arg(long, env = "LOREGRAPH_TEMPLATES_DIR")]
    templates_dir: Option<PathBuf>,
    /// Failed sign-ins per account allowed within the throttle window.
    #[arg(long, env = "LOREGRAPH_LOGIN_MAX_FAILURES", default_value_t = LoginThrottle::default().max_failures_per_account)]
    login_max_failures: u32,
    /// The sign-in throttle window, seconds.
    #[arg(long, env = "LOREGRAPH_LOGIN_WINDOW", default_value_t = 900)]
    login_window: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.global.log_format);
    // The migration harness blocks its thread, which needs the multi-thread runtime.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: could not start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let global = cli.global;
    match cli.command {
        None => serve(global, cli.serve).await,
        Some(Command::Serve(args)) => serve(global, *args).await,
        Some(Command::Schema) => {
            print!("{}", loregraph::graphql::sdl());
            Ok(())
        }
        Some(Command::Migrate { action }) => {
            migrate(global, action.unwrap_or(MigrateAction::Run)).await
        }
        Some(Command::Admin {
            command:
                AdminCommand::CreateSuperuser {
                    email,
                    password,
                    display_name,
                },
        }) => {
            let database = open_database(&global).await?;
            let result = async {
                migrations::run_pending(&database.url).await?;
                let pool = build_pool(&database.url, &PoolOptions::default())?;
                let user = loregraph::accounts::superuser::create_superuser(
                    &pool,
                    &email,
                    &password,
                    &display_name,
                )
                .await?;
                println!("superuser {} ({}) is ready", user.email, user.id);
                anyhow::Ok(())
            }
            .await;
            database.close().await?;
            result
        }
    }
}

async fn open_database(global: &GlobalArgs) -> anyhow::Result<Database> {
    Database::open(
        global.database_url.as_deref(),
        &global.data_dir,
        global.pg_bin_dir.clone(),
    )
    .await
}

async fn migrate(global: GlobalArgs, action: MigrateAction) -> anyhow::Result<()> {
    let database = open_database(&global).await?;
    let result = async {
        match action {
            MigrateAction::Run => {
                let applied = migrations::run_pending(&database.url).await?;
                if applied.is_empty() {
                    println!("no pending migrations");
                }
                for version in applied {
                    println!("applied {version}");
                }
            }
            MigrateAction::Revert => {
                println!("reverted {}", migrations::revert_last(&database.url).await?)
            }
            MigrateAction::Status => {
                for migration in migrations::status(&database.url).await? {
                    let mark = if migration.applied {
                        "applied"
                    } else {
                        "pending"
                    };
                    println!("{mark:8} {}", migration.version);
                }
            }
        }
        anyhow::Ok(())
    }
    .await;
    database.close().await?;
    result
}

async fn serve(global: GlobalArgs, args: ServeArgs) -> anyhow::Result<()> {
    let database = open_database(&global).await?;
    // A database that cannot be brought back stops the server (and the process exits non-zero).
    let gave_up = database.gave_up();
    let stop = async move {
        tokio::select! {
            () = shutdown_signal() => {}
            () = gave_up.cancelled() => {}
        }
    };
    let result = serve_on(&global, args, &database.url, stop).await;
    tracing::info!("stopping the database");
    let closed = database.close().await;
    result?;
    closed?;
    tracing::info!("stopped cleanly");
    Ok(())
}

async fn serve_on(
    global: &GlobalArgs,
    args: ServeArgs,
    database_url: &str,
    stop: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    raise_open_file_limit();
    let applied = migrations::run_pending(database_url).await?;
    if !applied.is_empty() {
        tracing::info!(?applied, "applied migrations");
    }
    let secret = match args.jwt_secret.as_deref().filter(|s| !s.is_empty()) {
        Some(secret) => secret.as_bytes().to_vec(),
        None => load_or_create_secret(&global.data_dir)?,
    };
    let mut config = AppConfig::with_secret(secret);
    config.billing = billing_settings(&args)?;
    config.access_token_ttl = Duration::from_secs(args.access_token_ttl);
    config.refresh_token_ttl = Duration::from_secs(args.refresh_token_ttl);
    config.web_session_ttl = Duration::from_secs(args.web_session_ttl);
    config.invite_ttl = Duration::from_secs(args.invite_ttl);
    config.cookie_secure = args.cookie_secure;
    config.limits = Limits {
        max_query_depth: args.max_query_depth,
        max_query_complexity: args.max_query_complexity,
        max_query_fields: args.max_query_fields,
        max_batch_size: args.max_batch_size,
        max_body_bytes: args.max_body_bytes,
        max_upload_bytes: args.max_upload_bytes,
        ..Limits::default()
    };
    config.assets.store = match args.asset_store.filter(|s| !s.trim().is_empty()) {
        Some(store) => store,
        None => global
            .data_dir
            .join("assets")
            .to_string_lossy()
            .into_owned(),
    };
    config.realtime.heartbeat_timeout = Duration::from_secs(args.heartbeat_timeout.max(1));
    config.realtime.send_timeout = Duration::from_secs(args.ws_send_timeout.max(1));
    config.realtime.max_unread_bytes = args.ws_max_unread_bytes.max(64 * 1024);
    config.realtime.relay_retry = Duration::from_millis(args.event_relay_retry_ms.max(1));
    let days = |n: u64| Duration::from_secs(n.saturating_mul(24 * 3600));
    config.retention = loregraph::config::RetentionSettings {
        interval: Duration::from_secs(args.retention_interval.max(1)),
        asset_jobs: days(args.retain_asset_jobs_days),
        orphaned_bytes: Duration::from_secs(args.retain_orphaned_bytes_hours.saturating_mul(3600)),
        ollama_conversations: days(args.retain_ollama_days),
        // Stripe redelivers an event for three days: its id is kept at least that long.
        stripe_events: days(args.retain_stripe_events_days.max(3)),
        revisions: days(args.retain_revisions_days),
        revisions_kept: args.retain_revisions_kept.max(1),
        event_log: Duration::from_secs(args.retain_event_log_minutes.max(1).saturating_mul(60)),
        ..loregraph::config::RetentionSettings::default()
    };
    config.ollama.servers = args.ollama_servers;
    config.ollama.timeout = Duration::from_secs(args.ollama_timeout.max(1));
    config.assets.max_bytes = args.max_asset_bytes;
    config.assets.public_base_url = args.public_url.filter(|url| !url.trim().is_empty());
    config.limits.max_upload_bytes = config
        .limits
        .max_upload_bytes
        .max(args.max_asset_bytes + loregraph::http::assets::UPLOAD_FORM_OVERHEAD);
    config.login_throttle = LoginThrottle {
        max_failures_per_account: args.login_max_failures,
        window: Duration::from_secs(args.login_window),
        ..LoginThrottle::default()
    };
    if let Some(dir) = &args.templates_dir {
        config.templates = std::sync::Arc::new(
            TemplateCatalog::load(dir)
                .with_context(|| format!("loading the templates in {}", dir.display()))?,
        );
        tracing::info!(dir = %dir.display(), "loaded the template package");
    }
    let pool = build_pool(
        database_url,
        &PoolOptions {
            max_size: args.db_pool_size,
            statement_timeout: Duration::from_millis(args.db_statement_timeout_ms),
            ..PoolOptions::default()
        },
    )?;
    let state = AppState::new(config, pool.clone(), database_url)?;
    let listener = tokio::net::TcpListener::bind(&args.bind).await?;
    let address = listener.local_addr()?;
    let shown = if address.ip().is_unspecified() {
        format!("localhost:{}", address.port())
    } else {
        address.to_string()
    };
    tracing::info!("loregraph listening on http://{address}");
    println!(
        "loregraph {} serving on http://{shown}",
        env!("CARGO_PKG_VERSION")
    );
    println!("GraphiQL: http://{shown}/graphql");
    loregraph::app::serve(listener, state, stop).await?;
    pool.close();
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// Every WebSocket client holds a socket open: take the most open files the system allows this
/// process (the soft limit is often 1,024, far below the hard one).
fn raise_open_file_limit() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) if soft < hard => match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
            Ok(()) => tracing::debug!(from = soft, to = hard, "raised the open-file limit"),
            Err(error) => tracing::warn!(%error, soft, "could not raise the open-file limit"),
        },
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, "could not read the open-file limit"),
    }
}

/// Billing settings from the command line, refusing malformed price and block lists.
fn billing_settings(args: &ServeArgs) -> anyhow::Result<loregraph::config::BillingSettings> {
    use loregraph::billing::tiers::Tier;
    let non_empty = |value: &Option<String>| value.clone().filter(|v| !v.trim().is_empty());
    let mut prices = Vec::new();
    for entry in args.stripe_prices.iter().filter(|e| !e.trim().is_empty()) {
        let (tier, price) = entry.split_once('=').ok_or_else(|| {
            anyhow::anyhow!("LOREGRAPH_STRIPE_PRICES: `{entry}` is not tier=price_id")
        })?;
        let tier = Tier::parse(tier.trim())
            .filter(|tier| *tier != Tier::Free)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "LOREGRAPH_STRIPE_PRICES: `{tier}` is not a paid tier (pro, studio)"
                )
            })?;
        prices.push((tier, price.trim().to_owned()));
    }
    let mut token_blocks = Vec::new();
    for entry in args
        .stripe_token_blocks
        .iter()
        .filter(|e| !e.trim().is_empty())
    {
        let parsed = entry.split_once('=').and_then(|(id, rest)| {
            let (brainbits, price) = rest.split_once(':')?;
            let brainbits = brainbits.trim().parse::<i64>().ok().filter(|b| *b > 0)?;
            Some(loregraph::config::TokenBlock {
                id: id.trim().to_owned(),
                brainbits,
                price_id: price.trim().to_owned(),
            })
        });
        token_blocks.push(parsed.ok_or_else(|| {
            anyhow::anyhow!("LOREGRAPH_STRIPE_TOKEN_BLOCKS: `{entry}` is not id=brainbits:price_id")
        })?);
    }
    Ok(loregraph::config::BillingSettings {
        stripe_secret_key: non_empty(&args.stripe_secret_key),
        webhook_secret: non_empty(&args.stripe_webhook_secret),
        api_base: args.stripe_api_base.clone(),
        prices,
        token_blocks,
        return_url: args.billing_return_url.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
