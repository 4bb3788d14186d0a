//! Keeps the embedded PostgreSQL cluster serving. When its server dies under us (killed, out of
//! memory, a crash), the supervisor starts it again in the same directory, pausing longer after
//! each failed attempt (a quarter second doubling up to ten), and logs each death with the end
//! of the server's log. The pool and the event relay reconnect by themselves once it is back;
//! meanwhile requests fail with the retryable "database unavailable" and `/health` says 503.
//! After [`MAX_FAILED_RESTARTS`] failed attempts in a row (a minute and a half: a full disk, a
//! damaged cluster) it gives up and says so through [`SupervisedCluster::gave_up`]: the server
//! then stops and exits non-zero, for a process supervisor to act on.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::embedded::{ClusterOptions, EmbeddedCluster, log_tail};

const FIRST_PAUSE: Duration = Duration::from_millis(250);
const LONGEST_PAUSE: Duration = Duration::from_secs(10);
pub const MAX_FAILED_RESTARTS: u32 = 12;

/// A running cluster and the task that restarts it. Call [`SupervisedCluster::stop`].
pub struct SupervisedCluster {
    options: ClusterOptions,
    stop: CancellationToken,
    gave_up: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

impl SupervisedCluster {
    /// Starts the cluster and its supervisor.
    pub async fn start(options: ClusterOptions) -> anyhow::Result<Self> {
        let cluster = EmbeddedCluster::start(options.clone()).await?;
        let (stop, gave_up) = (CancellationToken::new(), CancellationToken::new());
        let task = tokio::spawn(supervise(
            cluster,
            options.clone(),
            stop.clone(),
            gave_up.clone(),
        ));
        Ok(Self {
            options,
            stop,
            gave_up,
            task,
        })
    }

    /// Cancelled when the server died and could not be started again.
    pub fn gave_up(&self) -> CancellationToken {
        self.gave_up.clone()
    }

    /// A libpq-style connection string for one database of this cluster (it stays the same
    /// across restarts).
    pub fn connection_string(&self, database: &str) -> String {
        EmbeddedCluster::connection_string_in(&self.options.dir, database)
    }

    /// Creates `database` unless it exists.
    pub async fn ensure_database(&self, database: &str) -> anyhow::Result<()> {
        EmbeddedCluster::ensure_database_in(&self.options.dir, database).await
    }

    /// Stops restarting, then stops the server (fast shutdown). An error when the supervisor
    /// had given up.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.stop.cancel();
        self.task.await?
    }
}

async fn supervise(
    mut cluster: EmbeddedCluster,
    options: ClusterOptions,
    stop: CancellationToken,
    gave_up: CancellationToken,
) -> anyhow::Result<()> {
    loop {
        tokio::select! {
            () = stop.cancelled() => return cluster.stop().await,
            status = cluster.exited() => {
                tracing::error!(
                    %status,
                    log = %log_tail(&options.log_file),
                    "the embedded PostgreSQL server exited unexpectedly; restarting it"
                );
                match restart(&options, &stop).await {
                    Restart::Running(restarted) => cluster = restarted,
                    Restart::Stopped => return Ok(()),
                    Restart::GaveUp => {
                        gave_up.cancel();
                        anyhow::bail!(
                            "the embedded PostgreSQL server died and could not be started again \
                             ({MAX_FAILED_RESTARTS} attempts); its log is {}",
                            options.log_file.display()
                        );
                    }
                }
                tracing::warn!(pid = cluster.pid(), "the embedded PostgreSQL server is serving again");
            }
        }
    }
}

enum Restart {
    Running(EmbeddedCluster),
    /// Asked to stop before it ran again.
    Stopped,
    GaveUp,
}

/// Starts the cluster again, pausing longer after each failure. A start under way is not
/// abandoned (its server would be left running): the stop is heard between attempts, and a
/// cluster started meanwhile is stopped by the caller's loop.
async fn restart(options: &ClusterOptions, stop: &CancellationToken) -> Restart {
    let mut pause = FIRST_PAUSE;
    for _ in 0..MAX_FAILED_RESTARTS {
        tokio::select! {
            () = stop.cancelled() => return Restart::Stopped,
            () = tokio::time::sleep(pause) => {}
        }
        // The old server's backends notice their postmaster died and exit within moments;
        // until they have, PostgreSQL refuses to start on their shared memory, and we wait.
        match EmbeddedCluster::start(options.clone()).await {
            Ok(cluster) => return Restart::Running(cluster),
            Err(error) => {
                pause = (pause * 2).min(LONGEST_PAUSE);
                tracing::error!(
                    error = format!("{error:#}"),
                    retry_in = ?pause,
                    "could not restart the embedded PostgreSQL server"
                );
            }
        }
    }
    Restart::GaveUp
}
