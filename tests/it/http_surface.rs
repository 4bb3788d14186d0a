//! The HTTP surface as browsers, proxies and operators meet it: CORS, compression, request ids,
//! the playground served whole by the server, and subscriptions pointed to their socket.

use std::io::Read;

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::assets::{png, upload};
use crate::harness::{TestServer, error_code, fresh_database, session_cookie};
use loregraph::config::CorsOrigins;

const STUDIO: &str = "https://studio.example.com";
const STRANGER: &str = "https://stranger.example.net";

async fn preflight(server: &TestServer, origin: &str) -> reqwest::Response {
    server
        .http
        .request(Method::OPTIONS, server.url("/graphql"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type, x-csrf-token",
        )
        .send()
        .await
        .expect("a preflight")
}

async fn query_from(server: &TestServer, origin: &str) -> reqwest::Response {
    server
        .http
        .post(server.url("/graphql"))
        .header("origin", origin)
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("a query")
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listed_origin_may_call_the_api_with_cookies_and_a_stranger_may_not() {
    let server = TestServer::start_with(|config| {
        config.http.cors_origins = CorsOrigins::List(vec![STUDIO.into()]);
    })
    .await;

    let allowed = preflight(&server, STUDIO).await;
    assert!(allowed.status().is_success(), "{}", allowed.status());
    let headers = allowed.headers();
    assert_eq!(header(headers, "access-control-allow-origin"), Some(STUDIO));
    assert_eq!(
        header(headers, "access-control-allow-credentials"),
        Some("true")
    );
    let allowed_headers = header(headers, "access-control-allow-headers").unwrap_or("");
    for name in ["authorization", "content-type", "x-csrf-token"] {
        assert!(allowed_headers.contains(name), "{allowed_headers}");
    }
    assert!(
        header(headers, "access-control-allow-methods").is_some_and(|m| m.contains("POST")),
        "{headers:?}"
    );

    let refused = preflight(&server, STRANGER).await;
    assert_eq!(
        header(refused.headers(), "access-control-allow-origin"),
        None
    );

    let answer = query_from(&server, STUDIO).await;
    assert_eq!(
        header(answer.headers(), "access-control-allow-origin"),
        Some(STUDIO)
    );
    assert!(
        header(answer.headers(), "access-control-expose-headers")
            .is_some_and(|h| h.contains("x-request-id")),
        "{:?}",
        answer.headers()
    );
    let answer = query_from(&server, STRANGER).await;
    assert_eq!(
        header(answer.headers(), "access-control-allow-origin"),
        None
    );

    // The cookie's CSRF rule holds for a listed origin too: no header, no mutation.
    server.register("owner@cors.test", "Cors Studio").await;
    let cookie = session_cookie(&server, "owner@cors.test").await;
    let body: Value = server
        .http
        .post(server.url("/graphql"))
        .header("origin", STUDIO)
        .header("cookie", cookie)
        .json(&json!({ "query": "mutation { logout }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["reason"], "csrf", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_origin_is_served_without_credentials_and_none_by_default() {
    let open = TestServer::start_with(|config| config.http.cors_origins = CorsOrigins::Any).await;
    let answer = preflight(&open, STRANGER).await;
    assert_eq!(
        header(answer.headers(), "access-control-allow-origin"),
        Some("*")
    );
    assert_eq!(
        header(answer.headers(), "access-control-allow-credentials"),
        None
    );
    let answer = query_from(&open, STRANGER).await;
    assert_eq!(
        header(answer.headers(), "access-control-allow-origin"),
        Some("*")
    );

    let closed = TestServer::start().await;
    for answer in [
        preflight(&closed, STUDIO).await,
        query_from(&closed, STUDIO).await,
    ] {
        assert_eq!(
            header(answer.headers(), "access-control-allow-origin"),
            None
        );
    }
}

fn decode(encoding: &str, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match encoding {
        "gzip" => flate2::read::GzDecoder::new(bytes).read_to_end(&mut out),
        "br" => brotli::Decompressor::new(bytes, 4096).read_to_end(&mut out),
        "zstd" => zstd::stream::read::Decoder::new(bytes)
            .expect("a zstd stream")
            .read_to_end(&mut out),
        other => panic!("unexpected encoding {other}"),
    }
    .expect("decode the body");
    out
}

async fn post_with_encoding(server: &TestServer, query: &str, accept: &str) -> reqwest::Response {
    server
        .http
        .post(server.url("/graphql"))
        .header("accept-encoding", accept)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("a query")
}

const INTROSPECTION: &str =
    "{ __schema { types { name description fields { name description } } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_responses_are_compressed_as_the_client_asks_and_decode_to_the_same_body() {
    let server = TestServer::start().await;
    let plain = post_with_encoding(&server, INTROSPECTION, "identity").await;
    assert_eq!(header(plain.headers(), "content-encoding"), None);
    let plain: Value = plain.json().await.unwrap();
    assert!(plain["data"]["__schema"]["types"].is_array(), "{plain}");

    for encoding in ["gzip", "br", "zstd"] {
        let answer = post_with_encoding(&server, INTROSPECTION, encoding).await;
        assert_eq!(header(answer.headers(), "content-encoding"), Some(encoding));
        let bytes = answer.bytes().await.unwrap();
        let decoded: Value = serde_json::from_slice(&decode(encoding, &bytes)).unwrap();
        assert_eq!(decoded, plain, "{encoding}");
        let text = serde_json::to_vec(&plain).unwrap();
        assert!(
            bytes.len() < text.len() / 3,
            "{encoding}: {} bytes",
            bytes.len()
        );
    }

    // Small answers go as they are.
    let small = post_with_encoding(&server, "{ __typename }", "gzip").await;
    assert_eq!(header(small.headers(), "content-encoding"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_are_never_compressed_again() {
    let server = TestServer::start_with(|config| config.http.compression_min_bytes = 16).await;
    let owner = server.register("owner@images.test", "Images").await;
    let body = upload(&server, &owner, "map.png", png(64, 64)).await;
    let path = body["public_url"].as_str().expect("the asset's url");
    let image = server
        .http
        .get(server.url(path))
        .header("accept-encoding", "gzip, br, zstd")
        .send()
        .await
        .unwrap();
    assert_eq!(image.status(), 200);
    assert_eq!(header(image.headers(), "content-type"), Some("image/png"));
    assert_eq!(header(image.headers(), "content-encoding"), None);
    // While a JSON answer of that size is.
    let answer = post_with_encoding(&server, "{ __typename }", "gzip").await;
    assert_eq!(header(answer.headers(), "content-encoding"), Some("gzip"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_its_request_id_and_so_does_the_log() {
    let server = TestServer::spawn_binary_on(fresh_database().await, |command| {
        command
            .env("RUST_LOG", "info")
            .env("LOREGRAPH_LOG_FORMAT", "json");
    })
    .await;
    let ask = |id: Option<&str>| {
        let mut request = server
            .http
            .post(server.url("/graphql"))
            .json(&json!({ "query": "{ me { id } }" }));
        if let Some(id) = id {
            request = request.header("x-request-id", id);
        }
        request.send()
    };

    // A client's id comes back, and the request's log line carries it.
    let answer = ask(Some("trace-me-42")).await.unwrap();
    assert_eq!(
        header(answer.headers(), "x-request-id"),
        Some("trace-me-42")
    );
    let body: Value = answer.json().await.unwrap();
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    // Only errors on the server's side point at the log.
    assert!(
        body["errors"][0]["extensions"].get("requestId").is_none(),
        "{body}"
    );
    let logged = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            let lines = server.stdout.lock().unwrap().clone();
            if let Some(line) = lines.into_iter().find(|l| l.contains("trace-me-42")) {
                break line;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the request's log line");
    let line: Value = serde_json::from_str(&logged).expect("a JSON log line");
    assert_eq!(line["message"], "request", "{line}");
    assert_eq!(line["path"], "/graphql", "{line}");
    assert_eq!(line["span"]["request_id"], "trace-me-42", "{line}");

    // Without one, or with one no log should carry, the server makes its own.
    for given in [None, Some("x".repeat(500)), Some("two words".to_owned())] {
        let answer = ask(given.as_deref()).await.unwrap();
        let id = header(answer.headers(), "x-request-id").expect("an id");
        uuid::Uuid::parse_str(id).expect("a generated id");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_playground_is_served_whole_by_the_server() {
    let server = TestServer::start().await;
    let page = server
        .http
        .get(server.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("'/graphql/ws'"),
        "the page subscribes over the socket"
    );
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "{page}"
    );
    let references: Vec<&str> = page
        .split(['"', '\''])
        .filter(|part| part.starts_with("/graphql/assets/"))
        .collect();
    assert_eq!(references.len(), 4, "{references:?}");
    for reference in references {
        let asset = server.http.get(server.url(reference)).send().await.unwrap();
        assert_eq!(asset.status(), 200, "{reference}");
        let kind = header(asset.headers(), "content-type")
            .unwrap_or("")
            .to_owned();
        let expected = if reference.ends_with(".css") {
            "text/css"
        } else {
            "text/javascript"
        };
        assert!(kind.starts_with(expected), "{reference}: {kind}");
        assert!(asset.bytes().await.unwrap().len() > 1000, "{reference}");
    }
    let missing = server
        .http
        .get(server.url("/graphql/assets/elsewhere.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_sent_over_http_is_pointed_to_the_socket() {
    let server = TestServer::start().await;
    let owner = server.register("owner@socket.test", "Sockets").await;
    let body = server
        .gql_as(
            &owner,
            "subscription { memberUpdated { action } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or("");
    assert!(message.contains("/graphql/ws"), "{body}");
    assert!(body.get("data").is_none_or(Value::is_null), "{body}");
    // In a document with a query and a subscription, the query it names runs.
    let document = "query Name { __typename } subscription Members { memberUpdated { action } }";
    let run = |operation: &'static str| {
        server
            .http
            .post(server.url("/graphql"))
            .bearer_auth(&owner.token)
            .json(&json!({ "query": document, "operationName": operation }))
            .send()
    };
    let body: Value = run("Name").await.unwrap().json().await.unwrap();
    assert_eq!(body["data"]["__typename"], "QueryRoot", "{body}");
    let body: Value = run("Members").await.unwrap().json().await.unwrap();
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
}
