//! loregraph's built-in template for each of the sixteen entity types, as const data.
//!
//! Only the per-type frontmatter fields are listed here; the shared base fields (id, name,
//! status, dates, tags, ...) are added by the generator. Field names, shapes and vocabularies
//! follow the StudioBrain template package (its JSON Schemas, `field_config` entity selectors and
//! form layouts), so entities written for that package fit these templates and their id fields
//! feed the relationship graph.

mod documents;
mod people;
mod places;
mod story;
mod things;

use documents::*;
use people::*;
use places::*;
use story::*;
use things::*;

use super::spec::BuiltinTemplate;
use crate::entities::types::EntityType;

/// The built-in templates, in the order of [`EntityType::ALL`].
pub static BUILTIN: [BuiltinTemplate; 16] = [
    CHARACTER,
    LOCATION,
    DISTRICT,
    BRAND,
    FACTION,
    ITEM,
    JOB,
    QUEST,
    CAMPAIGN,
    EVENT,
    DIALOGUE,
    TIMELINE,
    ASSEMBLY,
    STYLE_BIBLE,
    UNIVERSE,
    BIOME,
];

/// The built-in template of an entity type.
pub fn builtin(entity_type: EntityType) -> &'static BuiltinTemplate {
    BUILTIN
        .iter()
        .find(|template| template.entity_type == entity_type)
        .expect("every entity type has a built-in template")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entities::templates::spec::{FieldKind, FieldSpec};
    use crate::entities::types::EntityType::*;
    use std::collections::HashSet;

    const BASE_FIELDS: &[&str] = &[
        "id",
        "entity_type",
        "name",
        "status",
        "template_version",
        "template_category",
        "created_date",
        "last_updated",
        "primary_image",
        "tags",
        "notes",
    ];

    fn is_snake_case(name: &str) -> bool {
        name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    }

    /// Checks names, vocabularies and targets of a list of fields and of the objects inside.
    fn check_fields<'a>(owner: &str, fields: impl IntoIterator<Item = &'a FieldSpec>) {
        let mut seen = HashSet::new();
        for field in fields {
            assert!(seen.insert(field.name), "{owner}: {} twice", field.name);
            assert!(is_snake_case(field.name), "{owner}: {}", field.name);
            assert!(!field.description.is_empty(), "{owner}: {}", field.name);
            match &field.kind {
                FieldKind::Enum(values) => assert!(!values.is_empty(), "{owner}: {}", field.name),
                FieldKind::Reference(targets) | FieldKind::ReferenceList(targets) => {
                    assert!(!targets.is_empty(), "{owner}: {}", field.name)
                }
                FieldKind::Object(inner) | FieldKind::ObjectList(inner) => {
                    check_fields(&format!("{owner}.{}", field.name), inner.iter())
                }
                _ => {}
            }
        }
    }

    fn has_reference(fields: &[FieldSpec]) -> bool {
        fields.iter().any(|field| match &field.kind {
            FieldKind::Reference(_) | FieldKind::ReferenceList(_) => true,
            FieldKind::Object(inner) | FieldKind::ObjectList(inner) => has_reference(inner),
            _ => false,
        })
    }

    #[test]
    fn one_template_per_type_in_order() {
        for (template, entity_type) in BUILTIN.iter().zip(EntityType::ALL) {
            assert_eq!(template.entity_type, entity_type);
            assert!(std::ptr::eq(builtin(entity_type), template));
        }
    }

    #[test]
    fn categories() {
        for template in &BUILTIN {
            let expected = match template.entity_type {
                Universe | StyleBible => "document",
                _ => "entity",
            };
            assert_eq!(template.category, expected, "{:?}", template.entity_type);
        }
    }

    #[test]
    fn fields_are_well_formed() {
        for template in &BUILTIN {
            let owner = template.entity_type.slug();
            assert!(!template.sections.is_empty(), "{owner}");
            assert!(!template.body_headings.is_empty(), "{owner}");
            check_fields(owner, template.fields());
            for field in template.fields() {
                assert!(
                    !BASE_FIELDS.contains(&field.name),
                    "{owner}: {}",
                    field.name
                );
            }
            assert!(
                template
                    .sections
                    .iter()
                    .any(|section| has_reference(section.fields)),
                "{owner} has no reference field"
            );
        }
    }

    #[test]
    fn required_fields() {
        for template in &BUILTIN {
            let required = template.fields().filter(|field| field.required).count();
            match template.entity_type {
                Character | Faction => assert_eq!(required, 0, "{:?}", template.entity_type),
                _ => assert!((1..=2).contains(&required), "{:?}", template.entity_type),
            }
        }
    }
}
