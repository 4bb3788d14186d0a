//! A bounded, seeded fuzz of the GraphQL endpoint: a few thousand generated documents (random
//! nesting, aliases, fragments and their cycles, directives, variables of the wrong types, huge
//! strings, NUL bytes, invalid UTF-8, truncations of real operations) against the real server.
//! None may get a 5xx, crash it, or take long; the server is healthy at the end. A failure
//! names its seed and case: `LOREGRAPH_FUZZ_SEED=<seed>` replays the run.

use std::time::Duration;

use futures_util::StreamExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::harness::*;

const CASES: usize = 2_000;
/// No answer may take longer (a generous bound: the debug build, two cores, a busy machine).
const SLOWEST: Duration = Duration::from_secs(10);

const FIELDS: [&str; 10] = [
    "__typename",
    "systemHealth { status version }",
    "me { email }",
    "entity(type: CHARACTER, entityId: \"x\") { name }",
    "search(query: \"a\") { rank }",
    "__schema { types { name } }",
    "noSuchField",
    "templates { entityType }",
    "worlds { total }",
    "onlineUsers { total }",
];

const REAL_OPERATIONS: [&str; 4] = [
    "query Q($id: String!, $n: Int) { entity(type: CHARACTER, entityId: $id) { name fields } entities(type: LOCATION, limit: $n) { total } }",
    "mutation { register(input: {email: \"f@example.com\", password: \"correct horse battery\", displayName: \"F\", tenantName: \"F\"}) { accessToken } }",
    "{ a: systemHealth { status } ...F } fragment F on QueryRoot { b: __typename c: me { email } }",
    "subscription { entityUpdated { entityId } }",
];

/// One generated request body (bytes: it need not even be UTF-8). Large documents are a small
/// share: the debug build parses them slowly, and a few make the point.
fn case(rng: &mut StdRng) -> Vec<u8> {
    match rng.random_range(0..100) {
        0..15 => nested(rng).into_bytes(),
        15..30 => with_fragments(rng).into_bytes(),
        30..42 => with_directives(rng).into_bytes(),
        42..54 => wrong_variables(rng).into_bytes(),
        54..56 => huge_string(rng).into_bytes(),
        56..64 => with_nul(rng).into_bytes(),
        64..72 => invalid_utf8(rng),
        72..86 => mutated(rng),
        86..90 => aliases(rng).into_bytes(),
        _ => batch(rng).into_bytes(),
    }
}

fn body(query: &str, variables: Value) -> String {
    json!({ "query": query, "variables": variables }).to_string()
}

fn field(rng: &mut StdRng) -> &'static str {
    FIELDS[rng.random_range(0..FIELDS.len())]
}

fn nested(rng: &mut StdRng) -> String {
    let levels = [1, 10, 100, 127, 129, 1_000, 5_000][rng.random_range(0..7)];
    let (open, close) =
        [("[", "]"), ("{a:", "}"), ("(", ")"), ("me {", "}")][rng.random_range(0..4)];
    let value = format!("{}1{}", open.repeat(levels), close.repeat(levels));
    let query = match rng.random_range(0..3) {
        0 => format!("{{ __typename(x: {value}) }}"),
        1 => format!("query($v: JSON = {value}) {{ __typename }}"),
        _ => format!("{{ {} __typename @skip(if: {value}) }}", field(rng)),
    };
    body(&query, json!({}))
}

fn with_fragments(rng: &mut StdRng) -> String {
    let count = rng.random_range(1..40);
    let mut query = String::from("query { ...F0 }\n");
    for i in 0..count {
        let spreads = rng.random_range(0..4);
        let mut selection = String::new();
        for _ in 0..spreads {
            // Forward spreads fan out; backward ones make cycles.
            let target = rng.random_range(0..count + 1);
            selection.push_str(&format!("...F{target} "));
        }
        selection.push_str(field(rng));
        query.push_str(&format!("fragment F{i} on QueryRoot {{ {selection} }}\n"));
    }
    body(&query, json!({}))
}

fn with_directives(rng: &mut StdRng) -> String {
    let count = rng.random_range(1..200);
    let directives: String = (0..count)
        .map(|i| match i % 3 {
            0 => "@include(if: $v) ".to_owned(),
            1 => format!("@skip(if: {}) ", rng.random_bool(0.5)),
            _ => format!("@unknown{i}(x: [1, {{a: 2}}]) "),
        })
        .collect();
    let query = format!("query($v: Boolean!) {{ {} {directives} }}", field(rng));
    body(&query, json!({ "v": rng.random_bool(0.5) }))
}

fn wrong_variables(rng: &mut StdRng) -> String {
    let variables = [
        json!({ "id": 5, "n": "ten" }),
        json!({ "id": null }),
        json!({ "id": [[["x"]]], "n": 1e300 }),
        json!({ "id": { "nested": true }, "n": -99999999999_i64 }),
        json!("not an object"),
        json!([1, 2, 3]),
    ];
    let variables = variables[rng.random_range(0..variables.len())].clone();
    body(REAL_OPERATIONS[0], variables)
}

fn huge_string(rng: &mut StdRng) -> String {
    let size = rng.random_range(10_000..200_000);
    let text: String = std::iter::repeat_n('x', size).collect();
    match rng.random_range(0..3) {
        0 => body(
            &format!("{{ search(query: \"{text}\") {{ rank }} }}"),
            json!({}),
        ),
        1 => body(&format!("{{ {text} }}"), json!({})),
        _ => body(REAL_OPERATIONS[0], json!({ "id": text })),
    }
}

fn with_nul(rng: &mut StdRng) -> String {
    let query = format!(
        "{{ {} \u{0} search(query: \"a\u{0}b\") {{ rank }} }}",
        field(rng)
    );
    body(&query, json!({ "id": "nul\u{0}" }))
}

fn invalid_utf8(rng: &mut StdRng) -> Vec<u8> {
    let mut bytes = body(REAL_OPERATIONS[rng.random_range(0..4)], json!({})).into_bytes();
    let at = rng.random_range(1..bytes.len());
    bytes.insert(at, [0xff, 0xc3, 0x80][rng.random_range(0..3)]);
    bytes
}

/// A real operation cut short or with bytes flipped.
fn mutated(rng: &mut StdRng) -> Vec<u8> {
    let mut bytes = body(
        REAL_OPERATIONS[rng.random_range(0..4)],
        json!({ "id": "x" }),
    )
    .into_bytes();
    for _ in 0..rng.random_range(1..6) {
        let at = rng.random_range(0..bytes.len());
        match rng.random_range(0..3) {
            0 => bytes[at] = rng.random(),
            1 => bytes.truncate(at.max(1)),
            _ => bytes.insert(at, b"{}[]()\"\\$@.:#"[rng.random_range(0..13)]),
        }
    }
    bytes
}

fn aliases(rng: &mut StdRng) -> String {
    let count = [10, 100, 6_000][rng.random_range(0..3)];
    let fields: String = (0..count)
        .map(|i| format!("a{i}: {} ", field(rng)))
        .collect();
    body(&format!("{{ {fields} }}"), json!({}))
}

fn batch(rng: &mut StdRng) -> String {
    let size = rng.random_range(0..25);
    let operations: Vec<Value> = (0..size)
        .map(|_| json!({ "query": format!("{{ {} }}", field(rng)) }))
        .collect();
    Value::Array(operations).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_documents_never_crash_stall_or_fail_the_server() {
    let seed: u64 = std::env::var("LOREGRAPH_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x10_4e_6a_af);
    let server = TestServer::start_with_pool(8, |_| {}).await;
    let mut rng = StdRng::seed_from_u64(seed);
    let cases: Vec<(usize, Vec<u8>)> = (0..CASES).map(|i| (i, case(&mut rng))).collect();
    let server = &server;
    let mut answers = futures_util::stream::iter(cases)
        .map(|(i, payload)| async move {
            let sent = server
                .http
                .post(server.url("/graphql"))
                .header("content-type", "application/json")
                .body(payload.clone())
                .send();
            let response = tokio::time::timeout(SLOWEST, sent).await;
            (i, payload, response)
        })
        .buffer_unordered(8);
    while let Some((i, payload, response)) = answers.next().await {
        let shown = String::from_utf8_lossy(&payload[..payload.len().min(300)]).into_owned();
        let response = response
            .unwrap_or_else(|_| {
                panic!("seed {seed} case {i}: no answer within {SLOWEST:?}: {shown}")
            })
            .unwrap_or_else(|e| panic!("seed {seed} case {i}: the request failed ({e}): {shown}"));
        let status = response.status().as_u16();
        assert!(status < 500, "seed {seed} case {i}: {status}: {shown}");
        // GraphQL answers 200 with its errors in the body: none may be ours.
        let body = response.text().await.unwrap_or_default();
        assert!(
            !body.contains("\"INTERNAL\""),
            "seed {seed} case {i}: {body}: {shown}"
        );
    }
    drop(answers);

    // The same documents over a socket: each answered or refused, the socket alive after each.
    let account = server.register("fuzz@example.com", "Fuzz").await;
    let mut socket = connect_as(server, &account.token).await;
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    let mut sent = 0;
    while sent < CASES / 10 {
        let payload = case(&mut rng);
        let Ok(Value::Object(request)) = serde_json::from_slice::<Value>(&payload) else {
            continue;
        };
        let id = format!("f{sent}");
        sent += 1;
        // A subscription that started keeps running: stop it, then make sure the socket is
        // still there. (A socket the server closed fails the sends; its close code says why.)
        for message in [
            json!({ "id": id, "type": "subscribe", "payload": request }),
            json!({ "id": id, "type": "complete" }),
            json!({ "type": "ping" }),
        ] {
            let text = tokio_tungstenite::tungstenite::Message::Text(message.to_string().into());
            if futures_util::SinkExt::send(&mut socket, text)
                .await
                .is_err()
            {
                break;
            }
        }
        loop {
            let message = tokio::time::timeout(SLOWEST, ws_next(&mut socket))
                .await
                .unwrap_or_else(|_| panic!("seed {seed} socket case {id}: no answer"));
            let message = match message {
                Ok(message) => message,
                // A payload that is no request (variables that are not an object) is not the
                // protocol's: that socket is closed, as the protocol says; take another.
                Err(4400) => {
                    socket = connect_as(server, &account.token).await;
                    break;
                }
                Err(code) => panic!("seed {seed} socket case {id}: closed with {code}"),
            };
            let text = message.to_string();
            assert!(
                !text.contains("\"INTERNAL\""),
                "seed {seed} socket case {id}: {text}"
            );
            if message["type"] == "pong" {
                break;
            }
        }
    }
    let health = server.http.get(server.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let data = server.ok(None, "{ __typename }", json!({})).await;
    assert_eq!(data["__typename"], "QueryRoot");
}
