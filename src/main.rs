//! The `loregraph` command: `serve` (the default), `migrate`, `schema`, `admin`, `backup`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use loregraph::config::ConfigArgs;
use loregraph::db::{PoolOptions, build_pool, migrations};
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
#[command(name = "loregraph", version)]
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
    /// Directory for the embedded PostgreSQL cluster, its log and the default asset store.
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
    /// Backups of the database in the data dir's `backups` folder.
    Backup {
        #[command(subcommand)]
        action: loregraph::runtime::BackupAction,
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
    #[command(flatten)]
    config: ConfigArgs,
}

fn main() -> ExitCode {
    let cli = parse_command_line();
    let log_format = cli.global.log_format;
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
    // Traces are sent from the runtime, so they are set up inside it.
    let telemetry = {
        let _inside = runtime.enter();
        loregraph::telemetry::Telemetry::from_env()
    };
    let (telemetry, result) = match telemetry {
        Ok(telemetry) => {
            logging::init(log_format, telemetry.as_ref());
            (telemetry, runtime.block_on(run(cli)))
        }
        Err(error) => {
            logging::init(log_format, None);
            (None, Err(error))
        }
    };
    if let Some(telemetry) = telemetry {
        // The last spans go out before the runtime stops.
        let flushed = runtime
            .block_on(async { tokio::task::spawn_blocking(move || telemetry.shutdown()).await });
        if let Err(error) = flushed {
            eprintln!("warning: the last traces could not be sent: {error}");
        }
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // Once: as a JSON log line when the log is JSON (stdout stays pure JSON), otherwise
            // on stderr.
            match log_format {
                LogFormat::Json => tracing::error!("{error:#}"),
                LogFormat::Text => eprintln!("error: {error:#}"),
            }
            ExitCode::FAILURE
        }
    }
}

/// The command line. Global options (`--data-dir`, `--database-url`, `--pg-bin-dir`,
/// `--log-format`) go before or after the subcommand; `serve`'s own options may stand without
/// a subcommand (serving is the default) but not before another one, where they would be
/// silently ignored.
fn parse_command_line() -> Cli {
    use clap::parser::ValueSource;
    use clap::{CommandFactory, FromArgMatches};
    let mut command = Cli::command();
    let matches = command.get_matches_mut();
    if matches.subcommand().is_some() {
        let misplaced: Vec<String> = command
            .get_arguments()
            .filter(|arg| !arg.is_global_set())
            .filter(|arg| {
                matches.value_source(arg.get_id().as_str()) == Some(ValueSource::CommandLine)
            })
            .map(|arg| {
                arg.get_long()
                    .map_or_else(|| arg.get_id().to_string(), |l| format!("--{l}"))
            })
            .collect();
        if !misplaced.is_empty() {
            command
                .error(
                    clap::error::ErrorKind::ArgumentConflict,
                    format!(
                        "{} belong(s) to `serve`: write `loregraph serve {}`, or leave out the \
                         subcommand",
                        misplaced.join(", "),
                        misplaced.join(" … ")
                    ),
                )
                .exit();
        }
    }
    Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit())
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
        Some(Command::Backup { action }) => backup(global, action).await,
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
            let database = open_database_beside_server(&global).await?;
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
                report(
                    global.log_format,
                    format!("superuser {} ({}) is ready", user.email, user.id),
                    serde_json::json!({ "email": user.email, "userId": user.id }),
                );
                anyhow::Ok(())
            }
            .await;
            database.close().await?;
            result
        }
    }
}

async fn backup(
    global: GlobalArgs,
    action: loregraph::runtime::BackupAction,
) -> anyhow::Result<()> {
    let format = global.log_format;
    loregraph::runtime::backup_command(
        action,
        global.database_url.as_deref(),
        &global.data_dir,
        global.pg_bin_dir.clone(),
        |message, fields| report(format, message, fields),
    )
    .await
}

async fn open_database(global: &GlobalArgs) -> anyhow::Result<Database> {
    Database::open(
        global.database_url.as_deref(),
        &global.data_dir,
        global.pg_bin_dir.clone(),
    )
    .await
}

/// The database for `migrate` and `admin`: the running server's embedded cluster when there
/// is one on the data dir, so they work while it serves.
async fn open_database_beside_server(global: &GlobalArgs) -> anyhow::Result<Database> {
    Database::open_beside_server(
        global.database_url.as_deref(),
        &global.data_dir,
        global.pg_bin_dir.clone(),
    )
    .await
}

async fn migrate(global: GlobalArgs, action: MigrateAction) -> anyhow::Result<()> {
    let database = open_database_beside_server(&global).await?;
    let say =
        |message: String, fields: serde_json::Value| report(global.log_format, message, fields);
    let result = async {
        match action {
            MigrateAction::Run => {
                let applied = migrations::run_pending(&database.url).await?;
                if applied.is_empty() {
                    say("no pending migrations".into(), serde_json::json!({}));
                }
                for version in applied {
                    say(
                        format!("applied {version}"),
                        serde_json::json!({ "applied": version }),
                    );
                }
            }
            MigrateAction::Revert => {
                let version = migrations::revert_last(&database.url).await?;
                say(
                    format!("reverted {version}"),
                    serde_json::json!({ "reverted": version }),
                );
            }
            MigrateAction::Status => {
                for migration in migrations::status(&database.url).await? {
                    let mark = if migration.applied {
                        "applied"
                    } else {
                        "pending"
                    };
                    say(
                        format!("{mark:8} {}", migration.version),
                        serde_json::json!({ "version": migration.version, "status": mark }),
                    );
                }
            }
        }
        anyhow::Ok(())
    }
    .await;
    database.close().await?;
    result
}

/// What a command tells its user on stdout: a line of text, or with `--log-format json` one
/// JSON object (the message and `fields`), so stdout stays JSON only.
fn report(format: LogFormat, message: String, fields: serde_json::Value) {
    match format {
        LogFormat::Text => println!("{message}"),
        LogFormat::Json => {
            let mut line = serde_json::json!({ "message": message });
            if let (Some(line), serde_json::Value::Object(fields)) = (line.as_object_mut(), fields)
            {
                line.extend(fields);
            }
            println!("{line}");
        }
    }
}

async fn serve(global: GlobalArgs, args: ServeArgs) -> anyhow::Result<()> {
    // The address first: a busy port is said at once, before a database starts.
    let listener = tokio::net::TcpListener::bind(&args.bind)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}; choose another address with --bind or LOREGRAPH_BIND",
                args.bind
            )
        })?;
    // So is a busy `/metrics` address (and a malformed setting).
    let metrics = loregraph::app::bind_metrics(&args.config.http.clone().settings()?).await?;
    let database = open_database(&global).await?;
    // A database that cannot be brought back stops the server (and the process exits non-zero).
    let gave_up = database.gave_up();
    let stop = async move {
        tokio::select! {
            () = shutdown_signal() => {}
            () = gave_up.cancelled() => {}
        }
    };
    let listeners = (listener, metrics);
    let result = serve_on(&global, args, listeners, &database.url, stop).await;
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
    (listener, metrics): (tokio::net::TcpListener, Option<tokio::net::TcpListener>),
    database_url: &str,
    stop: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    raise_open_file_limit();
    let applied = migrations::run_pending(database_url).await?;
    if !applied.is_empty() {
        tracing::info!(?applied, "applied migrations");
    }
    let (mut config, pool_options) = args.config.into_config(&global.data_dir)?;
    config.backups.pg_bin_dir = global.pg_bin_dir.clone();
    let pool = build_pool(database_url, &pool_options)?;
    if config.jwt_secret.is_empty() {
        let legacy = loregraph::config::legacy_secret(&global.data_dir)?;
        config.jwt_secret = loregraph::auth::signing_secret::shared(&pool, legacy).await?;
    }
    let state = AppState::new(config, pool.clone(), database_url)?;
    let address = listener.local_addr()?;
    let shown = if address.ip().is_unspecified() {
        format!("localhost:{}", address.port())
    } else {
        address.to_string()
    };
    let serving = format!(
        "loregraph {} serving on http://{shown}",
        env!("CARGO_PKG_VERSION")
    );
    let playground = format!("http://{shown}/graphql");
    // Said whatever RUST_LOG filters: it is how people and scripts learn the address.
    match global.log_format {
        LogFormat::Text => println!("{serving}\nGraphiQL: {playground}"),
        LogFormat::Json => println!(
            "{}",
            serde_json::json!({ "message": serving, "address": address.to_string(),
                                "graphiql": playground })
        ),
    }
    loregraph::app::serve_with_metrics(listener, metrics, state, stop).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
