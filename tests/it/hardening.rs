//! Requests an attacker would send: documents that nest thousands of levels deep, fragments that
//! fan out to millions of fields, racing password guesses, keys minted by keys. Each is refused
//! cheaply and clearly, and the server stays up for everyone else.

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::harness::*;

/// Documents whose values (or types, or selections) nest `levels` deep, in each place a value
/// can stand.
fn nesting_bombs(levels: usize) -> Vec<(&'static str, String)> {
    let lists = || format!("{}1{}", "[".repeat(levels), "]".repeat(levels));
    let objects = format!("{}1{}", "{a:".repeat(levels), "}".repeat(levels));
    vec![
        (
            "a list in a field argument",
            format!("{{ __typename(x: {}) }}", lists()),
        ),
        (
            "objects in a variable default",
            format!("query($v: JSON = {objects}) {{ __typename }}"),
        ),
        (
            "a list in a directive argument",
            format!("{{ __typename @include(if: {}) }}", lists()),
        ),
        (
            "a list type of a variable",
            format!(
                "query($v: {}Int{}) {{ __typename }}",
                "[".repeat(levels),
                "]".repeat(levels)
            ),
        ),
        (
            "selection sets",
            format!(
                "{{ {}__typename{} }}",
                "me { ".repeat(levels),
                " }".repeat(levels)
            ),
        ),
    ]
}

fn assert_refused_as_bad_input(body: &Value, what: &str) {
    assert_eq!(error_code(body), "BAD_USER_INPUT", "{what}: {body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("deeper than")),
        "{what}: {body}"
    );
}

/// The server still answers a plain query and its health probe.
async fn assert_still_serving(server: &TestServer) {
    let data = server.ok(None, "{ __typename }", json!({})).await;
    assert_eq!(data["__typename"], "QueryRoot");
    let health = server.get("/health").await;
    assert_eq!(health.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nesting_bombs_are_refused_over_every_transport_and_the_server_stays_up() {
    let server = TestServer::start().await;
    for levels in [2_000, 8_000] {
        for (what, query) in nesting_bombs(levels) {
            // JSON, no credentials.
            let (status, body) = server.post(None, &query, json!({})).await;
            assert!(status < 500, "{what}: {status}");
            assert_refused_as_bad_input(&body, what);

            // A batch: each operation answered on its own.
            let batch = json!([{ "query": query }, { "query": "{ __typename }" }]);
            let body = send_json(server.http.post(server.url("/graphql")).json(&batch)).await;
            assert_refused_as_bad_input(&body[0], what);
            assert_eq!(body[1]["data"]["__typename"], "QueryRoot", "{what}");

            // A multipart request (the upload spec's `operations` field).
            let form = Form::new()
                .part(
                    "operations",
                    Part::text(json!({ "query": query }).to_string()),
                )
                .part("map", Part::text("{}"));
            let body = send_json(server.http.post(server.url("/graphql")).multipart(form)).await;
            assert_refused_as_bad_input(&body, what);
        }
    }
    assert_still_serving(&server).await;

    // Over both WebSocket protocols, in a subscribe (start) message.
    let account = server.register("bombs@example.com", "Bombs").await;
    for (what, query) in nesting_bombs(4_000) {
        let mut socket = connect_as(&server, &account.token).await;
        ws_send(
            &mut socket,
            json!({ "id": "b", "type": "subscribe", "payload": { "query": query } }),
        )
        .await;
        let failure = ws_next(&mut socket).await.expect("an error message");
        assert_eq!(failure["type"], "error", "{what}: {failure}");
        assert_eq!(
            failure["payload"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{what}: {failure}"
        );
        // The socket goes on.
        ws_send(&mut socket, json!({ "type": "ping" })).await;
        assert_eq!(ws_next(&mut socket).await, Ok(json!({ "type": "pong" })));

        let mut legacy = connect_acked(&server, "/graphql/ws", "graphql-ws", &account.token).await;
        ws_send(
            &mut legacy,
            json!({ "id": "b", "type": "start", "payload": { "query": query } }),
        )
        .await;
        let failure = ws_next(&mut legacy).await.expect("a data message");
        assert_eq!(failure["type"], "data", "{what}: {failure}");
        assert_eq!(
            failure["payload"]["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{what}: {failure}"
        );
    }
    assert_still_serving(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_json_variables_are_refused_whole() {
    let server = TestServer::start().await;
    let query = "query($v: JSON) { __typename }";
    // Within the JSON reader's bound, a deep variable reaches validation (which finds it unused).
    let fine = json!({ "query": query, "variables": { "v": nested_json(100) } });
    let body = send_json(server.http.post(server.url("/graphql")).json(&fine)).await;
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("is not used"), "{body}");
    // Past it, the request is refused before anything walks the value.
    let deep = format!(
        r#"{{"query":"{query}","variables":{{"v":{}}}}}"#,
        deep_json_text(5_000)
    );
    let response = server
        .http
        .post(server.url("/graphql"))
        .header("content-type", "application/json")
        .body(deep.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");

    // A WebSocket message that deep is not the protocol's: the socket closes with 4400.
    let account = server.register("vars@example.com", "Vars").await;
    let mut socket = connect_as(&server, &account.token).await;
    let message = format!(
        r#"{{"id":"v","type":"subscribe","payload":{{"query":"{query}","variables":{{"v":{}}}}}}}"#,
        deep_json_text(5_000)
    );
    use futures_util::SinkExt;
    socket
        .send(tokio_tungstenite::tungstenite::Message::Text(
            message.into(),
        ))
        .await
        .unwrap();
    assert_eq!(ws_next(&mut socket).await, Err(4400));
    assert_still_serving(&server).await;
}

/// `[[[...[1]...]]]` as text (a `Value` that deep would overflow this thread's stack when
/// serialized or dropped).
fn deep_json_text(levels: usize) -> String {
    format!("{}1{}", "[".repeat(levels), "]".repeat(levels))
}

/// `[[[...[1]...]]]`, built without recursion.
fn nested_json(levels: usize) -> Value {
    let mut value = json!(1);
    for _ in 0..levels {
        value = Value::Array(vec![value]);
    }
    value
}

/// `query { ...F0 }` where each fragment spreads the next one twice: 2^levels fields.
fn fan_out(levels: usize) -> String {
    let mut query = String::from("query { ...F0 }\n");
    for level in 0..levels {
        let next = level + 1;
        query.push_str(&format!(
            "fragment F{level} on QueryRoot {{ ...F{next} ...F{next} }}\n"
        ));
    }
    query.push_str(&format!(
        "fragment F{levels} on QueryRoot {{ __typename }}\n"
    ));
    query
}

/// The peak resident memory of process `pid`, in KiB.
fn peak_memory_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fragment_fan_out_is_refused_before_it_expands() {
    // The real binary, so its memory is its own to measure.
    let server = TestServer::spawn_binary_on(fresh_database().await, |_| {}).await;
    let pid = server.pid().expect("a server process");
    let bombs: Vec<_> = (0..16)
        .map(|_| {
            let server = &server;
            async move {
                tokio::time::timeout(
                    Duration::from_secs(30),
                    server.post(None, &fan_out(24), json!({})),
                )
                .await
                .expect("the fan-out is answered, not expanded")
            }
        })
        .collect();
    // Meanwhile the server answers its probe at once. (Expanded, each bomb held a worker for
    // seconds; the bound is generous for a debug build on a busy machine.)
    let probes = async {
        for _ in 0..5 {
            let probe = server.http.get(server.url("/health")).send();
            let response = tokio::time::timeout(Duration::from_secs(2), probe)
                .await
                .expect("/health answers while the bombs arrive")
                .unwrap();
            assert_eq!(response.status(), 200);
        }
    };
    let (answers, ()) = tokio::join!(join_all(bombs), probes);
    for (status, body) in answers {
        assert_eq!(status, 200, "{body}");
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("LOREGRAPH_MAX_QUERY_FIELDS"), "{message}");
        assert!(body["data"].is_null(), "{body}");
    }
    // Expanded, they would have held gigabytes.
    assert!(
        peak_memory_kib(pid) < 512 * 1024,
        "{} KiB",
        peak_memory_kib(pid)
    );

    // A fan-out within the bound runs: 2^8 typenames.
    let data = server.ok(None, &fan_out(8), json!({})).await;
    assert_eq!(data["__typename"], "QueryRoot");

    // A fragment that spreads itself, and a chain of fragments deeper than the recursion
    // limit, are refused the same way.
    let cycle = "query { ...A } fragment A on QueryRoot { ...B } fragment B on QueryRoot { ...A }";
    let body = server.gql(None, cycle, json!({})).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    let mut chain = String::from("query { __typename }\n");
    for i in 0..5_000 {
        chain.push_str(&format!("fragment F{i} on QueryRoot {{ ...F{} }}\n", i + 1));
    }
    chain.push_str("fragment F5000 on QueryRoot { __typename }\n");
    let body = server.gql(None, &chain, json!({})).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_come_back_in_the_order_the_query_asked_for_them() {
    let server = TestServer::start().await;
    let account = server.register("order@example.com", "Order").await;
    let text = |query: &'static str| {
        let server = &server;
        let token = account.token.clone();
        async move {
            server
                .http
                .post(server.url("/graphql"))
                .bearer_auth(token)
                .json(&json!({ "query": query }))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let in_order = |body: &str, keys: &[&str]| {
        let at: Vec<usize> = keys
            .iter()
            .map(|key| {
                body.find(&format!("\"{key}\":"))
                    .unwrap_or_else(|| panic!("{key} in {body}"))
            })
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{keys:?} in {body}");
    };
    // A slow field first, quick ones after it (they finish first).
    let body = text(
        "{ a: systemHealth { status } b: __typename c: me { email } d: systemHealth { version } }",
    )
    .await;
    in_order(&body, &["a", "b", "c", "d"]);
    // Fragments and inline fragments keep their place, nested objects too.
    let body = text(
        "{ ...First z: __typename ... on QueryRoot { y: me { role email } } }
         fragment First on QueryRoot { x: systemHealth { version uptime status } w: __typename }",
    )
    .await;
    in_order(
        &body,
        &[
            "x", "version", "uptime", "status", "w", "z", "y", "role", "email",
        ],
    );
}

/// `count` wrong-password sign-ins as `name`, all at once; their error codes.
async fn guesses(server: &TestServer, name: &str, count: usize) -> Vec<String> {
    let attempts = (0..count).map(|i| async move {
        let body = server.login(name, &format!("wrong guess {i}")).await;
        error_code(&body).to_owned()
    });
    join_all(attempts).await
}

fn tally(codes: &[String], code: &str) -> usize {
    codes.iter().filter(|c| *c == code).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_guesses_check_no_more_passwords_than_the_limit_whatever_the_spelling() {
    let server = TestServer::start_with_pool(16, |config| {
        config.login_throttle.max_failures_per_account = 5;
        config.login_throttle.max_failures_per_address = 1_000;
    })
    .await;
    server.register("target@example.com", "Target").await;
    let codes = guesses(&server, "target@example.com", 40).await;
    // Exactly five passwords were checked (and were wrong); the rest were refused unchecked.
    assert_eq!(tally(&codes, "UNAUTHENTICATED"), 5, "{codes:?}");
    assert_eq!(tally(&codes, "RATE_LIMITED"), 35, "{codes:?}");
    // The account's username is the same account: refused too, even with the right password.
    let by_username = server.login("target", PASSWORD).await;
    assert_eq!(error_code(&by_username), "RATE_LIMITED", "{by_username}");
    let by_email = server.login("TARGET@example.com", PASSWORD).await;
    assert_eq!(error_code(&by_email), "RATE_LIMITED", "{by_email}");

    // A name with no account behind it is throttled alike (so probing it costs the same).
    let codes = guesses(&server, "nobody@example.com", 12).await;
    assert_eq!(tally(&codes, "UNAUTHENTICATED"), 5, "{codes:?}");

    // Another account is untouched, and a success gives it a fresh window.
    server.register("other@example.com", "Other").await;
    assert_eq!(
        tally(
            &guesses(&server, "other@example.com", 4).await,
            "UNAUTHENTICATED"
        ),
        4
    );
    let other = server.login("other", PASSWORD).await;
    assert!(other.get("errors").is_none(), "{other}");
    assert_eq!(
        tally(
            &guesses(&server, "other@example.com", 4).await,
            "UNAUTHENTICATED"
        ),
        4
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sign_in_limit_holds_across_nodes_sharing_a_database() {
    let database = fresh_database().await;
    let configure = |config: &mut loregraph::config::AppConfig| {
        config.login_throttle.max_failures_per_account = 5;
    };
    let first = TestServer::start_on(database.clone(), configure).await;
    let second = TestServer::start_on(database, configure).await;
    first.register("shared@example.com", "Shared").await;
    for server in [&first, &second, &first, &second, &first] {
        let body = server.login("shared@example.com", "a wrong guess").await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    }
    for server in [&first, &second] {
        let body = server.login("shared@example.com", PASSWORD).await;
        assert_eq!(error_code(&body), "RATE_LIMITED", "{body}");
        assert!(
            body["errors"][0]["extensions"]["retryAfter"]
                .as_u64()
                .unwrap()
                > 0
        );
    }
}

const CREATE_KEY: &str = "mutation($name: String!, $expiresAt: DateTime) {
    createApiKey(name: $name, expiresAt: $expiresAt) { key apiKey { id parentId expiresAt } } }";
const REVOKE_KEY: &str = "mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }";
const ME: &str = "{ me { email } }";

/// Creates a key with `credential` (a token or a key); its id, secret and expiry.
async fn create_key(
    server: &TestServer,
    credential: &str,
    name: &str,
    expires_at: Option<&str>,
) -> (String, String, Value) {
    let data = server
        .ok(
            Some(credential),
            CREATE_KEY,
            json!({ "name": name, "expiresAt": expires_at }),
        )
        .await;
    let created = &data["createApiKey"];
    (
        created["apiKey"]["id"].as_str().unwrap().to_owned(),
        created["key"].as_str().unwrap().to_owned(),
        created["apiKey"].clone(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_minted_by_a_key_dies_with_its_parent() {
    let server = TestServer::start().await;
    let owner = server.register("keys@example.com", "Keys").await;
    let expiry = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let (parent_id, parent, _) = create_key(&server, &owner.token, "parent", Some(&expiry)).await;
    // A child asking for no expiry gets its parent's; a grandchild hangs below it.
    let (child_id, child, created) = create_key(&server, &parent, "child", None).await;
    assert_eq!(created["parentId"], parent_id.as_str());
    let expires =
        |value: &Value| chrono::DateTime::parse_from_rfc3339(value.as_str().unwrap()).unwrap();
    let asked = chrono::DateTime::parse_from_rfc3339(&expiry).unwrap();
    // PostgreSQL keeps microseconds.
    assert_eq!(
        expires(&created["expiresAt"]).timestamp_micros(),
        asked.timestamp_micros()
    );
    let (_, grandchild, created) = create_key(&server, &child, "grandchild", None).await;
    assert_eq!(created["parentId"], child_id.as_str());
    // A key made with the owner's session has no parent.
    let (_, independent, created) = create_key(&server, &owner.token, "independent", None).await;
    assert!(created["parentId"].is_null());
    for key in [&parent, &child, &grandchild, &independent] {
        server.ok(Some(key), ME, json!({})).await;
    }

    // An outsider, and a member below ADMIN, cannot revoke it.
    let outsider = server.register("outsider@example.com", "Outside").await;
    server
        .fails_as(
            &outsider,
            REVOKE_KEY,
            json!({ "id": parent_id }),
            "NOT_FOUND",
        )
        .await;
    let player = server
        .invite_member(&owner, "player@example.com", "PLAYER")
        .await;
    server
        .fails_as(&player, REVOKE_KEY, json!({ "id": parent_id }), "NOT_FOUND")
        .await;
    server.ok(Some(&child), ME, json!({})).await;

    // The leaked parent is revoked: its whole line goes with it, at once.
    server
        .ok_as(&owner, REVOKE_KEY, json!({ "id": parent_id }))
        .await;
    for key in [&parent, &child, &grandchild] {
        let body = server.gql(Some(key), ME, json!({})).await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    }
    server.ok(Some(&independent), ME, json!({})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_minted_while_its_parent_is_revoked_never_outlives_it() {
    let server = TestServer::start_with_pool(16, |_| {}).await;
    let owner = server.register("race@example.com", "Race").await;
    for round in 0..10 {
        let (parent_id, parent, _) =
            create_key(&server, &owner.token, &format!("parent {round}"), None).await;
        let (_, child, _) = create_key(&server, &parent, "child", None).await;
        // Children of the parent and grandchildren (through the child) minted while the
        // parent is revoked.
        let minting = (0..6).map(|i| {
            let server = &server;
            let minter = if i % 2 == 0 { &parent } else { &child };
            async move {
                server
                    .gql(
                        Some(minter),
                        CREATE_KEY,
                        json!({ "name": format!("minted {i}") }),
                    )
                    .await
            }
        });
        let revoking = server.gql_as(&owner, REVOKE_KEY, json!({ "id": parent_id }));
        let (minted, revoked) = tokio::join!(join_all(minting), revoking);
        assert!(revoked.get("errors").is_none(), "{revoked}");
        let me = server.gql(Some(&child), ME, json!({})).await;
        assert_eq!(error_code(&me), "UNAUTHENTICATED", "round {round}: {me}");
        for body in minted {
            // Either refused, or made and then revoked with its parent.
            if let Some(key) = body["data"]["createApiKey"]["key"].as_str() {
                let me = server.gql(Some(key), ME, json!({})).await;
                assert_eq!(error_code(&me), "UNAUTHENTICATED", "round {round}: {me}");
            } else {
                assert_eq!(
                    error_code(&body),
                    "UNAUTHENTICATED",
                    "round {round}: {body}"
                );
            }
        }
    }
}
