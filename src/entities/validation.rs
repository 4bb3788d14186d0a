//! What a write must satisfy before anything is saved (structural input rules), and what is
//! checked and recorded but does not stop the save (the type's JSON Schema, references).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::model::EntityContent;
use super::references::{self, FoundReference};
use super::templates::TypeTemplate;
use super::types::EntityType;
use crate::db::{MAX_MARKDOWN_CHARS, validate_text};
use crate::error::{AppError, AppResult};

const MAX_ENTITY_ID_CHARS: usize = 128;
const MAX_NAME_CHARS: usize = 200;

/// Keys that are the entity's own columns; in `fields` they would contradict them.
const RESERVED_FIELDS: [&str; 4] = ["id", "entity_type", "name", "status"];

/// How deep a JSON value's lists and objects nest (a scalar: 0).
pub fn json_depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(json_depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(json_depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Why an entity id is unusable, if it is.
pub fn entity_id_problem(entity_id: &str) -> Option<String> {
    if entity_id.is_empty() {
        return Some("the entity id must not be empty".into());
    }
    if entity_id.chars().count() > MAX_ENTITY_ID_CHARS {
        return Some(format!(
            "the entity id must have at most {MAX_ENTITY_ID_CHARS} characters"
        ));
    }
    let mut chars = entity_id.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !(first_ok && rest_ok) {
        return Some(format!(
            "`{entity_id}` is not a valid entity id: use lowercase letters, digits and underscores, starting with a letter or digit"
        ));
    }
    None
}

pub fn validate_entity_id(field: &'static str, entity_id: &str) -> AppResult<String> {
    match entity_id_problem(entity_id) {
        Some(problem) => Err(AppError::bad_field(field, problem)),
        None => Ok(entity_id.to_owned()),
    }
}

/// Largest `fields` object, serialized.
const MAX_FIELDS_BYTES: usize = 256 * 1024;

/// A relationship drawn by hand: its kind (1 to 64 lowercase letters, digits, underscores or
/// dots, starting with a letter or digit; trimmed) and its attributes (a JSON object, empty
/// when absent).
pub fn validate_relationship(kind: &str, attributes: Option<Value>) -> AppResult<(String, Value)> {
    let kind = kind.trim().to_owned();
    let kind_ok = kind.len() <= 64
        && kind
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && kind
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
    if !kind_ok {
        return Err(AppError::bad_field(
            "kind",
            "the kind must be 1 to 64 lowercase letters, digits, underscores or dots",
        ));
    }
    let attributes = attributes.unwrap_or_else(|| Value::Object(Default::default()));
    if !attributes.is_object() {
        return Err(AppError::bad_field(
            "attributes",
            "`attributes` must be a JSON object",
        ));
    }
    Ok((kind, attributes))
}

pub fn validate_markdown(markdown: &str) -> AppResult<()> {
    validate_text("markdownBody", markdown, MAX_MARKDOWN_CHARS)
}

/// Whether any string or key inside holds a NUL character (PostgreSQL's jsonb refuses them).
fn contains_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(contains_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || contains_nul(v)),
        _ => false,
    }
}

fn check_fields_content(fields: &Value) -> AppResult<()> {
    if contains_nul(fields) {
        return Err(AppError::bad_field(
            "fields",
            "`fields` must not contain NUL characters",
        ));
    }
    if fields.to_string().len() > MAX_FIELDS_BYTES {
        return Err(AppError::bad_field(
            "fields",
            format!(
                "`fields` must be at most {} KiB as JSON",
                MAX_FIELDS_BYTES / 1024
            ),
        ));
    }
    Ok(())
}

/// A display name: trimmed, 1..=200 characters.
pub fn validate_name(name: &str) -> AppResult<String> {
    validate_text("name", name, usize::MAX)?;
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::bad_field("name", "the name must not be empty"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::bad_field(
            "name",
            format!("the name must have at most {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(name.to_owned())
}

/// `fields` must be a JSON object without the reserved keys. A null value means "no value" and
/// is dropped, so stored fields never hold top-level nulls.
pub fn validate_fields(fields: Value) -> AppResult<Map<String, Value>> {
    Ok(fields_object(fields, |key| {
        format!(
            "`{key}` is not a field: set it with the entity's own `{}` argument",
            reserved_argument(key)
        )
    })?
    .into_iter()
    .filter(|(_, v)| !v.is_null())
    .collect())
}

/// A file's fields: like [`validate_fields`], but a key written with no value stays (a file
/// keeps every key it has, `nickname:` included).
pub fn validate_file_fields(fields: Value) -> AppResult<Map<String, Value>> {
    fields_object(fields, |key| {
        format!("`{key}` is one of the entity's own keys, not a field")
    })
}

/// `fields` as an object within bounds and without the reserved keys (`reserved` says why
/// one is refused).
fn fields_object(
    fields: Value,
    reserved: impl Fn(&str) -> String,
) -> AppResult<Map<String, Value>> {
    check_fields_content(&fields)?;
    let Value::Object(map) = fields else {
        return Err(AppError::bad_field(
            "fields",
            "`fields` must be a JSON object",
        ));
    };
    if let Some(key) = RESERVED_FIELDS.iter().find(|k| map.contains_key(**k)) {
        return Err(AppError::bad_field("fields", reserved(key)));
    }
    Ok(map)
}

fn reserved_argument(key: &str) -> &str {
    match key {
        "id" => "entityId",
        "entity_type" => "type",
        other => other,
    }
}

/// An update's `fields`: a JSON object whose nulls remove keys.
pub fn validate_fields_patch(fields: Value) -> AppResult<Map<String, Value>> {
    check_fields_content(&fields)?;
    match fields {
        Value::Object(map) => Ok(map),
        _ => Err(AppError::bad_field(
            "fields",
            "`fields` must be a JSON object",
        )),
    }
}

/// Merges a partial update into stored fields key by key; a null removes the key.
pub fn merge_fields(stored: &Value, patch: Map<String, Value>) -> AppResult<Value> {
    if let Some(key) = RESERVED_FIELDS.iter().find(|k| patch.contains_key(**k)) {
        return Err(AppError::bad_field(
            "fields",
            format!(
                "`{key}` is not a field: set it with the entity's own `{}` argument",
                reserved_argument(key)
            ),
        ));
    }
    let mut merged = stored.as_object().cloned().unwrap_or_default();
    for (key, value) in patch {
        if value.is_null() {
            merged.remove(&key);
        } else {
            merged.insert(key, value);
        }
    }
    let merged = Value::Object(merged);
    check_fields_content(&merged)?;
    Ok(merged)
}

/// What a template says about an entity's content.
pub struct Checked {
    pub schema_errors: Vec<String>,
    pub references: Vec<FoundReference>,
}

/// The frontmatter the JSON Schema sees: the fields, plus the entity's own columns, plus the
/// template's metadata where the fields do not set it themselves.
pub fn frontmatter(
    entity_type: EntityType,
    template: &TypeTemplate,
    content: &EntityContent,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
) -> Value {
    let mut map = content.fields.as_object().cloned().unwrap_or_default();
    let defaults = [
        ("template_version", Value::from(template.version.clone())),
        ("template_category", Value::from(template.category.clone())),
        (
            "created_date",
            created_at.format("%Y-%m-%d").to_string().into(),
        ),
        (
            "last_updated",
            updated_at.format("%Y-%m-%d").to_string().into(),
        ),
    ];
    for (key, value) in defaults {
        map.entry(key).or_insert(value);
    }
    map.insert("id".into(), content.entity_id.clone().into());
    map.insert("entity_type".into(), entity_type.slug().into());
    map.insert("name".into(), content.name.clone().into());
    map.insert("status".into(), content.status.slug().into());
    Value::Object(map)
}

pub fn check(
    entity_type: EntityType,
    template: &TypeTemplate,
    content: &EntityContent,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
) -> Checked {
    let frontmatter = frontmatter(entity_type, template, content, created_at, updated_at);
    Checked {
        schema_errors: template.schema_errors(&frontmatter),
        references: references::extract(&content.fields, &template.references),
    }
}

/// Why a reference does not resolve to a live entity.
pub enum Dangling<'a> {
    Missing,
    Recycled(&'a str),
}

/// `leader: no character with id `bob``, naming the field and the id.
pub fn reference_error(
    kind: &str,
    entity_id: &str,
    targets: &[String],
    why: Dangling<'_>,
) -> String {
    match why {
        Dangling::Missing => {
            let labels: Vec<&str> = targets
                .iter()
                .map(|t| EntityType::from_slug(t).map_or(t.as_str(), |t| t.slug()))
                .collect();
            format!("{kind}: no {} with id `{entity_id}`", labels.join(" or "))
        }
        Dangling::Recycled(entity_type) => {
            format!("{kind}: {entity_type} `{entity_id}` is in the recycle bin")
        }
    }
}

/// A well-formed id made from a malformed one (`Rex Marshall!` → `rex_marshall`).
pub fn suggest_entity_id(text: &str) -> Option<String> {
    let mut id = String::new();
    for c in text.trim().to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c);
        } else if !id.is_empty() && !id.ends_with('_') {
            id.push('_');
        }
    }
    let id: String = id
        .trim_end_matches('_')
        .chars()
        .take(MAX_ENTITY_ID_CHARS)
        .collect();
    (!id.is_empty()).then_some(id)
}
