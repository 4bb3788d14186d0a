//! Turns a built-in template into what a package would provide: a JSON Schema of the frontmatter,
//! a reference map, a form layout and a markdown template.

use serde_json::{Map, Value, json};

use super::spec::{BuiltinTemplate, FieldKind, FieldSpec};
use crate::entities::references::{PathStep, ReferenceSpec};
use crate::entities::types::{EntityStatus, EntityType};

pub const ENTITY_ID_PATTERN: &str = "^[a-z0-9][a-z0-9_]*$";
const DATE_PATTERN: &str = "^\\d{4}-\\d{2}-\\d{2}$";
pub const BUILTIN_VERSION: &str = "1.0";

/// The frontmatter every entity shares, whatever its type.
fn base_properties(entity_type: EntityType) -> Map<String, Value> {
    let statuses: Vec<&str> = EntityStatus::ALL.iter().map(|s| s.slug()).collect();
    let mut properties = Map::new();
    let mut add = |name: &str, schema: Value| {
        properties.insert(name.to_owned(), schema);
    };
    add(
        "id",
        json!({"type": "string", "pattern": ENTITY_ID_PATTERN, "description": "Unique snake_case entity id."}),
    );
    add(
        "entity_type",
        json!({"const": entity_type.slug(), "description": "Entity type discriminator."}),
    );
    add(
        "template_version",
        json!({"type": "string", "pattern": "^\\d+\\.\\d+$", "description": "Version of the template used."}),
    );
    add(
        "template_category",
        json!({"type": "string", "enum": ["entity", "document", "core"]}),
    );
    add(
        "created_date",
        json!({"type": "string", "pattern": DATE_PATTERN, "description": "Creation date (YYYY-MM-DD)."}),
    );
    add(
        "last_updated",
        json!({"type": "string", "pattern": DATE_PATTERN, "description": "Last update date (YYYY-MM-DD)."}),
    );
    add(
        "status",
        json!({"type": "string", "enum": statuses, "description": "Lifecycle status."}),
    );
    add(
        "name",
        json!({"type": "string", "minLength": 1, "description": "Human-readable display name."}),
    );
    add(
        "primary_image",
        json!({"type": ["string", "null"], "description": "Path of the primary image."}),
    );
    add(
        "tags",
        json!({"type": ["array", "null"], "items": {"type": "string"}}),
    );
    add("notes", json!({"type": ["string", "null"]}));
    properties
}

const BASE_REQUIRED: [&str; 6] = [
    "id",
    "entity_type",
    "template_version",
    "template_category",
    "created_date",
    "last_updated",
];

/// The JSON Schema (draft 2020-12) of a built-in template's frontmatter.
pub fn json_schema(template: &BuiltinTemplate) -> Value {
    let entity_type = template.entity_type;
    let mut properties = base_properties(entity_type);
    let mut required: Vec<&str> = BASE_REQUIRED.to_vec();
    for field in template.fields() {
        properties.insert(field.name.to_owned(), field_schema(field));
        if field.required {
            required.push(field.name);
        }
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("urn:loregraph:schemas:{}", entity_type.slug()),
        "title": format!("{} entity", entity_type.label()),
        "description": template.description,
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": true,
    })
}

fn field_schema(field: &FieldSpec) -> Value {
    let mut schema = kind_schema(&field.kind, field.required);
    if let Value::Object(map) = &mut schema
        && !field.description.is_empty()
    {
        map.insert("description".into(), field.description.into());
    }
    schema
}

/// Optional fields also accept null, as the StudioBrain package's schemas do.
fn typed(name: &str, required: bool) -> Value {
    if required {
        json!(name)
    } else {
        json!([name, "null"])
    }
}

fn kind_schema(kind: &FieldKind, required: bool) -> Value {
    match kind {
        FieldKind::Text if required => json!({"type": "string", "minLength": 1}),
        FieldKind::Text => json!({"type": typed("string", false)}),
        FieldKind::Integer => json!({"type": typed("integer", required)}),
        FieldKind::Number => json!({"type": typed("number", required)}),
        FieldKind::Boolean => json!({"type": typed("boolean", required)}),
        FieldKind::Date => json!({"type": typed("string", required), "pattern": DATE_PATTERN}),
        FieldKind::Enum(values) => {
            let mut allowed: Vec<Value> = values.iter().map(|v| json!(v)).collect();
            if !required {
                allowed.push(Value::Null);
            }
            json!({"enum": allowed})
        }
        FieldKind::TextList => {
            json!({"type": typed("array", required), "items": {"type": "string"}})
        }
        FieldKind::Object(fields) => object_schema(fields, required),
        FieldKind::ObjectList(fields) => {
            json!({"type": typed("array", required), "items": object_schema(fields, true)})
        }
        FieldKind::Reference(targets) => json!({
            "type": typed("string", required),
            "pattern": ENTITY_ID_PATTERN,
            "x-references": slugs(targets),
        }),
        FieldKind::ReferenceList(targets) => json!({
            "type": typed("array", required),
            "items": {"type": "string", "pattern": ENTITY_ID_PATTERN},
            "x-references": slugs(targets),
        }),
    }
}

fn object_schema(fields: &[FieldSpec], required: bool) -> Value {
    let properties: Map<String, Value> = fields
        .iter()
        .map(|f| (f.name.to_owned(), field_schema(f)))
        .collect();
    let required_keys: Vec<&str> = fields
        .iter()
        .filter(|f| f.required)
        .map(|f| f.name)
        .collect();
    json!({
        "type": typed("object", required),
        "properties": properties,
        "required": required_keys,
    })
}

fn slugs(types: &[EntityType]) -> Vec<&'static str> {
    types.iter().map(|t| t.slug()).collect()
}

/// Where the template's fields hold ids of other entities.
pub fn references(template: &BuiltinTemplate) -> Vec<ReferenceSpec> {
    let mut specs = Vec::new();
    for field in template.fields() {
        collect_references(
            field,
            &mut vec![PathStep::Key(field.name.to_owned())],
            &mut specs,
        );
    }
    specs
}

fn collect_references(field: &FieldSpec, path: &mut Vec<PathStep>, out: &mut Vec<ReferenceSpec>) {
    match &field.kind {
        FieldKind::Reference(targets) => {
            out.push(ReferenceSpec::new(path.clone(), targets.to_vec()))
        }
        FieldKind::ReferenceList(targets) => {
            let mut list = path.clone();
            list.push(PathStep::Each);
            out.push(ReferenceSpec::new(list, targets.to_vec()));
        }
        FieldKind::Object(fields) | FieldKind::ObjectList(fields) => {
            let each = matches!(field.kind, FieldKind::ObjectList(_));
            for inner in *fields {
                let depth = path.len();
                if each {
                    path.push(PathStep::Each);
                }
                path.push(PathStep::Key(inner.name.to_owned()));
                collect_references(inner, path, out);
                path.truncate(depth);
            }
        }
        _ => {}
    }
}

/// A form layout in the shape of the package's `Layouts/<type>.layout.json`.
pub fn layout(template: &BuiltinTemplate) -> Value {
    let entity_type = template.entity_type;
    let statuses: Vec<Value> = EntityStatus::ALL
        .iter()
        .map(|s| json!({"value": s.slug(), "label": title_case(s.slug())}))
        .collect();
    let mut sections = vec![json!({
        "id": "basic_information",
        "title": "Basic Information",
        "columns": 2,
        "fields": [
            {"key": "id", "label": format!("{} ID", entity_type.label()), "ui_component": "read-only-text",
             "auto_generate_from": "name", "required": true},
            {"key": "name", "label": "Name", "ui_component": "text", "required": true},
            {"key": "status", "label": "Status", "ui_component": "select", "options": statuses},
        ],
    })];
    for section in template.sections {
        let fields: Vec<Value> = section.fields.iter().map(layout_field).collect();
        sections.push(json!({
            "id": section.title.to_lowercase().replace(' ', "_"),
            "title": section.title,
            "columns": 1,
            "fields": fields,
        }));
    }
    json!({"entity_type": entity_type.slug(), "version": BUILTIN_VERSION, "sections": sections})
}

fn layout_field(field: &FieldSpec) -> Value {
    let mut entry = json!({
        "key": field.name,
        "label": title_case(field.name),
        "required": field.required,
        "help": field.description,
    });
    let (component, extra): (&str, Option<(&str, Value)>) = match &field.kind {
        FieldKind::Text => ("text", None),
        FieldKind::Integer | FieldKind::Number => ("number", None),
        FieldKind::Boolean => ("toggle", None),
        FieldKind::Date => ("date", None),
        FieldKind::Enum(values) => {
            let options: Vec<Value> = values
                .iter()
                .map(|v| json!({"value": v, "label": title_case(v)}))
                .collect();
            ("select", Some(("options", json!(options))))
        }
        FieldKind::TextList => ("tag-list", None),
        FieldKind::Object(_) => ("object", None),
        FieldKind::ObjectList(_) => ("object-list", None),
        FieldKind::Reference(targets) | FieldKind::ReferenceList(targets) => {
            let max = if matches!(field.kind, FieldKind::Reference(_)) {
                1
            } else {
                50
            };
            entry["max_selections"] = json!(max);
            (
                "entity-selector",
                Some(("reference_type", json!(slugs(targets)))),
            )
        }
    };
    entry["ui_component"] = json!(component);
    if let Some((key, value)) = extra {
        entry[key] = value;
    }
    entry
}

/// `rex_marshall` → `Rex Marshall`: an id or key as a reader would write it.
pub fn title_case(name: &str) -> String {
    name.split(['_', '-'])
        .filter(|w| !w.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A markdown file with YAML frontmatter a writer starts from, like the package's
/// `<TYPE>_TEMPLATE.md`.
pub fn markdown(template: &BuiltinTemplate) -> String {
    let entity_type = template.entity_type;
    let mut out = String::from("---\n");
    out.push_str("id: \"unique_lowercase_id\"\n");
    out.push_str(&format!("name: \"{} Name\"\n", entity_type.label()));
    out.push_str(&format!("entity_type: \"{}\"\n", entity_type.slug()));
    out.push_str(&format!("template_version: \"{BUILTIN_VERSION}\"\n"));
    out.push_str(&format!("template_category: \"{}\"\n", template.category));
    out.push_str(&format!("folder_name: \"{}\"\n", entity_type.folder_name()));
    out.push_str(&format!("file_prefix: \"{}\"\n", entity_type.file_prefix()));
    out.push_str(
        "created_date: \"YYYY-MM-DD\"\nlast_updated: \"YYYY-MM-DD\"\nstatus: \"active\"\n",
    );
    for section in template.sections {
        out.push_str(&format!("\n# {}\n", section.title.to_uppercase()));
        for field in section.fields {
            out.push_str(&format!("{}: {}\n", field.name, placeholder(field)));
        }
    }
    out.push_str("---\n\n");
    out.push_str("# {{name}}\n");
    for heading in template.body_headings {
        out.push_str(&format!("\n## {heading}\n\n[{heading}]\n"));
    }
    out
}

fn placeholder(field: &FieldSpec) -> String {
    let comment = if field.description.is_empty() {
        String::new()
    } else {
        format!("  # {}", field.description)
    };
    let value = match &field.kind {
        FieldKind::Text | FieldKind::Date => "\"\"".to_owned(),
        FieldKind::Integer | FieldKind::Number | FieldKind::Boolean => "null".to_owned(),
        FieldKind::Enum(values) => format!("\"\"  # one of: {}", values.join(", ")),
        FieldKind::TextList | FieldKind::ObjectList(_) | FieldKind::ReferenceList(_) => {
            "[]".to_owned()
        }
        FieldKind::Object(_) => "{}".to_owned(),
        FieldKind::Reference(targets) => format!("\"\"  # {} id", slugs(targets).join(" or ")),
    };
    if matches!(field.kind, FieldKind::Enum(_) | FieldKind::Reference(_)) {
        value
    } else {
        format!("{value}{comment}")
    }
}
