//! Log output: human-readable by default, JSON lines on request; `RUST_LOG` filters. Each HTTP
//! request runs with its request id ([`with_request_id`]), which its log lines carry (as their
//! span's field) and its 5xx-class GraphQL errors show (`extensions.requestId`).

pub mod ring;

use std::sync::Arc;

use tracing_subscriber::EnvFilter;

tokio::task_local! {
    static REQUEST_ID: Arc<str>;
}

/// Runs `work` as the request with this id.
pub async fn with_request_id<F: Future>(id: Arc<str>, work: F) -> F::Output {
    REQUEST_ID.scope(id, work).await
}

/// The id of the request being served, when there is one.
pub fn current_request_id() -> Option<Arc<str>> {
    REQUEST_ID.try_with(Arc::clone).ok()
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// What the ring keeps beside the trace layer: what the log keeps.
fn ring_filter() -> EnvFilter {
    EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=warn,async_graphql=warn"))
}

/// Installs the log (and the ring of recent lines, `ring`, and, with `telemetry`, the layer that sends spans as traces). `RUST_LOG`
/// filters the log only: traces get the server's spans at INFO and above whatever it says.
pub fn init(format: LogFormat, telemetry: Option<&crate::telemetry::Telemetry>) {
    use tracing_subscriber::prelude::*;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=warn,async_graphql=warn"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let log = match format {
        LogFormat::Text => tracing_subscriber::fmt::layer().with_ansi(ansi).boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .with_ansi(ansi)
            .json()
            .flatten_event(true)
            .boxed(),
    };
    // Ignore a second init (tests call into code that may initialise logging).
    let _ = match telemetry {
        // A filter per layer only beside the trace layer (whose spans `RUST_LOG` must not
        // silence); a log alone keeps its one global filter.
        Some(telemetry) => tracing_subscriber::registry()
            .with(log.with_filter(filter))
            .with(ring::RingLayer.with_filter(ring_filter()))
            .with(telemetry.layer())
            .try_init(),
        None => tracing_subscriber::registry()
            .with(log)
            .with(ring::RingLayer)
            .with(filter)
            .try_init(),
    };
}
