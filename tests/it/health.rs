//! Health probes, and behaviour while the database is unreachable.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::net::{TcpListener, UnixStream};
use tokio::sync::watch;

use loregraph::db::embedded::{ClusterOptions, EmbeddedCluster};

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_endpoints_report_the_system() {
    let server = TestServer::start().await;
    for path in ["/health", "/api/health"] {
        let response = server.get(path).await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "ok");
    }
    let response = server.get("/health/detailed").await;
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
    let response = server.get("/health/detailed").await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["database_status"], "unavailable");
    assert_eq!(body["status"], "degraded");
    // The readiness probe says so too (within its one-second memory); the liveness probe
    // says the process is up.
    assert_eq!(wait_for_health(&server, 503).await["status"], "unavailable");
    let live = server.get("/health/live").await;
    assert_eq!(live.status(), 200);

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
        let response = server.get("/health/detailed").await;
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
    wait_for_health(&server, 200).await;
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

/// Polls `/health` until it answers `status` (it remembers an answer for a second); its body.
async fn wait_for_health(server: &TestServer, status: u16) -> Value {
    for _ in 0..100 {
        let response = server.get("/health").await;
        if response.status() == status {
            return response.json().await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("/health never answered {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_ready_and_live_separately() {
    let server = TestServer::start().await;
    for path in ["/health", "/api/health"] {
        let body: Value = server.get(path).await.json().await.unwrap();
        assert_eq!(body["status"], "ok", "{body}");
        assert_eq!(body["database"], "ok", "{body}");
    }
    for path in ["/health/live", "/api/health/live"] {
        let response = server.get(path).await;
        assert_eq!(response.status(), 200);
    }
}

/// A PostgreSQL of this test's own, that it can stop and start again.
fn own_cluster_options(dir: &std::path::Path) -> ClusterOptions {
    ClusterOptions {
        dir: dir.join("postgres"),
        bin_dir: std::env::var_os("LOREGRAPH_PG_BIN_DIR").map(Into::into),
        durable: false,
        log_file: dir.join("postgres.log"),
        settings: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_external_database_that_stops_and_returns_is_served_again() {
    let dir = tempfile::Builder::new()
        .prefix("loregraph-ext-")
        .tempdir()
        .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let cluster = EmbeddedCluster::start(own_cluster_options(dir.path()))
        .await
        .unwrap();
    cluster.ensure_database("external").await.unwrap();
    let url = cluster.connection_string("external");
    loregraph::db::migrations::run_pending(&url).await.unwrap();
    let server = TestServer::start_on(url, |_| {}).await;
    let account = server.register("external@example.com", "External").await;

    cluster.stop().await.unwrap();
    wait_for_health(&server, 503).await;
    let failed = server.gql_as(&account, "{ me { email } }", json!({})).await;
    assert_eq!(
        failed["errors"][0]["extensions"]["retryable"], true,
        "{failed}"
    );
    let live = server.get("/health/live").await;
    assert_eq!(live.status(), 200);

    // The same database comes back: the server serves again without a restart.
    let cluster = EmbeddedCluster::start(own_cluster_options(dir.path()))
        .await
        .unwrap();
    wait_for_health(&server, 200).await;
    let mut body = json!(null);
    for _ in 0..50 {
        body = server.gql_as(&account, "{ me { email } }", json!({})).await;
        if body.get("errors").is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        body["data"]["me"]["email"], "external@example.com",
        "{body}"
    );
    drop(server);
    cluster.stop().await.unwrap();
}
