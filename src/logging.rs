//! Log output: human-readable by default, JSON lines on request; `RUST_LOG` filters. Each HTTP
//! request runs with its request id ([`with_request_id`]), which its log lines carry (as their
//! span's field) and its 5xx-class GraphQL errors show (`extensions.requestId`).

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

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=warn,async_graphql=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()));
    // Ignore a second init (tests call into code that may initialise logging).
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
