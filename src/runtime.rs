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
