//! `/metrics` as Prometheus scrapes it: the text format parsed, counters that move with the
//! requests a test makes, latency histograms by route template, gauges read from the server's
//! state, no tenant data in any label; and `/metrics` on an address of its own.
//!
//! The recorder is the process's, shared by every test server in this binary: counters are
//! compared before and after (other tests only ever add to them), never to a total.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;

use crate::assets::{png, processed, upload};
use crate::entities::create_entity;
use crate::harness::*;

const EMAIL: &str = "metrics-owner@example.com";
/// Ids and paths a label must never show.
const ENTITY_ID: &str = "secret_dragon_42";
const FILE_KEY: &str = "tenant-secret-key";
const STRAY_PATH: &str = "/tenant-secret-path/7";

/// One line of the text format: `name{label="value",...} value`.
#[derive(Debug)]
struct Series {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A scrape, as text and as series.
struct Metrics {
    text: String,
    series: Vec<Series>,
}

impl Metrics {
    fn parse(text: String) -> Self {
        let series = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .map(parse_line)
            .collect();
        Self { text, series }
    }

    fn matching<'a>(
        &'a self,
        name: &'a str,
        labels: &'a [(&'a str, &'a str)],
    ) -> impl Iterator<Item = &'a Series> + 'a {
        self.series.iter().filter(move |series| {
            series.name == name
                && labels
                    .iter()
                    .all(|(key, value)| series.labels.get(*key).map(String::as_str) == Some(*value))
        })
    }

    /// The sum of the series `name` whose labels include `labels` (0 when there is none).
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.matching(name, labels).map(|series| series.value).sum()
    }

    fn has(&self, name: &str, labels: &[(&str, &str)]) -> bool {
        self.matching(name, labels).next().is_some()
    }
}

fn parse_line(line: &str) -> Series {
    let (series, value) = match line.rfind('}') {
        Some(end) => (&line[..=end], line[end + 1..].trim()),
        None => line.split_once(' ').expect("a name and a value"),
    };
    // A timestamp may follow the value.
    let value = value.split_whitespace().next().expect("a value");
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        number => number
            .parse()
            .unwrap_or_else(|_| panic!("not a number: {line}")),
    };
    let (name, labels) = match series.split_once('{') {
        Some((name, rest)) => (
            name,
            parse_labels(rest.strip_suffix('}').expect("labels end with }")),
        ),
        None => (series, BTreeMap::new()),
    };
    Series {
        name: name.trim().to_owned(),
        labels,
        value,
    }
}

/// `a="x",b="y \"quoted\""` (values escape `\`, `"` and newlines with a backslash).
fn parse_labels(text: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut chars = text.chars();
    loop {
        let name: String = chars.by_ref().take_while(|c| *c != '=').collect();
        let name = name.trim().trim_start_matches(',').trim().to_owned();
        if name.is_empty() {
            return labels;
        }
        assert_eq!(chars.next(), Some('"'), "a quoted value in {text}");
        let mut value = String::new();
        loop {
            match chars.next().expect("a closing quote") {
                '\\' => match chars.next().expect("an escaped character") {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                '"' => break,
                other => value.push(other),
            }
        }
        labels.insert(name, value);
    }
}

async fn scrape(url: &str) -> Metrics {
    let response = reqwest::get(url).await.expect("a scrape");
    assert_eq!(response.status(), 200, "{url}");
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("a content type")
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    Metrics::parse(response.text().await.expect("the text"))
}

/// Scrapes until `holds` (bounded: what it waits for is counted by background work).
async fn scrape_until(url: &str, holds: impl Fn(&Metrics) -> bool) -> Metrics {
    for _ in 0..100 {
        let metrics = scrape(url).await;
        if holds(&metrics) {
            return metrics;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} never showed what the test waited for");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_operations_sockets_and_background_work_without_tenant_data() {
    // The server as a process of its own: the recorder is process-wide, so in this test
    // process every other test's requests would count too, and a counter that moved could
    // have moved for them.
    let server = TestServer::spawn_binary_on(fresh_database().await, |command| {
        command.env("LOREGRAPH_LOGIN_MAX_FAILURES", "1");
    })
    .await;
    let url = server.url("/metrics");
    let owner = server.register(EMAIL, "Metrics Studio").await;
    let before = scrape(&url).await;

    // A named query (its name read from the document), one that fails, and one whose
    // operationName is not a name at all.
    server
        .ok_as(&owner, "query WhoAmI { me { id } }", json!({}))
        .await;
    let refused = server
        .gql(None, "query Broken { me { id } }", json!({}))
        .await;
    assert_eq!(error_code(&refused), "UNAUTHENTICATED", "{refused}");
    let odd = send_json(
        server
            .http
            .post(server.url("/graphql"))
            .bearer_auth(&owner.token)
            .json(&json!({ "query": "query WhoAmI { me { id } }", "operationName": EMAIL })),
    )
    .await;
    assert!(odd["errors"].is_array(), "{odd}");

    // A subscription that hears an event, and stays open while the server is scraped.
    let mut socket = subscribe_as(
        &server,
        &owner,
        "subscription Watch { entityUpdated { action entityId } }",
        json!({}),
    )
    .await;
    create_entity(&server, &owner, "CHARACTER", ENTITY_ID, "Dragon", json!({})).await;
    assert_eq!(
        next_data(&mut socket, "entityUpdated").await["entityId"],
        ENTITY_ID
    );

    // Paths with ids in them, matched and not.
    server.get(&format!("/files/{FILE_KEY}")).await;
    assert_eq!(server.get(STRAY_PATH).await.status(), 404);

    // A refused sign-in, a webhook the server is not configured for, an asset processed.
    for expected in ["UNAUTHENTICATED", "RATE_LIMITED"] {
        let login = server.login(EMAIL, "not the password").await;
        assert_eq!(error_code(&login), expected, "{login}");
    }
    let webhook = server
        .http
        .post(server.url("/api/billing/webhook"))
        .body("{}")
        .send()
        .await
        .expect("a webhook");
    assert_eq!(webhook.status(), 400);
    let asset = upload(&server, &owner, "map.png", png(64, 64)).await;
    let id = asset["id"].as_str().expect("an asset id");
    assert_eq!(processed(&server, &owner, id).await["processing"], "DONE");

    let done = ("outcome", "done");
    let after = scrape_until(&url, |metrics| {
        metrics.value("loregraph_asset_jobs_total", &[done])
            > before.value("loregraph_asset_jobs_total", &[done])
    })
    .await;
    let moved = |name: &str, labels: &[(&str, &str)]| {
        after.value(name, labels) - before.value(name, labels)
    };

    // GraphQL operations by name, type and outcome; errors by code.
    let operation =
        |name, kind, outcome| [("operation", name), ("type", kind), ("outcome", outcome)];
    for labels in [
        operation("WhoAmI", "query", "ok"),
        // Without an account, every operation counts under one name.
        operation("unauthenticated", "query", "error"),
        // The one named by an email: refused before it ran, so counted without a name.
        operation("anonymous", "unknown", "error"),
        operation("Watch", "subscription", "ok"),
    ] {
        let moved = moved("loregraph_graphql_operations_total", &labels);
        assert!(moved >= 1.0, "{labels:?}:\n{}", after.text);
    }
    for code in ["UNAUTHENTICATED", "RATE_LIMITED"] {
        let moved = moved("loregraph_graphql_errors_total", &[("code", code)]);
        assert!(moved >= 1.0, "{code}:\n{}", after.text);
    }

    // HTTP requests by route template, method and status, with latency histograms.
    let graphql_ok = [("route", "/graphql"), ("method", "POST"), ("status", "200")];
    assert!(moved("loregraph_http_requests_total", &graphql_ok) >= 3.0);
    let histogram = "loregraph_http_request_duration_seconds";
    let bucket = format!("{histogram}_bucket");
    assert!(after.has(&bucket, &[graphql_ok[0], graphql_ok[1], ("le", "0.005")]));
    let count = after.value(&format!("{histogram}_count"), &graphql_ok);
    assert!(count >= 3.0);
    assert!(after.value(&format!("{histogram}_sum"), &graphql_ok) > 0.0);
    let everything = [graphql_ok[0], graphql_ok[1], graphql_ok[2], ("le", "+Inf")];
    assert_eq!(after.value(&bucket, &everything), count);
    assert!(after.has(&bucket, &[("route", "/files/{key}")]));
    let unmatched = [("route", "unmatched"), ("status", "404")];
    assert!(moved("loregraph_http_requests_total", &unmatched) >= 1.0);
    for series in after.matching("loregraph_http_requests_total", &[]) {
        let route = &series.labels["route"];
        assert!(route == "unmatched" || route.starts_with('/'), "{route}");
    }

    // Gauges read from this server as it was scraped.
    for gauge in [
        "loregraph_websocket_connections",
        "loregraph_websocket_authenticated_connections",
        "loregraph_graphql_subscriptions_active",
        "loregraph_graphql_subscription_groups",
        "loregraph_db_pool_max_connections",
    ] {
        assert!(after.value(gauge, &[]) >= 1.0, "{gauge}:\n{}", after.text);
    }
    for gauge in [
        "loregraph_db_pool_connections",
        "loregraph_db_pool_waiting",
        "loregraph_event_outbox_pending",
        "loregraph_asset_jobs",
    ] {
        assert!(after.has(gauge, &[]), "{gauge}:\n{}", after.text);
    }

    // The database, the event bus and the background work.
    let entity = [("kind", "entity")];
    assert!(moved("loregraph_db_query_duration_seconds_count", &[]) >= 1.0);
    assert!(moved("loregraph_events_published_total", &entity) >= 1.0);
    assert!(moved("loregraph_events_delivered_total", &entity) >= 1.0);
    assert!(moved("loregraph_event_delivery_lag_seconds_count", &[]) >= 1.0);
    assert!(moved("loregraph_login_throttled_total", &[]) >= 1.0);
    let not_configured = [("outcome", "not_configured")];
    assert!(moved("loregraph_stripe_webhooks_total", &not_configured) >= 1.0);

    // Described, and typed as Prometheus expects.
    for line in [
        "# HELP loregraph_graphql_operations_total ",
        "# TYPE loregraph_http_requests_total counter",
        "# TYPE loregraph_http_request_duration_seconds histogram",
    ] {
        assert!(after.text.contains(line), "{line}");
    }

    // No tenant's data in any label (nor anywhere else in the text).
    for secret in [
        owner.tenant_id.as_str(),
        owner.user_id.as_str(),
        EMAIL,
        ENTITY_ID,
        FILE_KEY,
        STRAY_PATH,
        id,
    ] {
        assert!(!after.text.contains(secret), "{secret} in:\n{}", after.text);
    }
    drop(socket);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_on_their_own_address_are_served_there_alone_and_stop_with_the_server() {
    let server = TestServer::start_with(|config| {
        config.http.metrics_bind = Some("127.0.0.1:0".parse().expect("an address"));
    })
    .await;
    let base = server.metrics_base.clone().expect("the metrics address");
    assert_ne!(base, server.base);
    // An operation whose name no other test uses (the recorder is process-wide).
    let owner = server.register("owner@metrics-apart.test", "Apart").await;
    server
        .ok_as(&owner, "query MetricsServedApart { __typename }", json!({}))
        .await;

    assert_eq!(server.get("/metrics").await.status(), 404);
    let metrics = scrape(&format!("{base}/metrics")).await;
    let ran = [("operation", "MetricsServedApart"), ("outcome", "ok")];
    assert_eq!(
        metrics.value("loregraph_graphql_operations_total", &ran),
        1.0
    );
    // The API is not served there.
    let api = reqwest::get(format!("{base}/graphql"))
        .await
        .expect("an answer");
    assert_eq!(api.status(), 404);

    server.shutdown().await;
    assert!(
        reqwest::get(format!("{base}/metrics")).await.is_err(),
        "{base} still answers after the server stopped"
    );
}
