//! Lists by cursor (Relay connections): a walk sees every row that existed when it started
//! exactly once while rows are added, backward pages mirror forward ones, and a cursor works
//! only in the list, sort and tenant it was given out for: altered, foreign or misplaced
//! cursors are BAD_USER_INPUT. Offset pages stop at a documented depth.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::entities::create_entity;
use crate::harness::*;

const CHARACTERS_BY_NAME: &str = "query($first: Int, $after: String, $last: Int, $before: String) {
    entitiesConnection(type: CHARACTER, sortBy: NAME, sortOrder: ASC,
                       first: $first, after: $after, last: $last, before: $before) {
        edges { cursor node { entityId name } }
        nodes { entityId }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";

const CHARACTERS_BY_CHANGE: &str = "query($after: String) {
    entitiesConnection(type: CHARACTER, first: 5, after: $after) {
        edges { node { entityId } } pageInfo { hasNextPage endCursor } } }";

async fn create_characters(server: &TestServer, owner: &Account, ids: impl Iterator<Item = u32>) {
    for n in ids {
        create_entity(
            server,
            owner,
            "CHARACTER",
            &format!("c{n:03}"),
            &format!("Character {n:03}"),
            json!({}),
        )
        .await;
    }
}

fn entity_ids(page: &Value) -> Vec<String> {
    page["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| {
            edge["node"]["entityId"]
                .as_str()
                .expect("entityId")
                .to_owned()
        })
        .collect()
}

/// Walks a connection forward from its start, `next(after)` giving each page, and returns
/// every entity id in the order seen.
async fn walk<F, Fut>(mut next: F) -> Vec<String>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Value>,
{
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..200 {
        let page = next(after.clone()).await;
        seen.extend(entity_ids(&page));
        if !page["pageInfo"]["hasNextPage"]
            .as_bool()
            .expect("hasNextPage")
        {
            return seen;
        }
        after = Some(
            page["pageInfo"]["endCursor"]
                .as_str()
                .expect("endCursor")
                .to_owned(),
        );
    }
    panic!("the walk never ended");
}

fn assert_each_once(seen: &[String], expected: &[String]) {
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "a row came twice: {seen:?}");
    for id in expected {
        assert!(unique.contains(id), "{id} was skipped: {seen:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_walk_sees_every_entity_once_while_others_are_added() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    create_characters(&server, &owner, (0..80).step_by(2)).await;
    let existing: Vec<String> = (0..80).step_by(2).map(|n| format!("c{n:03}")).collect();

    // By name: rows added between pages land before the walk's position and after it.
    let mut added = 1;
    let seen = walk(|after| {
        let (server, owner) = (&server, &owner);
        let add = added;
        added += 2;
        async move {
            let data = server
                .ok_as(
                    owner,
                    CHARACTERS_BY_NAME,
                    json!({ "first": 6, "after": after }),
                )
                .await;
            create_characters(server, owner, [add, 200 + add].into_iter()).await;
            data["entitiesConnection"].clone()
        }
    })
    .await;
    assert_each_once(&seen, &existing);
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "a walk by name goes in name order");

    // By last change, with another client writing all the while.
    let all = server
        .ok_as(
            &owner,
            "{ entities(type: CHARACTER, limit: 200) { entities { entityId } } }",
            json!({}),
        )
        .await;
    let existed: Vec<String> = all["entities"]["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["entityId"].as_str().unwrap().to_owned())
        .collect();
    let walking = walk(|after| {
        let (server, owner) = (&server, &owner);
        async move {
            server
                .ok_as(owner, CHARACTERS_BY_CHANGE, json!({ "after": after }))
                .await["entitiesConnection"]
                .clone()
        }
    });
    let (seen, ()) = tokio::join!(walking, create_characters(&server, &owner, 300..330));
    // Rows written while the walk went on are newer than its position: they may or may not
    // be seen, but every row that existed before is seen exactly once.
    assert_each_once(&seen, &existed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backward_pages_mirror_forward_pages() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    create_characters(&server, &owner, 0..11).await;

    let first = server
        .ok_as(&owner, CHARACTERS_BY_NAME, json!({ "first": 4 }))
        .await["entitiesConnection"]
        .clone();
    assert_eq!(entity_ids(&first), ["c000", "c001", "c002", "c003"]);
    assert_eq!(
        first["nodes"][3]["entityId"], "c003",
        "nodes repeat the edges"
    );
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    assert_eq!(first["pageInfo"]["hasPreviousPage"], false);
    assert_eq!(first["pageInfo"]["endCursor"], first["edges"][3]["cursor"]);

    let last = server
        .ok_as(&owner, CHARACTERS_BY_NAME, json!({ "last": 4 }))
        .await["entitiesConnection"]
        .clone();
    assert_eq!(entity_ids(&last), ["c007", "c008", "c009", "c010"]);
    assert_eq!(last["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(last["pageInfo"]["hasNextPage"], false);

    // Back from the last page's start: the four before it, still in list order.
    let before = server
        .ok_as(
            &owner,
            CHARACTERS_BY_NAME,
            json!({ "last": 4, "before": last["pageInfo"]["startCursor"] }),
        )
        .await["entitiesConnection"]
        .clone();
    assert_eq!(entity_ids(&before), ["c003", "c004", "c005", "c006"]);
    assert_eq!(before["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(before["pageInfo"]["hasNextPage"], true);

    // And back to the start: fewer than asked, and nothing before them.
    let start = server
        .ok_as(
            &owner,
            CHARACTERS_BY_NAME,
            json!({ "last": 4, "before": before["pageInfo"]["startCursor"] }),
        )
        .await["entitiesConnection"]
        .clone();
    assert_eq!(entity_ids(&start), ["c000", "c001", "c002"]);
    assert_eq!(start["pageInfo"]["hasPreviousPage"], false);

    // Forward again from a page's end cursor goes on where it stopped.
    let next = server
        .ok_as(
            &owner,
            CHARACTERS_BY_NAME,
            json!({ "first": 2, "after": start["pageInfo"]["endCursor"] }),
        )
        .await["entitiesConnection"]
        .clone();
    assert_eq!(entity_ids(&next), ["c003", "c004"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_works_only_where_it_was_given_out() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    let outsider = server.register("outsider@example.com", "Rivals").await;
    create_characters(&server, &owner, 0..6).await;
    create_characters(&server, &outsider, 0..6).await;
    let page = server
        .ok_as(&owner, CHARACTERS_BY_NAME, json!({ "first": 2 }))
        .await["entitiesConnection"]
        .clone();
    let cursor = page["pageInfo"]["endCursor"].as_str().unwrap().to_owned();

    // Its own tenant goes on with it.
    let next = server
        .ok_as(
            &owner,
            CHARACTERS_BY_NAME,
            json!({ "first": 2, "after": cursor }),
        )
        .await;
    assert_eq!(entity_ids(&next["entitiesConnection"]), ["c002", "c003"]);

    // Another tenant, the same list: refused, not the other tenant's rows.
    let body = server
        .gql_as(
            &outsider,
            CHARACTERS_BY_NAME,
            json!({ "first": 2, "after": cursor }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert!(body["data"].is_null() || body["data"]["entitiesConnection"].is_null());

    // Another sort of the same list, and another list.
    server
        .fails_as(
            &owner,
            CHARACTERS_BY_CHANGE,
            json!({ "after": cursor }),
            "BAD_USER_INPUT",
        )
        .await;
    server
        .fails_as(
            &owner,
            "query($after: String) { entitiesConnection(type: LOCATION, sortBy: NAME, \
             sortOrder: ASC, after: $after) { nodes { entityId } } }",
            json!({ "after": cursor }),
            "BAD_USER_INPUT",
        )
        .await;

    // Altered: one character of the key changed, or the key swapped for another row's.
    let (key, tag) = cursor.split_once('.').unwrap();
    let mut altered: Vec<char> = key.chars().collect();
    altered[4] = if altered[4] == 'A' { 'B' } else { 'A' };
    let altered = format!("{}.{tag}", altered.into_iter().collect::<String>());
    let other_key = page["edges"][0]["cursor"]
        .as_str()
        .unwrap()
        .split_once('.')
        .unwrap()
        .0;
    for forged in [
        altered,
        format!("{other_key}.{tag}"),
        "bm90IGEgY3Vyc29y".into(),
        String::new(),
        "x".repeat(4000),
    ] {
        server
            .fails_as(
                &owner,
                CHARACTERS_BY_NAME,
                json!({ "after": forged }),
                "BAD_USER_INPUT",
            )
            .await;
    }

    // Both directions at once, and counts out of bounds.
    for variables in [
        json!({ "first": 2, "last": 2 }),
        json!({ "first": 2, "before": cursor }),
        json!({ "first": 0 }),
        json!({ "last": 201 }),
    ] {
        server
            .fails_as(&owner, CHARACTERS_BY_NAME, variables, "BAD_USER_INPUT")
            .await;
    }

    // Without an account there is no list to walk.
    let body = server
        .gql(None, CHARACTERS_BY_NAME, json!({ "first": 2 }))
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offset_pages_stop_at_ten_thousand() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    let page = "query($offset: Int) { entities(type: CHARACTER, offset: $offset) { total } }";
    server
        .ok_as(&owner, page, json!({ "offset": 10_000 }))
        .await;
    let body = server
        .gql_as(&owner, page, json!({ "offset": 10_001 }))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("cursor"),
        "the refusal points at cursors: {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_hits_by_cursor_are_the_ranking_page_by_page() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    for n in 0..23 {
        // Some match in the name (ranked higher), the rest in the body only.
        let name = if n % 3 == 0 {
            format!("Harbor master {n}")
        } else {
            format!("Sailor {n}")
        };
        let query = "mutation($input: CreateEntityInput!) {
            createEntity(type: CHARACTER, input: $input) { entityId } }";
        server
            .ok_as(
                &owner,
                query,
                json!({ "input": { "entityId": format!("s{n:02}"), "name": name,
                    "markdownBody": format!("Works at the harbor, berth {n}.") } }),
            )
            .await;
    }
    create_characters(&server, &owner, 0..3).await;

    let ranking = server
        .ok_as(
            &owner,
            "{ search(query: \"harbor\", limit: 200) { entity { entityId } } }",
            json!({}),
        )
        .await;
    let ranking: Vec<String> = ranking["search"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["entity"]["entityId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ranking.len(), 23);

    let walked = walk(|after| {
        let (server, owner) = (&server, &owner);
        async move {
            let data = server
                .ok_as(
                    owner,
                    "query($after: String) { searchConnection(query: \"harbor\", first: 4, \
                     after: $after) { edges { node { rank entity { entityId } } } \
                     pageInfo { hasNextPage endCursor } } }",
                    json!({ "after": after }),
                )
                .await;
            let mut page = data["searchConnection"].clone();
            // Lift each hit's entity to where `walk` reads it.
            for edge in page["edges"].as_array_mut().unwrap() {
                edge["node"] = edge["node"]["entity"].clone();
            }
            page
        }
    })
    .await;
    assert_eq!(
        walked, ranking,
        "the pages by cursor are the ranking, in order"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_is_bound_to_the_filters_of_its_list() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    for n in 0..3 {
        server
            .ok_as(
                &owner,
                "mutation($input: CreateNoteInput!) { createNote(input: $input) { id } }",
                json!({ "input": { "title": format!("Note {n}"), "content": "Harbor lore" } }),
            )
            .await;
    }
    let notes = "query($mine: Boolean!, $after: String) {
        notesConnection(mine: $mine, first: 1, after: $after) {
            nodes { title } pageInfo { endCursor } } }";
    let page = server.ok_as(&owner, notes, json!({ "mine": true })).await;
    let cursor = page["notesConnection"]["pageInfo"]["endCursor"].clone();
    // The same filters go on from it; other filters of the same list refuse it.
    let next = server
        .ok_as(&owner, notes, json!({ "mine": true, "after": cursor }))
        .await;
    assert_eq!(
        next["notesConnection"]["nodes"].as_array().unwrap().len(),
        1
    );
    server
        .fails_as(
            &owner,
            notes,
            json!({ "mine": false, "after": cursor }),
            "BAD_USER_INPUT",
        )
        .await;
}
