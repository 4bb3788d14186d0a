//! Finding entities: ranked full-text search across types (names, field values and markdown,
//! with prefix matching), snippets, the type filter and limits, searching one type's list,
//! the recently changed entities, and the wall between tenants.

use serde_json::{Value, json};

use crate::entities::create_entity;
use crate::harness::*;

const SEARCH: &str = "query($query: String!, $types: [EntityType!], $limit: Int) {
    search(query: $query, types: $types, limit: $limit) { rank snippet entity { entityType entityId name } } }";

const LIST: &str = "query($type: EntityType!, $search: String, $offset: Int, $limit: Int) {
    entities(type: $type, search: $search, offset: $offset, limit: $limit) { total offset limit entities { entityId } } }";

const RECENT: &str = "query($limit: Int) { recent(limit: $limit) { entityType entityId } }";

const UPDATE: &str = "mutation($type: EntityType!, $id: String!, $input: UpdateEntityInput!) {
    updateEntity(type: $type, entityId: $id, input: $input) { entityId version } }";

/// The entity ids of a `search` answer, best first.
fn hit_ids(hits: &Value) -> Vec<String> {
    hits.as_array()
        .expect("hits")
        .iter()
        .map(|h| {
            h["entity"]["entityId"]
                .as_str()
                .expect("entityId")
                .to_owned()
        })
        .collect()
}

fn page_ids(page: &Value) -> Vec<String> {
    page["entities"]
        .as_array()
        .expect("entities")
        .iter()
        .map(|e| e["entityId"].as_str().expect("entityId").to_owned())
        .collect()
}

fn recent_ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("recent")
        .iter()
        .map(|e| e["entityId"].as_str().expect("entityId").to_owned())
        .collect()
}

async fn search(server: &TestServer, account: &Account, variables: Value) -> Value {
    server.ok_as(account, SEARCH, variables).await["search"].clone()
}

/// A tavern named "Rusty Anchor" (name match), a character nicknamed "Rustbucket" (field
/// match), a character whose markdown mentions a rusty tavern (markdown match), and one that
/// matches nothing.
async fn seed_harbor(server: &TestServer, account: &Account) {
    create_entity(
        server,
        account,
        "LOCATION",
        "rusty_anchor",
        "Rusty Anchor",
        json!({ "location_type": "tavern" }),
    )
    .await;
    create_entity(
        server,
        account,
        "CHARACTER",
        "grease",
        "Grease Monkey",
        json!({ "nickname": "Rustbucket", "age": 51 }),
    )
    .await;
    create_entity(
        server,
        account,
        "CHARACTER",
        "pete",
        "Old Pete",
        json!({ "age": 70 }),
    )
    .await;
    server
        .ok_as(
            account,
            UPDATE,
            json!({ "type": "CHARACTER", "id": "pete", "input": {
                "markdownBody": "# Old Pete\nDrinks every night at the rusty tavern by the docks.\n"
            }}),
        )
        .await;
    create_entity(
        server,
        account,
        "CHARACTER",
        "mara",
        "Mara",
        json!({ "nickname": "Ghost" }),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_ranks_name_matches_above_field_and_markdown_matches() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    seed_harbor(&server, &owner).await;

    // "rust" is a prefix of "Rusty" (a name, and a word in Pete's markdown) and of
    // "Rustbucket" (a field value); Mara matches nothing.
    let hits = search(&server, &owner, json!({ "query": "rust" })).await;
    assert_eq!(hit_ids(&hits), ["rusty_anchor", "grease", "pete"], "{hits}");
    assert_eq!(hits[0]["entity"]["entityType"], "LOCATION");
    assert_eq!(hits[0]["entity"]["name"], "Rusty Anchor");
    let ranks: Vec<f64> = hits
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["rank"].as_f64().expect("rank"))
        .collect();
    assert!(
        ranks[0] > ranks[1] && ranks[1] > ranks[2],
        "best first: {ranks:?}"
    );
    assert!(ranks[2] > 0.0, "{ranks:?}");

    // The snippet shows the markdown around the match, and only when the match is there.
    let pete = &hits[2];
    let snippet = pete["snippet"].as_str().expect("pete's markdown matches");
    assert!(snippet.contains("rusty tavern"), "{snippet}");
    assert!(
        hits[1]["snippet"].is_null(),
        "Rustbucket is only in a field: {hits}"
    );
    assert!(
        hits[0]["snippet"]
            .as_str()
            .expect("the heading names the tavern")
            .contains("Rusty Anchor"),
        "{hits}"
    );

    // Prefixes of other words, and several words (all must match).
    let hits = search(&server, &owner, json!({ "query": "rustb" })).await;
    assert_eq!(hit_ids(&hits), ["grease"]);
    let hits = search(&server, &owner, json!({ "query": "anch" })).await;
    assert_eq!(hit_ids(&hits), ["rusty_anchor"]);
    let hits = search(&server, &owner, json!({ "query": "Rust docks" })).await;
    assert_eq!(hit_ids(&hits), ["pete"]);
    let hits = search(&server, &owner, json!({ "query": "zeppelin" })).await;
    assert_eq!(hits, json!([]));

    // Only the types asked for.
    let hits = search(
        &server,
        &owner,
        json!({ "query": "rust", "types": ["CHARACTER"] }),
    )
    .await;
    assert_eq!(hit_ids(&hits), ["grease", "pete"]);
    let hits = search(
        &server,
        &owner,
        json!({ "query": "rust", "types": ["LOCATION", "FACTION"] }),
    )
    .await;
    assert_eq!(hit_ids(&hits), ["rusty_anchor"]);
    let hits = search(
        &server,
        &owner,
        json!({ "query": "rust", "types": ["ITEM"] }),
    )
    .await;
    assert_eq!(hits, json!([]));

    // At most `limit` hits, the best ones.
    let hits = search(&server, &owner, json!({ "query": "rust", "limit": 1 })).await;
    assert_eq!(hit_ids(&hits), ["rusty_anchor"]);
    let hits = search(&server, &owner, json!({ "query": "rust", "limit": 2 })).await;
    assert_eq!(hit_ids(&hits), ["rusty_anchor", "grease"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_limits_and_queries_without_words_are_refused() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    seed_harbor(&server, &owner).await;

    for limit in [0, 201, -1] {
        let body = server
            .gql_as(&owner, SEARCH, json!({ "query": "rust", "limit": limit }))
            .await;
        assert_eq!(
            error_code(&body),
            "BAD_USER_INPUT",
            "limit {limit} → {body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], "limit", "{body}");
    }
    let hits = search(&server, &owner, json!({ "query": "rust", "limit": 200 })).await;
    assert_eq!(hit_ids(&hits).len(), 3);

    for query in ["!!!", "", "   ", "&|!():*"] {
        let body = server
            .gql_as(&owner, SEARCH, json!({ "query": query }))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{query:?} → {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "query", "{body}");
    }

    // Search syntax in the text is ignored rather than breaking the query.
    let hits = search(&server, &owner, json!({ "query": "rust & !docks |" })).await;
    assert_eq!(hit_ids(&hits), ["pete"], "{hits}");

    for limit in [0, 201] {
        let body = server
            .gql_as(&owner, RECENT, json!({ "limit": limit }))
            .await;
        assert_eq!(
            error_code(&body),
            "BAD_USER_INPUT",
            "recent limit {limit} → {body}"
        );
    }

    // Anonymous callers are turned away.
    let body = server.gql(None, SEARCH, json!({ "query": "rust" })).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    let body = server.gql(None, RECENT, json!({})).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_entities_leave_search_and_come_back_when_restored() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    seed_harbor(&server, &owner).await;

    server
        .ok_as(
            &owner,
            "mutation { deleteEntity(type: LOCATION, entityId: \"rusty_anchor\") }",
            json!({}),
        )
        .await;
    let hits = search(&server, &owner, json!({ "query": "rust" })).await;
    assert_eq!(hit_ids(&hits), ["grease", "pete"]);
    let hits = search(&server, &owner, json!({ "query": "anchor" })).await;
    assert_eq!(hits, json!([]));
    let page = server
        .ok_as(
            &owner,
            LIST,
            json!({ "type": "LOCATION", "search": "rust" }),
        )
        .await;
    assert_eq!(page["entities"]["total"], 0);

    server
        .ok_as(
            &owner,
            "mutation { restoreEntity(type: LOCATION, entityId: \"rusty_anchor\") { entityId } }",
            json!({}),
        )
        .await;
    let hits = search(&server, &owner, json!({ "query": "rust" })).await;
    assert_eq!(hit_ids(&hits), ["rusty_anchor", "grease", "pete"]);

    // What an update writes is what search finds.
    server
        .ok_as(&owner, UPDATE, json!({ "type": "CHARACTER", "id": "grease", "input": { "fields": { "nickname": "Sparky" } } }))
        .await;
    let hits = search(&server, &owner, json!({ "query": "rust" })).await;
    assert_eq!(hit_ids(&hits), ["rusty_anchor", "pete"]);
    let hits = search(&server, &owner, json!({ "query": "spark" })).await;
    assert_eq!(hit_ids(&hits), ["grease"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_type_list_filtered_by_search_reports_the_matching_total() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    seed_harbor(&server, &owner).await;

    let data = server
        .ok_as(&owner, LIST, json!({ "type": "CHARACTER" }))
        .await;
    assert_eq!(data["entities"]["total"], 3);

    // Best matches first: a field value outranks a word in the markdown.
    let data = server
        .ok_as(
            &owner,
            LIST,
            json!({ "type": "CHARACTER", "search": "rust" }),
        )
        .await;
    assert_eq!(data["entities"]["total"], 2);
    assert_eq!(page_ids(&data["entities"]), ["grease", "pete"]);

    let data = server
        .ok_as(
            &owner,
            LIST,
            json!({ "type": "CHARACTER", "search": "rust", "limit": 1 }),
        )
        .await;
    assert_eq!(data["entities"]["total"], 2, "the total counts every page");
    assert_eq!(data["entities"]["limit"], 1);
    assert_eq!(page_ids(&data["entities"]), ["grease"]);
    let data = server
        .ok_as(
            &owner,
            LIST,
            json!({ "type": "CHARACTER", "search": "rust", "offset": 1, "limit": 1 }),
        )
        .await;
    assert_eq!(data["entities"]["total"], 2);
    assert_eq!(page_ids(&data["entities"]), ["pete"]);

    let data = server
        .ok_as(
            &owner,
            LIST,
            json!({ "type": "CHARACTER", "search": "ghost" }),
        )
        .await;
    assert_eq!(data["entities"]["total"], 1);
    assert_eq!(page_ids(&data["entities"]), ["mara"]);

    let data = server
        .ok_as(
            &owner,
            LIST,
            json!({ "type": "LOCATION", "search": "rust" }),
        )
        .await;
    assert_eq!(data["entities"]["total"], 1);
    assert_eq!(page_ids(&data["entities"]), ["rusty_anchor"]);

    let data = server
        .ok_as(&owner, LIST, json!({ "type": "FACTION", "search": "rust" }))
        .await;
    assert_eq!(data["entities"]["total"], 0);
    assert_eq!(data["entities"]["entities"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recent_lists_live_entities_newest_change_first() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    create_entity(&server, &owner, "CHARACTER", "alpha", "Alpha", json!({})).await;
    create_entity(
        &server,
        &owner,
        "LOCATION",
        "bay",
        "Bay",
        json!({ "location_type": "harbor" }),
    )
    .await;
    create_entity(&server, &owner, "CHARACTER", "cole", "Cole", json!({})).await;

    let data = server.ok_as(&owner, RECENT, json!({})).await;
    assert_eq!(recent_ids(&data["recent"]), ["cole", "bay", "alpha"]);
    assert_eq!(data["recent"][1]["entityType"], "LOCATION");

    // Changing the oldest moves it to the front.
    server
        .ok_as(
            &owner,
            UPDATE,
            json!({ "type": "CHARACTER", "id": "alpha", "input": { "fields": { "age": 40 } } }),
        )
        .await;
    let data = server.ok_as(&owner, RECENT, json!({})).await;
    assert_eq!(recent_ids(&data["recent"]), ["alpha", "cole", "bay"]);
    let data = server.ok_as(&owner, RECENT, json!({ "limit": 2 })).await;
    assert_eq!(recent_ids(&data["recent"]), ["alpha", "cole"]);

    // Deleted entities drop out; a restore is a change and brings one back in front.
    server
        .ok_as(
            &owner,
            "mutation { deleteEntity(type: CHARACTER, entityId: \"cole\") }",
            json!({}),
        )
        .await;
    let data = server.ok_as(&owner, RECENT, json!({})).await;
    assert_eq!(recent_ids(&data["recent"]), ["alpha", "bay"]);
    server
        .ok_as(
            &owner,
            "mutation { restoreEntity(type: CHARACTER, entityId: \"cole\") { entityId } }",
            json!({}),
        )
        .await;
    let data = server.ok_as(&owner, RECENT, json!({})).await;
    assert_eq!(recent_ids(&data["recent"]), ["cole", "alpha", "bay"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenant_finds_nothing_of_ours() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    let other = server.register("other@example.com", "Other").await;
    seed_harbor(&server, &owner).await;

    for query in ["rust", "anchor", "pete", "docks", "ghost"] {
        let hits = search(&server, &other, json!({ "query": query })).await;
        assert_eq!(hits, json!([]), "{query}");
    }
    let data = server
        .ok_as(
            &other,
            LIST,
            json!({ "type": "CHARACTER", "search": "rust" }),
        )
        .await;
    assert_eq!(data["entities"]["total"], 0);
    let data = server.ok_as(&other, RECENT, json!({})).await;
    assert_eq!(data["recent"], json!([]));

    // Its own entities are all it finds, and ours do not see them.
    create_entity(
        &server,
        &other,
        "ITEM",
        "rusty_nail",
        "Rusty Nail",
        json!({}),
    )
    .await;
    let hits = search(&server, &other, json!({ "query": "rust" })).await;
    assert_eq!(hit_ids(&hits), ["rusty_nail"]);
    let data = server.ok_as(&other, RECENT, json!({})).await;
    assert_eq!(recent_ids(&data["recent"]), ["rusty_nail"]);
    let hits = search(&server, &owner, json!({ "query": "rust" })).await;
    assert_eq!(hit_ids(&hits), ["rusty_anchor", "grease", "pete"]);
    let hits = search(&server, &owner, json!({ "query": "nail" })).await;
    assert_eq!(hits, json!([]));
}
