//! The database: connection pool, embedded PostgreSQL cluster, migrations and the diesel schema;
//! and what every domain's store and loaders share: pagination, ids, text checks and SQL text
//! functions, full-text queries, DataLoader helpers.

pub mod backup;
pub mod connection;
pub mod cursor;
pub mod embedded;
pub mod fragment;
mod ids;
pub mod keyset;
mod lazy_json;
pub mod loading;
pub mod migrations;
pub mod pagination;
mod pool;
mod postmaster;
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

/// Where a connection string points, for messages: host(s), port(s) and database, never the
/// user's password.
pub fn describe_url(database_url: &str) -> String {
    let Ok(config) = database_url.parse::<tokio_postgres::Config>() else {
        return "the database: DATABASE_URL is not a PostgreSQL connection string \
                (postgres://user:password@host:port/database)"
            .into();
    };
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|host| match host {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let ports: Vec<String> = config.get_ports().iter().map(u16::to_string).collect();
    format!(
        "PostgreSQL at host {}, port {}, database {}",
        if hosts.is_empty() {
            "localhost".into()
        } else {
            hosts.join(",")
        },
        if ports.is_empty() {
            "5432".into()
        } else {
            ports.join(",")
        },
        config.get_dbname().unwrap_or("(the user's own)"),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_connection_string_is_described_without_its_password() {
        let described = super::describe_url(
            "postgres://ada:s3cret-pw@db.example.com:6543/lore?sslmode=disable",
        );
        assert_eq!(
            described,
            "PostgreSQL at host db.example.com, port 6543, database lore"
        );
        assert!(!super::describe_url("postgres://ada:s3cret-pw@:x/").contains("s3cret"));
    }
}
