//! The database connections of one server.

use std::time::Duration;

use clap::Args;

use crate::db::PoolOptions;

/// The command line's (and environment's) part of the database section (where the database
/// is comes with the global arguments: `DATABASE_URL`, the data directory).
#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Database")]
pub struct DatabaseArgs {
    /// Database connections per server.
    #[arg(long, env = "LOREGRAPH_DB_POOL_SIZE", default_value_t = 16)]
    pub db_pool_size: usize,
    /// statement_timeout of every database connection, milliseconds.
    #[arg(
        long,
        env = "LOREGRAPH_DB_STATEMENT_TIMEOUT_MS",
        default_value_t = 30_000
    )]
    pub db_statement_timeout_ms: u64,
}

impl DatabaseArgs {
    pub fn pool_options(&self) -> PoolOptions {
        PoolOptions {
            max_size: self.db_pool_size,
            statement_timeout: Duration::from_millis(self.db_statement_timeout_ms),
            ..PoolOptions::default()
        }
    }
}
