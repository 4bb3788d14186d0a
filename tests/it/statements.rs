//! Loading a page of entities with their references, referrers and relationships costs a fixed
//! number of SQL statements, whatever the page size: counted by pg_stat_statements.

use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::{Value, json};

use crate::entities::create_entity;
use crate::harness::*;

#[derive(QueryableByName)]
struct Calls {
    #[diesel(sql_type = BigInt)]
    calls: i64,
}

/// A connection to the test database with pg_stat_statements ready to count.
async fn statement_counter(server: &TestServer) -> AsyncPgConnection {
    let mut db = server.db().await;
    diesel::sql_query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        .execute(&mut db)
        .await
        .expect("create the pg_stat_statements extension");
    db
}

async fn statements_so_far(conn: &mut AsyncPgConnection) -> i64 {
    diesel::sql_query(
        "SELECT coalesce(sum(calls), 0)::bigint AS calls FROM pg_stat_statements
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .get_result::<Calls>(conn)
    .await
    .expect("pg_stat_statements must be loaded (shared_preload_libraries) for this test")
    .calls
}

const PAGE: &str =
    "query($limit: Int!) { entities(type: CHARACTER, limit: $limit, sortBy: NAME, sortOrder: ASC) {
    total entities {
        entityId name isValid validationErrors createdBy { displayName }
        references { kind entity { entityId name } }
        referencedBy { kind entity { entityId name } }
        relationships { kind origin entity { entityId } }
    } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nested_page_costs_the_same_statements_for_5_and_for_50_entities() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    create_entity(
        &server,
        &owner,
        "LOCATION",
        "harbor",
        "Harbor",
        json!({ "location_type": "port" }),
    )
    .await;
    create_entity(
        &server,
        &owner,
        "FACTION",
        "crew",
        "Crew",
        json!({ "leader": "c00" }),
    )
    .await;
    for n in 0..50 {
        create_entity(
            &server,
            &owner,
            "CHARACTER",
            &format!("c{n:02}"),
            &format!("Character {n:02}"),
            json!({
                "primary_location": "harbor",
                "faction": "crew",
                "friends": [{ "character_id": format!("c{:02}", (n + 1) % 50) }, { "character_id": "missing" }],
            }),
        )
        .await;
        if n % 2 == 0 {
            server
                .ok_as(
                    &owner,
                    "mutation($id: String!) { createRelationship(from: { type: CHARACTER, entityId: $id }, to: { type: LOCATION, entityId: \"harbor\" }, kind: \"docks_at\") { id } }",
                    json!({ "id": format!("c{n:02}") }),
                )
                .await;
        }
    }

    let mut db = statement_counter(&server).await;
    // Warm up: the pool opens its connections and the viewer's session is cached.
    for _ in 0..2 {
        server.ok_as(&owner, PAGE, json!({ "limit": 50 })).await;
    }

    let mut cost = Vec::new();
    for limit in [5, 50] {
        let before = statements_so_far(&mut db).await;
        let data = server.ok_as(&owner, PAGE, json!({ "limit": limit })).await;
        let after = statements_so_far(&mut db).await;
        let page = data["entities"]["entities"].as_array().unwrap();
        assert_eq!(page.len(), limit);
        // The page really is nested: every entity resolved its links.
        assert!(
            page.iter()
                .all(|e| e["references"].as_array().unwrap().len() == 4),
            "{page:?}"
        );
        assert!(page.iter().all(|e| e["isValid"] == false));
        assert_eq!(
            page[0]["relationships"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["origin"] == "EXPLICIT")
                .count(),
            1
        );
        // One of the two counted statements is the first count query itself.
        cost.push(after - before - 1);
    }
    assert_eq!(
        cost[0], cost[1],
        "statements for 5 and for 50 entities: {cost:?}"
    );
    assert!(cost[0] <= 8, "a nested page took {} statements", cost[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_counts_its_total_only_when_asked_for_it() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    create_entity(&server, &owner, "LOCATION", "harbor", "Harbor", json!({})).await;
    for n in 0..3 {
        create_entity(
            &server,
            &owner,
            "CHARACTER",
            &format!("c{n}"),
            &format!("Character {n}"),
            json!({ "primary_location": "harbor" }),
        )
        .await;
    }
    let mut db = statement_counter(&server).await;
    let page = |total: &str| {
        format!(
            "{{ entities(type: CHARACTER, limit: 2, sortBy: NAME, sortOrder: ASC) {{ {total} entities {{ entityId
                location: references(kind: \"primary_location\") {{ entity {{ entityId }} }} }} }} }}"
        )
    };
    let mut cost = Vec::new();
    for total in ["", "total", "howMany: total"] {
        let query = page(total);
        server.ok_as(&owner, &query, json!({})).await;
        // The least of two runs: a session check falling due in between only ever adds one.
        let mut least = i64::MAX;
        let mut data = Value::Null;
        for _ in 0..2 {
            let before = statements_so_far(&mut db).await;
            data = server.ok_as(&owner, &query, json!({})).await;
            let after = statements_so_far(&mut db).await;
            least = least.min(after - before - 1);
        }
        let page = &data["entities"];
        assert_eq!(
            page["entities"][1]["location"][0]["entity"]["entityId"],
            "harbor"
        );
        match total {
            "total" => assert_eq!(page["total"], 3),
            "howMany: total" => assert_eq!(page["howMany"], 3),
            _ => assert!(page.get("total").is_none()),
        }
        cost.push(least);
    }
    // The page and its references; the count only when the total is selected, under any alias.
    assert_eq!(cost, vec![2, 3, 3], "statements per page: {cost:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_showing_two_kinds_of_reference_reads_them_in_one_statement() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    create_entity(&server, &owner, "LOCATION", "harbor", "Harbor", json!({})).await;
    create_entity(&server, &owner, "FACTION", "crew", "Crew", json!({})).await;
    for n in 0..6 {
        create_entity(
            &server,
            &owner,
            "CHARACTER",
            &format!("c{n}"),
            &format!("Character {n}"),
            json!({
                "primary_location": "harbor",
                "faction": "crew",
                "friends": [{ "character_id": format!("c{}", (n + 1) % 6) }],
            }),
        )
        .await;
    }
    let page = |extra: &str| {
        format!(
            "query($limit: Int!) {{ entities(type: CHARACTER, limit: $limit, sortBy: NAME) {{ entities {{
                entityId {extra}
                faction: references(kind: \"faction\") {{ kind entity {{ entityId name }} }}
                location: references(kind: \"primary_location\") {{ kind entity {{ entityId }} }}
            }} }} }}"
        )
    };
    let mut db = statement_counter(&server).await;
    let mut cost = Vec::new();
    for (extra, limit) in [("", 3), ("", 6), ("validationErrors", 6)] {
        // The least of two runs: a session check the viewer's cache makes now and then is not
        // the page's cost.
        let mut least = i64::MAX;
        let mut data = Value::Null;
        for _ in 0..2 {
            let before = statements_so_far(&mut db).await;
            data = server
                .ok_as(&owner, &page(extra), json!({ "limit": limit }))
                .await;
            least = least.min(statements_so_far(&mut db).await - before);
        }
        cost.push(least);
        let entities = data["entities"]["entities"].as_array().unwrap();
        assert_eq!(entities.len(), limit);
        for entity in entities {
            // Each list holds its own field's references only: never the friends.
            assert_eq!(
                entity["faction"],
                json!([{ "kind": "faction", "entity": { "entityId": "crew", "name": "Crew" } }])
            );
            assert_eq!(
                entity["location"],
                json!([{ "kind": "primary_location", "entity": { "entityId": "harbor" } }])
            );
        }
    }
    // The page and one statement for both kinds of every entity on it, whatever its size;
    // asking for the validation errors too reads every reference instead, still once.
    assert_eq!(cost[0], cost[1], "{cost:?}");
    assert_eq!(cost[1], cost[2], "{cost:?}");
}

#[derive(QueryableByName)]
struct Statement {
    #[diesel(sql_type = diesel::sql_types::Text)]
    query: String,
    #[diesel(sql_type = BigInt)]
    calls: i64,
}

/// Every statement this database has run so far with its count, the event log's appends
/// left out (the relay writes them on its own connection, batched, after the request has
/// answered; the benchmark counts them).
async fn statements_by_text(
    conn: &mut AsyncPgConnection,
) -> std::collections::HashMap<String, i64> {
    diesel::sql_query(
        "SELECT query, calls FROM pg_stat_statements
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND query NOT LIKE '%INSERT INTO event_log%' AND query NOT LIKE '%pg_stat_statements%'",
    )
    .load::<Statement>(conn)
    .await
    .expect("pg_stat_statements must be loaded")
    .into_iter()
    .map(|s| (s.query, s.calls))
    .collect()
}

/// The statements `run` made the server send (the fewest of three tries: a session check
/// falling due in between only ever adds one), with their texts for the failure message.
async fn statements_of<F, Fut>(db: &mut AsyncPgConnection, mut run: F) -> (i64, Vec<String>)
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut least = (i64::MAX, Vec::new());
    for attempt in 0..3 {
        let before = statements_by_text(db).await;
        run(attempt).await;
        let after = statements_by_text(db).await;
        let mut sent = Vec::new();
        let mut count = 0;
        for (query, calls) in &after {
            let new = calls - before.get(query).copied().unwrap_or(0);
            if new > 0 {
                count += new;
                sent.push(format!("{new} × {query}"));
            }
        }
        if count < least.0 {
            least = (count, sent);
        }
    }
    least
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_costs_two_statements_and_a_create_one_besides_their_event() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    create_entity(&server, &owner, "LOCATION", "harbor", "Harbor", json!({})).await;
    create_entity(&server, &owner, "LOCATION", "docks", "Docks", json!({})).await;
    create_entity(
        &server,
        &owner,
        "CHARACTER",
        "rex",
        "Rex",
        json!({ "primary_location": "harbor" }),
    )
    .await;
    let mut db = statement_counter(&server).await;
    let update = "mutation($input: UpdateEntityInput!) {
        updateEntity(type: CHARACTER, entityId: \"rex\", input: $input) { version fields } }";

    // A field that is no reference, then the reference itself (rewritten in the same write).
    let server = &server;
    let owner = &owner;
    for (label, fields) in [
        ("a plain field", json!({ "mood": "calm" })),
        ("a reference", json!({ "primary_location": "docks" })),
    ] {
        let (cost, sent) = statements_of(&mut db, |attempt| {
            let mut fields = fields.clone();
            if fields.get("mood").is_some() {
                fields["mood"] = json!(format!("calm {attempt}"));
            } else {
                let to = if attempt % 2 == 0 { "docks" } else { "harbor" };
                fields["primary_location"] = json!(to);
            }
            async move {
                let data = server
                    .ok_as(
                        owner,
                        update,
                        json!({ "input": { "fields": fields.clone() } }),
                    )
                    .await;
                let saved = &data["updateEntity"]["fields"];
                for (key, value) in fields.as_object().unwrap() {
                    assert_eq!(&saved[key], value, "the update was saved");
                }
            }
        })
        .await;
        // The row read, then one statement writing row, revision and references.
        assert!(
            cost <= 2,
            "an update of {label} sent {cost} statements:\n{}",
            sent.join("\n")
        );
    }
    // The reference really was rewritten each time: the last update (the third) pointed rex
    // at the docks, and the harbor lost it.
    let locations = server
        .ok_as(
            owner,
            "{ docks: entity(type: LOCATION, entityId: \"docks\") { referencedBy { entity { entityId } } }
               harbor: entity(type: LOCATION, entityId: \"harbor\") { referencedBy { entity { entityId } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        locations["docks"]["referencedBy"],
        json!([{ "entity": { "entityId": "rex" } }]),
        "{locations}"
    );
    assert_eq!(
        locations["harbor"]["referencedBy"],
        json!([]),
        "{locations}"
    );

    let (cost, sent) = statements_of(&mut db, |attempt| async move {
        let data = server
            .ok_as(
                owner,
                "mutation($input: CreateEntityInput!) {
                    createEntity(type: CHARACTER, input: $input) { entityId version } }",
                json!({ "input": { "entityId": format!("new{attempt}"), "name": "Newcomer",
                    "fields": { "primary_location": "harbor" } } }),
            )
            .await;
        assert_eq!(data["createEntity"]["version"], 1);
    })
    .await;
    // One statement: the row, its references and its first revision.
    assert!(
        cost <= 1,
        "a create sent {cost} statements:\n{}",
        sent.join("\n")
    );
}
