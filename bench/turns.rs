//! The turn benchmark's client (bench/turns; see bench/README.md): plays story turns against a
//! running loregraph whose models are a scripted provider this program serves itself — the
//! keeper and director answer at once, the narrator streams a fixed answer at a fixed token
//! rate — and measures the server's added latency to the first streamed delta (from the
//! provider sending the narrator's first piece to the client receiving it as a `TextDelta`),
//! the server's CPU per turn, and whether any delta was lost or reordered, at each level of
//! concurrent sessions. Prints one JSON object.
//!
//! cargo run --release --example story_turns -- --http http://127.0.0.1:8201/graphql \
//!     --ws ws://127.0.0.1:8201/graphql/ws --server-pid 1234 --sessions 1,50

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::response::Response;
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[derive(Parser)]
struct Args {
    /// The HTTP GraphQL endpoint.
    #[arg(long)]
    http: String,
    /// The WebSocket endpoint.
    #[arg(long)]
    ws: String,
    /// The server's process id, for its CPU time from /proc.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Concurrent sessions, one level after the other.
    #[arg(long, default_value = "1,50")]
    sessions: String,
    /// Turns each session plays at each level.
    #[arg(long, default_value_t = 10)]
    turns: usize,
    /// Pieces of the narrator's answer.
    #[arg(long, default_value_t = 40)]
    tokens: usize,
    /// Milliseconds between two pieces.
    #[arg(long, default_value_t = 10)]
    token_ms: u64,
}

/// When the provider sent each narration's first piece, by the turn's key.
type FirstPieces = Arc<Mutex<HashMap<String, Instant>>>;

#[derive(Clone)]
struct Provider {
    first: FirstPieces,
    tokens: usize,
    token_ms: u64,
}

fn chunk(text: &str) -> String {
    let chunk = json!({ "id": "b", "object": "chat.completion.chunk",
        "choices": [{ "index": 0, "delta": { "content": text }, "finish_reason": null }] });
    format!("data: {chunk}\n\n")
}

const END: &str = "data: {\"id\":\"b\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":100,\"completion_tokens\":40,\"total_tokens\":140}}\n\ndata: [DONE]\n\n";

/// The narrator's answer, as the client must see it assembled.
fn narration(tokens: usize) -> String {
    (0..tokens).map(|i| format!("word{i} ")).collect()
}

async fn answer(State(provider): State<Provider>, body: Bytes) -> Response {
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let system = request["messages"][0]["content"]
        .as_str()
        .unwrap_or_default();
    let user = request["messages"][1]["content"]
        .as_str()
        .unwrap_or_default();
    let immediate = |text: &str| format!("{}{END}", chunk(text));
    let body = if system.contains("keeper of an interactive story") {
        Body::from(immediate(r#"{"operations": []}"#))
    } else if system.contains("director of an interactive story") {
        Body::from(immediate(
            r#"{"role_actions": [], "beats": [{"type": "narrator", "purpose": "describe_result"}]}"#,
        ))
    } else {
        // The turn's key is the player's input, the last line of the history the narrator sees.
        let key = user
            .split_whitespace()
            .rev()
            .find(|word| word.starts_with("turn-"))
            .unwrap_or_default()
            .trim_end_matches('.')
            .to_owned();
        let pieces: Vec<String> = (0..provider.tokens)
            .map(|i| chunk(&format!("word{i} ")))
            .collect();
        let stream = futures_util::stream::unfold(
            (0usize, pieces, provider, key),
            |(i, pieces, provider, key)| async move {
                if i > pieces.len() {
                    return None;
                }
                if i == pieces.len() {
                    return Some((
                        Ok::<_, std::io::Error>(Bytes::from(END)),
                        (i + 1, pieces, provider, key),
                    ));
                }
                if i > 0 {
                    tokio::time::sleep(Duration::from_millis(provider.token_ms)).await;
                } else if let Ok(mut first) = provider.first.lock() {
                    first.insert(key.clone(), Instant::now());
                }
                let piece = Bytes::from(pieces[i].clone());
                Some((Ok(piece), (i + 1, pieces, provider, key)))
            },
        );
        Body::from_stream(stream)
    };
    let mut response = Response::new(body);
    response
        .headers_mut()
        .insert("content-type", "text/event-stream".parse().expect("header"));
    response
}

async fn gql(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
    let mut request = http
        .post(url)
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let body: Value = request
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert!(body["errors"].is_null(), "{query}: {body}");
    body["data"].clone()
}

/// The server's CPU time so far (user + system), from /proc.
fn cpu(pid: Option<u32>) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid?)).ok()?;
    let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// Plays `turns` turns of one session; each turn's added latency, and whether every turn's
/// deltas came whole and in order.
async fn play(
    args: Arc<Args>,
    token: String,
    session: String,
    first: FirstPieces,
    index: usize,
) -> (Vec<Duration>, bool) {
    let mut request = args.ws.as_str().into_client_request().expect("ws request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("ws connect");
    let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } });
    socket
        .send(Message::Text(init.to_string().into()))
        .await
        .expect("init");
    socket.next().await.expect("ack").expect("ack");
    let expected = narration(args.tokens);
    let mut latencies = Vec::new();
    let mut whole = true;
    for turn in 0..args.turns {
        let key = format!("turn-{index}-{turn}");
        let subscribe = json!({ "id": key, "type": "subscribe", "payload": {
            "query": "subscription($id: ID!, $input: String!) { runTurn(sessionId: $id, playerInput: $input) {
                __typename ... on TextDelta { sequence text } ... on TurnStarted { sequence }
                ... on PlayerInputRecorded { sequence } ... on KeeperApplied { sequence }
                ... on DirectorCompleted { sequence } ... on BeatStarted { sequence }
                ... on BeatCompleted { sequence } ... on TurnCompleted { sequence }
                ... on TurnFailed { sequence message } } }",
            "variables": { "id": session, "input": format!("I wait. {key}") } } });
        socket
            .send(Message::Text(subscribe.to_string().into()))
            .await
            .expect("subscribe");
        let mut received: Option<Instant> = None;
        let mut text = String::new();
        let mut next_sequence = 1;
        loop {
            let Some(Ok(Message::Text(message))) = socket.next().await else {
                panic!("the socket closed")
            };
            let message: Value = serde_json::from_str(&message).expect("json");
            if message["type"] == "complete" {
                break;
            }
            let event = &message["payload"]["data"]["runTurn"];
            assert!(event["__typename"] != "TurnFailed", "{message}");
            whole &= event["sequence"] == next_sequence;
            next_sequence += 1;
            if event["__typename"] == "TextDelta" {
                received.get_or_insert_with(Instant::now);
                text.push_str(event["text"].as_str().unwrap_or_default());
            }
        }
        whole &= text == expected;
        let sent = first.lock().ok().and_then(|first| first.get(&key).copied());
        if let (Some(sent), Some(received)) = (sent, received) {
            latencies.push(received.saturating_duration_since(sent));
        } else {
            whole = false;
        }
    }
    (latencies, whole)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1_000_000.0
}

#[tokio::main]
async fn main() {
    let args = Arc::new(Args::parse());
    let first: FirstPieces = Arc::default();
    let provider = Provider {
        first: first.clone(),
        tokens: args.tokens,
        token_ms: args.token_ms,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let provider_url = format!("http://{}", listener.local_addr().expect("addr"));
    // A provider answering without delay: its pieces leave at once (no Nagle), so what is
    // measured is the server's part.
    let listener = axum::serve::ListenerExt::tap_io(listener, |stream| {
        let _ = stream.set_nodelay(true);
    });
    let app = Router::new()
        .fallback(axum::routing::post(answer))
        .with_state(provider);
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });

    let http = reqwest::Client::new();
    let url = args.http.as_str();
    let email = format!("turns-{}@bench.example", std::process::id());
    let account = gql(&http, url, None, "mutation($input: RegisterInput!) { register(input: $input) { accessToken } }",
        json!({ "input": { "email": email, "password": "correct horse battery staple", "displayName": "Bench", "tenantName": "Turn Bench" } })).await;
    let token = account["register"]["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let t = Some(token.as_str());
    let connection = gql(&http, url, t, "mutation($input: CreateApiConnectionInput!) { createApiConnection(input: $input) { id } }",
        json!({ "input": { "displayName": "Bench", "provider": "OPENAI_COMPATIBLE", "baseUrl": format!("{provider_url}/v1"), "model": "bench" } })).await;
    let connection = connection["createApiConnection"]["id"].clone();
    let mut roles = json!({});
    for role in [
        "planner",
        "architect",
        "director",
        "actor",
        "narrator",
        "keeper",
        "replyer",
    ] {
        roles[format!("{role}Id")] = connection.clone();
    }
    let group = gql(&http, url, t, "mutation($input: ApiGroupInput!) { createApiGroup(displayName: \"G\", input: $input) { id } }", json!({ "input": roles })).await;
    gql(&http, url, t, "mutation($group: ID) { updateStoryConfig(defaultApiGroupId: $group) { defaultApiGroupId } }", json!({ "group": group["createApiGroup"]["id"] })).await;
    let card = gql(
        &http,
        url,
        t,
        "mutation { createCharacterCard(input: { name: \"Arya\" }) { id } }",
        json!({}),
    )
    .await;
    let resource = gql(&http, url, t, "mutation($input: StoryResourceInput!) { createStoryResource(input: $input) { id } }",
        json!({ "input": { "storyConcept": "A gate.", "characterIds": [card["createCharacterCard"]["id"]] } })).await;
    let story = gql(&http, url, t, "mutation($input: CreateStoryInput!) { createStory(displayName: \"Gate\", input: $input) { id } }",
        json!({ "input": { "resourceId": resource["createStoryResource"]["id"], "graph": { "startNode": "gate", "nodes": [{ "id": "gate", "title": "The gate", "scene": "Snow." }] } } })).await;
    let story_id = story["createStory"]["id"].clone();

    let mut report = serde_json::Map::new();
    for level in args
        .sessions
        .split(',')
        .filter_map(|n| n.trim().parse::<usize>().ok())
    {
        let mut sessions = Vec::new();
        for _ in 0..level {
            let session = gql(
                &http,
                url,
                t,
                "mutation($story: ID!) { startStorySession(storyId: $story) { id } }",
                json!({ "story": story_id }),
            )
            .await;
            sessions.push(
                session["startStorySession"]["id"]
                    .as_str()
                    .expect("id")
                    .to_owned(),
            );
        }
        let cpu_before = cpu(args.server_pid);
        let started = Instant::now();
        let players: Vec<_> = sessions
            .into_iter()
            .enumerate()
            .map(|(index, session)| {
                tokio::spawn(play(
                    args.clone(),
                    token.clone(),
                    session,
                    first.clone(),
                    index + level * 1000,
                ))
            })
            .collect();
        let mut latencies = Vec::new();
        let mut whole = true;
        for player in players {
            let (mine, ok) = player.await.expect("a player");
            latencies.extend(mine);
            whole &= ok;
        }
        let elapsed = started.elapsed();
        let turns = level * args.turns;
        let cpu_per_turn = cpu_before
            .zip(cpu(args.server_pid))
            .map(|(before, after)| (after - before).as_secs_f64() * 1000.0 / turns as f64);
        latencies.sort();
        report.insert(
            level.to_string(),
            json!({
                "sessions": level,
                "turns": turns,
                "first_delta_added_p50_us": percentile(&latencies, 0.50),
                "first_delta_added_p99_us": percentile(&latencies, 0.99),
                "server_cpu_ms_per_turn": cpu_per_turn,
                "turns_per_s": turns as f64 / elapsed.as_secs_f64(),
                "deltas_whole_and_in_order": whole,
            }),
        );
    }
    println!("{}", Value::Object(report));
}
