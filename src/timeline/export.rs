//! A timeline written out: JSON (every field), CSV (one line per event, RFC 4180 quoting) or
//! markdown (a heading per year, the unplaced under their own).

use serde_json::Value;

use super::service::event_json;
use super::store::EventRow;

/// An export's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Markdown,
}

impl Format {
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Json => "timeline.json",
            Self::Csv => "timeline.csv",
            Self::Markdown => "timeline.md",
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Csv => "text/csv; charset=utf-8",
            Self::Markdown => "text/markdown; charset=utf-8",
        }
    }
}

/// The events (in time order, the unplaced last) in `format`.
pub fn write(events: &[EventRow], format: Format) -> String {
    match format {
        Format::Json => {
            let list: Vec<Value> = events.iter().map(event_json).collect();
            serde_json::to_string_pretty(&Value::Array(list)).unwrap_or_default()
        }
        Format::Csv => csv(events),
        Format::Markdown => markdown(events),
    }
}

fn csv(events: &[EventRow]) -> String {
    let mut out = String::from(
        "id,date,end_date,year,precision,approximate,kind,title,source_type,source_entity,subject,participants,location,tags\r\n",
    );
    for event in events {
        let year = event
            .precision
            .as_ref()
            .map(|_| event.sort_key.div_euclid(10_000).to_string())
            .unwrap_or_default();
        let source_entity = event
            .subject
            .split_once(':')
            .map(|(_, id)| id)
            .unwrap_or_default();
        let cells = [
            event.id.to_string(),
            event.date_text.clone(),
            event.end_text.clone().unwrap_or_default(),
            year,
            event
                .precision
                .clone()
                .unwrap_or_else(|| "unplaced".to_owned()),
            event.approximate.to_string(),
            event.kind.clone(),
            event.title.clone(),
            event.source_type.clone(),
            source_entity.to_owned(),
            event.subject.clone(),
            event.participants.join(" "),
            event.location.clone().unwrap_or_default(),
            event.tags.join(" "),
        ];
        let line: Vec<String> = cells.iter().map(|cell| quoted(cell)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

/// A CSV cell: quoted when it holds a comma, a quote or a line break (quotes doubled); a
/// leading `=`, `+`, `@`, tab or carriage return, or a `-` not before a digit, is prefixed
/// with `'` so a spreadsheet does not run it (`-300` and `-300-05-17` stay as they are).
fn quoted(cell: &str) -> String {
    let mut chars = cell.chars();
    let risky = match chars.next() {
        Some('=' | '+' | '@' | '\t' | '\r') => true,
        Some('-') => !chars.next().is_some_and(|c| c.is_ascii_digit()),
        _ => false,
    };
    let cell = if risky {
        format!("'{cell}")
    } else {
        cell.to_owned()
    };
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell
    }
}

fn markdown(events: &[EventRow]) -> String {
    let mut out = String::from("# Timeline\n");
    let mut heading: Option<String> = None;
    for event in events {
        let this = match &event.precision {
            Some(_) => format!("## {}", event.sort_key.div_euclid(10_000)),
            None => "## Not placed".to_owned(),
        };
        if heading.as_ref() != Some(&this) {
            out.push('\n');
            out.push_str(&this);
            out.push_str("\n\n");
            heading = Some(this);
        }
        let approximate = if event.approximate {
            " (approximate)"
        } else {
            ""
        };
        out.push_str(&format!(
            "- **{}** — {}{approximate} · {}\n",
            escaped(&event.date_text),
            escaped(&event.title),
            event.kind
        ));
    }
    out
}

/// Text on one line with markdown's marks escaped, so a title cannot make a link or a heading.
fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '!' | '|' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}
