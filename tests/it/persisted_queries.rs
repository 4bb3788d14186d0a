//! Automatic persisted queries as Apollo's clients use them: send the hash, hear
//! `PersistedQueryNotFound`, send the text with the hash, then the hash alone, on any node of the
//! deployment, over POST, GET and the WebSocket.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::harness::{
    Account, TestServer, connect_as, count_rows, error_code, send_json, ws_next, ws_send,
};

const ME: &str = "query Me { me { email } }";

fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn extensions(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

/// POSTs a request body as `account`.
async fn post_as(server: &TestServer, account: &Account, body: Value) -> Value {
    send_json(
        server
            .http
            .post(server.url("/graphql"))
            .bearer_auth(&account.token)
            .json(&body),
    )
    .await
}

/// GETs `/graphql` with a hash-only request as `account`: the status and the body, after
/// checking that no shared cache may keep a signed-in viewer's answer.
async fn get_as(
    server: &TestServer,
    account: &Account,
    hash: &str,
    variables: Value,
) -> (StatusCode, Value) {
    let params = [
        ("extensions", extensions(hash).to_string()),
        ("variables", variables.to_string()),
    ];
    let url = reqwest::Url::parse_with_params(&server.url("/graphql"), &params).expect("a URL");
    let response = server
        .http
        .get(url)
        .bearer_auth(&account.token)
        .send()
        .await
        .expect("an answer");
    let status = response.status();
    if status == StatusCode::OK {
        assert_eq!(response.headers()["cache-control"], "private, no-store");
        assert_eq!(response.headers()["vary"], "Authorization, Cookie");
    }
    (status, response.json().await.expect("a JSON body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_registered_on_one_node_runs_by_its_hash_on_another() {
    let first = TestServer::start().await;
    let second = TestServer::start_on(first.database_url.clone(), |_| {}).await;
    let owner = first.register("owner@apq.test", "Persisted").await;
    let hash = sha256(ME);

    // Unknown: the client is asked for the text, in Apollo's words, and nothing ran.
    let missed = post_as(&first, &owner, json!({ "extensions": extensions(&hash) })).await;
    assert_eq!(missed["errors"][0]["message"], "PersistedQueryNotFound");
    assert_eq!(error_code(&missed), "PERSISTED_QUERY_NOT_FOUND");
    assert!(missed["data"].is_null(), "{missed}");
    // Under application/graphql-response+json a request that never ran is a 400.
    let strict = first
        .http
        .post(first.url("/graphql"))
        .header("accept", "application/graphql-response+json")
        .bearer_auth(&owner.token)
        .json(&json!({ "extensions": extensions(&hash) }))
        .send()
        .await
        .expect("an answer");
    assert_eq!(strict.status(), StatusCode::BAD_REQUEST);

    // The text with its hash runs and registers it.
    let registered = post_as(
        &first,
        &owner,
        json!({ "query": ME, "extensions": extensions(&hash) }),
    )
    .await;
    assert_eq!(registered["data"]["me"]["email"], "owner@apq.test");
    let mut db = first.db().await;
    let stored = format!("SELECT count(*) AS n FROM persisted_queries WHERE sha256 = '{hash}'");
    assert_eq!(count_rows(&mut db, &stored).await, 1);

    // The hash alone now runs, on this node and on the other, over POST and over GET.
    let again = post_as(&first, &owner, json!({ "extensions": extensions(&hash) })).await;
    assert_eq!(again["data"]["me"]["email"], "owner@apq.test");
    let (status, over_get) = get_as(&second, &owner, &hash, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{over_get}");
    assert_eq!(over_get["data"]["me"]["email"], "owner@apq.test");

    // And over the other node's WebSocket.
    let mut socket = connect_as(&second, &owner.token).await;
    ws_send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe",
                "payload": { "extensions": extensions(&hash) } }),
    )
    .await;
    let answer = ws_next(&mut socket).await.expect("an answer");
    assert_eq!(answer["type"], "next", "{answer}");
    assert_eq!(answer["payload"]["data"]["me"]["email"], "owner@apq.test");
    assert_eq!(
        ws_next(&mut socket).await.expect("the end")["type"],
        "complete"
    );
    let unknown = sha256("query Unknown { me { id } }");
    ws_send(
        &mut socket,
        json!({ "id": "2", "type": "subscribe",
                "payload": { "extensions": extensions(&unknown) } }),
    )
    .await;
    // graphql-transport-ws answers an operation that never ran with `error` and its errors.
    let refused = ws_next(&mut socket).await.expect("an answer");
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND",
        "{refused}"
    );

    // A document is text only: another tenant's member running the hash sees their own data.
    let outsider = second.register("outsider@apq.test", "Elsewhere").await;
    let theirs = post_as(
        &second,
        &outsider,
        json!({ "extensions": extensions(&hash) }),
    )
    .await;
    assert_eq!(theirs["data"]["me"]["email"], "outsider@apq.test");
    second.shutdown().await;
    first.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_hash_or_version_is_refused_and_nothing_runs() {
    let server = TestServer::start().await;
    let owner = server.register("owner@apq-hash.test", "Hashes").await;
    let create = "mutation { createNote(input: { title: \"Note\", content: \"Content\" }) { id } }";

    let wrong = post_as(
        &server,
        &owner,
        json!({ "query": create, "extensions": extensions(&sha256("something else")) }),
    )
    .await;
    assert_eq!(error_code(&wrong), "BAD_USER_INPUT", "{wrong}");
    assert!(
        wrong["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("does not match")),
        "{wrong}"
    );
    let mut db = server.db().await;
    assert_eq!(
        count_rows(&mut db, "SELECT count(*) AS n FROM notes").await,
        0,
        "the mutation ran with a wrong hash"
    );
    assert_eq!(
        count_rows(&mut db, "SELECT count(*) AS n FROM persisted_queries").await,
        0
    );

    let version_two = post_as(
        &server,
        &owner,
        json!({ "query": create,
                "extensions": { "persistedQuery": { "version": 2, "sha256Hash": sha256(create) } } }),
    )
    .await;
    assert_eq!(error_code(&version_two), "BAD_USER_INPUT", "{version_two}");

    // A persisted mutation is still a mutation: never over GET.
    let hash = sha256(create);
    let registered = post_as(
        &server,
        &owner,
        json!({ "query": create, "extensions": extensions(&hash) }),
    )
    .await;
    assert!(
        registered["data"]["createNote"]["id"].is_string(),
        "{registered}"
    );
    let (status, over_get) = get_as(&server, &owner, &hash, json!({})).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{over_get}");
    assert_eq!(
        count_rows(&mut db, "SELECT count(*) AS n FROM notes").await,
        1
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shared_store_keeps_only_the_most_recently_used_documents() {
    let server = TestServer::start_with(|config| config.limits.max_persisted_queries = 2).await;
    let other_node = TestServer::start_on(server.database_url.clone(), |config| {
        config.limits.max_persisted_queries = 2;
    })
    .await;
    let owner = server.register("owner@apq-bound.test", "Bounded").await;
    let [first, second, third] = [
        "query First { me { id } }",
        "query Second { me { email } }",
        "query Third { me { displayName } }",
    ];
    let register = |document: &'static str| {
        let body = json!({ "query": document, "extensions": extensions(&sha256(document)) });
        post_as(&server, &owner, body)
    };
    for document in [first, second] {
        let answer = register(document).await;
        assert!(answer["errors"].is_null(), "{answer}");
    }
    // The other node loads First from the database: First is now the more recently used.
    let used = post_as(
        &other_node,
        &owner,
        json!({ "extensions": extensions(&sha256(first)) }),
    )
    .await;
    assert!(used["data"]["me"]["id"].is_string(), "{used}");
    let answer = register(third).await;
    assert!(answer["errors"].is_null(), "{answer}");

    let mut db = server.db().await;
    assert_eq!(
        count_rows(&mut db, "SELECT count(*) AS n FROM persisted_queries").await,
        2
    );
    let kept = |document: &str| {
        format!(
            "SELECT count(*) AS n FROM persisted_queries WHERE sha256 = '{}'",
            sha256(document)
        )
    };
    assert_eq!(count_rows(&mut db, &kept(first)).await, 1);
    assert_eq!(
        count_rows(&mut db, &kept(second)).await,
        0,
        "Second was the least recently used"
    );
    assert_eq!(count_rows(&mut db, &kept(third)).await, 1);

    // Nobody without an account takes a place in the table, and neither does a document that
    // does not validate.
    let anonymous = "query Anonymous { __typename }";
    let ran = send_json(
        server
            .http
            .post(server.url("/graphql"))
            .json(&json!({ "query": anonymous, "extensions": extensions(&sha256(anonymous)) })),
    )
    .await;
    assert_eq!(ran["data"]["__typename"], "QueryRoot", "{ran}");
    assert_eq!(count_rows(&mut db, &kept(anonymous)).await, 0);
    let invalid = "query Invalid { noSuchField }";
    let refused = post_as(
        &server,
        &owner,
        json!({ "query": invalid, "extensions": extensions(&sha256(invalid)) }),
    )
    .await;
    assert!(refused["errors"].is_array(), "{refused}");
    assert_eq!(count_rows(&mut db, &kept(invalid)).await, 0);
    other_node.shutdown().await;
    server.shutdown().await;

    // Turned off, the protocol says so, and Apollo's clients stop sending hashes.
    let off = TestServer::start_with(|config| config.limits.max_persisted_queries = 0).await;
    let owner = off.register("owner@apq-off.test", "Off").await;
    let answer = post_as(
        &off,
        &owner,
        json!({ "query": ME, "extensions": extensions(&sha256(ME)) }),
    )
    .await;
    assert_eq!(answer["errors"][0]["message"], "PersistedQueryNotSupported");
    assert_eq!(error_code(&answer), "PERSISTED_QUERY_NOT_SUPPORTED");
    off.shutdown().await;
}
