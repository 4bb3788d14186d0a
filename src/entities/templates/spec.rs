//! The vocabulary of loregraph's built-in templates: what a field is, written as const data so
//! the sixteen templates in `builtin.rs` read like a table.

use crate::entities::types::EntityType;

/// What values a field holds.
#[derive(Debug)]
pub enum FieldKind {
    /// A single line or paragraph of text.
    Text,
    Integer,
    Number,
    Boolean,
    /// A calendar date written `YYYY-MM-DD`.
    Date,
    /// One of a fixed set of strings.
    Enum(&'static [&'static str]),
    /// A list of strings.
    TextList,
    /// An object with known keys (others are allowed).
    Object(&'static [FieldSpec]),
    /// A list of objects with known keys.
    ObjectList(&'static [FieldSpec]),
    /// The id of one entity of one of these types.
    Reference(&'static [EntityType]),
    /// Ids of entities of one of these types.
    ReferenceList(&'static [EntityType]),
}

/// One field of a template.
#[derive(Debug)]
pub struct FieldSpec {
    pub name: &'static str,
    pub kind: FieldKind,
    pub required: bool,
    pub description: &'static str,
}

impl FieldSpec {
    pub const fn required(self) -> Self {
        Self {
            required: true,
            ..self
        }
    }
}

const fn field(name: &'static str, kind: FieldKind, description: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        kind,
        required: false,
        description,
    }
}

pub const fn text(name: &'static str, description: &'static str) -> FieldSpec {
    field(name, FieldKind::Text, description)
}

pub const fn integer(name: &'static str, description: &'static str) -> FieldSpec {
    field(name, FieldKind::Integer, description)
}

pub const fn number(name: &'static str, description: &'static str) -> FieldSpec {
    field(name, FieldKind::Number, description)
}

pub const fn boolean(name: &'static str, description: &'static str) -> FieldSpec {
    field(name, FieldKind::Boolean, description)
}

pub const fn date(name: &'static str, description: &'static str) -> FieldSpec {
    field(name, FieldKind::Date, description)
}

pub const fn one_of(
    name: &'static str,
    values: &'static [&'static str],
    description: &'static str,
) -> FieldSpec {
    field(name, FieldKind::Enum(values), description)
}

pub const fn text_list(name: &'static str, description: &'static str) -> FieldSpec {
    field(name, FieldKind::TextList, description)
}

pub const fn object(
    name: &'static str,
    fields: &'static [FieldSpec],
    description: &'static str,
) -> FieldSpec {
    field(name, FieldKind::Object(fields), description)
}

pub const fn object_list(
    name: &'static str,
    fields: &'static [FieldSpec],
    description: &'static str,
) -> FieldSpec {
    field(name, FieldKind::ObjectList(fields), description)
}

pub const fn reference(
    name: &'static str,
    targets: &'static [EntityType],
    description: &'static str,
) -> FieldSpec {
    field(name, FieldKind::Reference(targets), description)
}

pub const fn reference_list(
    name: &'static str,
    targets: &'static [EntityType],
    description: &'static str,
) -> FieldSpec {
    field(name, FieldKind::ReferenceList(targets), description)
}

/// A titled group of fields: a section of the form layout and of the markdown template.
#[derive(Debug)]
pub struct Section {
    pub title: &'static str,
    pub fields: &'static [FieldSpec],
}

/// loregraph's own template for one entity type.
#[derive(Debug)]
pub struct BuiltinTemplate {
    pub entity_type: EntityType,
    pub description: &'static str,
    /// `entity`, `document` or `core`, as the package's `template_category`.
    pub category: &'static str,
    pub sections: &'static [Section],
    /// Headings of the markdown body the template proposes.
    pub body_headings: &'static [&'static str],
}

impl BuiltinTemplate {
    pub fn fields(&self) -> impl Iterator<Item = &'static FieldSpec> + use<> {
        let sections: &'static [Section] = self.sections;
        sections.iter().flat_map(|section| section.fields.iter())
    }
}
