//! Judging an entity by a rule's check: what it breaks, one readable line each (none: it
//! passes). Plain functions over the entity's frontmatter, its markdown body and, for an
//! assembly, its chain of parents.

use serde_json::{Map, Value};

use super::model::Check;
use super::parse;
use super::slot_checks;

/// What a check looks at.
pub struct Subject<'a> {
    /// The frontmatter: the entity's fields with its `id`, `name` and `status`.
    pub frontmatter: &'a Map<String, Value>,
    pub body: &'a str,
    pub ancestry: &'a Ancestry,
}

/// An assembly's parents, nearest first, as far as they could be followed.
#[derive(Default)]
pub struct Ancestry {
    pub parents: Vec<Map<String, Value>>,
    /// Why the chain stops early: a parent that is not there, or a loop.
    pub broken: Option<String>,
}

/// At most this many lines per rule: the first ones say enough.
const MAX_MESSAGES: usize = 20;

/// What the subject breaks of the check.
pub fn failures(check: &Check, subject: &Subject<'_>) -> Vec<String> {
    let mut out = match check {
        Check::RequiredFields { fields } => required(fields, subject.frontmatter),
        Check::Range { field, min, max } => range(field, *min, *max, subject.frontmatter),
        Check::Length { field, min, max } => length(field, *min, *max, subject.frontmatter),
        Check::Pattern { field, pattern } => matches(field, pattern, subject.frontmatter),
        Check::AllowedValues { field, values } => allowed(field, values, subject.frontmatter),
        Check::ForbiddenPhrases { phrases, fields } => forbidden(phrases, fields, subject),
        Check::Slots(check) => slot_checks::failures(check, subject),
    };
    if out.len() > MAX_MESSAGES {
        let more = out.len() - MAX_MESSAGES;
        out.truncate(MAX_MESSAGES);
        out.push(format!("... and {more} more"));
    }
    out
}

/// The values at a field path, each with its place (`family[1].character_id`).
fn values_at<'v>(frontmatter: &'v Map<String, Value>, path: &str) -> Vec<(String, &'v Value)> {
    walk(frontmatter, path).0
}

/// The values at a field path with their places, and the places where a name of the path is
/// missing (`family[1].character_id` when the second family entry has no `character_id`).
fn walk<'v>(
    frontmatter: &'v Map<String, Value>,
    path: &str,
) -> (Vec<(String, &'v Value)>, Vec<String>) {
    let mut current: Vec<(String, &'v Value)> = Vec::new();
    let mut missing = Vec::new();
    for (index, part) in path.split('.').enumerate() {
        let (name, each) = match part.strip_suffix("[]") {
            Some(name) => (name, true),
            None => (part, false),
        };
        let mut next = Vec::new();
        let mut step = |place: String, map: &'v Map<String, Value>| {
            let place = if place.is_empty() {
                name.to_owned()
            } else {
                format!("{place}.{name}")
            };
            let Some(value) = map.get(name) else {
                missing.push(place);
                return;
            };
            match (each, value) {
                (true, Value::Array(items)) => {
                    for (i, item) in items.iter().enumerate() {
                        next.push((format!("{place}[{i}]"), item));
                    }
                }
                (true, _) => {}
                (false, value) => next.push((place, value)),
            }
        };
        if index == 0 {
            step(String::new(), frontmatter);
        } else {
            for (place, value) in current {
                if let Value::Object(map) = value {
                    step(place, map);
                }
            }
        }
        current = next;
    }
    (current, missing)
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.trim().is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

pub(super) fn show(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

fn required(fields: &[String], frontmatter: &Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    for field in fields {
        let (values, missing) = walk(frontmatter, field);
        out.extend(
            missing
                .into_iter()
                .map(|place| format!("{place} is missing")),
        );
        out.extend(
            values
                .into_iter()
                .filter(|(_, value)| is_empty(value))
                .map(|(place, _)| format!("{place} is empty")),
        );
    }
    out
}

fn range(
    field: &str,
    min: Option<f64>,
    max: Option<f64>,
    frontmatter: &Map<String, Value>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (place, value) in values_at(frontmatter, field) {
        match value.as_f64() {
            None if value.is_null() => {}
            None => out.push(format!("{place} is {}, not a number", show(value))),
            Some(n) if min.is_some_and(|min| n < min) || max.is_some_and(|max| n > max) => {
                out.push(format!("{place} is {n}, outside {}", bounds(min, max)))
            }
            Some(_) => {}
        }
    }
    out
}

fn bounds<T: std::fmt::Display>(min: Option<T>, max: Option<T>) -> String {
    match (min, max) {
        (Some(min), Some(max)) => format!("{min} to {max}"),
        (Some(min), None) => format!("at least {min}"),
        (None, Some(max)) => format!("at most {max}"),
        (None, None) => "any".to_owned(),
    }
}

fn length(
    field: &str,
    min: Option<u64>,
    max: Option<u64>,
    frontmatter: &Map<String, Value>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (place, value) in values_at(frontmatter, field) {
        let (size, unit) = match value {
            Value::Null => continue,
            Value::String(text) => (text.chars().count() as u64, "characters"),
            Value::Array(items) => (items.len() as u64, "items"),
            other => {
                out.push(format!("{place} is {}, not a text or a list", show(other)));
                continue;
            }
        };
        if min.is_some_and(|min| size < min) || max.is_some_and(|max| size > max) {
            out.push(format!(
                "{place} has {size} {unit}, not {}",
                bounds(min, max)
            ));
        }
    }
    out
}

fn matches(field: &str, pattern: &str, frontmatter: &Map<String, Value>) -> Vec<String> {
    let regex = match parse::compile(pattern) {
        Ok(regex) => regex,
        Err(message) => return vec![message],
    };
    let mut out = Vec::new();
    for (place, value) in values_at(frontmatter, field) {
        for (place, value) in items_of(place, value) {
            match value.as_str() {
                Some(text) if regex.is_match(text) => {}
                Some(text) => out.push(format!(
                    "{place} is {}, which does not match {pattern}",
                    show(&Value::String(text.to_owned()))
                )),
                None => out.push(format!("{place} is {}, not a text", show(value))),
            }
        }
    }
    out
}

fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// A value, or each item of a list value, with its place.
fn items_of(place: String, value: &Value) -> Vec<(String, &Value)> {
    match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| (format!("{place}[{i}]"), item))
            .collect(),
        Value::Null => Vec::new(),
        other => vec![(place, other)],
    }
}

fn allowed(field: &str, values: &[Value], frontmatter: &Map<String, Value>) -> Vec<String> {
    values_at(frontmatter, field)
        .into_iter()
        .flat_map(|(place, value)| items_of(place, value))
        .filter(|(_, value)| !value.is_null() && !values.iter().any(|v| same(v, value)))
        .map(|(place, value)| {
            format!(
                "{place} is {}, not one of {}",
                show(value),
                values.iter().map(show).collect::<Vec<_>>().join(", ")
            )
        })
        .collect()
}

/// Every text under a value, each with its place.
fn texts_under(place: String, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::String(text) => out.push((place, text.to_lowercase())),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                texts_under(format!("{place}[{i}]"), item, out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let place = if place.is_empty() {
                    key.clone()
                } else {
                    format!("{place}.{key}")
                };
                texts_under(place, item, out);
            }
        }
        _ => {}
    }
}

/// Whether the match at `at..end` of `text` has no letter or digit right before or after it.
fn whole_word(text: &str, at: usize, end: usize) -> bool {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    !word(text[..at].chars().next_back()) && !word(text[end..].chars().next())
}

fn forbidden(phrases: &[String], fields: &[String], subject: &Subject<'_>) -> Vec<String> {
    let mut texts = Vec::new();
    if fields.is_empty() {
        for (key, value) in subject.frontmatter {
            if key != "id" && key != "status" {
                texts_under(key.clone(), value, &mut texts);
            }
        }
        texts.push(("the markdown body".to_owned(), subject.body.to_lowercase()));
    } else {
        for field in fields {
            for (place, value) in values_at(subject.frontmatter, field) {
                texts_under(place, value, &mut texts);
            }
        }
    }
    // One pass over each text for all the phrases (they are lowercase already).
    let automaton = match aho_corasick::AhoCorasick::new(phrases) {
        Ok(automaton) => automaton,
        Err(error) => return vec![format!("the phrases cannot be searched for: {error}")],
    };
    let mut found: Vec<Vec<&str>> = vec![Vec::new(); phrases.len()];
    for (place, text) in &texts {
        for hit in automaton.find_overlapping_iter(text.as_str()) {
            let places = &mut found[hit.pattern().as_usize()];
            if whole_word(text, hit.start(), hit.end()) && places.last() != Some(&place.as_str()) {
                places.push(place);
            }
        }
    }
    phrases
        .iter()
        .zip(found)
        .filter(|(_, places)| !places.is_empty())
        .map(|(phrase, places)| format!("\"{phrase}\" appears in {}", places.join(", ")))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::rules::model::SlotCheck;

    fn judge(check: Check, frontmatter: Value) -> Vec<String> {
        let Value::Object(frontmatter) = frontmatter else {
            unreachable!()
        };
        failures(
            &check,
            &Subject {
                frontmatter: &frontmatter,
                body: "Okay, she said.",
                ancestry: &Ancestry::default(),
            },
        )
    }

    #[test]
    fn field_checks_name_what_they_found() {
        let fm = json!({"age": 300, "family": [{"character_id": ""}, {}], "tags": ["a", "B"]});
        assert_eq!(
            judge(
                Check::RequiredFields {
                    fields: vec![
                        "age".into(),
                        "gender".into(),
                        "family[].character_id".into()
                    ]
                },
                fm.clone()
            ),
            vec![
                "gender is missing",
                "family[1].character_id is missing",
                "family[0].character_id is empty"
            ]
        );
        assert_eq!(
            judge(
                Check::Range {
                    field: "age".into(),
                    min: Some(0.0),
                    max: Some(120.0)
                },
                fm.clone()
            ),
            vec!["age is 300, outside 0 to 120"]
        );
        assert_eq!(
            judge(
                Check::Pattern {
                    field: "tags".into(),
                    pattern: "[a-z]+".into()
                },
                fm.clone()
            ),
            vec!["tags[1] is \"B\", which does not match [a-z]+"]
        );
        assert!(
            judge(
                Check::Range {
                    field: "height".into(),
                    min: Some(1.0),
                    max: None
                },
                fm
            )
            .is_empty()
        );
    }

    #[test]
    fn phrases_are_whole_words_in_any_case() {
        let fm = json!({"name": "Cookie", "dialogue_samples": ["That is COOL."]});
        let found = judge(
            Check::ForbiddenPhrases {
                phrases: vec!["cool".into(), "okay".into(), "ok".into()],
                fields: vec![],
            },
            fm,
        );
        assert_eq!(
            found,
            vec![
                "\"cool\" appears in dialogue_samples[0]",
                "\"okay\" appears in the markdown body"
            ]
        );
    }

    #[test]
    fn slots_are_checked_in_their_groups() {
        let fm = json!({
            "slot_definitions": {
                "head": {
                    "allow_custom_slots": true,
                    "head_base": {"z_index": 10, "overlay_modes": ["replace"], "accepted_types": ["png"]},
                    "face_overlay": {"z_index": 10, "overlay_modes": ["overlay", "glow"], "accepted_types": []}
                },
                "loose": {"z_index": 5}
            },
            "locked_slots": ["head.head_base", "head.nose"]
        });
        assert_eq!(
            judge(Check::Slots(SlotCheck::SlotsInGroups), fm.clone()),
            vec!["slot loose is defined outside a slot group"]
        );
        assert_eq!(
            judge(Check::Slots(SlotCheck::UniqueZIndex), fm.clone()),
            vec!["head.face_overlay and head.head_base share z_index 10"]
        );
        assert_eq!(
            judge(
                Check::Slots(SlotCheck::OverlayZIndex { min: 80 }),
                fm.clone()
            ),
            vec!["head.face_overlay is an overlay slot with z_index 10, below 80"]
        );
        assert_eq!(
            judge(Check::Slots(SlotCheck::OverlayModes), fm.clone()).len(),
            1
        );
        assert_eq!(
            judge(Check::Slots(SlotCheck::AcceptedTypes), fm.clone()).len(),
            1
        );
        assert_eq!(
            judge(Check::Slots(SlotCheck::LockedSlotPaths), fm),
            vec![
                "locked_slots names \"head.nose\", not a slot_group.slot_name of this assembly \
                 or its parents"
            ]
        );
    }
}
