//! The GraphQL-over-WebSocket protocols as a client speaks them: what a socket refuses and how,
//! queries and failures over a socket, and subscriptions shared by identical subscribers (each
//! still hears every event, only its own, and only until it stops).

use std::time::Duration;

use futures_util::StreamExt;

use serde_json::{Value, json};

use crate::harness::*;

const ENTITY_EVENTS: &str =
    "subscription($type: EntityType) { entityUpdated(type: $type) { action entityId } }";

/// A graphql-transport-ws socket that has not sent `connection_init`.
async fn fresh_socket(server: &TestServer) -> Socket {
    ws_connect(&server.ws_url("/graphql/ws"), "graphql-transport-ws").await
}

async fn subscribe(socket: &mut Socket, id: &str, query: &str, variables: Value) {
    ws_send(
        socket,
        json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } }),
    )
    .await;
}

async fn create_entity(server: &TestServer, account: &Account, entity_type: &str, id: &str) {
    server
        .ok_as(
            account,
            "mutation($type: EntityType!, $input: CreateEntityInput!) { createEntity(type: $type, input: $input) { entityId } }",
            json!({ "type": entity_type, "input": { "entityId": id, "name": id } }),
        )
        .await;
}

/// The next message, which must be a `next` for operation `id`: its entity id.
async fn next_entity(socket: &mut Socket, id: &str) -> Value {
    let message = ws_next(socket).await.expect("an event");
    assert_eq!(message["type"], "next", "{message}");
    assert_eq!(message["id"], id, "{message}");
    message["payload"]["data"]["entityUpdated"]["entityId"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_refuses_what_the_protocol_forbids_with_its_close_codes() {
    let server = TestServer::start().await;
    let owner = server.register("owner@proto.test", "Protocol").await;

    // Subscribing before connection_init: 4401.
    let mut socket = fresh_socket(&server).await;
    subscribe(&mut socket, "1", ENTITY_EVENTS, json!({})).await;
    assert_eq!(ws_next(&mut socket).await, Err(4401));

    // A message that is not one of the protocol's: 4400.
    let mut socket = connect_as(&server, &owner.token).await;
    ws_send(
        &mut socket,
        json!({ "type": "subscribe", "payload": "no id" }),
    )
    .await;
    assert_eq!(ws_next(&mut socket).await, Err(4400));

    // A second connection_init: 4429.
    let mut socket = connect_as(&server, &owner.token).await;
    ws_send(
        &mut socket,
        json!({ "type": "connection_init", "payload": {} }),
    )
    .await;
    assert_eq!(ws_next(&mut socket).await, Err(4429));

    // An id already running: 4409.
    let mut socket = connect_as(&server, &owner.token).await;
    subscribe(&mut socket, "1", ENTITY_EVENTS, json!({})).await;
    subscribe(&mut socket, "1", ENTITY_EVENTS, json!({})).await;
    assert_eq!(ws_next(&mut socket).await, Err(4409));

    // Beyond 50 operations on one socket, a new one is refused (and the socket goes on).
    let mut socket = connect_as(&server, &owner.token).await;
    for id in 0..50 {
        subscribe(&mut socket, &id.to_string(), ENTITY_EVENTS, json!({})).await;
    }
    subscribe(&mut socket, "one too many", ENTITY_EVENTS, json!({})).await;
    let refusal = ws_next(&mut socket).await.expect("a refusal");
    assert_eq!(refusal["type"], "error", "{refusal}");
    assert_eq!(refusal["id"], "one too many", "{refusal}");
    assert!(
        refusal["payload"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("at most 50")),
        "{refusal}"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    create_entity(&server, &owner, "CHARACTER", "counted").await;
    let event = ws_next(&mut socket).await.expect("an event");
    assert_eq!(event["type"], "next", "{event}");
    assert_ne!(event["id"], "one too many", "{event}");
    assert_eq!(
        event["payload"]["data"]["entityUpdated"]["entityId"],
        "counted"
    );

    // A protocol ping is answered with its payload.
    let mut socket = connect_as(&server, &owner.token).await;
    ws_send(
        &mut socket,
        json!({ "type": "ping", "payload": { "at": 7 } }),
    )
    .await;
    assert_eq!(
        ws_next(&mut socket).await,
        Ok(json!({ "type": "pong", "payload": { "at": 7 } }))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_run_once_over_a_socket_and_invalid_documents_fail_in_each_protocols_shape() {
    let server = TestServer::start().await;
    let owner = server.register("owner@proto.test", "Protocol").await;
    let mut socket = connect_as(&server, &owner.token).await;

    subscribe(&mut socket, "q", "{ me { email } }", json!({})).await;
    assert_eq!(
        ws_next(&mut socket).await,
        Ok(
            json!({ "type": "next", "id": "q", "payload": { "data": { "me": { "email": "owner@proto.test" } } } })
        )
    );
    assert_eq!(
        ws_next(&mut socket).await,
        Ok(json!({ "type": "complete", "id": "q" }))
    );

    // graphql-transport-ws: a document that does not validate is an `error`, with no
    // `complete` after it (the socket stays usable: the ping is answered next).
    subscribe(
        &mut socket,
        "bad",
        "subscription { noSuchField }",
        json!({}),
    )
    .await;
    let failure = ws_next(&mut socket).await.expect("an error message");
    assert_eq!(failure["type"], "error", "{failure}");
    assert_eq!(failure["id"], "bad", "{failure}");
    assert!(
        failure["payload"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("noSuchField")),
        "{failure}"
    );
    ws_send(&mut socket, json!({ "type": "ping" })).await;
    assert_eq!(ws_next(&mut socket).await, Ok(json!({ "type": "pong" })));

    // The legacy protocol reports it as `data` with errors, then `complete`, and confirms a
    // `stop` with `complete`.
    let mut legacy = connect_acked(&server, "/graphql/ws", "graphql-ws", &owner.token).await;
    ws_send(
        &mut legacy,
        json!({ "id": "bad", "type": "start", "payload": { "query": "subscription { noSuchField }" } }),
    )
    .await;
    let failure = ws_next(&mut legacy).await.expect("a data message");
    assert_eq!(failure["type"], "data", "{failure}");
    assert!(failure["payload"]["data"].is_null(), "{failure}");
    assert!(
        failure["payload"]["errors"][0]["message"].is_string(),
        "{failure}"
    );
    assert_eq!(
        ws_next(&mut legacy).await,
        Ok(json!({ "type": "complete", "id": "bad" }))
    );
    ws_send(
        &mut legacy,
        json!({ "id": "live", "type": "start", "payload": { "query": ENTITY_EVENTS } }),
    )
    .await;
    ws_send(&mut legacy, json!({ "id": "live", "type": "stop" })).await;
    assert_eq!(
        ws_next(&mut legacy).await,
        Ok(json!({ "type": "complete", "id": "live" }))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cookie_socket_may_subscribe_but_not_mutate() {
    let server = TestServer::start().await;
    server.register("cookie@proto.test", "Cookie").await;
    let cookie = session_cookie(&server, "cookie@proto.test").await;
    let mut socket = connect_with_cookie(&server, &cookie, &server.base).await;
    ws_send(
        &mut socket,
        json!({ "type": "connection_init", "payload": {} }),
    )
    .await;
    assert_eq!(
        ws_next(&mut socket).await,
        Ok(json!({ "type": "connection_ack" }))
    );

    subscribe(
        &mut socket,
        "m",
        "mutation { createEntity(type: CHARACTER, input: { entityId: \"forged\", name: \"Forged\" }) { entityId } }",
        json!({}),
    )
    .await;
    let refusal = ws_next(&mut socket).await.expect("a refusal");
    assert_eq!(refusal["type"], "error", "{refusal}");
    assert_eq!(
        refusal["payload"][0]["extensions"]["reason"], "csrf",
        "{refusal}"
    );

    subscribe(&mut socket, "q", "{ me { email } }", json!({})).await;
    let answer = ws_next(&mut socket).await.expect("an answer");
    assert_eq!(
        answer["payload"]["data"]["me"]["email"], "cookie@proto.test",
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_subscribers_each_hear_every_event_and_stopping_ends_only_ones_own() {
    let server = TestServer::start().await;
    let owner = server.register("owner@shared.test", "Shared").await;
    // Two sockets on the same credentials with the same subscription share one run.
    let mut first = connect_as(&server, &owner.token).await;
    let mut second = connect_as(&server, &owner.token).await;
    subscribe(&mut first, "1", ENTITY_EVENTS, json!({})).await;
    subscribe(&mut second, "a", ENTITY_EVENTS, json!({})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    create_entity(&server, &owner, "CHARACTER", "ada").await;
    assert_eq!(next_entity(&mut first, "1").await, "ada");
    assert_eq!(next_entity(&mut second, "a").await, "ada");

    // The first stops and starts again under another id: it hears each event once, under the
    // new id only, and graphql-transport-ws sends no `complete` for a stop.
    ws_send(&mut first, json!({ "id": "1", "type": "complete" })).await;
    subscribe(&mut first, "2", ENTITY_EVENTS, json!({})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    create_entity(&server, &owner, "CHARACTER", "bo").await;
    create_entity(&server, &owner, "CHARACTER", "cy").await;
    assert_eq!(next_entity(&mut first, "2").await, "bo");
    assert_eq!(next_entity(&mut first, "2").await, "cy");
    assert_eq!(next_entity(&mut second, "a").await, "bo");
    assert_eq!(next_entity(&mut second, "a").await, "cy");

    // Both leave; a new subscriber starts afresh and hears what follows.
    drop(first);
    drop(second);
    let mut third = connect_as(&server, &owner.token).await;
    subscribe(&mut third, "1", ENTITY_EVENTS, json!({})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    create_entity(&server, &owner, "CHARACTER", "dee").await;
    assert_eq!(next_entity(&mut third, "1").await, "dee");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_asking_differently_hear_only_their_own_events() {
    let server = TestServer::start().await;
    let owner = server.register("owner@shared.test", "Shared").await;
    let member = server
        .invite_member(&owner, "member@shared.test", "WORLDBUILDER")
        .await;
    let outsider = server.register("outsider@shared.test", "Elsewhere").await;

    // Same credentials, different variables.
    let mut characters = connect_as(&server, &owner.token).await;
    let mut locations = connect_as(&server, &owner.token).await;
    subscribe(
        &mut characters,
        "1",
        ENTITY_EVENTS,
        json!({ "type": "CHARACTER" }),
    )
    .await;
    subscribe(
        &mut locations,
        "1",
        ENTITY_EVENTS,
        json!({ "type": "LOCATION" }),
    )
    .await;
    // Same document and variables, other viewers: a member, and another tenant's owner.
    let mut member_socket = connect_as(&server, &member.token).await;
    subscribe(
        &mut member_socket,
        "1",
        ENTITY_EVENTS,
        json!({ "type": "CHARACTER" }),
    )
    .await;
    let mut outsider_socket = connect_as(&server, &outsider.token).await;
    subscribe(
        &mut outsider_socket,
        "1",
        ENTITY_EVENTS,
        json!({ "type": "CHARACTER" }),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    create_entity(&server, &owner, "CHARACTER", "ada").await;
    create_entity(&server, &owner, "LOCATION", "keep").await;
    create_entity(&server, &outsider, "CHARACTER", "stranger").await;
    create_entity(&server, &owner, "CHARACTER", "bo").await;

    assert_eq!(next_entity(&mut characters, "1").await, "ada");
    assert_eq!(next_entity(&mut characters, "1").await, "bo");
    assert_eq!(next_entity(&mut locations, "1").await, "keep");
    assert_eq!(next_entity(&mut member_socket, "1").await, "ada");
    assert_eq!(next_entity(&mut member_socket, "1").await, "bo");
    assert_eq!(next_entity(&mut outsider_socket, "1").await, "stranger");

    // Nothing else arrived: the next message on each is the answer to a ping sent now.
    for socket in [
        &mut characters,
        &mut locations,
        &mut member_socket,
        &mut outsider_socket,
    ] {
        ws_send(socket, json!({ "type": "ping" })).await;
        assert_eq!(ws_next(socket).await, Ok(json!({ "type": "pong" })));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_subscriber_to_one_entity_follows_that_entity_not_an_earlier_ones_rename() {
    let server = TestServer::start().await;
    let owner = server.register("owner@shared.test", "Shared").await;
    const ONE_ENTITY: &str = "subscription($id: String) { entityUpdated(type: CHARACTER, entityId: $id) { action entityId } }";
    let mut early = connect_as(&server, &owner.token).await;
    subscribe(&mut early, "1", ONE_ENTITY, json!({ "id": "draft" })).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    create_entity(&server, &owner, "CHARACTER", "draft").await;
    assert_eq!(next_entity(&mut early, "1").await, "draft");
    server
        .ok_as(
            &owner,
            "mutation { renameEntity(type: CHARACTER, entityId: \"draft\", newEntityId: \"final\") { entityId } }",
            json!({}),
        )
        .await;
    assert_eq!(next_entity(&mut early, "1").await, "final");

    // A new "draft", and a second subscriber asking, word for word, for "draft".
    create_entity(&server, &owner, "CHARACTER", "draft").await;
    let mut late = connect_as(&server, &owner.token).await;
    subscribe(&mut late, "1", ONE_ENTITY, json!({ "id": "draft" })).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    server
        .ok_as(
            &owner,
            "mutation { updateEntity(type: CHARACTER, entityId: \"draft\", input: { name: \"Second draft\" }) { version } }",
            json!({}),
        )
        .await;
    assert_eq!(next_entity(&mut late, "1").await, "draft");
    // The early one still follows the renamed entity only.
    ws_send(&mut early, json!({ "type": "ping" })).await;
    assert_eq!(ws_next(&mut early).await, Ok(json!({ "type": "pong" })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_that_leaves_too_many_bytes_unread_is_cut_off() {
    let server = TestServer::start_with(|config| {
        config.realtime.max_unread_bytes = 512 * 1024;
        // Only the byte bound may cut it off here.
        config.realtime.send_timeout = Duration::from_secs(120);
    })
    .await;
    let owner = server.register("owner@bytes.test", "Bytes").await;
    create_entity(&server, &owner, "LOCATION", "archive").await;
    let mut slow = connect_as(&server, &owner.token).await;
    subscribe(
        &mut slow,
        "big",
        "subscription { entityUpdated { entityId entity { markdownBody } } }",
        json!({}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Each event carries 150 KB; a hundred of them are far more than the socket's buffers
    // and its 512 KiB of room hold while it reads nothing.
    let update = "mutation($body: String!) { updateEntity(type: LOCATION, entityId: \"archive\",
        input: { markdownBody: $body }) { version } }";
    for round in 0..100 {
        let body = format!("{round} {}", "x".repeat(150_000));
        server.ok_as(&owner, update, json!({ "body": body })).await;
    }
    // Reading now, it finds what was queued, then the close and why.
    let closed = loop {
        let message = tokio::time::timeout(Duration::from_secs(30), slow.next())
            .await
            .expect("a message or the close");
        match message {
            Some(Ok(tokio_tungstenite::tungstenite::Message::Close(frame))) => break frame,
            Some(Ok(_)) => continue,
            other => panic!("the socket ended without a close frame: {other:?}"),
        }
    };
    let frame = closed.expect("a close frame with a code");
    assert_eq!(u16::from(frame.code), 1008);
    assert!(frame.reason.contains("bytes"), "{}", frame.reason);
    // Another socket of the same user was never involved.
    let mut fresh = connect_as(&server, &owner.token).await;
    subscribe(&mut fresh, "q", "{ me { email } }", json!({})).await;
    assert_eq!(
        ws_next(&mut fresh).await.expect("an answer")["type"],
        "next"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_selects_exactly_one_root_field() {
    let server = TestServer::start().await;
    let owner = server.register("owner@roots.test", "Roots").await;
    let mut socket = connect_as(&server, &owner.token).await;
    for (id, query) in [
        (
            "two",
            "subscription { memberUpdated { action } presence { kind } }",
        ),
        (
            "through-a-fragment",
            "subscription { ...Both } fragment Both on SubscriptionRoot { memberUpdated { action } presence { kind } }",
        ),
    ] {
        subscribe(&mut socket, id, query, json!({})).await;
        let failure = ws_next(&mut socket).await.expect("an error message");
        assert_eq!(failure["type"], "error", "{failure}");
        assert_eq!(failure["id"], id, "{failure}");
        assert_eq!(
            failure["payload"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{failure}"
        );
    }
    // One root field, even asked twice under one name, runs.
    subscribe(
        &mut socket,
        "one",
        "subscription { memberUpdated { action } memberUpdated { role } }",
        json!({}),
    )
    .await;
    ws_send(&mut socket, json!({ "type": "ping" })).await;
    assert_eq!(ws_next(&mut socket).await, Ok(json!({ "type": "pong" })));
}
