//! System health (seed 000's SystemHealth): database and cache status with latencies.

pub mod api;
pub mod probe;
pub mod services;
pub mod services_api;

use std::time::{Duration, Instant};

use async_graphql::SimpleObject;
use diesel_async::SimpleAsyncConnection;
use serde::Serialize;

use crate::context::Platform;

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The health of the API and its dependencies.
#[derive(SimpleObject, Serialize, Clone, Debug)]
pub struct SystemHealth {
    /// "ok", or "degraded" when a dependency is down.
    pub status: String,
    /// "ok", or "unavailable".
    pub database_status: String,
    /// "ok", or "unavailable".
    pub cache_status: String,
    /// How long a `SELECT 1` took, in milliseconds; null when the database did not answer.
    pub database_latency_ms: Option<f64>,
    /// How long a round trip through the cache took, in milliseconds; null when it failed.
    pub cache_latency_ms: Option<f64>,
    /// Human-readable, e.g. "2d 3h 4m 5s".
    pub uptime: String,
    /// How long this server process has been running, in seconds.
    pub uptime_seconds: u64,
    /// The server's version.
    pub version: String,
}

impl SystemHealth {
    pub fn is_healthy(&self) -> bool {
        self.status == "ok"
    }
}

pub async fn check(platform: &Platform) -> SystemHealth {
    let started = Instant::now();
    let database = tokio::time::timeout(CHECK_TIMEOUT, async {
        let mut conn = platform.pool.get().await.ok()?;
        conn.batch_execute("SELECT 1").await.ok()
    })
    .await
    .ok()
    .flatten()
    .map(|_| started.elapsed());

    // The cache is the in-process one that fronts authentication; probe a round trip through it.
    let started = Instant::now();
    let cache = platform.auth.probe_cache().await.then(|| started.elapsed());

    let status =
        |probe: Option<Duration>| if probe.is_some() { "ok" } else { "unavailable" }.to_owned();
    let millis = |probe: Option<Duration>| {
        probe.map(|d| (d.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0)
    };
    let uptime = platform.started_at.elapsed();
    SystemHealth {
        status: if database.is_some() && cache.is_some() {
            "ok"
        } else {
            "degraded"
        }
        .to_owned(),
        database_status: status(database),
        cache_status: status(cache),
        database_latency_ms: millis(database),
        cache_latency_ms: millis(cache),
        uptime: format_uptime(uptime),
        uptime_seconds: uptime.as_secs(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }
}

fn format_uptime(uptime: Duration) -> String {
    let secs = uptime.as_secs();
    let (days, hours, minutes, seconds) =
        (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{seconds}s"),
        (0, 0, _) => format!("{minutes}m {seconds}s"),
        (0, _, _) => format!("{hours}h {minutes}m {seconds}s"),
        _ => format!("{days}d {hours}h {minutes}m {seconds}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_reads_naturally() {
        assert_eq!(format_uptime(Duration::from_secs(5)), "5s");
        assert_eq!(format_uptime(Duration::from_secs(65)), "1m 5s");
        assert_eq!(format_uptime(Duration::from_secs(3_725)), "1h 2m 5s");
        assert_eq!(format_uptime(Duration::from_secs(93_784)), "1d 2h 3m 4s");
    }
}
