//! OpenTelemetry traces as a collector receives them: the real binary, configured by the
//! standard `OTEL_*` variables, sends OTLP/HTTP protobuf to a receiver in the test, which
//! decodes it with the protocol's own message types.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;
use serde_json::json;

use crate::harness::{TestServer, connect_as, fresh_database, ws_next, ws_send};

/// What the receiver was sent: each span with its resource's `service.name`.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<(String, Span)>>>);

async fn receive(State(received): State<Received>, body: Bytes) -> Vec<u8> {
    let request = ExportTraceServiceRequest::decode(body).expect("an OTLP trace export");
    let mut spans = received.0.lock().expect("the spans");
    for resource_spans in request.resource_spans {
        let service = resource_spans
            .resource
            .iter()
            .flat_map(|resource| &resource.attributes)
            .find(|attribute| attribute.key == "service.name")
            .and_then(|attribute| attribute.value.as_ref()?.value.clone());
        let service = match service {
            Some(AnyValue::StringValue(name)) => name,
            _ => String::new(),
        };
        for scope in resource_spans.scope_spans {
            spans.extend(scope.spans.into_iter().map(|span| (service.clone(), span)));
        }
    }
    ExportTraceServiceResponse::default().encode_to_vec()
}

/// An Ollama that lists no models and keeps the `traceparent` of each call.
async fn ollama() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let keep = seen.clone();
    let app = Router::new().route(
        "/api/tags",
        axum::routing::get(move |headers: axum::http::HeaderMap| {
            let keep = keep.clone();
            async move {
                if let Some(value) = headers.get("traceparent").and_then(|v| v.to_str().ok()) {
                    keep.lock().expect("the calls").push(value.to_owned());
                }
                axum::Json(json!({ "models": [] }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, seen)
}

/// A receiver on an ephemeral port: its base URL and what it received.
async fn receiver() -> (String, Received) {
    let received = Received::default();
    let app = Router::new()
        .route("/v1/traces", post(receive))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, received)
}

fn attribute(span: &Span, key: &str) -> Option<String> {
    let value = span
        .attributes
        .iter()
        .find(|a| a.key == key)?
        .value
        .as_ref()?;
    match value.value.as_ref()? {
        AnyValue::StringValue(text) => Some(text.clone()),
        AnyValue::IntValue(number) => Some(number.to_string()),
        other => Some(format!("{other:?}")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_is_traced_from_the_callers_traceparent_down_to_its_sql() {
    let (collector, received) = receiver().await;
    let (ollama_url, ollama_calls) = ollama().await;
    let server = TestServer::spawn_binary_on(fresh_database().await, |command| {
        command
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", &collector)
            .env("LOREGRAPH_OLLAMA_SERVERS", &ollama_url)
            .env("OTEL_SERVICE_NAME", "loregraph-under-test")
            .env("OTEL_BSP_SCHEDULE_DELAY", "50")
            // Every resolver gets a span, so that one surely does.
            .env("LOREGRAPH_OTEL_RESOLVER_THRESHOLD_MS", "0");
    })
    .await;
    let account = server.register("traced@otel.test", "Traced").await;

    // A caller already inside a trace sends its `traceparent`.
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let response = server
        .http
        .post(server.url("/graphql"))
        .bearer_auth(&account.token)
        .header("traceparent", format!("00-{trace_id}-{caller_span}-01"))
        .json(&json!({ "query": "query WhoAmI { me { email } }", "operationName": "WhoAmI" }))
        .send()
        .await
        .expect("an answer");
    // The answer names the request's own span in the caller's trace.
    let traceparent = response.headers()["traceparent"]
        .to_str()
        .expect("text")
        .to_owned();
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["data"]["me"]["email"], "traced@otel.test");
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "{traceparent}");
    assert_eq!(parts[1], trace_id);
    assert_ne!(parts[2], caller_span);

    // Wait (bounded) until the request's spans have arrived: the operation and its SQL end
    // before the request does, and the batch goes out every 50 ms.
    let hex = |bytes: &[u8]| hex::encode(bytes);
    let deadline = Instant::now() + Duration::from_secs(30);
    let spans = loop {
        let spans: Vec<(String, Span)> = received
            .0
            .lock()
            .expect("the spans")
            .iter()
            .filter(|(_, span)| hex(&span.trace_id) == trace_id)
            .cloned()
            .collect();
        let has_request = spans.iter().any(|(_, s)| hex(&s.span_id) == parts[2]);
        let has_sql = spans.iter().any(|(_, s)| s.name == "SELECT");
        if has_request && has_sql || Instant::now() > deadline {
            break spans;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let names: Vec<&str> = spans.iter().map(|(_, s)| s.name.as_str()).collect();
    let find = |id: &[u8]| spans.iter().map(|(_, s)| s).find(|s| s.span_id == id);

    // The request: a SERVER span, child of the caller's span, named by its route.
    let (service, request) = spans
        .iter()
        .find(|(_, s)| hex(&s.span_id) == parts[2])
        .unwrap_or_else(|| panic!("no request span among {names:?}"));
    assert_eq!(service, "loregraph-under-test");
    assert_eq!(hex(&request.parent_span_id), caller_span);
    assert_eq!(request.kind, 2, "SERVER");
    assert_eq!(request.name, "POST /graphql");
    assert_eq!(
        attribute(request, "http.response.status_code").as_deref(),
        Some("200")
    );

    // The operation, under the request.
    let operation = spans
        .iter()
        .map(|(_, s)| s)
        .find(|s| s.name == "query WhoAmI")
        .unwrap_or_else(|| panic!("no operation span among {names:?}"));
    assert_eq!(operation.parent_span_id, request.span_id);

    // A resolver and an SQL statement, each somewhere under the operation, the statement's
    // text without its values.
    let under_operation = |span: &Span| {
        let mut parent = span.parent_span_id.clone();
        while let Some(up) = find(&parent) {
            if up.span_id == operation.span_id {
                return true;
            }
            parent = up.parent_span_id.clone();
        }
        false
    };
    let resolver = spans
        .iter()
        .map(|(_, s)| s)
        .find(|s| s.name == "QueryRoot.me")
        .unwrap_or_else(|| panic!("no resolver span among {names:?}"));
    assert!(under_operation(resolver));
    let statement = spans
        .iter()
        .map(|(_, s)| s)
        .find(|s| s.name == "SELECT" && under_operation(s))
        .unwrap_or_else(|| panic!("no SQL span under the operation among {names:?}"));
    assert_eq!(
        attribute(statement, "db.system.name").as_deref(),
        Some("postgresql")
    );
    let text = attribute(statement, "db.query.text").expect("the statement's text");
    assert!(text.starts_with("SELECT"), "{text}");
    // Statements carry their text with its placeholders, never the values bound to them (the
    // viewer's own ids are bound in every statement of this request).
    let texts: Vec<String> = spans
        .iter()
        .filter_map(|(_, s)| attribute(s, "db.query.text"))
        .collect();
    assert!(texts.iter().any(|t| t.contains("$1")), "{texts:?}");
    for text in &texts {
        assert!(
            !text.contains(&account.user_id)
                && !text.contains(&account.tenant_id)
                && !text.contains("binds"),
            "{text}"
        );
    }

    // A call to another service carries the trace on.
    let other_trace = "0af7651916cd43dd8448eb211c80319c";
    let listed = server
        .http
        .post(server.url("/graphql"))
        .bearer_auth(&account.token)
        .header(
            "traceparent",
            format!("00-{other_trace}-b7ad6b7169203331-01"),
        )
        .json(
            &json!({ "query": "mutation($server: String!) { ollamaCommand(serverUrl: $server, \
                         command: \"list\") { success } }",
                       "variables": { "server": ollama_url } }),
        )
        .send()
        .await
        .expect("an answer");
    let listed: serde_json::Value = listed.json().await.expect("JSON");
    assert_eq!(listed["data"]["ollamaCommand"]["success"], true, "{listed}");
    let calls = ollama_calls.lock().expect("the calls").clone();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].split('-').nth(1), Some(other_trace), "{calls:?}");

    // An operation over the WebSocket has its own span, with its statements under it.
    let mut socket = connect_as(&server, &account.token).await;
    ws_send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe",
                "payload": { "query": "query OverTheSocket { me { email } }" } }),
    )
    .await;
    let answer = ws_next(&mut socket).await.expect("an answer");
    assert_eq!(answer["payload"]["data"]["me"]["email"], "traced@otel.test");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let spans: Vec<Span> = received
            .0
            .lock()
            .expect("the spans")
            .iter()
            .map(|(_, span)| span.clone())
            .collect();
        let operation = spans.iter().find(|s| s.name == "query OverTheSocket");
        let statement = operation.and_then(|operation| {
            spans
                .iter()
                .find(|s| s.name == "SELECT" && s.trace_id == operation.trace_id)
        });
        if statement.is_some() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no socket operation span with its SQL"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.shutdown().await;
}

#[test]
fn an_otlp_protocol_it_cannot_speak_is_refused_at_start() {
    let data = tempfile::tempdir().expect("a directory");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_loregraph"))
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .output()
        .expect("run the binary");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("grpc") && stderr.contains("http/protobuf"),
        "{stderr}"
    );
    // Refused before anything started: no database in the data directory.
    assert!(!data.path().join("postgres").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_collector_nothing_is_traced() {
    // No OTEL_* variables here: the caller's trace is not continued or answered.
    let server = TestServer::start().await;
    let response = server
        .http
        .post(server.url("/graphql"))
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("traceparent").is_none());
}
