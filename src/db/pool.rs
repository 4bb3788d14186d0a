//! The pooled diesel-async connections every store uses.

use std::time::Duration;

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
