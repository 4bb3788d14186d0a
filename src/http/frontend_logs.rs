//! Seed 001's `POST /api/logs/frontend`: browsers report what went wrong in them. No account
//! needed, so it is bounded every way: 64 KiB a body, 50 entries, 2,000 characters a message,
//! 60 reports a minute per client address, and kept only in the ring of recent lines
//! (`logging::ring`, 2,000 lines for the whole server), never in the database.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use super::web_auth::json_rejection;
use crate::auth::rate_window;
use crate::error::{AppError, AppResult};
use crate::graphql::handler::client_info;
use crate::logging::ring::{self, LogLine, Source};
use crate::state::AppState;

/// The largest body taken.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
const MAX_ENTRIES: usize = 50;
const REPORTS_PER_MINUTE: u32 = 60;

#[derive(Deserialize)]
pub struct Entry {
    /// error, warn, info or debug (anything else is info).
    #[serde(default)]
    level: Option<String>,
    message: String,
    /// The page the browser was on.
    #[serde(default, alias = "page")]
    url: Option<String>,
}

/// One entry, or `{"entries": [...]}`.
#[derive(Deserialize)]
#[serde(untagged)]
pub enum Report {
    Many { entries: Vec<Entry> },
    One(Entry),
}

fn level_of(text: Option<&str>) -> tracing::Level {
    match text.map(str::to_ascii_lowercase).as_deref() {
        Some("error") | Some("fatal") => tracing::Level::ERROR,
        Some("warn") | Some("warning") => tracing::Level::WARN,
        Some("debug") | Some("trace") => tracing::Level::DEBUG,
        _ => tracing::Level::INFO,
    }
}

pub async fn intake(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<Report>, JsonRejection>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let client = client_info(&headers, Some(peer));
    {
        let mut conn = state.pool.get().await?;
        rate_window::ensure_within(
            &mut conn,
            &rate_window::address_key("frontend-logs", client.ip),
            REPORTS_PER_MINUTE,
            Duration::from_secs(60),
            "too many log reports from this address; wait a minute",
        )
        .await?;
    }
    let Json(report) = body.map_err(json_rejection)?;
    let entries = match report {
        Report::Many { entries } => entries,
        Report::One(entry) => vec![entry],
    };
    if entries.len() > MAX_ENTRIES {
        return Err(AppError::bad_field(
            "entries",
            format!("send at most {MAX_ENTRIES} entries at once"),
        ));
    }
    let accepted = entries.len();
    for entry in entries {
        let page = entry.url.as_deref().map(ring::clean).unwrap_or_default();
        ring::push(LogLine {
            at: Utc::now(),
            level: level_of(entry.level.as_deref()),
            source: Source::Frontend,
            target: if page.is_empty() {
                "frontend".into()
            } else {
                page
            },
            message: ring::clean(entry.message.trim()),
            request_id: None,
        });
    }
    Ok((StatusCode::ACCEPTED, Json(json!({ "accepted": accepted }))))
}
