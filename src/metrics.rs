//! Prometheus metrics: the process's recorder (installed once, however many servers the process
//! runs), every metric's name and description, and the functions the code records through.
//! `/metrics` (`http::metrics`) samples the gauges that are read from the server's state and
//! renders everything in the Prometheus text format.
//!
//! No label carries tenant data: routes are templates (`/files/{key}`, never the key), GraphQL
//! operation names are kept only when they look like names and only the first
//! [`MAX_OPERATION_NAMES`] distinct ones (later ones count as `other`), error codes are the
//! server's own, and every other label is one of a few fixed words.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use async_graphql::parser::types::OperationType;
use chrono::{DateTime, Utc};
use metrics::{
    Counter, Histogram, SharedString, counter, describe_counter, describe_gauge,
    describe_histogram, gauge, histogram,
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio_util::sync::CancellationToken;

/// Upper bounds of the histograms' buckets, in seconds (every histogram here is a duration).
const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Distinct GraphQL operation names kept as label values; later ones count as `other`.
pub const MAX_OPERATION_NAMES: usize = 500;
/// The longest operation name kept as a label value.
const MAX_OPERATION_NAME_CHARS: usize = 64;
/// How often recorded histogram samples are folded into their buckets between scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
/// The operation names seen so far (at most [`MAX_OPERATION_NAMES`]).
static OPERATION_NAMES: LazyLock<RwLock<HashSet<Arc<str>>>> = LazyLock::new(Default::default);
/// One scrape at a time sets the sampled gauges and renders them (a process running several
/// servers, as the tests do, would otherwise mix their samples).
static SCRAPE: Mutex<()> = Mutex::new(());

/// Installs the process's recorder the first time; every later call (each server a test
/// process starts) gets the same handle. Should another recorder hold the global place, the
/// metrics go to it and `/metrics` shows nothing.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets(&BUCKETS)
            .expect("the buckets are not empty");
        let handle = match builder.install_recorder() {
            Ok(handle) => handle,
            Err(error) => {
                tracing::warn!(%error, "another metrics recorder is installed: /metrics is empty");
                PrometheusBuilder::new().build_recorder().handle()
            }
        };
        describe();
        handle
    })
}

/// Folds recorded histogram samples into their buckets every few seconds until `shutdown`, so
/// that they do not pile up while nobody scrapes.
pub async fn upkeep(shutdown: CancellationToken) {
    let handle = install();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(UPKEEP_EVERY) => handle.run_upkeep(),
        }
    }
}

/// What `/metrics` reads from the server's state when it is scraped.
#[derive(Debug, Default)]
pub struct Sample {
    pub pool_max: usize,
    /// Connections open (in use or idle).
    pub pool_size: usize,
    pub pool_idle: usize,
    /// Callers waiting for a connection.
    pub pool_waiting: usize,
    pub websockets: usize,
    pub authenticated_websockets: usize,
    pub subscriptions: usize,
    pub subscription_groups: usize,
    /// Events published on this node and not yet logged and relayed.
    pub event_outbox: usize,
    /// The asset queue's pending and running jobs, when the database answered.
    pub asset_jobs: Option<(i64, i64)>,
}

/// The Prometheus text of every metric, with `sample`'s gauges set first.
pub fn render(sample: &Sample) -> String {
    let handle = install();
    let _scrape = SCRAPE.lock().unwrap_or_else(PoisonError::into_inner);
    let in_use = sample.pool_size.saturating_sub(sample.pool_idle);
    gauge!("loregraph_db_pool_connections", "state" => "in_use").set(in_use as f64);
    gauge!("loregraph_db_pool_connections", "state" => "idle").set(sample.pool_idle as f64);
    gauge!("loregraph_db_pool_max_connections").set(sample.pool_max as f64);
    gauge!("loregraph_db_pool_waiting").set(sample.pool_waiting as f64);
    gauge!("loregraph_websocket_connections").set(sample.websockets as f64);
    gauge!("loregraph_websocket_authenticated_connections")
        .set(sample.authenticated_websockets as f64);
    gauge!("loregraph_graphql_subscriptions_active").set(sample.subscriptions as f64);
    gauge!("loregraph_graphql_subscription_groups").set(sample.subscription_groups as f64);
    gauge!("loregraph_event_outbox_pending").set(sample.event_outbox as f64);
    if let Some((pending, running)) = sample.asset_jobs {
        gauge!("loregraph_asset_jobs", "state" => "pending").set(pending as f64);
        gauge!("loregraph_asset_jobs", "state" => "running").set(running as f64);
    }
    handle.render()
}

/// One HTTP request: its route template (`None`: no route matched), method, status and how
/// long the handler took to answer.
pub fn http_request(route: Option<&str>, method: &str, status: u16, elapsed: Duration) {
    static HANDLES: LazyLock<HttpHandles> = LazyLock::new(Handles::default);
    let route = route.unwrap_or("unmatched");
    let method = method_label(method);
    let (requests, latency) = HANDLES.get(route, (method, status), || {
        let (route, status) = (route.to_owned(), status.to_string());
        (
            counter!("loregraph_http_requests_total", "route" => route.clone(),
                "method" => method, "status" => status.clone()),
            histogram!("loregraph_http_request_duration_seconds", "route" => route,
                "method" => method, "status" => status),
        )
    });
    requests.increment(1);
    latency.record(elapsed.as_secs_f64());
}

/// The HTTP request counter and latency histogram by route, then method and status.
type HttpHandles = Handles<(&'static str, u16), (Counter, Histogram)>;

/// The handles of one metric by a text label and a few fixed ones, kept so that a hot path
/// neither builds its key nor looks it up in the recorder's registry (which hashes every label)
/// on each call: one read lock and two lookups without allocating. Bounded by the labels'
/// own bounds (route templates, statuses, the operation names kept). Nothing is kept before
/// the recorder is installed, so an early call cannot pin a handle of the no-op recorder.
struct Handles<K, H> {
    by_text: RwLock<HashMap<String, HashMap<K, H>>>,
}

impl<K, H> Default for Handles<K, H> {
    fn default() -> Self {
        Self {
            by_text: RwLock::new(HashMap::new()),
        }
    }
}

impl<K: Eq + std::hash::Hash + Copy, H: Clone> Handles<K, H> {
    fn get(&self, text: &str, key: K, make: impl FnOnce() -> H) -> H {
        if HANDLE.get().is_none() {
            return make();
        }
        let known = self
            .by_text
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(text)
            .and_then(|by_key| by_key.get(&key))
            .cloned();
        if let Some(handles) = known {
            return handles;
        }
        self.by_text
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(text.to_owned())
            .or_default()
            .entry(key)
            .or_insert_with(make)
            .clone()
    }
}

/// The standard methods by name; any other (a client may send any token) as `other`.
pub(crate) fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        "CONNECT" => "CONNECT",
        "TRACE" => "TRACE",
        _ => "other",
    }
}

/// A GraphQL operation that was answered (`kind` is `None` when it was refused before its
/// document said what it is): counted by name, type and outcome, and its errors by code.
pub fn graphql_operation(
    name: Option<&str>,
    kind: Option<OperationType>,
    response: &async_graphql::Response,
) {
    let kind = match kind {
        Some(OperationType::Query) => "query",
        Some(OperationType::Mutation) => "mutation",
        Some(OperationType::Subscription) => "subscription",
        None => "unknown",
    };
    let outcome = if response.errors.is_empty() {
        "ok"
    } else {
        "error"
    };
    static HANDLES: LazyLock<Handles<(&'static str, &'static str), Counter>> =
        LazyLock::new(Handles::default);
    let operation = operation_label(name);
    HANDLES
        .get(operation.as_ref(), (kind, outcome), || {
            counter!("loregraph_graphql_operations_total", "operation" => operation.clone(),
                "type" => kind, "outcome" => outcome)
        })
        .increment(1);
    graphql_errors(response);
}

/// A subscription that started (its later results' errors are counted by code as they come).
pub fn graphql_subscription_started(name: Option<&str>) {
    counter!("loregraph_graphql_operations_total", "operation" => operation_label(name),
        "type" => "subscription", "outcome" => "ok")
    .increment(1);
}

/// Counts `response`'s errors by their `extensions.code` (`NONE` for an error without one,
/// such as a parse or validation error).
pub fn graphql_errors(response: &async_graphql::Response) {
    for error in &response.errors {
        let code = error
            .extensions
            .as_ref()
            .and_then(|extensions| extensions.get("code"))
            .and_then(|code| match code {
                async_graphql::Value::String(code) => Some(code.as_str()),
                _ => None,
            });
        graphql_error_code(code.unwrap_or("NONE"));
    }
}

/// Counts one GraphQL error (or a refused request) by its code.
pub fn graphql_error_code(code: &str) {
    let looks_like_a_code = !code.is_empty()
        && code.len() <= 40
        && code.bytes().all(|b| b.is_ascii_uppercase() || b == b'_');
    let code = if looks_like_a_code { code } else { "OTHER" };
    counter!("loregraph_graphql_errors_total", "code" => code.to_owned()).increment(1);
}

/// The label of an operation name: the name when it looks like one (as GraphQL spells names,
/// at most 64 characters) and is among the first [`MAX_OPERATION_NAMES`] seen; `anonymous`
/// without one; `other` otherwise.
fn operation_label(name: Option<&str>) -> SharedString {
    let Some(name) = name.filter(|name| !name.is_empty()) else {
        return SharedString::from("anonymous");
    };
    let looks_like_a_name = name.len() <= MAX_OPERATION_NAME_CHARS
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !looks_like_a_name {
        return SharedString::from("other");
    }
    let known = OPERATION_NAMES
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(name)
        .cloned();
    if let Some(known) = known {
        return SharedString::from(known);
    }
    let mut names = OPERATION_NAMES
        .write()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(known) = names.get(name) {
        return SharedString::from(known.clone());
    }
    if names.len() >= MAX_OPERATION_NAMES {
        return SharedString::from("other");
    }
    let kept: Arc<str> = Arc::from(name);
    names.insert(kept.clone());
    SharedString::from(kept)
}

/// One SQL statement on a pooled connection.
pub fn db_query(elapsed: Duration, failed: bool) {
    static HANDLES: LazyLock<Handles<(), Histogram>> = LazyLock::new(Handles::default);
    HANDLES
        .get("", (), || histogram!("loregraph_db_query_duration_seconds"))
        .record(elapsed.as_secs_f64());
    if failed {
        counter!("loregraph_db_query_errors_total").increment(1);
    }
}

/// An event handed to the bus on this node.
pub fn event_published(kind: &'static str) {
    counter!("loregraph_events_published_total", "kind" => kind).increment(1);
}

/// An event delivered to this node's subscribers, `published_at` (on whichever node) having
/// been when it was published.
pub fn event_delivered(kind: &'static str, published_at: DateTime<Utc>) {
    counter!("loregraph_events_delivered_total", "kind" => kind).increment(1);
    // Another node's clock may run ahead of this one's: no lag then.
    let lag = (Utc::now() - published_at).to_std().unwrap_or_default();
    histogram!("loregraph_event_delivery_lag_seconds").record(lag.as_secs_f64());
}

/// Events were lost before they were logged (here or on another node).
pub fn events_lost() {
    counter!("loregraph_events_lost_total").increment(1);
}

/// The event relay's connection was lost or could not be opened, and it tries again.
pub fn event_relay_reconnect() {
    counter!("loregraph_event_relay_reconnects_total").increment(1);
}

/// An asset job's attempt ended: `done`, `retry` (it failed and runs again later), `failed`
/// (for good), or `abandoned` (its worker died on the last attempt).
pub fn asset_job(outcome: &'static str) {
    counter!("loregraph_asset_jobs_total", "outcome" => outcome).increment(1);
}

/// A sign-in attempt refused by the login throttle.
pub fn login_throttled() {
    counter!("loregraph_login_throttled_total").increment(1);
}

/// A Stripe webhook delivery, by how it ended.
pub fn stripe_webhook(outcome: &'static str) {
    counter!("loregraph_stripe_webhooks_total", "outcome" => outcome).increment(1);
}

/// The `# HELP` lines.
fn describe() {
    describe_counter!(
        "loregraph_http_requests_total",
        "HTTP requests answered, by route template (`unmatched` when none matched), method and \
         status"
    );
    describe_histogram!(
        "loregraph_http_request_duration_seconds",
        "Time to answer an HTTP request (until its response starts), by route, method and status"
    );
    describe_counter!(
        "loregraph_graphql_operations_total",
        "GraphQL operations by operation name (`anonymous`, or `other` past 500 names or for a \
         name that is not one), type (query, mutation, subscription; `unknown` when refused \
         before parsing) and outcome (`ok`, or `error` when the answer carries errors); a \
         subscription counts once, when it starts"
    );
    describe_counter!(
        "loregraph_graphql_errors_total",
        "GraphQL errors by extensions.code (`NONE` for parse and validation errors), request \
         refusals included"
    );
    describe_gauge!(
        "loregraph_db_pool_connections",
        "Pooled database connections by state: in_use or idle"
    );
    describe_gauge!(
        "loregraph_db_pool_max_connections",
        "The most connections the database pool opens"
    );
    describe_gauge!(
        "loregraph_db_pool_waiting",
        "Callers waiting for a pooled database connection"
    );
    describe_histogram!(
        "loregraph_db_query_duration_seconds",
        "Time of one SQL statement on a pooled connection"
    );
    describe_counter!(
        "loregraph_db_query_errors_total",
        "SQL statements on pooled connections that failed"
    );
    describe_gauge!(
        "loregraph_websocket_connections",
        "Open GraphQL WebSocket connections"
    );
    describe_gauge!(
        "loregraph_websocket_authenticated_connections",
        "Open GraphQL WebSocket connections past connection_init"
    );
    describe_gauge!(
        "loregraph_graphql_subscriptions_active",
        "Running subscriptions (each socket's operation counts once)"
    );
    describe_gauge!(
        "loregraph_graphql_subscription_groups",
        "Shared subscription groups: identical subscriptions run once per group"
    );
    describe_counter!(
        "loregraph_events_published_total",
        "Events published on this node, by kind"
    );
    describe_counter!(
        "loregraph_events_delivered_total",
        "Events delivered to this node's subscribers (from any node), by kind"
    );
    describe_histogram!(
        "loregraph_event_delivery_lag_seconds",
        "Time from an event's publication (on any node) to its delivery on this node"
    );
    describe_gauge!(
        "loregraph_event_outbox_pending",
        "Events published on this node waiting to be logged and relayed"
    );
    describe_counter!(
        "loregraph_events_lost_total",
        "Losses of events before they were logged, here or told by another node"
    );
    describe_counter!(
        "loregraph_event_relay_reconnects_total",
        "Times the event relay lost its database connection (or could not open it) and retried"
    );
    describe_gauge!(
        "loregraph_asset_jobs",
        "Asset processing jobs in the shared queue, by state: pending or running"
    );
    describe_counter!(
        "loregraph_asset_jobs_total",
        "Asset processing attempts on this node by outcome: done, retry, failed, abandoned"
    );
    describe_counter!(
        "loregraph_login_throttled_total",
        "Sign-in attempts refused by the login throttle"
    );
    describe_counter!(
        "loregraph_stripe_webhooks_total",
        "Stripe webhook deliveries by outcome: applied, duplicate, ignored, stale, rejected, \
         bad_signature, invalid_event, not_configured, error"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_are_bounded() {
        assert_eq!(&*operation_label(None), "anonymous");
        assert_eq!(&*operation_label(Some("")), "anonymous");
        assert_eq!(&*operation_label(Some("user@example.com")), "other");
        assert_eq!(&*operation_label(Some("1abc")), "other");
        assert_eq!(&*operation_label(Some(&"a".repeat(65))), "other");
        assert_eq!(&*operation_label(Some("GetWorld_2")), "GetWorld_2");
    }

    #[test]
    fn unknown_methods_count_as_other() {
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(method_label("BREW"), "other");
    }
}
