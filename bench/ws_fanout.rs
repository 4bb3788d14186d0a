//! The subscriber benchmark's client (run by bench/harness.py; see bench/README.md): opens N
//! idle graphql-transport-ws subscribers, fires mutations one at a time over HTTP, and measures
//! how long each event takes to reach every subscriber. It also reads the server's RSS before
//! and after connecting, for the memory each idle connection costs. Prints one JSON object.
//!
//! cargo run --release --example ws_fanout -- --ws ws://127.0.0.1:8201/graphql/ws \
//!     --http http://127.0.0.1:8201/graphql --token lg_… --subscribers 10000 --events 30 \
//!     --subscription 'subscription { … }' --mutation 'mutation($mood: String!) { … }' \
//!     --variables '{"mood": "m%N%"}'

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{Notify, Semaphore};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

#[derive(Parser)]
struct Args {
    /// The WebSocket endpoint.
    #[arg(long)]
    ws: String,
    /// The HTTP GraphQL endpoint the mutations go to.
    #[arg(long)]
    http: String,
    /// Bearer credential for connection_init and the mutations (none for servers without auth).
    #[arg(long)]
    token: Option<String>,
    #[arg(long, default_value_t = 10_000)]
    subscribers: usize,
    #[arg(long, default_value_t = 30)]
    events: usize,
    #[arg(long)]
    subscription: String,
    /// A mutation causing one event each time it runs.
    #[arg(long)]
    mutation: String,
    /// The mutation's variables as JSON, with `%N%` standing for the event's number.
    #[arg(long, default_value = "{}")]
    variables: String,
    /// The server's process id, to read its RSS from /proc.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Handshakes in flight at once.
    #[arg(long, default_value_t = 200)]
    concurrency: usize,
    /// How long to wait for one event to reach everyone before counting it as missed.
    #[arg(long, default_value_t = 30)]
    timeout_secs: u64,
}

/// What the subscribers share with the driver.
struct Shared {
    subscribed: AtomicUsize,
    all_subscribed: Notify,
    /// When the run started; the other instants are microseconds after it.
    base: Instant,
    /// When the current event's mutation was sent.
    fired_at_us: AtomicU64,
    received: AtomicUsize,
    /// The subscribers that connected: "everyone".
    expected: AtomicUsize,
    everyone_has_it: Notify,
    /// Every delivery's latency: how many took each 100 µs step (lock-free, so the client
    /// spends its time reading, not waiting on its own bookkeeping).
    deliveries: Vec<AtomicU64>,
    failures: AtomicUsize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let shared = Arc::new(Shared {
        subscribed: AtomicUsize::new(0),
        all_subscribed: Notify::new(),
        base: Instant::now(),
        fired_at_us: AtomicU64::new(0),
        received: AtomicUsize::new(0),
        expected: AtomicUsize::new(usize::MAX),
        everyone_has_it: Notify::new(),
        deliveries: (0..HISTOGRAM_STEPS).map(|_| AtomicU64::new(0)).collect(),
        failures: AtomicUsize::new(0),
    });
    let rss_before = rss_kib(args.server_pid);

    let handshakes = Arc::new(Semaphore::new(args.concurrency));
    let started = Instant::now();
    let waiting = shared.all_subscribed.notified();
    tokio::pin!(waiting);
    waiting.as_mut().enable();
    for _ in 0..args.subscribers {
        let permit = handshakes.clone().acquire_owned().await?;
        let shared = shared.clone();
        let (ws, token, query, total) = (
            args.ws.clone(),
            args.token.clone(),
            args.subscription.clone(),
            args.subscribers,
        );
        tokio::spawn(async move {
            if let Err(error) = subscriber(&ws, token, &query, total, &shared, permit).await {
                shared.failures.fetch_add(1, Ordering::Relaxed);
                eprintln!("subscriber failed: {error}");
                if shared.subscribed.fetch_add(1, Ordering::AcqRel) + 1 == total {
                    shared.all_subscribed.notify_one();
                }
            }
        });
    }
    tokio::time::timeout(Duration::from_secs(300), waiting)
        .await
        .map_err(|_| anyhow::anyhow!("subscribers did not all connect within 300 s"))?;
    let connect_seconds = started.elapsed().as_secs_f64();
    let connected = args.subscribers - shared.failures.load(Ordering::Relaxed);
    shared.expected.store(connected, Ordering::Release);
    // Let the server finish registering the subscriptions and settle before measuring.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_connected = rss_kib(args.server_pid);

    let http = reqwest::Client::new();
    let mut fanout_ms = Vec::new();
    let mut missed = 0;
    for n in 0..args.events {
        shared.received.store(0, Ordering::Release);
        let everyone = shared.everyone_has_it.notified();
        tokio::pin!(everyone);
        everyone.as_mut().enable();
        let variables: Value =
            serde_json::from_str(&args.variables.replace("%N%", &n.to_string()))?;
        let fired = Instant::now();
        shared
            .fired_at_us
            .store(micros(shared.base.elapsed()), Ordering::Release);
        let mut request = http
            .post(&args.http)
            .json(&json!({ "query": args.mutation, "variables": variables }));
        if let Some(token) = &args.token {
            request = request.bearer_auth(token);
        }
        let body: Value = request.send().await?.json().await?;
        anyhow::ensure!(body.get("errors").is_none(), "the mutation failed: {body}");
        match tokio::time::timeout(Duration::from_secs(args.timeout_secs), everyone).await {
            Ok(()) => fanout_ms.push(fired.elapsed().as_secs_f64() * 1000.0),
            Err(_) => missed += 1,
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    fanout_ms.sort_by(f64::total_cmp);
    let delivery_ms = |q: f64| histogram_percentile(&shared.deliveries, q);
    let per_connection = match (rss_before, rss_connected) {
        (Some(before), Some(after)) if connected > 0 => {
            Some((after.saturating_sub(before)) as f64 * 1024.0 / connected as f64)
        }
        _ => None,
    };
    println!(
        "{}",
        json!({
            "subscribers": args.subscribers,
            "connected": connected,
            "connect_seconds": connect_seconds,
            "connects_per_s": connected as f64 / connect_seconds,
            "rss_before_kib": rss_before,
            "rss_connected_kib": rss_connected,
            "bytes_per_connection": per_connection,
            "events": args.events,
            "missed_events": missed,
            "fanout_p50_ms": percentile_f(&fanout_ms, 0.50),
            "fanout_p99_ms": percentile_f(&fanout_ms, 0.99),
            "fanout_max_ms": fanout_ms.last(),
            "delivery_p50_ms": delivery_ms(0.50),
            "delivery_p99_ms": delivery_ms(0.99),
        })
    );
    Ok(())
}

/// One subscriber: handshake, subscribe, then count every `next` message as a delivery of the
/// current event.
async fn subscriber(
    url: &str,
    token: Option<String>,
    query: &str,
    total: usize,
    shared: &Shared,
    permit: tokio::sync::OwnedSemaphorePermit,
) -> anyhow::Result<()> {
    let mut request = url.into_client_request()?;
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
    // tungstenite zeroes its whole read buffer (128 KiB by default) on every read: with ten
    // thousand sockets that memset alone would make the client the bottleneck.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (mut socket, _) =
        tokio_tungstenite::connect_async_with_config(request, Some(config), true).await?;
    let payload = token.map_or(
        json!({}),
        |t| json!({ "authorization": format!("Bearer {t}") }),
    );
    socket
        .send(Message::Text(
            json!({ "type": "connection_init", "payload": payload })
                .to_string()
                .into(),
        ))
        .await?;
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) if text.contains("connection_ack") => break,
            Some(Ok(Message::Text(_) | Message::Ping(_) | Message::Pong(_))) => {}
            other => anyhow::bail!("no connection_ack: {other:?}"),
        }
    }
    socket
        .send(Message::Text(
            json!({ "id": "1", "type": "subscribe", "payload": { "query": query } })
                .to_string()
                .into(),
        ))
        .await?;
    drop(permit);
    if shared.subscribed.fetch_add(1, Ordering::AcqRel) + 1 == total {
        shared.all_subscribed.notify_one();
    }
    while let Some(message) = socket.next().await {
        match message? {
            Message::Text(text) if text.contains("\"next\"") => {
                let now = micros(shared.base.elapsed());
                let latency = now.saturating_sub(shared.fired_at_us.load(Ordering::Acquire));
                let step = usize::try_from(latency / STEP_US).unwrap_or(usize::MAX);
                shared.deliveries[step.min(HISTOGRAM_STEPS - 1)].fetch_add(1, Ordering::Relaxed);
                let received = shared.received.fetch_add(1, Ordering::AcqRel) + 1;
                if received == shared.expected.load(Ordering::Acquire) {
                    shared.everyone_has_it.notify_one();
                }
            }
            Message::Text(text) if text.contains("\"error\"") => anyhow::bail!("{text}"),
            Message::Close(frame) => anyhow::bail!("closed by the server: {frame:?}"),
            _ => {}
        }
    }
    Ok(())
}

const STEP_US: u64 = 100;
/// 100 µs steps up to a minute.
const HISTOGRAM_STEPS: usize = 600_000;

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// The q-quantile of the recorded latencies, milliseconds (to the step's upper edge).
fn histogram_percentile(steps: &[AtomicU64], q: f64) -> Option<f64> {
    let counts: Vec<u64> = steps.iter().map(|c| c.load(Ordering::Relaxed)).collect();
    let total: u64 = counts.iter().sum();
    let rank = ((total.checked_sub(1)? as f64) * q).round() as u64;
    let mut seen = 0;
    counts
        .iter()
        .position(|&count| {
            seen += count;
            seen > rank
        })
        .map(|step| ((step as u64 + 1) * STEP_US) as f64 / 1000.0)
}

fn percentile_f(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    sorted.get(((last as f64) * q).round() as usize).copied()
}

/// The process's resident set, KiB.
fn rss_kib(pid: Option<u32>) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}
