//! What Ollama answers (only the fields used) and the text each answer becomes: tables like
//! `ollama list` and `ollama ps` print, and a summary of `ollama show`.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};

/// How much of a template or system prompt is shown.
const MAX_TEMPLATE_CHARS: usize = 2_000;

#[derive(Deserialize)]
pub(super) struct ModelList {
    #[serde(default)]
    pub models: Vec<ModelEntry>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ModelEntry {
    name: String,
    model: String,
    size: u64,
    digest: String,
    modified_at: Option<String>,
    expires_at: Option<String>,
    size_vram: Option<u64>,
}

impl ModelEntry {
    fn name(&self) -> &str {
        if self.name.is_empty() {
            &self.model
        } else {
            &self.name
        }
    }

    /// The short id `ollama list` shows.
    fn id(&self) -> &str {
        let digest = self.digest.strip_prefix("sha256:").unwrap_or(&self.digest);
        digest.get(..12).unwrap_or(digest)
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ShowResponse {
    parameters: Option<String>,
    template: Option<String>,
    system: Option<String>,
    license: Option<String>,
    details: Option<ModelDetails>,
    model_info: Option<Map<String, Value>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ModelDetails {
    format: Option<String>,
    family: Option<String>,
    parameter_size: Option<String>,
    quantization_level: Option<String>,
}

// ---- the text the answers become ----

/// A size as `ollama list` shows it (decimal units: `2.0 GB`).
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 || value >= 10.0 {
        format!("{} {}", value.round(), UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// An RFC 3339 time as `2024-05-16 20:50 UTC`; anything else as sent.
fn human_time(time: Option<&str>) -> String {
    match time {
        Some(text) => DateTime::parse_from_rfc3339(text)
            .map(|t| {
                t.with_timezone(&Utc)
                    .format("%Y-%m-%d %H:%M UTC")
                    .to_string()
            })
            .unwrap_or_else(|_| text.to_owned()),
        None => "-".into(),
    }
}

/// Rows under a header, each column as wide as its widest cell.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (cell, &width) in row.iter().zip(&widths) {
            let _ = write!(line, "{cell:<width$}    ");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

pub(super) fn format_list(models: &[ModelEntry]) -> String {
    if models.is_empty() {
        return "No models are installed on this server.\n".into();
    }
    let rows: Vec<Vec<String>> = models
        .iter()
        .map(|m| {
            vec![
                m.name().to_owned(),
                m.id().to_owned(),
                human_size(m.size),
                human_time(m.modified_at.as_deref()),
            ]
        })
        .collect();
    table(&["NAME", "ID", "SIZE", "MODIFIED"], &rows)
}

/// Where a loaded model sits, as `ollama ps` says it.
fn processor(size: u64, size_vram: Option<u64>) -> String {
    let vram = size_vram.unwrap_or(0).min(size);
    if size == 0 || vram == 0 {
        "100% CPU".into()
    } else if vram == size {
        "100% GPU".into()
    } else {
        let gpu = (vram as f64 / size as f64 * 100.0).round() as u64;
        format!("{}%/{gpu}% CPU/GPU", 100 - gpu)
    }
}

pub(super) fn format_ps(models: &[ModelEntry]) -> String {
    if models.is_empty() {
        return "No models are loaded on this server.\n".into();
    }
    let rows: Vec<Vec<String>> = models
        .iter()
        .map(|m| {
            vec![
                m.name().to_owned(),
                m.id().to_owned(),
                human_size(m.size),
                processor(m.size, m.size_vram),
                human_time(m.expires_at.as_deref()),
            ]
        })
        .collect();
    table(&["NAME", "ID", "SIZE", "PROCESSOR", "UNTIL"], &rows)
}

/// A number or string of `model_info`, as text.
fn info_value(info: Option<&Map<String, Value>>, key: &str) -> Option<String> {
    match info?.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(super) fn format_show(model: &str, shown: &ShowResponse) -> String {
    let info = shown.model_info.as_ref();
    let architecture = info_value(info, "general.architecture");
    let mut facts: Vec<(&str, String)> = Vec::new();
    if let Some(arch) = &architecture {
        facts.push(("architecture", arch.clone()));
    }
    if let Some(details) = &shown.details {
        for (label, value) in [
            ("family", &details.family),
            ("parameters", &details.parameter_size),
            ("quantization", &details.quantization_level),
            ("format", &details.format),
        ] {
            if let Some(value) = value.as_ref().filter(|v| !v.is_empty()) {
                facts.push((label, value.clone()));
            }
        }
    }
    if let Some(arch) = &architecture {
        for (label, key) in [
            ("context length", "context_length"),
            ("embedding length", "embedding_length"),
        ] {
            if let Some(value) = info_value(info, &format!("{arch}.{key}")) {
                facts.push((label, value));
            }
        }
    }

    let mut out = format!("Model {model}\n");
    let width = facts.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    for (label, value) in &facts {
        let _ = writeln!(out, "  {label:<width$}    {value}");
    }
    // A licence runs to pages: its first line names it.
    let license = shown
        .license
        .as_deref()
        .and_then(|l| l.lines().find(|l| !l.trim().is_empty()));
    let sections = [
        ("Parameters", shown.parameters.as_deref(), usize::MAX),
        ("System", shown.system.as_deref(), MAX_TEMPLATE_CHARS),
        ("Template", shown.template.as_deref(), MAX_TEMPLATE_CHARS),
        ("License", license, usize::MAX),
    ];
    for (title, text, limit) in sections {
        let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
            continue;
        };
        let _ = writeln!(out, "\n{title}");
        let kept: String = text.chars().take(limit).collect();
        for line in kept.lines() {
            // Ollama pads parameter names into a column: one space is enough here.
            let line = match (title, line.trim().split_once(char::is_whitespace)) {
                ("Parameters", Some((name, value))) => format!("{name} {}", value.trim()),
                _ => line.trim_end().to_owned(),
            };
            let _ = writeln!(out, "  {line}");
        }
        if kept.len() < text.len() {
            out.push_str("  …\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn sizes_read_like_ollama_list() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(999), "999 B");
        assert_eq!(human_size(2_019_393_189), "2.0 GB");
        assert_eq!(human_size(4_661_224_676), "4.7 GB");
        assert_eq!(human_size(39_969_745_349), "40 GB");
        assert_eq!(human_size(274_302_450), "274 MB");
    }

    #[test]
    fn processors_read_like_ollama_ps() {
        assert_eq!(processor(100, Some(100)), "100% GPU");
        assert_eq!(processor(100, Some(0)), "100% CPU");
        assert_eq!(processor(100, None), "100% CPU");
        assert_eq!(processor(100, Some(75)), "25%/75% CPU/GPU");
    }

    #[test]
    fn lists_are_aligned_tables() {
        let models = vec![
            ModelEntry {
                name: "llama3.2:latest".into(),
                size: 2_019_393_189,
                digest: "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72".into(),
                modified_at: Some("2024-05-16T13:50:37.043851-07:00".into()),
                ..ModelEntry::default()
            },
            ModelEntry {
                model: "qwen:7b".into(),
                size: 4_661_224_676,
                ..ModelEntry::default()
            },
        ];
        assert_eq!(
            format_list(&models),
            "NAME               ID              SIZE      MODIFIED\n\
             llama3.2:latest    a80c4f17acd5    2.0 GB    2024-05-16 20:50 UTC\n\
             qwen:7b                            4.7 GB    -\n"
        );
        assert!(format_list(&[]).contains("No models"));
    }

    #[test]
    fn show_picks_the_useful_fields() {
        let shown: ShowResponse = serde_json::from_value(json!({
            "modelfile": "FROM /root/.ollama/models/blobs/sha256-x",
            "parameters": "stop                           \"<|eot_id|>\"\ntemperature                    0.7",
            "template": "{{ .Prompt }}",
            "details": { "format": "gguf", "family": "llama", "parameter_size": "3.2B",
                         "quantization_level": "Q4_K_M" },
            "model_info": { "general.architecture": "llama", "llama.context_length": 131072 }
        }))
        .expect("a show answer");
        let text = format_show("llama3.2", &shown);
        assert!(text.contains("architecture      llama"), "{text}");
        assert!(text.contains("context length    131072"), "{text}");
        assert!(text.contains("quantization      Q4_K_M"), "{text}");
        assert!(
            text.contains("  stop \"<|eot_id|>\"\n  temperature 0.7\n"),
            "{text}"
        );
        assert!(text.contains("Template\n  {{ .Prompt }}"), "{text}");
        assert!(!text.contains("blobs"), "{text}");
    }
}
