//! The database in numbers: its size, each table's rows and bytes, how often reads are served
//! from memory, and its connections.

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Double, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::auth::{Role, Viewer};
use crate::error::AppResult;

#[derive(QueryableByName, Clone, Debug)]
pub struct DatabaseTotals {
    #[diesel(sql_type = BigInt)]
    pub database_bytes: i64,
    /// Share of block reads served from PostgreSQL's buffers since its statistics were reset.
    #[diesel(sql_type = Nullable<Double>)]
    pub cache_hit_ratio: Option<f64>,
    #[diesel(sql_type = BigInt)]
    pub connections: i64,
    #[diesel(sql_type = Text)]
    pub server_version: String,
}

#[derive(QueryableByName, Clone, Debug)]
pub struct TableSize {
    #[diesel(sql_type = Text)]
    pub name: String,
    /// Live rows as PostgreSQL's statistics count them (an estimate between analyses).
    #[diesel(sql_type = BigInt)]
    pub rows: i64,
    #[diesel(sql_type = BigInt)]
    pub total_bytes: i64,
    #[diesel(sql_type = BigInt)]
    pub index_bytes: i64,
}

/// The database's totals and its tables, largest first (SUPERUSER: they cover every tenant).
pub async fn database(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
) -> AppResult<(DatabaseTotals, Vec<TableSize>)> {
    viewer.require_role(Role::Superuser)?;
    let totals: DatabaseTotals = diesel::sql_query(
        "SELECT pg_database_size(current_database()) AS database_bytes, \
           (SELECT sum(blks_hit)::float8 / NULLIF(sum(blks_hit) + sum(blks_read), 0) \
              FROM pg_stat_database WHERE datname = current_database()) AS cache_hit_ratio, \
           (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()) AS connections, \
           current_setting('server_version') AS server_version",
    )
    .get_result(conn)
    .await?;
    let tables: Vec<TableSize> = diesel::sql_query(
        "SELECT c.relname::text AS name, \
           COALESCE(s.n_live_tup, GREATEST(c.reltuples, 0))::bigint AS rows, \
           pg_total_relation_size(c.oid) AS total_bytes, pg_indexes_size(c.oid) AS index_bytes \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid \
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') \
         ORDER BY total_bytes DESC, name",
    )
    .load(conn)
    .await?;
    Ok((totals, tables))
}
