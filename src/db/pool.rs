//! The pooled diesel-async connections every store uses.

use std::collections::VecDeque;
use std::time::{Duration, Instant, SystemTime};

use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use futures_util::FutureExt;

pub type DbPool = Pool<AsyncPgConnection>;
pub type Conn = Object<AsyncPgConnection>;
pub type PoolError = diesel_async::pooled_connection::deadpool::PoolError;

#[derive(Clone, Debug)]
pub struct PoolOptions {
    pub max_size: usize,
    /// `statement_timeout` set on every pooled connection.
    pub statement_timeout: Duration,
    /// How long a request waits for a connection (or for a new one to be made) before it fails.
    pub acquire_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_size: 16,
            statement_timeout: Duration::from_secs(30),
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// Builds the pool. No connection is opened here, so a server can start while its database is
/// still down and recover when it returns.
pub fn build_pool(database_url: &str, options: &PoolOptions) -> anyhow::Result<DbPool> {
    let statement_timeout_ms = options.statement_timeout.as_millis();
    // No statement runs longer than the timeout: one begun before that never finished (its
    // future was dropped) and must not be paired with a later statement's end.
    let stale_after = options.statement_timeout + Duration::from_secs(1);
    let mut config = ManagerConfig::<AsyncPgConnection>::default();
    // `Fast` only checks for broken connections and open transactions: the default `Verified`
    // sends a `SELECT 1` before every checkout, doubling the statements of a by-id lookup.
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup = Box::new(move |url| {
        let url = url.to_owned();
        async move {
            let mut conn = AsyncPgConnection::establish(&url).await?;
            conn.batch_execute(&format!(
                "SET application_name = 'loregraph'; SET statement_timeout = {statement_timeout_ms}"
            ))
            .await
            .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
            conn.set_instrumentation(QueryTimer {
                started: VecDeque::new(),
                stale_after,
            });
            Ok(conn)
        }
        .boxed()
    });
    let manager = AsyncDieselConnectionManager::new_with_config(database_url, config);
    let pool = Pool::builder(manager)
        .max_size(options.max_size)
        .runtime(deadpool::Runtime::Tokio1)
        .wait_timeout(Some(options.acquire_timeout))
        .create_timeout(Some(options.acquire_timeout))
        .recycle_timeout(Some(options.acquire_timeout))
        .build()?;
    Ok(pool)
}

/// Times each statement of a pooled connection for the metrics (and, while traces are sent,
/// makes its span).
struct QueryTimer {
    /// Each statement still running. Statements sent together (a pipeline) end in the order
    /// they began. A statement whose future is dropped (a client gone, a timeout around it)
    /// reports no end: its entry is dropped once it is older than any statement may run.
    started: VecDeque<Started>,
    stale_after: Duration,
}

struct Started {
    at: Instant,
    /// For its span: when it began, and its SQL (with diesel's list of bound values, which the
    /// span leaves out).
    traced: Option<(SystemTime, String)>,
}

/// Statements a connection may have running at once before the timer forgets them (one that
/// failed before it was sent reports no end).
const MAX_TIMED: usize = 64;

impl Instrumentation for QueryTimer {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { query, .. } => {
                if self.started.len() >= MAX_TIMED {
                    self.started.clear();
                }
                while self
                    .started
                    .front()
                    .is_some_and(|oldest| oldest.at.elapsed() > self.stale_after)
                {
                    self.started.pop_front();
                }
                let traced =
                    crate::telemetry::enabled().then(|| (SystemTime::now(), query.to_string()));
                self.started.push_back(Started {
                    at: Instant::now(),
                    traced,
                });
            }
            InstrumentationEvent::FinishQuery { error, .. } => {
                if let Some(started) = self.started.pop_front() {
                    crate::metrics::db_query(started.at.elapsed(), error.is_some());
                    if let Some((began, text)) = started.traced {
                        let failed = error.map(|error| error.to_string());
                        crate::telemetry::sql_statement(&text, began, SystemTime::now(), failed);
                    }
                }
            }
            _ => {}
        }
    }
}
