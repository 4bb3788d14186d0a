//! Ready to distribute by tenant: read from the catalog of a migrated database, every table a
//! tenant owns has `tenant_id` in its primary key, in each unique key, and on both sides of
//! each foreign key to another such table, so Citus can keep all of one tenant's rows on one
//! node. The routing and reference tables (read before a tenant is known, or shared) are
//! named here and in the README's "Running on Citus"; none of them points into a tenant table.

use diesel::QueryableByName;
use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;

use crate::harness::*;

/// Tables Citus keeps whole on every node (reference tables) or on the coordinator: looked
/// up by a token, a hash or a provider's id before the tenant is known, or shared by all.
const ROUTING_AND_REFERENCE: [&str; 29] = [
    "__diesel_schema_migrations",
    "tenants",
    "users",
    "memberships",
    "sessions",
    "refresh_tokens",
    "api_keys",
    "invites",
    "stripe_events",
    "billing_accounts",
    "billing_checkouts",
    "event_log",
    "server_nodes",
    "server_secrets",
    "persisted_queries",
    "login_throttle",
    "maintenance_cursors",
    "user_identities",
    "oauth_flows",
    "id_token_uses",
    "password_resets",
    "rate_windows",
    "shares",
    "user_settings",
    "user_provider_keys",
    "beta_codes",
    "beta_enrollments",
    "beta_feedback",
    "beta_waitlist",
];

#[derive(QueryableByName)]
struct Problem {
    #[diesel(sql_type = Text)]
    problem: String,
}

/// Every way a tenant table breaks the rule, one line each.
const PROBLEMS: &str = "
WITH tables AS (
    SELECT c.oid, c.relname, NOT (c.relname = ANY($1)) AS distributed,
           (SELECT attnum FROM pg_attribute
            WHERE attrelid = c.oid AND attname = 'tenant_id' AND NOT attisdropped) AS tenant_col
    FROM pg_class c
    WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
)
SELECT format('%s has no tenant_id column', relname) AS problem
FROM tables WHERE distributed AND tenant_col IS NULL
UNION ALL
SELECT format('%s has no primary key', t.relname)
FROM tables t
WHERE t.distributed AND NOT EXISTS (
    SELECT FROM pg_constraint con WHERE con.conrelid = t.oid AND con.contype = 'p')
UNION ALL
SELECT format('%s: unique index %s lacks tenant_id', t.relname, i.relname)
FROM tables t
JOIN pg_index x ON x.indrelid = t.oid AND x.indisunique
JOIN pg_class i ON i.oid = x.indexrelid
WHERE t.distributed AND NOT (t.tenant_col = ANY (x.indkey::int2[]))
UNION ALL
SELECT format('%s: foreign key %s into %s does not go through tenant_id', t.relname,
              con.conname, target.relname)
FROM tables t
JOIN pg_constraint con ON con.conrelid = t.oid AND con.contype = 'f'
JOIN tables target ON target.oid = con.confrelid
WHERE t.distributed AND target.distributed
  AND NOT EXISTS (
      SELECT FROM unnest(con.conkey, con.confkey) AS pair(holder, referenced)
      WHERE pair.holder = t.tenant_col AND pair.referenced = target.tenant_col)
UNION ALL
SELECT format('%s: foreign key %s would set tenant_id to null or a default', t.relname,
              con.conname)
FROM tables t
JOIN pg_constraint con ON con.conrelid = t.oid AND con.contype = 'f'
WHERE t.distributed AND con.confdeltype IN ('n', 'd')
  AND t.tenant_col = ANY (coalesce(con.confdelsetcols, con.conkey))
UNION ALL
SELECT format('%s (routing or reference) has foreign key %s into tenant table %s', t.relname,
              con.conname, target.relname)
FROM tables t
JOIN pg_constraint con ON con.conrelid = t.oid AND con.contype = 'f'
JOIN tables target ON target.oid = con.confrelid
WHERE NOT t.distributed AND target.distributed
ORDER BY 1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tenant_table_is_keyed_by_its_tenant() {
    let server = TestServer::start().await;
    let mut db = server.db().await;
    let routing: Vec<String> = ROUTING_AND_REFERENCE
        .iter()
        .map(|t| t.to_string())
        .collect();
    let problems: Vec<String> = diesel::sql_query(PROBLEMS)
        .bind::<diesel::sql_types::Array<Text>, _>(&routing)
        .load::<Problem>(&mut db)
        .await
        .expect("read the catalog")
        .into_iter()
        .map(|p| p.problem)
        .collect();
    assert!(
        problems.is_empty(),
        "tables that Citus could not distribute by tenant:\n{}",
        problems.join("\n")
    );

    // The rule is checked on what is there: the tenant tables are the bulk of the schema.
    let distributed = count_rows(
        &mut db,
        &format!(
            "SELECT count(*) AS n FROM pg_class WHERE relnamespace = 'public'::regnamespace \
             AND relkind = 'r' AND relname NOT IN ('{}')",
            ROUTING_AND_REFERENCE.join("','")
        ),
    )
    .await;
    assert!(distributed >= 25, "only {distributed} tenant tables found");
}
