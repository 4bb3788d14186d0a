//! The database: connection pool, embedded PostgreSQL cluster, migrations and the diesel schema;
//! and what every domain's store and loaders share: pagination, ids, text checks and SQL text
//! functions, full-text queries, DataLoader helpers.

pub mod embedded;
mod ids;
mod lazy_json;
pub mod loading;
pub mod migrations;
pub mod pagination;
mod pool;
pub mod schema;
pub mod search;
pub mod supervisor;
mod text;

pub use ids::parse_id;
pub use lazy_json::LazyJson;
pub use pool::{Conn, DbPool, PoolError, PoolOptions, build_pool};
pub use text::{MAX_MARKDOWN_CHARS, escape_like, lower, validate_text};

use diesel::expression::SqlLiteral;
use diesel::sql_types::{Nullable, Timestamptz};

/// The value to set a `revoked_at` column to: now, unless already revoked, so revoking twice
/// keeps the time of the first revocation.
pub fn first_revocation() -> SqlLiteral<Nullable<Timestamptz>> {
    diesel::dsl::sql("COALESCE(revoked_at, now())")
}
