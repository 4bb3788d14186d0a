//! `entityUpdated` over WebSockets: every kind of change, with its actor, filtered by type and
//! id, and never another tenant's.

use serde_json::{Value, json};

use crate::entities::create_entity;
use crate::harness::*;

const EVENTS: &str =
    "subscription($type: EntityType, $id: String) { entityUpdated(type: $type, entityId: $id) {
    action entityType entityId previousEntityId actor { id } entity { name version deletedAt } } }";

async fn subscribe(server: &TestServer, account: &Account, variables: Value) -> Socket {
    subscribe_as(server, account, EVENTS, variables).await
}

async fn next_event(socket: &mut Socket) -> Value {
    next_data(socket, "entityUpdated").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_see_every_change_to_their_tenants_entities() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    let outsider = server.register("outsider@example.com", "Other").await;
    let mut everything = subscribe(&server, &owner, json!({})).await;
    let mut only_rex =
        subscribe(&server, &owner, json!({ "type": "CHARACTER", "id": "rex" })).await;
    let mut outsiders = subscribe(&server, &outsider, json!({})).await;

    create_entity(
        &server,
        &owner,
        "LOCATION",
        "garage",
        "Garage",
        json!({ "location_type": "garage" }),
    )
    .await;
    let garage = next_event(&mut everything).await;
    assert_eq!(garage["action"], "CREATED");
    assert_eq!(garage["entityType"], "LOCATION");
    assert_eq!(garage["actor"]["id"], owner.user_id.as_str());

    // Events carry ids and the subscriber loads the entity when the event reaches it, so each
    // change is read before the next is made: then the entity shows exactly that change.
    create_entity(&server, &owner, "CHARACTER", "rex", "Rex", json!({})).await;
    let mut seen = Vec::new();
    let read = async |socket: &mut Socket, seen: &mut Vec<(String, i64, bool)>| {
        let event = next_event(socket).await;
        seen.push((
            event["action"].as_str().unwrap().to_owned(),
            event["entity"]["version"].as_i64().unwrap(),
            event["entity"]["deletedAt"].is_null(),
        ));
    };
    read(&mut everything, &mut seen).await;
    let mutations = [
        "mutation { updateEntity(type: CHARACTER, entityId: \"rex\", input: { name: \"Rex II\" }) { version } }",
        "mutation { deleteEntity(type: CHARACTER, entityId: \"rex\") }",
        "mutation { restoreEntity(type: CHARACTER, entityId: \"rex\") { version } }",
        "mutation { renameEntity(type: CHARACTER, entityId: \"rex\", newEntityId: \"rexford\") { version } }",
    ];
    for mutation in mutations {
        server.ok_as(&owner, mutation, json!({})).await;
        read(&mut everything, &mut seen).await;
    }
    assert_eq!(
        seen,
        [
            ("CREATED".to_owned(), 1, true),
            ("UPDATED".to_owned(), 2, true),
            ("DELETED".to_owned(), 3, false),
            ("RESTORED".to_owned(), 4, true),
            ("RENAMED".to_owned(), 5, true),
        ]
    );

    // The filtered subscriber saw only Rex, up to and including his rename.
    let mut actions = Vec::new();
    for _ in 0..5 {
        let event = next_event(&mut only_rex).await;
        assert_eq!(event["entityType"], "CHARACTER");
        actions.push(event["action"].as_str().unwrap().to_owned());
        if event["action"] == "RENAMED" {
            assert_eq!(event["entityId"], "rexford");
            assert_eq!(event["previousEntityId"], "rex");
        }
    }
    assert_eq!(
        actions,
        ["CREATED", "UPDATED", "DELETED", "RESTORED", "RENAMED"]
    );

    // ...and keeps following it under its new id, while its old id is free for others.
    create_entity(
        &server,
        &owner,
        "CHARACTER",
        "rex",
        "Another Rex",
        json!({}),
    )
    .await;
    server
        .ok_as(&owner, "mutation { updateEntity(type: CHARACTER, entityId: \"rexford\", input: { name: \"Rexford\" }) { version } }", json!({}))
        .await;
    let event = next_event(&mut only_rex).await;
    assert_eq!(
        (event["action"].as_str(), event["entityId"].as_str()),
        (Some("UPDATED"), Some("rexford"))
    );
    for expected in ["CREATED", "UPDATED"] {
        assert_eq!(next_event(&mut everything).await["action"], expected);
    }

    // The other tenant's subscriber got nothing: its first event is its own.
    create_entity(
        &server,
        &outsider,
        "ITEM",
        "lamp",
        "Lamp",
        json!({ "item_type": "tool" }),
    )
    .await;
    let first = next_event(&mut outsiders).await;
    assert_eq!(first["entityId"], "lamp");

    // A relationship drawn by hand touches both its ends.
    server
        .ok_as(&owner, "mutation { createRelationship(from: { type: CHARACTER, entityId: \"rexford\" }, to: { type: LOCATION, entityId: \"garage\" }, kind: \"works_at\") { id } }", json!({}))
        .await;
    let mut touched = Vec::new();
    for _ in 0..2 {
        let event = next_event(&mut everything).await;
        assert_eq!(event["action"], "UPDATED");
        touched.push(event["entityId"].as_str().unwrap().to_owned());
    }
    touched.sort();
    assert_eq!(touched, ["garage", "rexford"]);

    // Purging announces the end, with no entity left to show.
    server
        .ok_as(
            &owner,
            "mutation { deleteEntity(type: LOCATION, entityId: \"garage\") }",
            json!({}),
        )
        .await;
    server
        .ok_as(
            &owner,
            "mutation { purgeEntity(type: LOCATION, entityId: \"garage\") }",
            json!({}),
        )
        .await;
    assert_eq!(next_event(&mut everything).await["action"], "DELETED");
    let purged = next_event(&mut everything).await;
    assert_eq!(purged["action"], "PURGED");
    assert!(purged["entity"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribing_needs_a_signed_in_viewer() {
    let server = TestServer::start().await;
    let mut socket = ws_connect(&server.ws_url("/graphql/ws"), "graphql-transport-ws").await;
    ws_send(
        &mut socket,
        json!({ "type": "connection_init", "payload": {} }),
    )
    .await;
    // Without credentials the socket may be acknowledged, but the subscription is refused.
    match ws_next(&mut socket).await {
        Ok(ack) => {
            assert_eq!(ack["type"], "connection_ack");
            ws_send(
                &mut socket,
                json!({ "id": "1", "type": "subscribe", "payload": { "query": EVENTS } }),
            )
            .await;
            let reply = ws_next(&mut socket).await.expect("a reply");
            assert_eq!(reply["type"], "error", "{reply}");
            assert_eq!(
                reply["payload"][0]["extensions"]["code"], "UNAUTHENTICATED",
                "{reply}"
            );
        }
        Err(code) => assert_eq!(code, 4401),
    }
}
