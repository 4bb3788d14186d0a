//! The server's recent log lines, kept in memory for the operators (`serviceLogs`): a ring of
//! the last 2,000 lines of this process — its own (INFO and above, as the log filter lets them
//! through) and those browsers sent (`POST /api/logs/frontend`). Only the level, the source, the
//! target module, the message and the request id are kept: no file paths, no line numbers, and
//! control characters in a message are replaced, so a line cannot pose as another.

use std::collections::VecDeque;
use std::sync::{Mutex, OnceLock};

use chrono::{DateTime, Utc};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::Context;

/// How many lines the ring keeps.
pub const CAPACITY: usize = 2_000;
/// Longest message kept, in characters.
pub const MAX_MESSAGE_CHARS: usize = 2_000;

/// Where a line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Server,
    Frontend,
}

#[derive(Clone, Debug)]
pub struct LogLine {
    pub at: DateTime<Utc>,
    pub level: Level,
    pub source: Source,
    pub target: String,
    pub message: String,
    pub request_id: Option<String>,
}

fn ring() -> &'static Mutex<VecDeque<LogLine>> {
    static RING: OnceLock<Mutex<VecDeque<LogLine>>> = OnceLock::new();
    RING.get_or_init(|| Mutex::new(VecDeque::with_capacity(CAPACITY)))
}

/// A message as kept: control characters replaced, at most 2,000 characters.
pub fn clean(message: &str) -> String {
    message
        .chars()
        .take(MAX_MESSAGE_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Keeps a line, dropping the oldest once the ring is full.
pub fn push(line: LogLine) {
    let mut lines = ring()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if lines.len() == CAPACITY {
        lines.pop_front();
    }
    lines.push_back(line);
}

/// The newest lines at `min_level` or above (ERROR is the highest), from `source` when given,
/// after `since` when given, at most `limit`, newest last.
pub fn recent(
    min_level: Level,
    source: Option<Source>,
    since: Option<DateTime<Utc>>,
    limit: usize,
) -> Vec<LogLine> {
    let lines = ring()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut found: Vec<LogLine> = lines
        .iter()
        .rev()
        .filter(|line| line.level <= min_level)
        .filter(|line| source.is_none_or(|source| line.source == source))
        .filter(|line| since.is_none_or(|since| line.at > since))
        .take(limit)
        .cloned()
        .collect();
    found.reverse();
    found
}

/// The layer that copies the server's own events into the ring.
pub struct RingLayer;

/// An event's message, then its other fields as `name=value`.
#[derive(Default)]
struct MessageOf {
    message: String,
    fields: String,
}

impl Visit for MessageOf {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.fields
                .push_str(&format!(" {}={value:?}", field.name()));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        } else {
            self.fields.push_str(&format!(" {}={value}", field.name()));
        }
    }
}

impl<S: Subscriber> tracing_subscriber::Layer<S> for RingLayer {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let metadata = event.metadata();
        let mut message = MessageOf::default();
        event.record(&mut message);
        push(LogLine {
            at: Utc::now(),
            level: *metadata.level(),
            source: Source::Server,
            target: metadata.target().to_owned(),
            message: clean(format!("{}{}", message.message, message.fields).trim()),
            request_id: super::current_request_id().map(|id| id.to_string()),
        });
    }
}
