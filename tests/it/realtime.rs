//! Live sockets that follow their credentials (expiry, revocation), presence, several nodes on
//! one database, heartbeats and slow readers.

use std::time::Duration;

use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::entities::create_entity;
use crate::harness::*;

const ENTITY_UPDATED: &str = "subscription { entityUpdated { action entityId entity { name } } }";
const PRESENCE: &str = "subscription { presence { kind entityType entityId user { id } } }";
const MEMBER_PASSWORD: &str = "correct horse battery";

/// The close frame's code and reason, reading past any messages still in flight.
async fn closed_with(socket: &mut Socket) -> (u16, String) {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(15), socket.next())
            .await
            .expect("the socket closes within 15 s");
        match message {
            Some(Ok(Message::Close(Some(frame)))) => {
                return (u16::from(frame.code), frame.reason.to_string());
            }
            Some(Ok(Message::Close(None))) => return (1005, String::new()),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return (1006, String::new()),
        }
    }
}

/// Closes a socket and waits for the server's side of the close handshake, so that the server
/// has let go of the socket before the test goes on.
async fn closed_by_us(socket: &mut Socket) {
    let _ = socket.close(None).await;
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_secs(10), socket.next())
        .await
        .map(|m| m.and_then(Result::ok))
    {}
}

/// The next presence event about any of `user_ids`; events about others (the subscriber's
/// own socket coming online, say) are passed over.
async fn next_presence_among(socket: &mut Socket, user_ids: &[&str]) -> Value {
    loop {
        let event = next_data(socket, "presence").await;
        if user_ids.iter().any(|id| event["user"]["id"] == *id) {
            return event;
        }
    }
}

/// The next presence event about `user_id` as (kind, entityId).
async fn next_presence_of(socket: &mut Socket, user_id: &str) -> (String, Value) {
    let event = next_presence_among(socket, &[user_id]).await;
    (
        event["kind"].as_str().expect("kind").to_owned(),
        event["entityId"].clone(),
    )
}

async fn sign_in(server: &TestServer, email: &str, password: &str) -> Account {
    let body = server.login(email, password).await;
    Account::from_payload(&body["data"]["login"])
}

async fn online_user_ids(server: &TestServer, account: &Account) -> Vec<String> {
    let data = server
        .ok_as(
            account,
            "{ onlineUsers { total users { user { id } } } }",
            json!({}),
        )
        .await;
    let ids: Vec<String> = data["onlineUsers"]["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| u["user"]["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(data["onlineUsers"]["total"], ids.len(), "{data}");
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_opened_with_an_access_token_closes_with_4401_when_the_token_expires() {
    let server = TestServer::start_with(|c| c.access_token_ttl = Duration::from_secs(3)).await;
    let owner = server.register("expiry@example.com", "Expiry").await;
    let mut socket = subscribe_as(&server, &owner, ENTITY_UPDATED, json!({})).await;
    create_entity(&server, &owner, "CHARACTER", "ada", "Ada", json!({})).await;
    assert_eq!(
        next_data(&mut socket, "entityUpdated").await["entityId"],
        "ada"
    );

    let (code, reason) = closed_with(&mut socket).await;
    assert_eq!(code, 4401, "{reason}");
    assert!(reason.contains("expired"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocations_close_the_sockets_they_cover_and_only_those() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Revocations").await;
    let member = server
        .invite_member(&owner, "member@example.com", "WORLDBUILDER")
        .await;
    let second_session = sign_in(&server, "member@example.com", MEMBER_PASSWORD).await;
    let mut first = subscribe_as(&server, &member, ENTITY_UPDATED, json!({})).await;
    let mut second = subscribe_as(&server, &second_session, ENTITY_UPDATED, json!({})).await;

    // A password change ends the member's other sessions; the socket of the session that made
    // the change stays and keeps receiving.
    server
        .ok_as(
            &member,
            "mutation($new: String!) { changePassword(currentPassword: \"correct horse battery\", newPassword: $new) }",
            json!({ "new": "another long password" }),
        )
        .await;
    let (code, reason) = closed_with(&mut second).await;
    assert_eq!(code, 4401, "{reason}");
    create_entity(&server, &owner, "CHARACTER", "bo", "Bo", json!({})).await;
    assert_eq!(
        next_data(&mut first, "entityUpdated").await["entityId"],
        "bo"
    );

    // A role change: the socket must reconnect to act with the new role.
    server
        .ok_as(
            &owner,
            "mutation($id: ID!) { updateUser(id: $id, input: { role: PLAYER }) { id } }",
            json!({ "id": member.user_id }),
        )
        .await;
    let (code, reason) = closed_with(&mut first).await;
    assert_eq!(code, 4403, "{reason}");

    // An API key's socket closes when the key is revoked; another key's stays open.
    let create_key = "mutation($name: String!) { createApiKey(name: $name) { key apiKey { id } } }";
    let revoked = server
        .ok_as(&owner, create_key, json!({ "name": "revoked" }))
        .await;
    let kept = server
        .ok_as(&owner, create_key, json!({ "name": "kept" }))
        .await;
    let mut revoked_socket =
        connect_as(&server, revoked["createApiKey"]["key"].as_str().unwrap()).await;
    let kept_key = kept["createApiKey"]["key"].as_str().unwrap();
    let mut kept_socket = connect_as(&server, kept_key).await;
    ws_send(
        &mut kept_socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": ENTITY_UPDATED } }),
    )
    .await;
    server
        .ok_as(
            &owner,
            "mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }",
            json!({ "id": revoked["createApiKey"]["apiKey"]["id"] }),
        )
        .await;
    let (code, reason) = closed_with(&mut revoked_socket).await;
    assert_eq!(code, 4401, "{reason}");
    create_entity(&server, &owner, "CHARACTER", "cy", "Cy", json!({})).await;
    assert_eq!(
        next_data(&mut kept_socket, "entityUpdated").await["entityId"],
        "cy"
    );

    // Logging out everywhere closes every socket of the user's sessions.
    let mut owner_socket = subscribe_as(&server, &owner, ENTITY_UPDATED, json!({})).await;
    server
        .ok_as(&owner, "mutation { logout(everywhere: true) }", json!({}))
        .await;
    let (code, reason) = closed_with(&mut owner_socket).await;
    assert_eq!(code, 4401, "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn banning_or_removing_a_member_closes_their_sockets_and_an_outsider_can_do_neither() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Removal").await;
    let member = server
        .invite_member(&owner, "member@example.com", "WORLDBUILDER")
        .await;
    let banned = server
        .invite_member(&owner, "banned@example.com", "WORLDBUILDER")
        .await;
    let outsider = server.register("outsider@example.com", "Elsewhere").await;
    let mut socket = subscribe_as(&server, &member, ENTITY_UPDATED, json!({})).await;
    let mut banned_socket = subscribe_as(&server, &banned, ENTITY_UPDATED, json!({})).await;

    let deactivate =
        "mutation($id: ID!) { updateUser(id: $id, input: { isActive: false }) { id } }";
    let body = server
        .gql_as(&outsider, deactivate, json!({ "id": banned.user_id }))
        .await;
    assert!(body.get("errors").is_some(), "{body}");
    server
        .ok_as(&owner, deactivate, json!({ "id": banned.user_id }))
        .await;
    let (code, reason) = closed_with(&mut banned_socket).await;
    assert_eq!(code, 4401, "{reason}");

    // Another tenant's admin can neither change nor remove the member.
    let body = server
        .gql_as(
            &outsider,
            "mutation($id: ID!) { removeMember(id: $id) }",
            json!({ "id": member.user_id }),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    create_entity(&server, &owner, "CHARACTER", "dee", "Dee", json!({})).await;
    assert_eq!(
        next_data(&mut socket, "entityUpdated").await["entityId"],
        "dee"
    );

    server
        .ok_as(
            &owner,
            "mutation($id: ID!) { removeMember(id: $id) }",
            json!({ "id": member.user_id }),
        )
        .await;
    let (code, reason) = closed_with(&mut socket).await;
    assert_eq!(code, 4401, "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_follows_sockets_and_editing_marks_within_the_tenant() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Presence").await;
    let member = server
        .invite_member(&owner, "member@example.com", "WORLDBUILDER")
        .await;
    let bystander = server
        .invite_member(&owner, "bystander@example.com", "PLAYER")
        .await;
    let outsider = server.register("outsider@example.com", "Elsewhere").await;
    create_entity(&server, &owner, "CHARACTER", "ada", "Ada", json!({})).await;
    create_entity(&server, &outsider, "CHARACTER", "own", "Own", json!({})).await;
    let mut watcher = subscribe_as(&server, &owner, PRESENCE, json!({})).await;
    let mut outsider_watcher = subscribe_as(&server, &outsider, PRESENCE, json!({})).await;

    let mut first = connect_as(&server, &member.token).await;
    assert_eq!(
        next_presence_of(&mut watcher, &member.user_id).await.0,
        "ONLINE"
    );
    let online = online_user_ids(&server, &owner).await;
    assert!(
        online.contains(&member.user_id) && online.contains(&owner.user_id),
        "{online:?}"
    );
    assert!(
        !online_user_ids(&server, &outsider)
            .await
            .contains(&member.user_id)
    );

    let data = server
        .ok_as(
            &member,
            "mutation { startEditing(type: CHARACTER, entityId: \"ada\") { entityId entity { name } user { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["startEditing"]["entity"]["name"], "Ada");
    assert_eq!(
        next_presence_of(&mut watcher, &member.user_id).await,
        ("EDITING".to_owned(), json!("ada"))
    );
    let editing = server
        .ok_as(
            &owner,
            "{ editing(type: CHARACTER, entityId: \"ada\") { user { id } entityId } }",
            json!({}),
        )
        .await;
    assert_eq!(
        editing["editing"],
        json!([{ "user": { "id": member.user_id }, "entityId": "ada" }])
    );
    // Outsiders see none of it, and cannot mark an entity of another tenant.
    let outside = server
        .ok_as(&outsider, "{ editing { entityId } }", json!({}))
        .await;
    assert_eq!(outside["editing"], json!([]));
    let body = server
        .gql_as(
            &outsider,
            "mutation { startEditing(type: CHARACTER, entityId: \"ada\") { entityId } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");

    // A second socket opening and closing leaves the member online. The tracker handles
    // openings and closings in order: a bystander's ONLINE after the second socket's close has
    // been handled comes after any OFFLINE that close would (wrongly) have caused.
    let mut second = connect_as(&server, &member.token).await;
    closed_by_us(&mut second).await;
    let _bystander_socket = connect_as(&server, &bystander.token).await;
    let event = next_presence_among(&mut watcher, &[&member.user_id, &bystander.user_id]).await;
    assert_eq!(event["user"]["id"], bystander.user_id, "{event}");
    assert_eq!(event["kind"], "ONLINE");
    closed_by_us(&mut first).await;
    assert_eq!(
        next_presence_of(&mut watcher, &member.user_id).await,
        ("STOPPED_EDITING".to_owned(), json!("ada"))
    );
    assert_eq!(
        next_presence_of(&mut watcher, &member.user_id).await.0,
        "OFFLINE"
    );
    assert!(
        !online_user_ids(&server, &owner)
            .await
            .contains(&member.user_id)
    );

    // The outsider's stream carried nothing of this tenant: its next event about anyone is
    // about its own editing.
    server
        .ok_as(
            &outsider,
            "mutation { startEditing(type: CHARACTER, entityId: \"own\") { entityId } }",
            json!({}),
        )
        .await;
    loop {
        let event = next_data(&mut outsider_watcher, "presence").await;
        assert_ne!(event["user"]["id"], member.user_id, "{event}");
        assert_ne!(event["user"]["id"], owner.user_id, "{event}");
        if event["kind"] == "EDITING" {
            assert_eq!(event["entityId"], "own");
            break;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editing_needs_a_writer_and_bounded_pages() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Editing").await;
    let player = server
        .invite_member(&owner, "player@example.com", "PLAYER")
        .await;
    create_entity(&server, &owner, "CHARACTER", "ada", "Ada", json!({})).await;
    let body = server
        .gql_as(
            &player,
            "mutation { startEditing(type: CHARACTER, entityId: \"ada\") { entityId } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = server
        .gql_as(&owner, "{ onlineUsers(limit: 500) { total } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    let body = server
        .gql_as(
            &owner,
            "{ editing(userId: \"nope\") { entityId } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");

    // Marks are renewed, not repeated (a renewal keeps `since`), and stopping returns how many
    // ended.
    let mut since = Vec::new();
    for _ in 0..2 {
        let data = server
            .ok_as(
                &owner,
                "mutation { startEditing(type: CHARACTER, entityId: \"ada\") { since } }",
                json!({}),
            )
            .await;
        since.push(data["startEditing"]["since"].clone());
    }
    assert_eq!(since[0], since[1]);
    let stopped = server
        .ok_as(
            &owner,
            "mutation { stopEditing(type: CHARACTER) }",
            json!({}),
        )
        .await;
    assert_eq!(stopped["stopEditing"], 1);
    let stopped = server
        .ok_as(&owner, "mutation { stopEditing }", json!({}))
        .await;
    assert_eq!(stopped["stopEditing"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_peers_lapsed_marks_and_dead_nodes_turn_offline_after_the_heartbeat_timeout() {
    let server = TestServer::start_with(|c| {
        // Short, but with room for the test's own gaps between reads of the watcher (which
        // answers pings only while it is read).
        c.realtime.heartbeat_timeout = Duration::from_secs(2);
    })
    .await;
    let owner = server.register("owner@example.com", "Heartbeat").await;
    let member = server
        .invite_member(&owner, "member@example.com", "WORLDBUILDER")
        .await;
    let ghost = server
        .invite_member(&owner, "ghost@example.com", "WORLDBUILDER")
        .await;
    create_entity(&server, &owner, "CHARACTER", "ada", "Ada", json!({})).await;
    let mut watcher = subscribe_as(&server, &owner, PRESENCE, json!({})).await;

    // A peer that stops answering (never reads, so never pongs) and never sends a close frame.
    let silent = connect_as(&server, &member.token).await;
    assert_eq!(
        next_presence_of(&mut watcher, &member.user_id).await.0,
        "ONLINE"
    );
    assert_eq!(
        next_presence_of(&mut watcher, &member.user_id).await.0,
        "OFFLINE"
    );
    drop(silent);

    // A mark of a user without a socket lapses unless renewed.
    server
        .ok_as(
            &member,
            "mutation { startEditing(type: CHARACTER, entityId: \"ada\") { entityId } }",
            json!({}),
        )
        .await;
    assert_eq!(
        next_presence_of(&mut watcher, &member.user_id).await.0,
        "EDITING"
    );
    assert_eq!(
        next_presence_of(&mut watcher, &member.user_id).await,
        ("STOPPED_EDITING".to_owned(), json!("ada"))
    );

    // A node that died without a word: its rows are swept and its users go offline.
    let mut db = server.db().await;
    db.batch_execute(&format!(
        "INSERT INTO server_nodes (id, seen_at) VALUES ('{node}', now() - interval '1 hour'); \
         INSERT INTO presence (tenant_id, user_id, node_id) VALUES ('{tenant}', '{user}', '{node}')",
        node = uuid::Uuid::new_v4(),
        tenant = owner.tenant_id,
        user = ghost.user_id,
    ))
    .await
    .expect("a dead node's rows");
    assert_eq!(
        next_presence_of(&mut watcher, &ghost.user_id).await.0,
        "OFFLINE"
    );
    let left: i64 = count_rows(&mut db, "SELECT count(*) AS n FROM server_nodes").await;
    assert_eq!(left, 1, "only the live node remains");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_processes_on_one_database_deliver_to_each_others_subscribers() {
    let first = TestServer::start().await;
    let second = TestServer::spawn_binary_on(first.database_url.clone(), |_| {}).await;
    let owner = first.register("owner@example.com", "Nodes").await;
    let member = first
        .invite_member(&owner, "member@example.com", "WORLDBUILDER")
        .await;
    let latecomer = first
        .invite_member(&owner, "late@example.com", "WORLDBUILDER")
        .await;
    let outsider = first.register("outsider@example.com", "Elsewhere").await;

    // Entity events cross: written on the first node, loaded by the second for its subscriber.
    let mut on_second = subscribe_as(&second, &owner, ENTITY_UPDATED, json!({})).await;
    let mut outsider_on_second = subscribe_as(&second, &outsider, ENTITY_UPDATED, json!({})).await;
    create_entity(&first, &owner, "CHARACTER", "ada", "Ada", json!({})).await;
    let event = next_data(&mut on_second, "entityUpdated").await;
    assert_eq!(
        event,
        json!({ "action": "CREATED", "entityId": "ada", "entity": { "name": "Ada" } })
    );
    // ... and the other way.
    let mut on_first = subscribe_as(&first, &owner, ENTITY_UPDATED, json!({})).await;
    create_entity(&second, &owner, "CHARACTER", "bo", "Bo", json!({})).await;
    assert_eq!(
        next_data(&mut on_first, "entityUpdated").await["entityId"],
        "bo"
    );
    // The outsider's stream saw neither: its first event is its own.
    create_entity(&first, &outsider, "CHARACTER", "own", "Own", json!({})).await;
    assert_eq!(
        next_data(&mut outsider_on_second, "entityUpdated").await["entityId"],
        "own"
    );

    // Presence merges: one user with a socket on each node is online once, and goes offline
    // only when both are gone.
    let mut watcher = subscribe_as(&second, &owner, PRESENCE, json!({})).await;
    let mut member_on_first = connect_as(&first, &member.token).await;
    assert_eq!(
        next_presence_of(&mut watcher, &member.user_id).await.0,
        "ONLINE"
    );
    let mut member_on_second = connect_as(&second, &member.token).await;
    closed_by_us(&mut member_on_first).await;
    // Anything the first node says after handling that close comes after any OFFLINE it would
    // (wrongly) have sent for the member.
    let _latecomer_socket = connect_as(&first, &latecomer.token).await;
    let event = next_presence_among(&mut watcher, &[&member.user_id, &latecomer.user_id]).await;
    assert_eq!(event["user"]["id"], latecomer.user_id, "{event}");
    assert_eq!(event["kind"], "ONLINE");
    let online = online_user_ids(&first, &owner).await;
    assert!(online.contains(&member.user_id), "{online:?}");
    closed_by_us(&mut member_on_second).await;
    assert_eq!(
        next_presence_of(&mut watcher, &member.user_id).await.0,
        "OFFLINE"
    );

    // Revocation reaches the other node's sockets: logging out on the first node closes the
    // member's socket on the second.
    let mut member_socket = subscribe_as(&second, &member, ENTITY_UPDATED, json!({})).await;
    first.ok_as(&member, "mutation { logout }", json!({})).await;
    let (code, reason) = closed_with(&mut member_socket).await;
    assert_eq!(code, 4401, "{reason}");

    second.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_whose_relay_connection_drops_reconnects_and_carries_on() {
    let first = TestServer::start().await;
    let second = TestServer::start_on(first.database_url.clone(), |_| {}).await;
    let owner = first.register("owner@example.com", "Relay").await;
    let mut db = first.db().await;
    // Both relays are up before they are cut.
    wait_for_relays(&mut db, 2, &[]).await;
    let before: Vec<i32> = relay_pids(&mut db).await;
    diesel::sql_query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name LIKE 'loregraph-events%' AND datname = current_database()",
    )
    .execute(&mut db)
    .await
    .expect("cut the relays");
    wait_for_relays(&mut db, 2, &before).await;

    let mut on_second = subscribe_as(&second, &owner, ENTITY_UPDATED, json!({})).await;
    create_entity(&first, &owner, "CHARACTER", "ada", "Ada", json!({})).await;
    assert_eq!(
        next_data(&mut on_second, "entityUpdated").await["entityId"],
        "ada"
    );
}

async fn relay_pids(db: &mut diesel_async::AsyncPgConnection) -> Vec<i32> {
    #[derive(diesel::QueryableByName)]
    struct Pid {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        pid: i32,
    }
    diesel::sql_query(
        "SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'loregraph-events%' \
         AND datname = current_database()",
    )
    .load::<Pid>(db)
    .await
    .expect("relay connections")
    .into_iter()
    .map(|p| p.pid)
    .collect()
}

/// Polls (for up to 15 s) until `count` relay connections other than `old` are listening.
async fn wait_for_relays(db: &mut diesel_async::AsyncPgConnection, count: usize, old: &[i32]) {
    for _ in 0..150 {
        let fresh = relay_pids(db)
            .await
            .into_iter()
            .filter(|pid| !old.contains(pid))
            .count();
        if fresh >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the relays did not (re)connect");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_stops_reading_is_cut_off_and_holds_up_no_one() {
    let server = TestServer::start_with(|c| c.realtime.send_timeout = Duration::from_secs(1)).await;
    let owner = server.register("owner@example.com", "Backpressure").await;
    let heavy = "subscription { entityUpdated { entityId entity { markdownBody } } }";
    // A reader with a tiny receive window that never reads.
    let mut stalled = stalled_subscriber(&server, &owner, heavy).await;
    let mut reader = subscribe_as(&server, &owner, heavy, json!({})).await;

    let body = "lore ".repeat(40_000);
    let total = 60;
    for i in 0..total {
        create_entity_with_body(&server, &owner, &format!("c{i:02}"), &body).await;
        let event = next_data(&mut reader, "entityUpdated").await;
        assert_eq!(event["entityId"], format!("c{i:02}"));
    }

    // The stalled one got some events, never all, and then its socket ended.
    let mut received = 0;
    let code = loop {
        match tokio::time::timeout(Duration::from_secs(15), stalled.next())
            .await
            .expect("the stalled socket ends")
        {
            Some(Ok(Message::Text(_))) => received += 1,
            Some(Ok(Message::Close(frame))) => break frame.map_or(1005, |f| u16::from(f.code)),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => break 1006,
        }
    };
    assert!(received < total, "a stalled subscriber was sent everything");
    assert!(code == 1008 || code == 1006, "closed with {code}");
}

async fn stalled_subscriber(server: &TestServer, account: &Account, query: &str) -> Socket {
    let address = server.base.trim_start_matches("http://").to_owned();
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("small buffer");
    let stream = socket
        .connect(address.parse().expect("address"))
        .await
        .expect("connect");
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
            server.ws_url("/graphql/ws"),
        )
        .expect("request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let (mut socket, _) =
        tokio_tungstenite::client_async(request, tokio_tungstenite::MaybeTlsStream::Plain(stream))
            .await
            .expect("handshake");
    ws_send(
        &mut socket,
        json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {}", account.token) } }),
    )
    .await;
    assert_eq!(
        ws_next(&mut socket).await,
        Ok(json!({ "type": "connection_ack" }))
    );
    ws_send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": query } }),
    )
    .await;
    socket
}

async fn create_entity_with_body(server: &TestServer, account: &Account, id: &str, body: &str) {
    server
        .ok_as(
            account,
            "mutation($input: CreateEntityInput!) { createEntity(type: CHARACTER, input: $input) { entityId } }",
            json!({ "input": { "entityId": id, "name": id, "markdownBody": body } }),
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promoting_an_account_from_the_command_line_closes_its_live_sockets() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Command line").await;
    let mut socket = subscribe_as(&server, &owner, ENTITY_UPDATED, json!({})).await;
    // `loregraph admin create-superuser` on an existing account ends its sessions, outside any
    // server process: the running server hears of it through the database.
    server.superuser("owner@example.com").await;
    let (code, reason) = closed_with(&mut socket).await;
    assert_eq!(code, 4401, "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_that_never_authenticates_is_closed_with_4408() {
    let server = TestServer::start().await;
    let mut socket = ws_connect(&server.ws_url("/graphql/ws"), "graphql-transport-ws").await;
    // It answers pings (it is read), but never sends connection_init.
    let (code, reason) = closed_with(&mut socket).await;
    assert_eq!(code, 4408, "{reason}");
}
