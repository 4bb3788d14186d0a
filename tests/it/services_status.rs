//! `servicesStatus`: the operators see the database, the asset queue, the relay and every
//! configured outside service with its latency; a service that is not configured is not asked;
//! one that cannot be reached is DOWN, and what is said of it never carries its key; only
//! SUPERUSERs may ask.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::get;
use axum::{Json, Router};
use diesel_async::RunQueryDsl;
use loregraph::config::{AppConfig, ProviderId, ProviderSettings, StudioProvider};
use serde_json::{Value, json};

use crate::harness::*;

const STATUS: &str = "{ servicesStatus {
    name state latencyMs detail checkedAt queued running oldestWaitSeconds } }";
const STRIPE_KEY: &str = "sk_test_services_status_never_shown";
const LLM_KEY: &str = "sk-llm-services-status-never-shown";
const LLM_PASSWORD: &str = "llm-password-never-shown";

/// Every request a fake service received: its path, and whether it carried credentials.
#[derive(Clone, Default)]
struct Fake {
    seen: Arc<Mutex<Vec<(String, bool)>>>,
}

impl Fake {
    /// Answers Ollama's `/api/version`, and 404 to anything else (as Stripe's and Google's
    /// roots answer a caller without a key with an error, which still shows they are there).
    async fn start() -> (Self, String) {
        let fake = Self::default();
        let app = Router::new()
            .route("/api/version", get(version))
            .fallback(not_found)
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake service");
        let url = format!("http://{}", listener.local_addr().expect("local addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (fake, url)
    }

    fn note(&self, path: &str, headers: &HeaderMap) {
        let credentials = ["authorization", "x-api-key"]
            .iter()
            .any(|name| headers.contains_key(*name));
        self.seen
            .lock()
            .expect("requests")
            .push((path.to_owned(), credentials));
    }

    fn seen(&self) -> Vec<(String, bool)> {
        self.seen.lock().expect("requests").clone()
    }
}

async fn version(State(fake): State<Fake>, headers: HeaderMap) -> Json<Value> {
    fake.note("/api/version", &headers);
    Json(json!({ "version": "0.9.1" }))
}

async fn not_found(State(fake): State<Fake>, uri: Uri, headers: HeaderMap) -> StatusCode {
    fake.note(uri.path(), &headers);
    StatusCode::NOT_FOUND
}

/// A port nothing listens on (bound, then let go).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("local addr")
        .port()
}

/// Points every outside service at `base` (Stripe and the studio's provider with keys).
fn configure_all(config: &mut AppConfig, base: &str, studio_base: String) {
    config.ollama.servers = vec![base.to_owned()];
    config.billing.stripe_secret_key = Some(STRIPE_KEY.into());
    config.billing.api_base = format!("{base}/");
    config.identity.providers.push(ProviderSettings {
        id: ProviderId::Google,
        issuer: base.to_owned(),
        client_id: "services-client".into(),
        client_secret: "services-client-secret".into(),
    });
    config.drive.api_base = base.to_owned();
    config.llm.studio = Some(StudioProvider {
        provider: "OPENAI_COMPATIBLE".into(),
        base_url: studio_base,
        api_key: Some(LLM_KEY.into()),
    });
}

async fn statuses(server: &TestServer, root: &Account) -> Vec<Value> {
    let data = server.ok_as(root, STATUS, json!({})).await;
    data["servicesStatus"]
        .as_array()
        .expect("a list of services")
        .clone()
}

fn named<'a>(list: &'a [Value], name: &str) -> &'a Value {
    list.iter()
        .find(|service| service["name"] == name)
        .unwrap_or_else(|| panic!("no service {name} in {list:?}"))
}

/// The services once `name` is in `state` (polled for up to 15 s: the relay connects a moment
/// after the server starts).
async fn once(server: &TestServer, root: &Account, name: &str, state: &str) -> Vec<Value> {
    for _ in 0..150 {
        let list = statuses(server, root).await;
        if named(&list, name)["state"] == state {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{name} did not become {state}");
}

fn latency(service: &Value) -> f64 {
    service["latencyMs"]
        .as_f64()
        .unwrap_or_else(|| panic!("a latency in {service}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operators_see_every_service_and_no_one_else_does() {
    let server = TestServer::start().await;
    let root = server.superuser("root@services.test").await;
    let list = once(&server, &root, "relay", "UP").await;

    let names: Vec<&str> = list.iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "database",
            "assetQueue",
            "relay",
            "ollama",
            "stripe",
            "drive",
            "llm"
        ]
    );
    let database = named(&list, "database");
    assert_eq!(database["state"], "UP", "{database}");
    assert!(latency(database) >= 0.0);
    assert!(database["checkedAt"].is_string(), "{database}");
    let queue = named(&list, "assetQueue");
    assert_eq!(queue["state"], "UP", "{queue}");
    assert!(latency(queue) >= 0.0);
    assert_eq!(
        (queue["queued"].as_i64(), queue["running"].as_i64()),
        (Some(0), Some(0))
    );
    assert!(queue["oldestWaitSeconds"].is_null(), "{queue}");
    let relay = named(&list, "relay");
    assert!(latency(relay) >= 0.0);
    let detail = relay["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("connected since"), "{relay}");
    for name in ["ollama", "stripe", "drive", "llm"] {
        let service = named(&list, name);
        assert_eq!(service["state"], "NOT_CONFIGURED", "{service}");
        assert!(service["latencyMs"].is_null(), "{service}");
        assert!(service["queued"].is_null(), "{service}");
    }

    let admin = server.register("admin@services.test", "Services").await;
    server
        .fails_as(&admin, STATUS, json!({}), "FORBIDDEN")
        .await;
    let anonymous = server.gql(None, STATUS, json!({})).await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED", "{anonymous}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_services_that_answer_are_up_and_get_no_key() {
    let (fake, base) = Fake::start().await;
    let studio = format!("{base}/v1");
    let server = TestServer::start_with(|config| configure_all(config, &base, studio)).await;
    let root = server.superuser("root@services-up.test").await;
    let list = statuses(&server, &root).await;

    let host = base.trim_start_matches("http://");
    let ollama = named(&list, &format!("ollama:{host}"));
    assert_eq!(ollama["state"], "UP", "{ollama}");
    assert!(latency(ollama) >= 0.0);
    let detail = ollama["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("version 0.9.1"), "{ollama}");
    assert!(detail.contains("HTTP 200"), "{ollama}");
    for name in ["stripe", "drive", "llm"] {
        let service = named(&list, name);
        assert_eq!(service["state"], "UP", "{service}");
        assert!(latency(service) >= 0.0);
        let detail = service["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("HTTP 404"), "{service}");
        assert!(detail.contains(host), "{service}");
    }
    let llm = named(&list, "llm")["detail"].as_str().unwrap_or_default();
    assert!(llm.starts_with("OPENAI_COMPATIBLE: "), "{llm}");

    // One GET each, where each service's API is, carrying no credentials.
    let mut seen = fake.seen();
    seen.sort();
    let expected = ["/", "/api/version", "/v1", "/v1/"];
    assert_eq!(
        seen,
        expected.map(|path| (path.to_owned(), false)).to_vec(),
        "requests: {seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_that_cannot_be_reached_are_down_and_their_keys_stay_unsaid() {
    let port = closed_port();
    let base = format!("http://127.0.0.1:{port}");
    // A password in the studio's URL is a credential too.
    let studio = format!("http://user:{LLM_PASSWORD}@127.0.0.1:{port}/v1?key={LLM_KEY}");
    let server = TestServer::start_with(|config| configure_all(config, &base, studio)).await;
    let root = server.superuser("root@services-down.test").await;
    let list = statuses(&server, &root).await;

    let ollama_name = format!("ollama:127.0.0.1:{port}");
    for name in [ollama_name.as_str(), "stripe", "drive", "llm"] {
        let service = named(&list, name);
        assert_eq!(service["state"], "DOWN", "{service}");
        assert!(service["latencyMs"].is_null(), "{service}");
        let detail = service["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(&format!("127.0.0.1:{port}")), "{service}");
    }
    let everything = Value::Array(list.clone()).to_string();
    for secret in [
        STRIPE_KEY,
        LLM_KEY,
        LLM_PASSWORD,
        "services-client-secret",
        "/v1",
    ] {
        assert!(!everything.contains(secret), "{secret} in {everything}");
    }
    // The server's own services do not care.
    assert_eq!(named(&list, "database")["state"], "UP");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_whose_due_job_waits_too_long_is_degraded_unless_its_tenant_paused_it() {
    // The worker looks for jobs only when woken or once an hour: rows written behind its back
    // stay where they are.
    let server = TestServer::start_with(|config| {
        config.assets.poll_interval = Duration::from_secs(3600);
    })
    .await;
    let root = server.superuser("root@services-queue.test").await;
    let admin = server.register("admin@services-queue.test", "Queue").await;
    let mut db = server.db().await;
    // Paused first, so that no worker could take the job meanwhile.
    for sql in [
        "INSERT INTO asset_queue_pauses (tenant_id) VALUES ($1::uuid)",
        "INSERT INTO asset_blobs (tenant_id, sha256, size_bytes)
         VALUES ($1::uuid, repeat('a', 64), 1)",
        "INSERT INTO assets (id, tenant_id, sha256, mime_type, size_bytes, original_filename,
                             access_key)
         VALUES (gen_random_uuid(), $1::uuid, repeat('a', 64), 'image/png', 1, 'late.png',
                 'services-status-access-key')",
        "INSERT INTO asset_jobs (id, tenant_id, asset_id, run_after)
         SELECT gen_random_uuid(), tenant_id, id, now() - interval '10 minutes'
         FROM assets WHERE tenant_id = $1::uuid",
    ] {
        diesel::sql_query(sql)
            .bind::<diesel::sql_types::Text, _>(&admin.tenant_id)
            .execute(&mut db)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    let list = statuses(&server, &root).await;
    let queue = named(&list, "assetQueue");
    assert_eq!(
        queue["state"], "UP",
        "a paused tenant's jobs wait by design: {queue}"
    );
    assert_eq!(queue["queued"], 1, "{queue}");
    assert!(queue["oldestWaitSeconds"].is_null(), "{queue}");
    let detail = queue["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("1 paused tenants"), "{queue}");

    diesel::sql_query("DELETE FROM asset_queue_pauses WHERE tenant_id = $1::uuid")
        .bind::<diesel::sql_types::Text, _>(&admin.tenant_id)
        .execute(&mut db)
        .await
        .expect("resume behind the worker's back");
    let list = statuses(&server, &root).await;
    let queue = named(&list, "assetQueue");
    assert_eq!(queue["state"], "DEGRADED", "{queue}");
    assert_eq!(queue["queued"], 1, "{queue}");
    let waited = queue["oldestWaitSeconds"].as_f64().unwrap_or_default();
    assert!(waited >= 600.0, "{queue}");
}
