//! `GET /metrics`: every metric of `crate::metrics` in the Prometheus text format, with the
//! gauges read from this server's state as it is scraped: the database pool, the sockets and
//! subscriptions, the event outbox, and the asset queue (one query over the index of open jobs;
//! no request pays for it).

use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::metrics::Sample;
use crate::state::AppState;

/// How long a scrape waits for the asset queue's counts: a slow or absent database leaves them
/// out (at their last values) rather than holding the scrape.
const QUEUE_COUNT_TIMEOUT: Duration = Duration::from_secs(2);
/// Prometheus' text exposition format.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub async fn scrape(State(state): State<AppState>) -> Response {
    // The pool before the queue's count takes a connection from it.
    let pool = state.pool.status();
    let (subscription_groups, subscriptions) = state.subscriptions.counts();
    let sample = Sample {
        pool_max: pool.max_size,
        pool_size: pool.size,
        pool_idle: pool.available,
        pool_waiting: pool.waiting,
        websockets: state.connections.len(),
        authenticated_websockets: state.live.count(),
        subscriptions,
        subscription_groups,
        event_outbox: state.events.outbox_len(),
        asset_jobs: open_asset_jobs(&state).await,
    };
    let text = crate::metrics::render(&sample);
    let content_type = HeaderValue::from_static(CONTENT_TYPE);
    ([(header::CONTENT_TYPE, content_type)], text).into_response()
}

/// The asset queue's pending and running jobs, unless the database does not answer in time
/// or another scrape is counting them right now (a flood of scrapes runs one count at a time;
/// the others show the gauges' last values).
async fn open_asset_jobs(state: &AppState) -> Option<(i64, i64)> {
    static COUNTING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _counting = COUNTING.try_lock().ok()?;
    let count = async {
        let mut conn = state.pool.get().await.ok()?;
        crate::assets::service::open_jobs(&mut conn).await.ok()
    };
    tokio::time::timeout(QUEUE_COUNT_TIMEOUT, count)
        .await
        .ok()
        .flatten()
}
