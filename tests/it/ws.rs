//! Live member events over WebSockets: both subprotocols, authentication in `connection_init`,
//! tenant isolation, and the close frame a subscriber gets when the server shuts down.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::*;

const TRANSPORT_WS: &str = "graphql-transport-ws";
const LEGACY_WS: &str = "graphql-ws";

const MEMBER_UPDATED: &str = "subscription { memberUpdated { action role user { email } } }";

/// Subscribes to `memberUpdated` as operation "1", then gives the server a moment to register
/// the subscription before the test triggers anything (ordering, not a timing assertion).
async fn subscribe_members(socket: &mut Socket, protocol: &str) {
    let kind = if protocol == LEGACY_WS {
        "start"
    } else {
        "subscribe"
    };
    ws_send(
        socket,
        json!({ "id": "1", "type": kind, "payload": { "query": MEMBER_UPDATED } }),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
}

/// The `memberUpdated` payload of the next message, checking the message's envelope.
async fn next_member_event(socket: &mut Socket, expected_type: &str) -> Value {
    let message = ws_next(socket).await.expect("a message, not a close");
    assert_eq!(message["type"], expected_type, "{message}");
    assert_eq!(message["id"], "1", "{message}");
    assert!(message["payload"]["errors"].is_null(), "{message}");
    message["payload"]["data"]["memberUpdated"].clone()
}

/// Reads past any text messages (e.g. the legacy protocol's `connection_error`) to the close
/// frame, and returns its code.
async fn close_code(socket: &mut Socket) -> u16 {
    for _ in 0..5 {
        match ws_next(socket).await {
            Ok(message) => assert_ne!(message["type"], "connection_ack", "{message}"),
            Err(code) => return code,
        }
    }
    panic!("the socket was not closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_sees_members_join_change_and_leave_over_graphql_transport_ws() {
    let server = TestServer::start().await;
    let admin = server.register("admin@live.test", "Live Studio").await;
    let mut socket = connect_acked(&server, "/graphql/ws", TRANSPORT_WS, &admin.token).await;
    subscribe_members(&mut socket, TRANSPORT_WS).await;

    let member = server
        .invite_member(&admin, "newcomer@live.test", "WORLDBUILDER")
        .await;
    let event = next_member_event(&mut socket, "next").await;
    assert_eq!(
        event,
        json!({ "action": "JOINED", "role": "WORLDBUILDER", "user": { "email": "newcomer@live.test" } })
    );

    server
        .ok_as(
            &admin,
            "mutation($id: ID!) { updateUser(id: $id, input: { role: PLAYER }) { role } }",
            json!({ "id": member.user_id }),
        )
        .await;
    let event = next_member_event(&mut socket, "next").await;
    assert_eq!(
        event,
        json!({ "action": "UPDATED", "role": "PLAYER", "user": { "email": "newcomer@live.test" } })
    );

    server
        .ok_as(
            &admin,
            "mutation($id: ID!) { removeMember(id: $id) }",
            json!({ "id": member.user_id }),
        )
        .await;
    let event = next_member_event(&mut socket, "next").await;
    assert_eq!(event["action"], "REMOVED");
    assert_eq!(event["role"], Value::Null);
    assert_eq!(event["user"]["email"], "newcomer@live.test");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_sees_members_join_over_the_legacy_graphql_ws_protocol() {
    let server = TestServer::start().await;
    let admin = server.register("admin@legacy.test", "Legacy Studio").await;
    let mut socket = connect_acked(&server, "/api/ws", LEGACY_WS, &admin.token).await;
    subscribe_members(&mut socket, LEGACY_WS).await;

    server
        .invite_member(&admin, "oldtimer@legacy.test", "PLAYER")
        .await;
    let event = next_member_event(&mut socket, "data").await;
    assert_eq!(
        event,
        json!({ "action": "JOINED", "role": "PLAYER", "user": { "email": "oldtimer@legacy.test" } })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_key_authenticates_a_subscription() {
    let server = TestServer::start().await;
    let admin = server.register("admin@keyed.test", "Keyed Studio").await;
    let data = server
        .ok_as(
            &admin,
            "mutation { createApiKey(name: \"listener\") { key } }",
            json!({}),
        )
        .await;
    let key = data["createApiKey"]["key"]
        .as_str()
        .expect("key")
        .to_owned();
    let mut socket = ws_connect(&server.ws_url("/graphql/ws"), TRANSPORT_WS).await;
    ws_send(
        &mut socket,
        json!({ "type": "connection_init", "payload": { "authorization": key } }),
    )
    .await;
    assert_eq!(
        ws_next(&mut socket).await,
        Ok(json!({ "type": "connection_ack" }))
    );
    subscribe_members(&mut socket, TRANSPORT_WS).await;

    server
        .invite_member(&admin, "heard@keyed.test", "PLAYER")
        .await;
    let event = next_member_event(&mut socket, "next").await;
    assert_eq!(event["action"], "JOINED");
    assert_eq!(event["user"]["email"], "heard@keyed.test");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_never_sees_another_tenants_members() {
    let server = TestServer::start().await;
    let a_admin = server.register("admin@alpha.test", "Alpha Studio").await;
    let b_admin = server.register("admin@beta.test", "Beta Studio").await;
    let mut a_socket = connect_acked(&server, "/graphql/ws", TRANSPORT_WS, &a_admin.token).await;
    let mut b_socket = connect_acked(&server, "/graphql/ws", TRANSPORT_WS, &b_admin.token).await;
    subscribe_members(&mut a_socket, TRANSPORT_WS).await;
    subscribe_members(&mut b_socket, TRANSPORT_WS).await;

    // A's change is published (A's own subscriber sees it)…
    server
        .invite_member(&a_admin, "secret@alpha.test", "WORLDBUILDER")
        .await;
    let event = next_member_event(&mut a_socket, "next").await;
    assert_eq!(event["user"]["email"], "secret@alpha.test");

    // …and B's subscriber, whose next message is B's own later event, never got it.
    server
        .invite_member(&b_admin, "visible@beta.test", "PLAYER")
        .await;
    let event = next_member_event(&mut b_socket, "next").await;
    assert_eq!(
        event,
        json!({ "action": "JOINED", "role": "PLAYER", "user": { "email": "visible@beta.test" } })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_init_without_credentials_closes_with_4401() {
    let server = TestServer::start().await;
    let mut socket = ws_connect(&server.ws_url("/graphql/ws"), TRANSPORT_WS).await;
    ws_send(
        &mut socket,
        json!({ "type": "connection_init", "payload": {} }),
    )
    .await;
    assert_eq!(close_code(&mut socket).await, 4401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_init_with_a_garbled_token_closes_with_4403() {
    let server = TestServer::start().await;
    let mut socket = ws_connect(&server.ws_url("/graphql/ws"), TRANSPORT_WS).await;
    ws_send(
        &mut socket,
        json!({ "type": "connection_init", "payload": { "authorization": "Bearer not.a.valid-token" } }),
    )
    .await;
    assert_eq!(close_code(&mut socket).await, 4403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_gets_a_going_away_close_when_the_server_shuts_down() {
    let server = TestServer::start().await;
    let admin = server
        .register("admin@closing.test", "Closing Studio")
        .await;
    let mut socket = connect_acked(&server, "/graphql/ws", TRANSPORT_WS, &admin.token).await;
    subscribe_members(&mut socket, TRANSPORT_WS).await;

    let shutdown = tokio::spawn(server.shutdown());
    assert_eq!(ws_next(&mut socket).await, Err(1001));
    shutdown.await.expect("the server shut down cleanly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_cookie_authenticates_same_origin_sockets_only() {
    let server = TestServer::start().await;
    server.register("cookie@ws.test", "Cookie WS").await;
    let cookie = session_cookie(&server, "cookie@ws.test").await;
    let own_origin = server.base.clone();

    let mut socket = connect_with_cookie(&server, &cookie, &own_origin).await;
    ws_send(
        &mut socket,
        json!({ "type": "connection_init", "payload": {} }),
    )
    .await;
    assert_eq!(
        ws_next(&mut socket).await,
        Ok(json!({ "type": "connection_ack" }))
    );

    // A page on another site makes the browser send the cookie too; it must not count.
    let mut hijack = connect_with_cookie(&server, &cookie, "https://evil.example").await;
    ws_send(
        &mut hijack,
        json!({ "type": "connection_init", "payload": {} }),
    )
    .await;
    assert_eq!(close_code(&mut hijack).await, 4401);
}
