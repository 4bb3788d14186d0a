//! Prompt templates: text with `{{entity.field}}` variables filled from an entity — its own
//! `id`, `name`, `type`, `status` and `body`, and any field of its frontmatter by path
//! (`entity.stats.strength`, `entity.tags`, `entity.family.0.character_id`). A variable with no
//! value is reported and left in the text as written, never filled with nothing.

use serde_json::{Map, Value};

/// Longest template, in bytes.
pub const MAX_TEMPLATE_BYTES: usize = 64 * 1024;
/// Most variables one template holds.
pub const MAX_VARIABLES: usize = 500;
/// Longest text one variable fills in (a long body is cut there, and says so).
const MAX_VALUE_CHARS: usize = 20_000;
/// Longest text a template fills into.
pub const MAX_OUTPUT_BYTES: usize = 1024 * 1024;

/// What a variable is filled from: the entity's own parts and its frontmatter.
pub struct Subject<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub entity_type: &'a str,
    pub status: &'a str,
    pub body: &'a str,
    pub fields: &'a Map<String, Value>,
}

/// A template filled in.
#[derive(Debug, PartialEq)]
pub struct Filled {
    pub text: String,
    /// The variables that had no value (each once, in order), left in the text as written.
    pub missing: Vec<String>,
    /// The variables filled.
    pub used: Vec<String>,
}

/// Where the template's variables are: (start, end, path) with `end` past the closing braces.
pub fn variables(template: &str) -> Result<Vec<(usize, usize, String)>, String> {
    if template.len() > MAX_TEMPLATE_BYTES {
        return Err(format!(
            "a template is at most {} KiB",
            MAX_TEMPLATE_BYTES / 1024
        ));
    }
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = template[from..].find("{{").map(|at| at + from) {
        let Some(close) = template[open + 2..].find("}}").map(|at| at + open + 2) else {
            return Err(format!(
                "the variable at byte {open} is never closed with }}}}"
            ));
        };
        let path = template[open + 2..close].trim();
        let well_formed = path.strip_prefix("entity").is_some_and(|rest| {
            rest.starts_with('.')
                && rest[1..].split('.').all(|part| {
                    !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                })
        });
        if !well_formed {
            return Err(format!(
                "{{{{{path}}}}} is not a variable: write {{{{entity.field}}}} or {{{{entity.a.b}}}}"
            ));
        }
        out.push((open, close + 2, path.to_owned()));
        if out.len() > MAX_VARIABLES {
            return Err(format!(
                "a template holds at most {MAX_VARIABLES} variables"
            ));
        }
        from = close + 2;
    }
    Ok(out)
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Array(items) if items.is_empty() => None,
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(text_of).collect();
            (!parts.is_empty()).then(|| parts.join(", "))
        }
        Value::Object(map) if map.is_empty() => None,
        other @ Value::Object(_) => Some(other.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
    }
}

fn lookup(subject: &Subject<'_>, path: &str) -> Option<String> {
    let rest = path.strip_prefix("entity")?.strip_prefix('.')?;
    let (first, deeper) = match rest.split_once('.') {
        Some((first, deeper)) => (first, Some(deeper)),
        None => (rest, None),
    };
    let own = match (first, deeper) {
        ("id", None) => Some(subject.id.to_owned()),
        ("name", None) => Some(subject.name.to_owned()),
        ("type", None) => Some(subject.entity_type.to_owned()),
        ("status", None) => Some(subject.status.to_owned()),
        ("body", None) => Some(subject.body.to_owned()).filter(|b| !b.trim().is_empty()),
        _ => None,
    };
    if own.is_some() {
        return own;
    }
    let mut at = subject.fields.get(first)?;
    for step in deeper.into_iter().flat_map(|d| d.split('.')) {
        at = match at {
            Value::Object(map) => map.get(step)?,
            Value::Array(items) => items.get(step.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    text_of(at)
}

/// Fills the template's variables from the subject.
pub fn fill(template: &str, subject: &Subject<'_>) -> Result<Filled, String> {
    let found = variables(template)?;
    let mut text = String::with_capacity(template.len());
    let mut missing: Vec<String> = Vec::new();
    let mut used: Vec<String> = Vec::new();
    let mut from = 0;
    for (start, end, path) in found {
        text.push_str(&template[from..start]);
        match lookup(subject, &path) {
            Some(value) => {
                match value.char_indices().nth(MAX_VALUE_CHARS) {
                    Some((cut, _)) => {
                        text.push_str(&value[..cut]);
                        text.push_str(" […]");
                    }
                    None => text.push_str(&value),
                }
                if !used.contains(&path) {
                    used.push(path);
                }
            }
            None => {
                text.push_str(&template[start..end]);
                if !missing.contains(&path) {
                    missing.push(path);
                }
            }
        }
        from = end;
    }
    text.push_str(&template[from..]);
    if text.len() > MAX_OUTPUT_BYTES {
        return Err(format!(
            "the filled template would be larger than {} KiB",
            MAX_OUTPUT_BYTES / 1024
        ));
    }
    Ok(Filled {
        text,
        missing,
        used,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn variables_are_filled_and_the_missing_named() {
        let fields = json!({"age": 34, "stats": {"strength": 7}, "tags": ["brave", "loud"],
                            "family": [{"character_id": "ann"}], "nickname": ""});
        let subject = Subject {
            id: "rex",
            name: "Rex",
            entity_type: "character",
            status: "active",
            body: "",
            fields: fields.as_object().unwrap(),
        };
        let filled = fill(
            "{{entity.name}} ({{ entity.age }}), strength {{entity.stats.strength}}, {{entity.tags}}, \
             sister {{entity.family.0.character_id}}; a.k.a. {{entity.nickname}} {{entity.body}}",
            &subject,
        )
        .unwrap();
        assert_eq!(
            filled.text,
            "Rex (34), strength 7, brave, loud, sister ann; a.k.a. {{entity.nickname}} {{entity.body}}"
        );
        assert_eq!(filled.missing, ["entity.nickname", "entity.body"]);
        assert!(fill("{{entity.name", &subject).is_err());
        assert!(fill("{{world.name}}", &subject).is_err());
        assert!(fill("{{entity..name}}", &subject).is_err());
        assert!(fill("{{entity}}", &subject).is_err());
        let long = "{{entity.body}}".repeat(200);
        let body = "é".repeat(5_000);
        let big = Subject {
            body: &body,
            ..subject
        };
        assert!(fill(&long, &big).is_err(), "the output is bounded");
    }
}
