//! The operators' admin tools: the database in numbers, a tenant's entities counted, and
//! read-only SQL that reads no secrets and changes nothing however it is written — for
//! SUPERUSERs alone.

use serde_json::{Value, json};

use crate::entities::create_entity;
use crate::harness::*;

const QUERY: &str = "mutation($sql: String!) { runReadOnlyQuery(sql: $sql) {
    columns rows rowCount truncated } }";

async fn refused(server: &TestServer, account: &Account, sql: &str) -> String {
    let body = server.gql_as(account, QUERY, json!({ "sql": sql })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{sql}: {body}");
    body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_sql_reads_what_it_may_and_changes_nothing() {
    let server = TestServer::start().await;
    let root = server.superuser("root@sql.test").await;
    let admin = server.register("admin@sql.test", "Sql Studio").await;
    create_entity(&server, &admin, "CHARACTER", "rex", "Rex", json!({})).await;
    create_entity(&server, &admin, "CHARACTER", "ada", "Ada", json!({})).await;

    let answer = server
        .ok_as(
            &root,
            QUERY,
            json!({ "sql": "SELECT entity_id, name FROM entities ORDER BY entity_id;" }),
        )
        .await["runReadOnlyQuery"]
        .clone();
    assert_eq!(answer["columns"], json!(["entity_id", "name"]));
    assert_eq!(answer["rows"], json!([["ada", "Ada"], ["rex", "Rex"]]));
    assert_eq!(answer["truncated"], false);

    // A tenant's ADMIN would see every tenant's rows: refused outright.
    server
        .fails_as(&admin, QUERY, json!({ "sql": "SELECT 1" }), "FORBIDDEN")
        .await;

    // Writes, second statements, role changes: refused, and nothing changed.
    for sql in [
        "DELETE FROM entities",
        "SELECT 1; DELETE FROM entities",
        "WITH gone AS (DELETE FROM entities RETURNING *) SELECT count(*) FROM gone",
        "SET ROLE postgres",
        "SELECT set_config('role', session_user, true)",
        "SELECT nextval(pg_get_serial_sequence('event_log', 'seq'))",
    ] {
        refused(&server, &root, sql).await;
    }
    // What a query may do at all is undone: the transaction is read-only and never commits.
    let made = server
        .ok_as(
            &root,
            QUERY,
            json!({ "sql": "SELECT lo_create(0) IS NOT NULL AS made" }),
        )
        .await;
    assert_eq!(made["runReadOnlyQuery"]["rows"], json!([[true]]));
    let mut db = server.db().await;
    assert_eq!(
        count_rows(&mut db, "SELECT count(*) AS n FROM pg_largeobject_metadata").await,
        0
    );
    let setting = server
        .ok_as(
            &root,
            QUERY,
            json!({ "sql": "SELECT current_setting('transaction_read_only') AS ro, current_user AS who" }),
        )
        .await;
    assert_eq!(
        setting["runReadOnlyQuery"]["rows"],
        json!([["on", "loregraph_reader"]])
    );
    // Secrets are not there to read.
    let message = refused(&server, &root, "SELECT password_hash FROM users").await;
    assert!(message.contains("permission denied"), "{message}");
    refused(&server, &root, "SELECT * FROM server_secrets").await;
    refused(&server, &root, "SELECT access_key FROM assets").await;
    let emails = server
        .ok_as(
            &root,
            QUERY,
            json!({ "sql": "SELECT email FROM users ORDER BY email" }),
        )
        .await["runReadOnlyQuery"]["rowCount"]
        .clone();
    assert_eq!(emails, 2);
    let count = server
        .ok_as(
            &root,
            QUERY,
            json!({ "sql": "SELECT count(*) AS n FROM entities" }),
        )
        .await["runReadOnlyQuery"]["rows"][0][0]
        .clone();
    assert_eq!(count, 2);

    // At most 500 rows come back.
    let many = server
        .ok_as(
            &root,
            QUERY,
            json!({ "sql": "SELECT generate_series(1, 1000) AS n" }),
        )
        .await["runReadOnlyQuery"]
        .clone();
    assert_eq!(many["rowCount"], 500);
    assert_eq!(many["truncated"], true);
    // A query that runs too long is stopped.
    let message = refused(&server, &root, "SELECT pg_sleep(30)").await;
    assert!(message.contains("timeout"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_and_a_tenants_entities_in_numbers() {
    let server = TestServer::start().await;
    let root = server.superuser("root@numbers.test").await;
    let admin = server.register("admin@numbers.test", "Numbers").await;
    let other = server.register("admin@elsewhere.test", "Elsewhere").await;
    create_entity(&server, &admin, "CHARACTER", "rex", "Rex", json!({})).await;
    create_entity(&server, &admin, "LOCATION", "keep", "Keep", json!({})).await;
    server
        .ok_as(
            &admin,
            "mutation { deleteEntity(type: LOCATION, entityId: \"keep\") }",
            json!({}),
        )
        .await;

    const COUNTS: &str = "{ entityCounts { entityType live recycled } }";
    let counts = server.ok_as(&admin, COUNTS, json!({})).await["entityCounts"].clone();
    let of = |counts: &Value, kind: &str| {
        counts
            .as_array()
            .and_then(|all| all.iter().find(|c| c["entityType"] == kind).cloned())
            .expect("every type is counted")
    };
    assert_eq!(
        of(&counts, "CHARACTER"),
        json!({ "entityType": "CHARACTER", "live": 1, "recycled": 0 })
    );
    assert_eq!(
        of(&counts, "LOCATION"),
        json!({ "entityType": "LOCATION", "live": 0, "recycled": 1 })
    );
    let theirs = server.ok_as(&other, COUNTS, json!({})).await["entityCounts"].clone();
    assert_eq!(of(&theirs, "CHARACTER")["live"], 0);

    const STATS: &str = "{ databaseStatistics { databaseBytes connections serverVersion
        tables { name totalBytes } } }";
    server.fails_as(&admin, STATS, json!({}), "FORBIDDEN").await;
    let stats = server.ok_as(&root, STATS, json!({})).await["databaseStatistics"].clone();
    assert!(stats["databaseBytes"].as_i64().unwrap_or_default() > 0);
    assert!(stats["connections"].as_i64().unwrap_or_default() >= 1);
    assert!(
        stats["tables"]
            .as_array()
            .is_some_and(|tables| tables.iter().any(|t| t["name"] == "entities")),
        "{stats}"
    );
}
