//! Finding the database a server runs on: an external one (`DATABASE_URL`) or the embedded
//! cluster in the data dir, migrated before use.

use std::path::{Path, PathBuf};

use crate::db::embedded::{ClusterOptions, EmbeddedCluster, served_by_another_process};
use crate::db::supervisor::SupervisedCluster;

/// The database of the embedded cluster.
pub const EMBEDDED_DATABASE: &str = "loregraph";

pub struct Database {
    pub url: String,
    /// Present when we started the cluster ourselves (and restart it if it dies); stop it on
    /// shutdown.
    pub cluster: Option<SupervisedCluster>,
}

impl Database {
    pub async fn open(
        database_url: Option<&str>,
        data_dir: &Path,
        pg_bin_dir: Option<PathBuf>,
    ) -> anyhow::Result<Self> {
        if let Some(url) = database_url.filter(|u| !u.trim().is_empty()) {
            return Ok(Self {
                url: url.to_owned(),
                cluster: None,
            });
        }
        std::fs::create_dir_all(data_dir)?;
        let cluster = SupervisedCluster::start(ClusterOptions {
            dir: absolute(data_dir)?.join("postgres"),
            bin_dir: pg_bin_dir,
            durable: true,
            log_file: absolute(data_dir)?.join("postgres.log"),
            settings: Vec::new(),
        })
        .await?;
        cluster.ensure_database(EMBEDDED_DATABASE).await?;
        Ok(Self {
            url: cluster.connection_string(EMBEDDED_DATABASE),
            cluster: Some(cluster),
        })
    }

    /// The database for a tool run beside the server (`migrate`, `admin`): the embedded
    /// cluster a running server already serves is reached through its socket, and left
    /// running; otherwise as [`Database::open`].
    pub async fn open_beside_server(
        database_url: Option<&str>,
        data_dir: &Path,
        pg_bin_dir: Option<PathBuf>,
    ) -> anyhow::Result<Self> {
        let dir = absolute(data_dir)?.join("postgres");
        if database_url.is_none_or(|u| u.trim().is_empty()) && served_by_another_process(&dir) {
            tracing::info!(dir = %dir.display(), "using the cluster of the running server");
            return Ok(Self {
                url: EmbeddedCluster::connection_string_in(&dir, EMBEDDED_DATABASE),
                cluster: None,
            });
        }
        Self::open(database_url, data_dir, pg_bin_dir).await
    }

    /// Cancelled when the embedded cluster died for good (never, for an external database).
    pub fn gave_up(&self) -> tokio_util::sync::CancellationToken {
        self.cluster.as_ref().map_or_else(
            tokio_util::sync::CancellationToken::new,
            SupervisedCluster::gave_up,
        )
    }

    pub async fn close(self) -> anyhow::Result<()> {
        if let Some(cluster) = self.cluster {
            cluster.stop().await?;
        }
        Ok(())
    }
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    Ok(std::path::absolute(path)?)
}

/// The backup folder of a data dir.
pub fn backup_dir(data_dir: &Path) -> anyhow::Result<PathBuf> {
    Ok(absolute(data_dir)?.join("backups"))
}

/// Writes a backup of the server's database into the data dir's backup folder (beside a
/// running server, or starting the embedded cluster for it); its name and size. The oldest
/// beyond the newest `keep` are removed.
pub async fn create_backup(
    database_url: Option<&str>,
    data_dir: &Path,
    pg_bin_dir: Option<PathBuf>,
    keep: usize,
) -> anyhow::Result<(String, u64)> {
    let tools = crate::db::backup::tools_dir(pg_bin_dir.as_deref())?;
    let dir = backup_dir(data_dir)?;
    let database = Database::open_beside_server(database_url, data_dir, pg_bin_dir).await?;
    let name = crate::db::backup::name_at(chrono::Utc::now());
    let dumped = crate::db::backup::dump(&tools, &database.url, &dir, &name).await;
    database.close().await?;
    let bytes = dumped?;
    crate::db::backup::prune(&dir, keep)?;
    Ok((name, bytes))
}

/// Restores the backup `name` of the data dir's backup folder as the embedded cluster's
/// database, then brings it to this version's migrations. Only with the server stopped, and
/// only for the embedded cluster (an external database is restored with its own tools).
pub async fn restore_backup(
    database_url: Option<&str>,
    data_dir: &Path,
    pg_bin_dir: Option<PathBuf>,
    name: &str,
) -> anyhow::Result<Vec<String>> {
    if database_url.is_some_and(|url| !url.trim().is_empty()) {
        anyhow::bail!(
            "restore works on the embedded database only: restore an external one with \
             pg_restore (the backups are in PostgreSQL's custom format)"
        );
    }
    let dir = backup_dir(data_dir)?;
    let Some(file) = crate::db::backup::path_of(&dir, name) else {
        anyhow::bail!(
            "no backup named {name:?} in {} (`loregraph backup list` shows them)",
            dir.display()
        );
    };
    let cluster_dir = absolute(data_dir)?.join("postgres");
    if served_by_another_process(&cluster_dir) {
        anyhow::bail!(
            "the server is running on {}: stop it first",
            data_dir.display()
        );
    }
    let tools = crate::db::backup::tools_dir(pg_bin_dir.as_deref())?;
    let database = Database::open(None, data_dir, pg_bin_dir).await?;
    let restored = crate::db::backup::restore(
        &tools,
        &EmbeddedCluster::connection_string_in(&cluster_dir, "postgres"),
        |db| EmbeddedCluster::connection_string_in(&cluster_dir, db),
        EMBEDDED_DATABASE,
        &file,
    )
    .await;
    let migrated = match restored {
        Ok(()) => crate::db::migrations::run_pending(&database.url).await,
        Err(error) => Err(error),
    };
    database.close().await?;
    migrated
}

/// What `loregraph backup` does.
#[derive(clap::Subcommand)]
pub enum BackupAction {
    /// Write a backup now (beside a running server, or starting the embedded cluster).
    Create {
        /// Keep this many backups; the oldest beyond go.
        #[arg(long, env = "LOREGRAPH_BACKUPS_KEEP", default_value_t = 14)]
        keep: usize,
    },
    /// List the backups, newest first.
    List,
    /// Restore a backup as the embedded database (the server must be stopped); the database
    /// it replaces is dropped once the backup is in.
    Restore {
        /// The backup's name, as `list` shows it.
        name: String,
    },
}

/// Runs a `loregraph backup` command; what it did goes to `say` (a message and its fields).
pub async fn backup_command(
    action: BackupAction,
    database_url: Option<&str>,
    data_dir: &Path,
    pg_bin_dir: Option<PathBuf>,
    say: impl Fn(String, serde_json::Value),
) -> anyhow::Result<()> {
    match action {
        BackupAction::Create { keep } => {
            let (name, bytes) = create_backup(database_url, data_dir, pg_bin_dir, keep).await?;
            say(
                format!("wrote {name} ({bytes} bytes)"),
                serde_json::json!({ "backup": name, "bytes": bytes }),
            );
        }
        BackupAction::List => {
            for file in crate::db::backup::list(&backup_dir(data_dir)?)? {
                say(
                    format!("{}  {:>12} bytes", file.name, file.bytes),
                    serde_json::json!({ "backup": file.name, "bytes": file.bytes }),
                );
            }
        }
        BackupAction::Restore { name } => {
            let applied = restore_backup(database_url, data_dir, pg_bin_dir, &name).await?;
            say(
                format!(
                    "restored {name}; applied {} newer migrations",
                    applied.len()
                ),
                serde_json::json!({ "restored": name, "applied": applied }),
            );
        }
    }
    Ok(())
}
