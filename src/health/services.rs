//! The state of every service the server leans on (`servicesStatus`, issue 25 point 7): the
//! database, the asset queue, the event relay between nodes, and the outside services that are
//! configured (Ollama servers, Stripe, Google Drive, the studio's LLM provider), each with how
//! long its check took.
//!
//! Every check runs at once and none waits more than two seconds. The outside services are
//! asked one plain GET without credentials: any HTTP answer (a 401 or 404 included) shows the
//! service is reachable, which is all an operator asks here, and no key leaves the server for
//! it. What a check reports names a service by scheme, host and port only: never a path, a key
//! or a password from its configured URL.

use std::time::{Duration, Instant};

use async_graphql::{Enum, SimpleObject};
use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

use crate::config::ProviderId;
use crate::context::Platform;

/// The longest any one check may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// A due job of an unpaused tenant that waited longer than this means the workers are stuck
/// or too few.
const QUEUE_WAIT_DEGRADED: Duration = Duration::from_secs(5 * 60);
/// Events waiting for the relay beyond this (of the outbox's 16,384) mean it is falling behind.
const RELAY_BACKLOG_DEGRADED: usize = 1_000;
/// The most of an answer's body read (Ollama's version is a few bytes).
const MAX_BODY_BYTES: usize = 4 * 1024;

/// How a service is doing.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ServiceState {
    /// It answered and works as expected.
    Up,
    /// It answered but is slow, backed up or failing (see `detail`).
    Degraded,
    /// It did not answer in time, or could not be reached.
    Down,
    /// This server is not configured to use it; nothing was checked.
    NotConfigured,
}

/// One service the server depends on, as checked just now.
#[derive(SimpleObject, Clone, Debug)]
pub struct ServiceStatus {
    /// Which service: `database`, `assetQueue`, `relay`, `ollama:<host:port>` (one per
    /// configured server; `ollama` when none is), `stripe`, `drive` or `llm`.
    pub name: String,
    /// How it is doing.
    pub state: ServiceState,
    /// How long the check took, in milliseconds: the answer's headers for an outside service,
    /// the query that observed it for the database, the asset queue and the relay; null when
    /// nothing was checked or no answer came.
    pub latency_ms: Option<f64>,
    /// What the check saw, in words (the HTTP status, why it failed, the queue's numbers);
    /// never a credential, and of a URL only its scheme, host and port.
    pub detail: Option<String>,
    /// When the check finished.
    pub checked_at: DateTime<Utc>,
    /// The asset queue only: jobs waiting to run (retries and paused tenants' jobs included).
    pub queued: Option<i64>,
    /// The asset queue only: jobs being processed now.
    pub running: Option<i64>,
    /// The asset queue only: how long the longest-waiting due job of an unpaused tenant has
    /// waited, in seconds; null when none is due.
    pub oldest_wait_seconds: Option<f64>,
}

impl ServiceStatus {
    fn new(
        name: impl Into<String>,
        state: ServiceState,
        latency: Option<Duration>,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            state,
            latency_ms: latency.map(millis),
            detail: Some(detail.into()),
            checked_at: Utc::now(),
            queued: None,
            running: None,
            oldest_wait_seconds: None,
        }
    }

    fn down(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(name, ServiceState::Down, None, detail)
    }
}

/// Milliseconds rounded to the microsecond, as `health::check` gives them.
fn millis(elapsed: Duration) -> f64 {
    (elapsed.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0
}

/// Checks every service at once: the database, the asset queue and the relay (on one pooled
/// connection, in turn), and each outside service that is configured.
pub async fn status(platform: &Platform) -> Vec<ServiceStatus> {
    let config = &platform.config;
    let stripe = Target {
        name: "stripe".into(),
        url: config.billing.configured().then(|| {
            format!(
                "{}/v1/",
                config.billing.api_base.trim().trim_end_matches('/')
            )
        }),
        label: None,
        unconfigured: "no Stripe secret key is configured",
    };
    // Drive connections sign in with Google: without it there is no Drive to reach.
    let drive = Target {
        name: "drive".into(),
        url: platform
            .providers
            .get(ProviderId::Google)
            .map(|_| config.drive.api_base.clone()),
        label: None,
        unconfigured: "Google sign-in is not configured",
    };
    let studio = config.llm.studio.as_ref();
    let llm = Target {
        name: "llm".into(),
        url: studio.map(|studio| studio.base_url.clone()),
        label: studio.map(|studio| studio.provider.clone()),
        unconfigured: "no studio LLM provider is configured",
    };
    let (internal, ollama, stripe, drive, llm) = tokio::join!(
        database_group(platform),
        futures_util::future::join_all(ollama_targets(platform).map(|t| t.probe(platform))),
        stripe.probe(platform),
        drive.probe(platform),
        llm.probe(platform),
    );
    let mut all = Vec::from(internal);
    all.extend(ollama);
    all.extend([stripe, drive, llm]);
    all
}

// ---- The database, the asset queue and the relay ----------------------------------------

/// One connection for the three database checks: a status page polled every few seconds must
/// not take three of the pool's connections (they are cheap queries, run in turn).
async fn database_group(platform: &Platform) -> [ServiceStatus; 3] {
    // The pool before the probe takes a connection from it.
    let pool = platform.pool.status();
    let in_use = pool.size.saturating_sub(pool.available);
    let pool_detail = format!(
        "{in_use} of {} pooled connections in use, {} requests waiting for one",
        pool.max_size, pool.waiting
    );
    let started = Instant::now();
    let answered = async {
        let mut conn = match tokio::time::timeout(PROBE_TIMEOUT, platform.pool.get()).await {
            Ok(Ok(conn)) => conn,
            Ok(Err(_)) => return Err("the database could not be reached"),
            Err(_) => return Err("no pooled connection within 2 s"),
        };
        match tokio::time::timeout(PROBE_TIMEOUT, conn.batch_execute("SELECT 1")).await {
            Ok(Ok(())) => Ok((conn, started.elapsed())),
            Ok(Err(_)) => Err("SELECT 1 failed"),
            Err(_) => Err("no answer to SELECT 1 within 2 s"),
        }
    };
    let (mut conn, latency) = match answered.await {
        Ok(answered) => answered,
        Err(reason) => {
            // The other two need the database (and a query still under way on the connection
            // would only muddle theirs).
            let unchecked = format!("not checked: {reason}");
            return [
                ServiceStatus::down("database", format!("{reason}; {pool_detail}")),
                ServiceStatus::down("assetQueue", unchecked.clone()),
                ServiceStatus::down("relay", unchecked),
            ];
        }
    };
    // Requests queued for a connection: the database answers, but the pool is too small.
    let state = if pool.waiting > 0 {
        ServiceState::Degraded
    } else {
        ServiceState::Up
    };
    let database = ServiceStatus::new("database", state, Some(latency), pool_detail);
    let queue = asset_queue(&mut conn).await;
    let relay = relay(platform, &mut conn).await;
    [database, queue, relay]
}

/// The asset queue, every tenant's: jobs waiting and running, how long the longest-waiting
/// due job has waited (a paused tenant's jobs wait by design and do not count), the paused
/// tenants. Counted through the partial indexes of open jobs, never over finished ones.
async fn asset_queue(conn: &mut AsyncPgConnection) -> ServiceStatus {
    let started = Instant::now();
    let read = crate::assets::service::queue_health(conn);
    let queue = match tokio::time::timeout(PROBE_TIMEOUT, read).await {
        Ok(Ok(queue)) => queue,
        Ok(Err(_)) => return ServiceStatus::down("assetQueue", "the queue could not be read"),
        Err(_) => return ServiceStatus::down("assetQueue", "the queue was not read within 2 s"),
    };
    let latency = started.elapsed();
    let mut detail = format!(
        "{} queued ({} due), {} running, {} paused tenants",
        queue.queued, queue.due, queue.running, queue.paused_tenants
    );
    if let Some(waited) = queue.oldest_wait_seconds {
        detail.push_str(&format!("; the oldest due job has waited {waited:.0} s"));
    }
    if queue.lease_expired > 0 {
        // Their worker died; another takes them over at its next poll.
        let expired = queue.lease_expired;
        detail.push_str(&format!("; {expired} running jobs past their lease"));
    }
    let state = match queue.oldest_wait_seconds {
        Some(waited) if waited > QUEUE_WAIT_DEGRADED.as_secs_f64() => ServiceState::Degraded,
        _ => ServiceState::Up,
    };
    ServiceStatus {
        queued: Some(queue.queued),
        running: Some(queue.running),
        oldest_wait_seconds: queue
            .oldest_wait_seconds
            .map(|seconds| (seconds * 1000.0).round() / 1000.0),
        ..ServiceStatus::new("assetQueue", state, Some(latency), detail)
    }
}

/// This node's event relay (`events::bridge`). Its dedicated connection names itself in
/// `pg_stat_activity` as `loregraph-events <node id>` once it listens, so the database says
/// whether it is connected, since when, and when it last ran a statement; the events waiting in
/// the bus's outbox say whether it keeps up.
async fn relay(platform: &Platform, conn: &mut AsyncPgConnection) -> ServiceStatus {
    #[derive(QueryableByName)]
    struct Session {
        #[diesel(sql_type = Nullable<Timestamptz>)]
        backend_start: Option<DateTime<Utc>>,
        #[diesel(sql_type = Nullable<Timestamptz>)]
        state_change: Option<DateTime<Utc>>,
    }
    let bridge = crate::events::bridge::APPLICATION_NAME;
    let query = diesel::sql_query(
        "SELECT backend_start, state_change FROM pg_stat_activity
         WHERE application_name = $1 ORDER BY backend_start DESC NULLS LAST LIMIT 1",
    )
    .bind::<Text, _>(format!("{bridge} {}", platform.events.node_id()));
    let started = Instant::now();
    let found = tokio::time::timeout(PROBE_TIMEOUT, query.load::<Session>(conn)).await;
    let latency = started.elapsed();
    let waiting = platform.events.outbox_len();
    let lost = *platform.events.losses().borrow();
    let mut tail = format!("{waiting} events waiting to be relayed");
    if lost > 0 {
        tail.push_str(&format!("; {lost} events lost since this server started"));
    }
    let session = match found {
        Ok(Ok(mut sessions)) => sessions.pop(),
        Ok(Err(_)) | Err(_) => {
            let detail = format!("its connection could not be looked up; {tail}");
            return ServiceStatus::down("relay", detail);
        }
    };
    let Some(session) = session else {
        // Between a lost connection and the next attempt (the bridge waits up to 5 s).
        let detail = format!("not connected (reconnecting); {tail}");
        return ServiceStatus::new("relay", ServiceState::Down, Some(latency), detail);
    };
    let at = |time: Option<DateTime<Utc>>| {
        time.map_or_else(|| "unknown".to_owned(), |time| time.to_rfc3339())
    };
    let detail = format!(
        "connected since {}, last statement at {}; {tail}",
        at(session.backend_start),
        at(session.state_change)
    );
    let state = if waiting >= RELAY_BACKLOG_DEGRADED {
        ServiceState::Degraded
    } else {
        ServiceState::Up
    };
    ServiceStatus::new("relay", state, Some(latency), detail)
}

// ---- Outside services ------------------------------------------------------------------

/// An outside service to ask.
struct Target {
    name: String,
    /// What to GET; None when the service is not configured.
    url: Option<String>,
    /// Said before what was seen (`OPENAI_COMPATIBLE: HTTP 404 from …`).
    label: Option<String>,
    /// Why it is not configured, when it is not.
    unconfigured: &'static str,
}

/// One target per configured Ollama server (each once, trailing slashes aside, as
/// `mud::ollama::Ollama::new` reads the list), or one that is not configured.
fn ollama_targets(platform: &Platform) -> impl Iterator<Item = Target> {
    let mut bases: Vec<String> = Vec::new();
    for server in &platform.config.ollama.servers {
        let base = reqwest::Url::parse(server.trim())
            .map_or_else(|_| server.trim().to_owned(), |url| url.to_string());
        let base = base.trim_end_matches('/').to_owned();
        if !bases.contains(&base) {
            bases.push(base);
        }
    }
    let none = bases.is_empty().then(|| Target {
        name: "ollama".into(),
        url: None,
        label: None,
        unconfigured: "no Ollama server is configured (LOREGRAPH_OLLAMA_SERVERS)",
    });
    let servers = bases.into_iter().map(|base| Target {
        // By host and port only: a path under a proxy may carry a token.
        name: origin(&base).map_or_else(
            || "ollama:invalid".to_owned(),
            |origin| format!("ollama:{}", host_port(&origin)),
        ),
        url: Some(format!("{base}/api/version")),
        label: None,
        unconfigured: "",
    });
    none.into_iter().chain(servers)
}

/// `scheme://host:port` of an http(s) URL, or None for anything else. The user name,
/// password, path and query are left out: they may hold credentials.
fn origin(url: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url.trim()).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    let host = parsed.host_str().filter(|host| !host.is_empty())?;
    let port = parsed.port_or_known_default()?;
    Some(format!("{}://{host}:{port}", parsed.scheme()))
}

/// The URL without its user, password, query and fragment.
fn bare(url: &str) -> Option<String> {
    let mut parsed = reqwest::Url::parse(url.trim()).ok()?;
    parsed.set_username("").ok()?;
    parsed.set_password(None).ok()?;
    parsed.set_query(None);
    parsed.set_fragment(None);
    Some(parsed.to_string())
}

/// `host:port` of an origin.
fn host_port(origin: &str) -> &str {
    origin.split_once("://").map_or(origin, |(_, rest)| rest)
}

impl Target {
    /// One GET through the server's shared outgoing client (the one Drive's calls use: no
    /// redirects followed, public roots trusted), without credentials, within the probe's
    /// time. Ollama's `/api/version` also names its version.
    async fn probe(self, platform: &Platform) -> ServiceStatus {
        let Some(url) = self.url else {
            let why = self.unconfigured;
            return ServiceStatus::new(self.name, ServiceState::NotConfigured, None, why);
        };
        let Some(origin) = origin(&url) else {
            let why = "the configured base URL is not a valid http or https URL";
            return ServiceStatus::down(self.name, why);
        };
        // Asked without what a URL may carry as credentials (a user and password, which
        // reqwest would send as Basic authorization; a query, which may hold a key).
        let Some(url) = bare(&url) else {
            let why = "the configured base URL is not a valid http or https URL";
            return ServiceStatus::down(self.name, why);
        };
        let label = self
            .label
            .map_or_else(String::new, |label| format!("{label}: "));
        let wants_version = url.ends_with("/api/version");
        let http = platform.providers.http().client();
        let started = Instant::now();
        let asked = async {
            let mut response = http
                .get(url.trim())
                .header(reqwest::header::ACCEPT, "application/json")
                .timeout(PROBE_TIMEOUT)
                .send()
                .await?;
            let latency = started.elapsed();
            let status = response.status();
            let version = if wants_version && status.is_success() {
                read_version(&mut response).await
            } else {
                None
            };
            Ok::<_, reqwest::Error>((status, latency, version))
        };
        let (status, latency, version) = match tokio::time::timeout(PROBE_TIMEOUT, asked).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(error)) => {
                let why = failure(&error);
                return ServiceStatus::down(self.name, format!("{label}{why} ({origin})"));
            }
            Err(_) => {
                let why = "no answer within 2 s";
                return ServiceStatus::down(self.name, format!("{label}{why} ({origin})"));
            }
        };
        let version = version.map_or_else(String::new, |v| format!("version {v}, "));
        // Reachable either way; a 5xx says the service (or a proxy before it) is failing.
        let state = if status.is_server_error() {
            ServiceState::Degraded
        } else {
            ServiceState::Up
        };
        let code = status.as_u16();
        let detail = format!("{label}{version}HTTP {code} from {origin}");
        ServiceStatus::new(self.name, state, Some(latency), detail)
    }
}

/// Why a request failed, in words of our own: reqwest's message quotes the whole URL.
fn failure(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        return "no answer within 2 s";
    }
    if !error.is_connect() {
        return "the request failed";
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::ConnectionRefused => "connection refused",
                std::io::ErrorKind::TimedOut => "connecting timed out",
                _ => "could not connect",
            };
        }
        source = std::error::Error::source(cause);
    }
    "could not connect"
}

/// The `version` of Ollama's answer, read within a small bound, printable and short.
async fn read_version(response: &mut reqwest::Response) -> Option<String> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.ok()? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return None;
        }
        body.extend_from_slice(&chunk);
    }
    let answer: serde_json::Value = serde_json::from_slice(&body).ok()?;
    let version: String = answer["version"]
        .as_str()?
        .chars()
        .filter(|c| !c.is_control())
        .take(40)
        .collect();
    (!version.is_empty()).then_some(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_keep_no_credentials_or_paths() {
        assert_eq!(
            origin("https://user:sk-secret@api.example.com/v1?key=sk-secret").as_deref(),
            Some("https://api.example.com:443")
        );
        assert_eq!(
            origin("http://127.0.0.1:11434/").as_deref(),
            Some("http://127.0.0.1:11434")
        );
        assert_eq!(
            origin("http://[::1]:8080/x").as_deref(),
            Some("http://[::1]:8080")
        );
        assert_eq!(origin("ftp://example.com/"), None);
        assert_eq!(origin("not a url"), None);
        assert_eq!(host_port("http://127.0.0.1:11434"), "127.0.0.1:11434");
        assert_eq!(
            bare("https://user:sk-secret@api.example.com/v1/?key=sk-secret#x").as_deref(),
            Some("https://api.example.com/v1/")
        );
    }
}
