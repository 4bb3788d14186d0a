//! GraphQL over HTTP as its specification words it: the media type each `Accept` gets, the
//! status codes that go with `application/graphql-response+json`, GET for queries only, and the
//! same rules for batches. Written from the spec's "Request", "Response" and
//! "application/graphql-response+json" sections.

use reqwest::{RequestBuilder, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestServer, error_code};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// What came back: status, content type, body.
async fn answer(request: RequestBuilder) -> (StatusCode, String, Value) {
    let response = request.send().await.expect("an answer");
    let status = response.status();
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, kind, body)
}

fn post(server: &TestServer, accept: &str, body: Value) -> RequestBuilder {
    server
        .http
        .post(server.url("/graphql"))
        .header("accept", accept)
        .json(&body)
}

fn get(server: &TestServer, accept: &str, params: &[(&str, &str)]) -> RequestBuilder {
    let url = reqwest::Url::parse_with_params(&server.url("/graphql"), params).expect("a URL");
    server.http.get(url).header("accept", accept)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_accept_gets_its_media_type() {
    let server = TestServer::start().await;
    let query = json!({ "query": "{ __typename }" });
    for (accept, expected) in [
        ("application/json", "application/json"),
        ("*/*", "application/json"),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (
            "application/graphql-response+json, application/json;q=0.9",
            GRAPHQL_RESPONSE,
        ),
        (
            "application/json, application/graphql-response+json",
            GRAPHQL_RESPONSE,
        ),
    ] {
        let (status, kind, body) = answer(post(&server, accept, query.clone())).await;
        assert_eq!(status, 200, "{accept}: {body}");
        assert_eq!(kind, expected, "{accept}");
        assert_eq!(body["data"]["__typename"], "QueryRoot", "{accept}");
        let (_, kind, _) = answer(get(&server, accept, &[("query", "{ __typename }")])).await;
        assert_eq!(kind, expected, "GET, {accept}");
    }
    // A batch is answered in the type asked for too.
    let batch = json!([{ "query": "{ __typename }" }, { "query": "{ __typename }" }]);
    let (status, kind, body) = answer(post(&server, GRAPHQL_RESPONSE, batch)).await;
    assert_eq!(
        (status.as_u16(), kind.as_str()),
        (200, GRAPHQL_RESPONSE),
        "{body}"
    );
    assert_eq!(body.as_array().map(Vec::len), Some(2), "{body}");
    // So is a multipart request (the upload transport).
    let boundary = "loregraph-boundary";
    let form = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n\
         {{\"query\":\"{{ __typename }}\"}}\r\n--{boundary}\r\nContent-Disposition: form-data; \
         name=\"map\"\r\n\r\n{{}}\r\n--{boundary}--\r\n"
    );
    for (accept, expected) in [
        ("*/*", "application/json"),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
    ] {
        let request = server
            .http
            .post(server.url("/graphql"))
            .header("accept", accept)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(form.clone());
        let (status, kind, body) = answer(request).await;
        assert_eq!((status.as_u16(), kind.as_str()), (200, expected), "{body}");
        assert_eq!(body["data"]["__typename"], "QueryRoot", "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_must_say_what_it_sends() {
    let server = TestServer::start().await;
    let text = r#"{"query":"{ __typename }"}"#;
    for content_type in [None, Some("text/plain"), Some("application/graphql")] {
        let mut request = server.http.post(server.url("/graphql")).body(text);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let (status, _, body) = answer(request).await;
        assert_eq!(status, 415, "{content_type:?}: {body}");
        assert_eq!(error_code(&body), "UNSUPPORTED_MEDIA_TYPE", "{body}");
    }
    let (status, _, body) = answer(
        server
            .http
            .post(server.url("/graphql"))
            .header("content-type", "application/json; charset=utf-8")
            .body(text),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_that_never_run_are_400_without_data_under_graphql_response_json() {
    let server = TestServer::start().await;
    let never_ran = [
        ("does not parse", json!({ "query": "{ __typename" })),
        ("does not validate", json!({ "query": "{ noSuchField }" })),
        (
            "variables that cannot be coerced",
            json!({
                "query": "query Kind($name: String!) { __type(name: $name) { name } }",
                "variables": { "name": 5 }
            }),
        ),
        (
            "an unknown operation",
            json!({ "query": "query A { __typename }", "operationName": "B" }),
        ),
    ];
    for (case, body) in &never_ran {
        let (status, kind, answer_body) =
            answer(post(&server, GRAPHQL_RESPONSE, body.clone())).await;
        assert_eq!(status, 400, "{case}: {answer_body}");
        assert_eq!(kind, GRAPHQL_RESPONSE, "{case}");
        assert!(answer_body.get("data").is_none(), "{case}: {answer_body}");
        assert!(
            answer_body["errors"][0]["message"].is_string(),
            "{case}: {answer_body}"
        );
        // Legacy clients get 200 for the same.
        let (status, kind, _) = answer(post(&server, "application/json", body.clone())).await;
        assert_eq!(
            (status.as_u16(), kind.as_str()),
            (200, "application/json"),
            "{case}"
        );
    }
    // A request that ran is 200 whatever its errors: here `me` fails for an anonymous caller.
    let (status, _, body) = answer(post(
        &server,
        GRAPHQL_RESPONSE,
        json!({ "query": "{ me { id } }" }),
    ))
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    assert!(body.get("data").is_some(), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_are_400_under_either_type() {
    let server = TestServer::start().await;
    let malformed = [
        json!({}),
        json!({ "query": 5 }),
        json!({ "query": "{ __typename }", "variables": 5 }),
        json!({ "query": "{ __typename }", "variables": "{}" }),
        json!({ "query": "{ __typename }", "extensions": [] }),
        json!({ "query": "{ __typename }", "operationName": 5 }),
    ];
    for accept in ["application/json", GRAPHQL_RESPONSE] {
        for body in &malformed {
            let (status, kind, answer_body) = answer(post(&server, accept, body.clone())).await;
            assert_eq!(status, 400, "{accept} {body}: {answer_body}");
            assert_eq!(kind, accept, "{body}");
            assert_eq!(error_code(&answer_body), "BAD_USER_INPUT", "{answer_body}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_runs_queries_and_refuses_mutations() {
    let server = TestServer::start().await;
    let owner = server.register("owner@get.test", "Get Studio").await;
    let query = "query Kind($name: String!) { __type(name: $name) { name kind } }";
    let (status, kind, body) = answer(
        get(
            &server,
            GRAPHQL_RESPONSE,
            &[
                ("query", query),
                ("operationName", "Kind"),
                ("variables", r#"{"name":"QueryRoot"}"#),
                ("extensions", "{}"),
            ],
        )
        .bearer_auth(&owner.token),
    )
    .await;
    assert_eq!(
        (status.as_u16(), kind.as_str()),
        (200, GRAPHQL_RESPONSE),
        "{body}"
    );
    assert_eq!(body["data"]["__type"]["kind"], "OBJECT", "{body}");

    // Signed in over GET, as over POST.
    let my_email = async || {
        let me = get(
            &server,
            "application/json",
            &[("query", "{ me { email } }")],
        );
        let (_, _, body) = answer(me.bearer_auth(&owner.token)).await;
        body["data"]["me"]["email"].clone()
    };
    assert_eq!(my_email().await, "owner@get.test");

    // A mutation is never run over GET.
    let response = get(
        &server,
        "application/json",
        &[("query", "mutation { logout }")],
    )
    .bearer_auth(&owner.token)
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    // `logout` did not run: the session still works.
    assert_eq!(my_email().await, "owner@get.test");

    // The same rules as POST: a bad document is a 400 with no data; bad parameters are 400.
    let (status, _, body) = answer(get(&server, GRAPHQL_RESPONSE, &[("query", "{ nope")])).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.get("data").is_none(), "{body}");
    for params in [
        vec![("operationName", "A")],
        vec![("query", "{ __typename }"), ("variables", "[1]")],
        vec![("query", "{ __typename }"), ("variables", "not json")],
        vec![("query", "{ __typename }"), ("extensions", "5")],
    ] {
        let (status, _, body) = answer(get(&server, "application/json", &params)).await;
        assert_eq!(status, 400, "{params:?}: {body}");
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    }

    // A browser asking for a page, with no query, gets the playground.
    let page = server
        .http
        .get(server.url("/graphql"))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert!(page.text().await.unwrap().contains("graphiql"));
}
