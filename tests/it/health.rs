//! Health probes, and behaviour while the database is unreachable.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::net::{TcpListener, UnixStream};
use tokio::sync::watch;

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_endpoints_report_the_system() {
    let server = TestServer::start().await;
    for path in ["/health", "/api/health"] {
        let response = server.http.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "ok");
    }
    let response = server
        .http
        .get(server.url("/health/detailed"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["database_status"], "ok");
    assert_eq!(body["cache_status"], "ok");
    assert!(body["database_latency_ms"].as_f64().unwrap() >= 0.0);
    assert!(body["cache_latency_ms"].as_f64().is_some());
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert!(body["uptime"].as_str().unwrap().ends_with('s'));

    let data = server
        .ok(
            None,
            "{ systemHealth { status databaseStatus cacheStatus databaseLatencyMs version } }",
            json!({}),
        )
        .await;
    assert_eq!(data["systemHealth"]["status"], "ok");
    assert_eq!(data["systemHealth"]["databaseStatus"], "ok");
}

/// A TCP front for the test cluster's unix socket that can be cut and restored, to play a
/// database outage without stopping the cluster the other tests share.
struct Outage {
    port: u16,
    up: Arc<AtomicBool>,
    cut: watch::Sender<u64>,
}

impl Outage {
    async fn start(socket: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let (cut, _) = watch::channel(0u64);
        let accept_up = up.clone();
        let cuts = cut.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !accept_up.load(Ordering::SeqCst) {
                    continue; // refused: dropped at once
                }
                let socket = socket.clone();
                let mut cut = cuts.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = UnixStream::connect(&socket).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Self { port, up, cut }
    }

    fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.send_modify(|n| *n += 1);
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_is_reported_and_recovered_from() {
    let direct = fresh_database().await;
    // Only the embedded cluster (key=value string with a socket directory) can be fronted here.
    let Some(socket_dir) = direct
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix("host="))
        .filter(|host| host.starts_with('/'))
    else {
        eprintln!("skipped: TEST_DATABASE_URL is not the embedded cluster");
        return;
    };
    let outage = Outage::start(format!("{socket_dir}/.s.PGSQL.5432")).await;
    let rest: Vec<&str> = direct
        .split_whitespace()
        .filter(|kv| !kv.starts_with("host="))
        .collect();
    let through_proxy = format!("host=127.0.0.1 port={} {}", outage.port, rest.join(" "));
    let server = TestServer::start_on(through_proxy, |_| {}).await;
    let account = server.register("outage@example.com", "Outage").await;

    outage.down();
    let response = server
        .http
        .get(server.url("/health/detailed"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["database_status"], "unavailable");
    assert_eq!(body["status"], "degraded");
    // The cheap probe only says the process is up.
    assert_eq!(
        server
            .http
            .get(server.url("/health"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // Other requests fail with a clear, retryable error and no internals.
    let failed = server.gql(None, "mutation { login(email: \"outage@example.com\", password: \"whatever it is\") { accessToken } }", json!({})).await;
    assert_eq!(error_code(&failed), "INTERNAL");
    assert_eq!(failed["errors"][0]["extensions"]["retryable"], true);
    let message = failed["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("database is unavailable"), "{message}");

    outage.restore();
    // Recovery needs no restart: the pool reconnects on its own.
    let mut recovered = false;
    for _ in 0..50 {
        let response = server
            .http
            .get(server.url("/health/detailed"))
            .send()
            .await
            .unwrap();
        if response.status() == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        recovered,
        "the server did not recover when the database returned"
    );
    let me = server.gql_as(&account, "{ me { email } }", json!({})).await;
    let mut body = me;
    for _ in 0..20 {
        if body.get("errors").is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        body = server.gql_as(&account, "{ me { email } }", json!({})).await;
    }
    assert_eq!(body["data"]["me"]["email"], "outage@example.com", "{body}");
}
