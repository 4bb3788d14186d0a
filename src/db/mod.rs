//! The database: connection pool, embedded PostgreSQL cluster, migrations and the diesel schema.

pub mod embedded;
pub mod migrations;
mod pool;
pub mod schema;

pub use pool::{Conn, DbPool, PoolError, PoolOptions, build_pool};
