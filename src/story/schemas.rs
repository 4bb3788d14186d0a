//! State schemas: the fields world, player and character state may hold, each with its value
//! type, a default, a description and (for scalars) the values it may take; a default must
//! fit its type and be one of its values.

use async_graphql::{ComplexObject, Enum, InputObject, Json, SimpleObject};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::api::library::{library_api, library_writes};
use super::library::Body;
use super::model::Kind;
use crate::db::validate_text;
use crate::error::{AppError, AppResult};

/// Most fields one schema holds.
const MAX_FIELDS: usize = 500;
/// Most values one field may be limited to.
const MAX_ENUM_VALUES: usize = 100;

/// The type of a state value.
#[derive(Enum, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ValueType {
    /// true or false.
    Bool,
    /// A whole number.
    Int,
    /// A number.
    Float,
    /// Text.
    String,
    /// A list of values.
    Array,
    /// Keys and values.
    Object,
    /// No value.
    Null,
}

impl ValueType {
    /// Whether `value` is of this type.
    pub fn fits(self, value: &Value) -> bool {
        match self {
            ValueType::Bool => value.is_boolean(),
            ValueType::Int => value.is_i64() || value.is_u64(),
            ValueType::Float => value.is_number(),
            ValueType::String => value.is_string(),
            ValueType::Array => value.is_array(),
            ValueType::Object => value.is_object(),
            ValueType::Null => value.is_null(),
        }
    }

    fn is_scalar(self) -> bool {
        matches!(
            self,
            ValueType::Bool | ValueType::Int | ValueType::Float | ValueType::String
        )
    }

    /// The value a field of this type starts from when its schema gives no default.
    pub fn zero(self) -> Value {
        match self {
            ValueType::Bool => Value::Bool(false),
            ValueType::Int => Value::from(0),
            ValueType::Float => Value::from(0.0),
            ValueType::String => Value::String(String::new()),
            ValueType::Array => Value::Array(Vec::new()),
            ValueType::Object => Value::Object(serde_json::Map::new()),
            ValueType::Null => Value::Null,
        }
    }
}

/// One field of a state schema.
#[derive(SimpleObject, InputObject, Serialize, Deserialize, Clone, Debug)]
#[graphql(input_name = "StateFieldInput")]
pub struct StateField {
    /// The field's key: 1 to 64 letters, digits, `_`, `-` or `.`, unique in its schema.
    pub key: String,
    /// The type of its value.
    pub value_type: ValueType,
    /// The value it starts with (of `valueType`, and one of `enumValues` when they are given).
    #[serde(default)]
    pub default: Option<Json<Value>>,
    /// What the field means, for people and for the models that update it (up to 2,000
    /// characters).
    #[serde(default)]
    pub description: Option<String>,
    /// The only values it may take (scalar types only; up to 100, no repeats).
    #[serde(default)]
    pub enum_values: Option<Vec<Json<Value>>>,
}

/// A state schema's content.
#[derive(SimpleObject, InputObject, Serialize, Deserialize, Clone, Debug)]
#[graphql(input_name = "StateSchemaInput")]
pub struct StateSchemaBody {
    /// What the schema is for (up to 2,000 characters).
    #[serde(default)]
    pub description: Option<String>,
    /// Its fields, in order (up to 500).
    pub fields: Vec<StateField>,
}

impl StateSchemaBody {
    /// The field with `key`.
    pub fn field(&self, key: &str) -> Option<&StateField> {
        self.fields.iter().find(|field| field.key == key)
    }
}

/// A state key as stored: 1 to 64 letters, digits, `_`, `-` or `.`.
pub fn checked_key(field: &'static str, key: &str) -> AppResult<String> {
    let key = key.trim();
    let fits = !key.is_empty()
        && key.chars().count() <= 64
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !fits {
        return Err(AppError::bad_field(
            field,
            format!("`{key}` is not a key: use 1 to 64 letters, digits, `_`, `-` or `.`"),
        ));
    }
    Ok(key.to_owned())
}

/// Optional text as stored: trimmed, None when blank, at most `max` characters.
pub fn checked_text(field: &'static str, text: &mut Option<String>, max: usize) -> AppResult<()> {
    if let Some(value) = text {
        validate_text(field, value, max)?;
        let trimmed = value.trim();
        *text = (!trimmed.is_empty()).then(|| trimmed.to_owned());
    }
    Ok(())
}

impl Body for StateSchemaBody {
    const KIND: Kind = Kind::Schema;

    fn check(&mut self) -> AppResult<()> {
        checked_text("description", &mut self.description, 2_000)?;
        if self.fields.len() > MAX_FIELDS {
            return Err(AppError::bad_field(
                "fields",
                format!("a schema holds at most {MAX_FIELDS} fields"),
            ));
        }
        let mut keys = std::collections::HashSet::new();
        for field in &mut self.fields {
            field.key = checked_key("fields", &field.key)?;
            if !keys.insert(field.key.clone()) {
                return Err(AppError::bad_field(
                    "fields",
                    format!("the key `{}` is given twice", field.key),
                ));
            }
            checked_text("fields", &mut field.description, 2_000)?;
            check_values(field)?;
        }
        Ok(())
    }
}

fn check_values(field: &StateField) -> AppResult<()> {
    let key = &field.key;
    if let Some(values) = &field.enum_values {
        if !field.value_type.is_scalar() {
            return Err(AppError::bad_field(
                "fields",
                format!("`{key}`: only bool, int, float and string fields take enum values"),
            ));
        }
        if values.is_empty() || values.len() > MAX_ENUM_VALUES {
            return Err(AppError::bad_field(
                "fields",
                format!("`{key}`: give 1 to {MAX_ENUM_VALUES} enum values"),
            ));
        }
        for (index, value) in values.iter().enumerate() {
            if !field.value_type.fits(value) {
                return Err(AppError::bad_field(
                    "fields",
                    format!("`{key}`: the enum value {} is not of its type", value.0),
                ));
            }
            if values[..index].contains(value) {
                return Err(AppError::bad_field(
                    "fields",
                    format!("`{key}`: the enum value {} is given twice", value.0),
                ));
            }
        }
    }
    if let Some(default) = &field.default {
        if !field.value_type.fits(default) {
            return Err(AppError::bad_field(
                "fields",
                format!("`{key}`: the default {} is not of its type", default.0),
            ));
        }
        if let Some(values) = &field.enum_values
            && !values.contains(default)
        {
            return Err(AppError::bad_field(
                "fields",
                format!(
                    "`{key}`: the default {} is not one of its enum values",
                    default.0
                ),
            ));
        }
    }
    Ok(())
}

library_api! {
    body: StateSchemaBody, node: StateSchema,
    node_doc: "A state schema: the fields world, player or character state holds.",
    query: StateSchemaQuery { one: state_schema, many: state_schemas },
    mutation: StateSchemaDeletion { delete: delete_state_schema },
    connection: StateSchemaConnection, StateSchemaEdge,
    docs: "One state schema of the viewer's tenant; null when there is none.",
        "The tenant's state schemas by name, a page at a time.",
        "State schemas, a page at a time by cursor.",
        "A state schema and its cursor.",
}

library_writes! {
    body: StateSchemaBody, node: StateSchema,
    mutation: StateSchemaWrites { create: create_state_schema, update: update_state_schema },
    docs: "Creates a state schema (WORLDBUILDER and above).",
        "Changes a state schema (WORLDBUILDER and above).",
}

#[ComplexObject]
impl StateSchema {}
