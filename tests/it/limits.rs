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

/// A document is validated in full once per operation and remembered with its parsed form;
/// each later request that sends it still has its variables checked, before anything runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remembered_document_still_checks_every_requests_variables() {
    let server = TestServer::start().await;
    let account = server.register("memo@example.com", "Memo").await;
    let document = "query One($type: EntityType!, $id: String!) { entity(type: $type, entityId: $id) { name } } \
                    query Two { me { email } }";
    let ask = |operation: &'static str, variables: Value| {
        let body = json!({ "query": document, "operationName": operation, "variables": variables });
        let server = &server;
        let token = account.token.clone();
        async move {
            let response = server
                .http
                .post(server.url("/graphql"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            response.json::<Value>().await.unwrap()
        }
    };
    let is_refused_whole = |answer: &Value| {
        answer.get("data").is_none_or(Value::is_null) && answer["errors"].as_array().is_some()
    };

    let first = ask("One", json!({ "type": "CHARACTER", "id": "nobody" })).await;
    assert!(first.get("errors").is_none(), "{first}");
    assert!(first["data"]["entity"].is_null(), "{first}");

    // Validated and remembered now; a value its type refuses is still a validation error (no
    // data at all), not a field that fails halfway through running.
    let bad_enum = ask("One", json!({ "type": "NOT_A_TYPE", "id": "nobody" })).await;
    assert!(is_refused_whole(&bad_enum), "{bad_enum}");
    assert!(
        bad_enum["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Invalid value"),
        "{bad_enum}"
    );
    let bad_string = ask("One", json!({ "type": "CHARACTER", "id": ["a", "list"] })).await;
    assert!(is_refused_whole(&bad_string), "{bad_string}");

    // The other operation of the same document, and a name it does not define.
    let two = ask("Two", json!({})).await;
    assert_eq!(two["data"]["me"]["email"], "memo@example.com", "{two}");
    for _ in 0..2 {
        let unknown = ask("Three", json!({})).await;
        assert!(
            unknown["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("Unknown operation"),
            "{unknown}"
        );
    }
    let again = ask("One", json!({ "type": "LOCATION", "id": "nowhere" })).await;
    assert!(again.get("errors").is_none(), "{again}");

    // A directive's variable is checked as well, once its document is remembered.
    let include = "query Include($show: Boolean!) { me { email @include(if: $show) } }";
    let shown = server
        .gql_as(&account, include, json!({ "show": true }))
        .await;
    assert_eq!(shown["data"]["me"]["email"], "memo@example.com", "{shown}");
    let wrong = server
        .gql_as(&account, include, json!({ "show": "yes" }))
        .await;
    assert!(is_refused_whole(&wrong), "{wrong}");

    // A document that fails validation is refused every time it is sent.
    for _ in 0..2 {
        let invalid = server
            .gql_as(&account, "{ me { noSuchField } }", json!({}))
            .await;
        assert!(is_refused_whole(&invalid), "{invalid}");
    }
}
