//! Prompt templates filled from the tenant's entities (one, or a batch), and the variables a
//! type offers.

use diesel_async::AsyncPgConnection;
use serde_json::{Map, Value};

use super::template::{self, Filled, Subject};
use crate::auth::Viewer;
use crate::entities::service::{self as entities, EntityRow, EntityType, TemplateCatalog};
use crate::error::{AppError, AppResult};

/// Most entities one batch fills a template from.
pub const MAX_BATCH: usize = 100;
/// Most text one batch fills in.
const MAX_BATCH_OUTPUT_BYTES: usize = 8 * 1024 * 1024;

/// A variable a type offers.
pub struct TemplateField {
    pub variable: String,
    /// The JSON Schema type(s) its value has (`string`, `integer`, `array`...).
    pub kind: String,
    pub description: Option<String>,
}

fn kind_of(schema: &Value) -> String {
    match schema.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect::<Vec<_>>()
            .join(" | "),
        _ => "any".to_owned(),
    }
}

/// The variables of a type: the entity's own, then its template's fields (in the template's
/// key order) and their fields one level down.
pub fn available_fields(catalog: &TemplateCatalog, entity_type: EntityType) -> Vec<TemplateField> {
    let own = [
        ("id", "string", "The entity's id."),
        ("name", "string", "The entity's name."),
        ("type", "string", "The entity's type."),
        ("status", "string", "The entity's status."),
        ("body", "string", "The entity's markdown body."),
    ];
    let mut out: Vec<TemplateField> = own
        .iter()
        .map(|(name, kind, description)| TemplateField {
            variable: format!("entity.{name}"),
            kind: (*kind).to_owned(),
            description: Some((*description).to_owned()),
        })
        .collect();
    let template = catalog.type_template(entity_type);
    let empty = Map::new();
    let properties = template
        .json_schema
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut keys: Vec<&String> = template
        .key_order
        .iter()
        .filter(|key| properties.contains_key(*key))
        .collect();
    let mut rest: Vec<&String> = properties.keys().filter(|k| !keys.contains(k)).collect();
    rest.sort();
    keys.extend(rest);
    for key in keys {
        // The entity's own parts, and keys a variable cannot name.
        if !nameable(key)
            || ["id", "name", "status", "type", "body", "entity_type"].contains(&key.as_str())
        {
            continue;
        }
        let schema = &properties[key];
        out.push(field(format!("entity.{key}"), schema));
        if let Some(inner) = schema.get("properties").and_then(Value::as_object) {
            for (name, schema) in inner.iter().filter(|(name, _)| nameable(name)) {
                out.push(field(format!("entity.{key}.{name}"), schema));
            }
        }
    }
    out
}

/// Whether a variable can name the key (`template::variables` takes letters, digits and `_`).
fn nameable(key: &str) -> bool {
    key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn field(variable: String, schema: &Value) -> TemplateField {
    TemplateField {
        variable,
        kind: kind_of(schema),
        description: schema
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_owned),
    }
}

fn filled(template: &str, row: &EntityRow) -> AppResult<Filled> {
    let empty = Map::new();
    let subject = Subject {
        id: &row.entity_id,
        name: &row.name,
        entity_type: &row.entity_type,
        status: &row.status,
        body: &row.markdown_body,
        fields: row.fields.value().as_object().unwrap_or(&empty),
    };
    template::fill(template, &subject).map_err(|why| AppError::bad_field("template", why))
}

/// The template filled from one live entity of the tenant.
pub async fn resolve(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    template: &str,
    entity_type: EntityType,
    entity_id: &str,
) -> AppResult<(EntityRow, Filled)> {
    template::variables(template).map_err(|why| AppError::bad_field("template", why))?;
    let row = entities::find_live(conn, viewer.tenant_id, entity_type, entity_id)
        .await?
        .ok_or_else(|| {
            AppError::not_found(format!("there is no {} {entity_id}", entity_type.slug()))
        })?;
    let filled = filled(template, &row)?;
    Ok((row, filled))
}

/// The template filled from each entity, in the order given; an entity the tenant does not
/// have gets None.
pub async fn resolve_batch(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    template: &str,
    keys: Vec<(EntityType, String)>,
) -> AppResult<Vec<((EntityType, String), Option<(EntityRow, Filled)>)>> {
    if keys.len() > MAX_BATCH {
        return Err(AppError::bad_field(
            "entities",
            format!("at most {MAX_BATCH} entities at once"),
        ));
    }
    template::variables(template).map_err(|why| AppError::bad_field("template", why))?;
    let rows = entities::find_by_keys(conn, viewer.tenant_id, &keys, false).await?;
    let mut total = 0usize;
    keys.into_iter()
        .map(|key| {
            let row = rows
                .iter()
                .find(|row| !row.is_deleted() && row.kind() == key.0 && row.entity_id == key.1);
            let done = match row {
                Some(row) => {
                    let filled = filled(template, row)?;
                    total += filled.text.len();
                    if total > MAX_BATCH_OUTPUT_BYTES {
                        return Err(AppError::bad_field(
                            "entities",
                            "the filled templates come to more than 8 MiB: ask for fewer entities",
                        ));
                    }
                    Some((row.clone(), filled))
                }
                None => None,
            };
            Ok((key, done))
        })
        .collect()
}
