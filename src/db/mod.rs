//! The database: connection pool, embedded PostgreSQL cluster, migrations and the diesel schema.

pub mod embedded;
mod lazy_json;
pub mod migrations;
mod pool;
pub mod schema;
pub mod supervisor;

pub use lazy_json::LazyJson;
pub use pool::{Conn, DbPool, PoolError, PoolOptions, build_pool};

use diesel::expression::SqlLiteral;
use diesel::sql_types::{Nullable, Timestamptz};

/// The value to set a `revoked_at` column to: now, unless already revoked, so revoking twice
/// keeps the time of the first revocation.
pub fn first_revocation() -> SqlLiteral<Nullable<Timestamptz>> {
    diesel::dsl::sql("COALESCE(revoked_at, now())")
}
