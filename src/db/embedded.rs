//! A private PostgreSQL cluster started from the machine's PostgreSQL server binaries.
//!
//! The cluster lives in a directory of ours, listens only on a unix socket inside that directory
//! (no TCP port) and trusts local connections, so it needs no configuration. `initdb` and
//! `postgres` refuse to run as root; when we are root they run as an unprivileged system user
//! (`postgres`, else `nobody`) that owns the cluster directory. The test harness uses this same
//! code, so it is exercised on every test run.

use std::fs;
use std::os::unix::fs::{PermissionsExt, chown};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, User, geteuid};
use tokio::sync::watch;

use super::postmaster::clear_stale_lock;
pub use super::postmaster::served_by_another_process;

/// The role initdb creates; local connections are trusted, so it needs no password.
const SUPERUSER: &str = "loregraph";
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
pub(super) const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone, Debug)]
pub struct ClusterOptions {
    /// The cluster directory (PGDATA). Created if missing.
    pub dir: PathBuf,
    /// Where `initdb` and `postgres` are. When set, nothing else is searched.
    pub bin_dir: Option<PathBuf>,
    /// `false` turns off fsync and friends: for throwaway test clusters only.
    pub durable: bool,
    /// Server log file (appended to).
    pub log_file: PathBuf,
    /// More server settings, each passed as `-c name=value`.
    pub settings: Vec<(String, String)>,
}

/// A running cluster. Dropping it does not stop the server; call [`EmbeddedCluster::stop`].
/// If the whole process dies, the server still gets a fast-shutdown signal (see `spawn_keeper`).
pub struct EmbeddedCluster {
    dir: PathBuf,
    pid: Pid,
    exited: watch::Receiver<Option<String>>,
}

impl EmbeddedCluster {
    /// Starts the cluster (running initdb first if the directory holds none) and waits until it
    /// accepts connections.
    pub async fn start(options: ClusterOptions) -> anyhow::Result<Self> {
        let bin_dir = find_bin_dir(options.bin_dir.as_deref())?;
        let run_as = unprivileged_user()?;
        let (setup_options, setup_bin, setup_user) =
            (options.clone(), bin_dir.clone(), run_as.clone());
        tokio::task::spawn_blocking(move || {
            prepare_cluster(&setup_options, &setup_bin, setup_user.as_ref())
        })
        .await??;
        let (pid, exited) = spawn_keeper(&options, &bin_dir, run_as.as_ref())?;
        let cluster = Self {
            dir: options.dir.clone(),
            pid,
            exited,
        };
        cluster.wait_until_ready(&options.log_file).await?;
        Ok(cluster)
    }

    /// A libpq-style connection string for one database of this cluster.
    pub fn connection_string(&self, database: &str) -> String {
        Self::connection_string_in(&self.dir, database)
    }

    /// The connection string for `database` of the cluster in `dir`, whether it runs or not.
    pub fn connection_string_in(dir: &Path, database: &str) -> String {
        format!("host={} user={SUPERUSER} dbname={database}", dir.display())
    }

    /// Creates `database` unless it exists.
    pub async fn ensure_database(&self, database: &str) -> anyhow::Result<()> {
        Self::ensure_database_in(&self.dir, database).await
    }

    /// Creates `database` in the running cluster in `dir` unless it exists.
    pub async fn ensure_database_in(dir: &Path, database: &str) -> anyhow::Result<()> {
        use diesel_async::RunQueryDsl;
        let url = Self::connection_string_in(dir, "postgres");
        let mut conn = AsyncPgConnection::establish(&url).await?;
        #[derive(diesel::QueryableByName)]
        struct Found {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            #[allow(dead_code)]
            one: i32,
        }
        let found: Vec<Found> =
            diesel::sql_query("SELECT 1 AS one FROM pg_database WHERE datname = $1")
                .bind::<diesel::sql_types::Text, _>(database)
                .load(&mut conn)
                .await?;
        if found.is_empty() {
            diesel::sql_query(format!("CREATE DATABASE \"{}\"", database.replace('"', "")))
                .execute(&mut conn)
                .await?;
        }
        Ok(())
    }

    pub fn pid(&self) -> u32 {
        self.pid.as_raw() as u32
    }

    /// Waits until the server exits (by itself, or killed); its exit status.
    pub async fn exited(&mut self) -> String {
        match self.exited.wait_for(Option::is_some).await {
            Ok(status) => status.clone().unwrap_or_default(),
            Err(_) => "its keeper thread ended".to_owned(),
        }
    }

    /// Fast shutdown: open sessions are ended, the cluster is left consistent.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if self.exited.borrow().is_some() {
            return Ok(());
        }
        let _ = kill(self.pid, Signal::SIGINT);
        let stopped = tokio::time::timeout(SHUTDOWN_TIMEOUT, self.exited.wait_for(Option::is_some))
            .await
            .is_ok();
        if !stopped {
            tracing::warn!("PostgreSQL did not stop in time; sending SIGQUIT");
            let _ = kill(self.pid, Signal::SIGQUIT);
            let _ =
                tokio::time::timeout(SHUTDOWN_TIMEOUT, self.exited.wait_for(Option::is_some)).await;
        }
        Ok(())
    }

    async fn wait_until_ready(&self, log_file: &Path) -> anyhow::Result<()> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let url = self.connection_string("postgres");
        loop {
            if let Some(status) = self.exited.borrow().clone() {
                bail!(
                    "PostgreSQL exited during start-up ({status}). Its log ({}) ends with:\n{}",
                    log_file.display(),
                    log_tail(log_file)
                );
            }
            if AsyncPgConnection::establish(&url).await.is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "PostgreSQL did not accept connections within {STARTUP_TIMEOUT:?}. Its log ({}) ends with:\n{}",
                    log_file.display(),
                    log_tail(log_file)
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Finds a directory holding both `initdb` and `postgres`.
pub fn find_bin_dir(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    let has_binaries = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    if let Some(dir) = explicit {
        if has_binaries(dir) {
            return Ok(dir.to_path_buf());
        }
        bail!(
            "PostgreSQL server binaries (initdb, postgres) were not found in {} (LOREGRAPH_PG_BIN_DIR). {}",
            dir.display(),
            INSTALL_HINT
        );
    }
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect())
        .unwrap_or_default();
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output()
        && output.status.success()
    {
        candidates.push(PathBuf::from(
            String::from_utf8_lossy(&output.stdout).trim(),
        ));
    }
    if let Ok(entries) = fs::read_dir("/usr/lib/postgresql") {
        let mut versions: Vec<PathBuf> = entries.flatten().map(|e| e.path().join("bin")).collect();
        // Newest major version first.
        versions.sort_by_key(|p| {
            std::cmp::Reverse(
                p.parent()
                    .and_then(|v| v.file_name())
                    .and_then(|v| v.to_str())
                    .and_then(|v| v.parse::<u32>().ok())
                    .unwrap_or(0),
            )
        });
        candidates.extend(versions);
    }
    candidates
        .into_iter()
        .find(|dir| has_binaries(dir))
        .with_context(|| {
            format!(
                "PostgreSQL server binaries (initdb, postgres) were not found on PATH, via `pg_config --bindir`, \
                 or under /usr/lib/postgresql/*/bin. {INSTALL_HINT}"
            )
        })
}

const INSTALL_HINT: &str = "Install the PostgreSQL server (Debian/Ubuntu: `apt-get install postgresql`; \
    Fedora: `dnf install postgresql-server`; macOS: `brew install postgresql`), point LOREGRAPH_PG_BIN_DIR \
    at its bin directory, or set DATABASE_URL to use an existing server.";

/// The user initdb and postgres run as: `None` when we are not root.
#[derive(Clone, Debug)]
struct RunAs {
    uid: u32,
    gid: u32,
    name: String,
}

fn unprivileged_user() -> anyhow::Result<Option<RunAs>> {
    if !geteuid().is_root() {
        return Ok(None);
    }
    for name in ["postgres", "nobody"] {
        if let Some(user) = User::from_name(name)? {
            return Ok(Some(RunAs {
                uid: user.uid.as_raw(),
                gid: user.gid.as_raw(),
                name: name.to_owned(),
            }));
        }
    }
    bail!(
        "running as root, and PostgreSQL refuses to run as root: create an unprivileged `postgres` user \
         (e.g. `useradd --system postgres`) or run loregraph as another user"
    )
}

/// Runs initdb if needed, fixes ownership, and clears a stale lock left by a crash.
fn prepare_cluster(
    options: &ClusterOptions,
    bin_dir: &Path,
    run_as: Option<&RunAs>,
) -> anyhow::Result<()> {
    let dir = &options.dir;
    if let Some(parent) = dir.parent() {
        fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        if run_as.is_some() {
            // The unprivileged user must be able to reach its cluster through our data dir.
            let mut perms = fs::metadata(parent)?.permissions();
            perms.set_mode(perms.mode() | 0o011);
            fs::set_permissions(parent, perms)?;
        }
    }
    if !dir.join("PG_VERSION").is_file() {
        // A directory without PG_VERSION is a half-finished initdb of ours: start over.
        if dir.exists() {
            fs::remove_dir_all(dir).with_context(|| format!("clearing {}", dir.display()))?;
        }
        fs::create_dir_all(dir)?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
        if let Some(user) = run_as {
            chown(dir, Some(user.uid), Some(user.gid))?;
        }
        tracing::info!(dir = %dir.display(), "initialising a new PostgreSQL cluster");
        let mut initdb = Command::new(bin_dir.join("initdb"));
        initdb
            .arg("-D")
            .arg(dir)
            .args([
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                "--no-instructions",
            ])
            .stdin(Stdio::null());
        if !options.durable {
            initdb.arg("--no-sync");
        }
        if let Some(user) = run_as {
            initdb.uid(user.uid).gid(user.gid).current_dir("/");
        }
        let output = initdb.output().context("running initdb")?;
        if !output.status.success() {
            bail!(
                "initdb failed ({}):\n{}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
    } else if let Some(user) = run_as {
        // A cluster made by an earlier run under another account would be refused by postgres.
        let meta = fs::metadata(dir)?;
        if std::os::unix::fs::MetadataExt::uid(&meta) != user.uid {
            bail!(
                "the PostgreSQL cluster in {} is not owned by `{}`; fix it with `chown -R {} {}`",
                dir.display(),
                user.name,
                user.name,
                dir.display()
            );
        }
    }
    clear_stale_lock(dir)?;
    if let Some(user) = run_as
        && !options.log_file.exists()
    {
        fs::File::create(&options.log_file)?;
        chown(&options.log_file, Some(user.uid), Some(user.gid))?;
    }
    Ok(())
}

/// Starts `postgres` from a dedicated thread that then waits for it. The child gets SIGINT (fast
/// shutdown) when that thread dies, and the thread lives exactly as long as the server or our
/// process: if loregraph is killed, its cluster does not outlive it. The child has its own process
/// group, so a Ctrl-C in the terminal reaches only us and we shut down in order.
fn spawn_keeper(
    options: &ClusterOptions,
    bin_dir: &Path,
    run_as: Option<&RunAs>,
) -> anyhow::Result<(Pid, watch::Receiver<Option<String>>)> {
    let log = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&options.log_file)
        .with_context(|| format!("opening {}", options.log_file.display()))?;
    let mut command = Command::new(bin_dir.join("postgres"));
    command
        .arg("-D")
        .arg(&options.dir)
        .arg("-k")
        .arg(&options.dir)
        .args([
            "-c",
            "listen_addresses=",
            "-c",
            "unix_socket_permissions=0700",
        ])
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .process_group(0);
    if !options.durable {
        command.args([
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
        ]);
    }
    for (name, value) in &options.settings {
        command.arg("-c").arg(format!("{name}={value}"));
    }
    if let Some(user) = run_as {
        command.uid(user.uid).gid(user.gid).current_dir("/");
    }
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent. It runs after the
    // uid change (std applies uid/gid before pre_exec closures), which would otherwise clear it.
    unsafe {
        command.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(Signal::SIGINT).map_err(std::io::Error::from)
        });
    }

    let (spawned_tx, spawned_rx) = std::sync::mpsc::channel::<std::io::Result<u32>>();
    let (exit_tx, exit_rx) = watch::channel(None);
    std::thread::Builder::new()
        .name("postgres-keeper".into())
        .spawn(move || match command.spawn() {
            Ok(mut child) => {
                let _ = spawned_tx.send(Ok(child.id()));
                let status = child
                    .wait()
                    .map(|s: ExitStatus| s.to_string())
                    .unwrap_or_else(|e| e.to_string());
                let _ = exit_tx.send(Some(status));
            }
            Err(error) => {
                let _ = spawned_tx.send(Err(error));
            }
        })?;
    let pid = spawned_rx
        .recv()
        .context("the postgres keeper thread ended early")?
        .context("starting postgres")?;
    Ok((Pid::from_raw(pid as i32), exit_rx))
}

/// The last lines of a server log, to say why a server stopped.
pub fn log_tail(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}
