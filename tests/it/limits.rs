//! Request limits: each one exceeded gives a clear error instead of work.

use serde_json::{Value, json};

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_deep_and_too_complex_queries_are_refused() {
    let server = TestServer::start_with(|config| {
        config.limits.max_query_depth = 4;
        config.limits.max_query_complexity = 30;
    })
    .await;
    let account = server.register("deep@example.com", "Deep").await;

    let shallow = server
        .gql_as(
            &account,
            "{ me { memberships { tenant { name } } } }",
            json!({}),
        )
        .await;
    assert!(shallow.get("errors").is_none(), "{shallow}");

    let deep = server
        .gql_as(&account, "{ me { memberships { tenant { name } role } } apiKeys { apiKeys { owner { memberships { role } } } } }", json!({}))
        .await;
    assert!(
        deep["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("too deep"),
        "{deep}"
    );
    assert!(deep.get("data").is_none_or(Value::is_null));

    let wide: String = (0..40).map(|i| format!("f{i}: me {{ email }} ")).collect();
    let complex = server
        .gql_as(&account, &format!("{{ {wide} }}"), json!({}))
        .await;
    assert!(
        complex["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("too complex"),
        "{complex}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_batches_and_bodies_are_refused() {
    let server = TestServer::start_with(|config| {
        config.limits.max_batch_size = 3;
        config.limits.max_body_bytes = 4096;
    })
    .await;
    let batch: Vec<Value> = (0..4)
        .map(|_| json!({ "query": "{ systemHealth { status } }" }))
        .collect();
    let response = server
        .http
        .post(server.url("/graphql"))
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at most 3")
    );

    let padding = "x".repeat(10_000);
    let response = server
        .http
        .post(server.url("/graphql"))
        .json(&json!({ "query": format!("{{ systemHealth {{ status }} }} # {padding}") }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "PAYLOAD_TOO_LARGE");

    let garbage = server
        .http
        .post(server.url("/graphql"))
        .header("content-type", "application/json")
        .body("{\"query\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 400);
    let body: Value = garbage.json().await.unwrap();
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
}
