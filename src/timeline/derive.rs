//! Where an entity's data holds dates, and the timeline events they make: an EVENT's `date`
//! (with its participants, factions and location), a TIMELINE's `entries`, a character's birth,
//! death and `key_dates`, any entity's founding or end, and other `*_year` / `*_date` fields.

use std::collections::HashMap;

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::entities::service::{EntityRow, EntityType, content_of};

/// Longest date text and title kept; most entries read from one list.
const MAX_TEXT: usize = 200;
const MAX_ENTRIES: usize = 1_000;

/// Fields that say when an entity began or ended, by what they mean.
const FOUNDINGS: [&str; 6] = [
    "founded",
    "founded_year",
    "founded_date",
    "founding_date",
    "established",
    "established_year",
];
const ENDINGS: [&str; 6] = [
    "destroyed",
    "destroyed_year",
    "dissolved_year",
    "ended_year",
    "end_year",
    "end_date",
];
/// Dated-looking fields that are not the world's dates: the file's own dates, and the year a
/// character's age is counted at.
const NOT_WORLD_DATES: [&str; 3] = ["created_date", "last_updated", "current_age_reference_year"];

/// One event an entity's data makes.
#[derive(Clone, Debug, PartialEq)]
pub struct Derived {
    pub source_entity_id: Uuid,
    pub source_type: EntityType,
    /// Where in the entity: `date`, `birth_year`, `entries[2]`.
    pub source_path: String,
    /// `event`, `entry`, `birth`, `death`, `key_date`, `founding`, `end`, `dated_field`.
    pub kind: &'static str,
    pub title: String,
    pub date_text: String,
    pub end_text: Option<String>,
    /// `type:entity_id`.
    pub subject: String,
    pub participants: Vec<String>,
    pub location: Option<String>,
    pub tags: Vec<String>,
    pub exclusive: bool,
}

/// Which type each entity id names (when only one type uses it): a TIMELINE's `entity_refs`
/// name entities without their types.
pub type IdTypes = HashMap<String, Option<EntityType>>;

/// How a participant named without its type is held until every entity has been read.
const UNTYPED: &str = "?:";

pub fn note_id(ids: &mut IdTypes, row: &EntityRow) {
    ids.entry(row.entity_id.clone())
        .and_modify(|known| {
            if *known != Some(row.kind()) {
                *known = None;
            }
        })
        .or_insert(Some(row.kind()));
}

/// Names the types of the participants an entry named by id alone (dropping those no entity,
/// or more than one type, answers to).
pub fn resolve(event: &mut Derived, ids: &IdTypes) {
    event.participants = std::mem::take(&mut event.participants)
        .into_iter()
        .filter_map(|participant| match participant.strip_prefix(UNTYPED) {
            Some(id) => match ids.get(id) {
                Some(Some(kind)) => Some(format!("{}:{id}", kind.slug())),
                _ => None,
            },
            None => Some(participant),
        })
        .collect();
}

/// The entity kinds a TIMELINE's `*_involved` lists name.
const INVOLVED: [(&str, &str); 4] = [
    ("characters_involved", "character"),
    ("locations_involved", "location"),
    ("factions_involved", "faction"),
    ("brands_involved", "brand"),
];

/// The events an entity makes (participants named by id alone are resolved by [`resolve`]).
pub fn events_of(row: &EntityRow) -> Vec<Derived> {
    let entity_type = row.kind();
    let content = content_of(row);
    let Some(fields) = content.fields.as_object() else {
        return Vec::new();
    };
    let subject = format!("{}:{}", entity_type.slug(), row.entity_id);
    let base = Derived {
        source_entity_id: row.id,
        source_type: entity_type,
        source_path: String::new(),
        kind: "dated_field",
        title: row.name.clone(),
        date_text: String::new(),
        end_text: None,
        subject: subject.clone(),
        participants: Vec::new(),
        location: None,
        tags: strings(fields.get("tags")),
        exclusive: fields.get("exclusive") == Some(&Value::Bool(true)),
    };
    let make = |path: &str, kind: &'static str, title: String, date: Option<String>| {
        date.map(|date_text| Derived {
            source_path: path.to_owned(),
            kind,
            title: clip(&title),
            date_text,
            ..base.clone()
        })
    };
    let mut events: Vec<Derived> = Vec::new();
    match entity_type {
        EntityType::Event => {
            let (path, date) = match text(fields.get("date")) {
                Some(date) => ("date", Some(date)),
                None => ("start_time", text(fields.get("start_time"))),
            };
            if let Some(mut event) = make(path, "event", row.name.clone(), date) {
                event.end_text =
                    text(fields.get("end_date")).or_else(|| text(fields.get("end_time")));
                event.location = text(fields.get("location")).map(|id| format!("location:{id}"));
                event.participants = refs("character", fields.get("participants"))
                    .chain(refs("faction", fields.get("factions_involved")))
                    .collect();
                events.push(event);
            }
        }
        EntityType::Timeline => {
            // The built-in template's TIMELINE is one entry itself.
            let (path, own) = match text(fields.get("game_date")) {
                Some(date) => ("game_date", Some(date)),
                None => ("game_year", text(fields.get("game_year"))),
            };
            if let Some(mut event) = make(path, "entry", row.name.clone(), own) {
                event.participants = INVOLVED
                    .iter()
                    .flat_map(|(field, kind)| refs(kind, fields.get(*field)))
                    .collect();
                events.push(event);
            }
            // The package's lists its entries; each is known by its year and event (not its
            // place in the list, so removing one keeps the others' ids).
            let entries = fields.get("entries").and_then(Value::as_array);
            let mut paths: Vec<String> = Vec::new();
            for entry in entries.into_iter().flatten().take(MAX_ENTRIES) {
                let title = text(entry.get("event")).unwrap_or_else(|| row.name.clone());
                let year = text(entry.get("year"));
                let mut path = format!("entries[{}|{title}]", year.as_deref().unwrap_or_default());
                let base_path = path.clone();
                let mut again = 1;
                while paths.contains(&path) {
                    again += 1;
                    path = format!("{base_path}#{again}");
                }
                paths.push(path.clone());
                if let Some(mut event) = make(&path, "entry", title, year) {
                    event.participants = strings(entry.get("entity_refs"))
                        .into_iter()
                        .map(|id| format!("{UNTYPED}{id}"))
                        .collect();
                    events.push(event);
                }
            }
        }
        EntityType::Character => {
            let name = &row.name;
            events.extend(make(
                "birth_year",
                "birth",
                format!("Birth of {name}"),
                text(fields.get("birth_year")),
            ));
            events.extend(make(
                "death_year",
                "death",
                format!("Death of {name}"),
                text(fields.get("death_year")),
            ));
            let key_dates = fields.get("key_dates").and_then(Value::as_array);
            for (index, entry) in key_dates
                .into_iter()
                .flatten()
                .take(MAX_ENTRIES)
                .enumerate()
            {
                let title = text(entry.get("event")).unwrap_or_else(|| name.clone());
                let path = format!("key_dates[{index}]");
                events.extend(make(&path, "key_date", title, text(entry.get("year"))));
            }
        }
        _ => {}
    }
    for (key, kind, title) in dated_fields(fields, row) {
        events.extend(make(&key, kind, title, text(fields.get(&key))));
    }
    // The entity takes part in what is about it (a character's birth, a keep's founding); an
    // EVENT's and a TIMELINE entry's own participants are named in them.
    for event in &mut events {
        let named = matches!(event.kind, "event" | "entry");
        if !named && !event.participants.contains(&subject) {
            event.participants.push(subject.clone());
        }
    }
    events
}

/// Foundings, ends and other `*_year` / `*_date` fields of any entity: (key, kind, title).
fn dated_fields(
    fields: &Map<String, Value>,
    row: &EntityRow,
) -> Vec<(String, &'static str, String)> {
    let name = &row.name;
    let handled = |key: &str| match row.kind() {
        EntityType::Event => matches!(key, "date" | "end_date" | "start_time" | "end_time"),
        EntityType::Character => matches!(key, "birth_year" | "death_year"),
        EntityType::Timeline => matches!(key, "game_date" | "game_year"),
        _ => false,
    };
    let mut found = Vec::new();
    for key in fields.keys() {
        if handled(key) || NOT_WORLD_DATES.contains(&key.as_str()) {
            continue;
        }
        let (kind, title) = if FOUNDINGS.contains(&key.as_str()) {
            ("founding", format!("Founding of {name}"))
        } else if ENDINGS.contains(&key.as_str()) {
            ("end", format!("End of {name}"))
        } else if key.ends_with("_year") || key.ends_with("_date") {
            ("dated_field", format!("{name}: {}", key.replace('_', " ")))
        } else {
            continue;
        };
        found.push((key.clone(), kind, title));
    }
    found
}

/// A date or a name as text: a string (trimmed, not empty, clipped) or a number.
fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(text) if !text.trim().is_empty() => Some(clip(text.trim())),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

fn clip(text: &str) -> String {
    text.chars().take(MAX_TEXT).collect()
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .take(MAX_ENTRIES)
        .filter_map(|item| text(Some(item)))
        .collect()
}

fn refs<'a>(kind: &'a str, value: Option<&Value>) -> impl Iterator<Item = String> + 'a {
    strings(value)
        .into_iter()
        .map(move |id| format!("{kind}:{id}"))
}
