//! The permissions groups and templates grant, the presets groups start from, and the
//! effective grants of a member.
//!
//! Roles stay the ceiling: a grant never lets anyone do what their role may not. ADMIN and
//! SUPERUSER are never restricted. A WORLDBUILDER or PLAYER in no group and without permissions
//! of their own may do what their role allows; one in at least one group, or with permissions
//! of their own (a template applied to them), may do only what those grant.

use async_graphql::Enum;
use serde::{Deserialize, Serialize};

use crate::auth::{Role, Viewer};
use crate::error::{AppError, AppResult};

/// Something a group or template lets its members do (within what their role allows).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Create, edit, rename and restore entities (of the grant's types, or all), change their
    /// relationships, and import them from markdown, cloud sync or Drive.
    EditEntities,
    /// Move entities (of the grant's types, or all) to the recycle bin.
    DeleteEntities,
    /// Upload, edit, link and delete assets.
    ManageAssets,
    /// Write, edit and delete notes.
    WriteNotes,
    /// Use the AI features: story turns, drafting, model calls, BrainBits consumption.
    UseAi,
    /// Create share links.
    CreateShares,
}

impl Permission {
    pub const ALL: [Permission; 6] = [
        Self::EditEntities,
        Self::DeleteEntities,
        Self::ManageAssets,
        Self::WriteNotes,
        Self::UseAi,
        Self::CreateShares,
    ];

    /// Whether a grant of this permission may name entity types.
    pub fn takes_types(self) -> bool {
        matches!(self, Self::EditEntities | Self::DeleteEntities)
    }

    fn verb(self) -> &'static str {
        match self {
            Self::EditEntities => "edit",
            Self::DeleteEntities => "delete",
            Self::ManageAssets => "manage assets",
            Self::WriteNotes => "write notes",
            Self::UseAi => "use AI features",
            Self::CreateShares => "create share links",
        }
    }
}

/// One permission, for some entity types or all (`entity_types` absent).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    pub permission: Permission,
    /// Entity type slugs (`location`, `item`); absent for every type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_types: Option<Vec<String>>,
}

impl Grant {
    pub fn all(permission: Permission) -> Self {
        Self {
            permission,
            entity_types: None,
        }
    }

    pub fn of_types(permission: Permission, types: &[&str]) -> Self {
        Self {
            permission,
            entity_types: Some(types.iter().map(|t| (*t).to_owned()).collect()),
        }
    }

    fn covers(&self, permission: Permission, entity_type: Option<&str>) -> bool {
        self.permission == permission
            && match (&self.entity_types, entity_type) {
                (None, _) => true,
                (Some(types), Some(wanted)) => types.iter().any(|t| t == wanted),
                // A grant for some types does not cover an action on no particular type.
                (Some(_), None) => false,
            }
    }
}

/// At most this many grants in one set (one per permission and a few type splits is plenty).
const MAX_GRANTS: usize = 32;

/// Checks a set of grants (their entity types come from the GraphQL enum, so they are known):
/// types only where the permission takes them, no empty type list, bounded. The grants merged
/// per permission and sorted.
pub fn validate(field: &'static str, grants: Vec<Grant>) -> AppResult<Vec<Grant>> {
    if grants.len() > MAX_GRANTS {
        return Err(AppError::bad_field(field, "at most 32 grants"));
    }
    let mut merged: Vec<Grant> = Vec::new();
    for grant in grants {
        if let Some(types) = &grant.entity_types {
            if !grant.permission.takes_types() {
                return Err(AppError::bad_field(
                    field,
                    format!("{:?} does not take entity types", grant.permission),
                ));
            }
            if types.is_empty() {
                return Err(AppError::bad_field(
                    field,
                    "name at least one entity type, or leave entityTypes out for all",
                ));
            }
        }
        match merged.iter_mut().find(|m| m.permission == grant.permission) {
            None => merged.push(grant),
            Some(existing) => match (&mut existing.entity_types, grant.entity_types) {
                (None, _) => {}
                (slot @ Some(_), None) => *slot = None,
                (Some(types), Some(more)) => types.extend(more),
            },
        }
    }
    for grant in &mut merged {
        if let Some(types) = &mut grant.entity_types {
            types.sort();
            types.dedup();
        }
    }
    merged.sort_by_key(|grant| Permission::ALL.iter().position(|p| *p == grant.permission));
    Ok(merged)
}

/// Reads grants kept as JSON; what cannot be read grants nothing.
pub fn from_json(value: &serde_json::Value) -> Vec<Grant> {
    serde_json::from_value(value.clone()).unwrap_or_default()
}

pub fn to_json(grants: &[Grant]) -> serde_json::Value {
    serde_json::to_value(grants).unwrap_or_else(|_| serde_json::Value::Array(Vec::new()))
}

/// What one member may do in a tenant beyond their role's ceiling.
#[derive(Clone, Debug, Default)]
pub struct Grants {
    /// False for ADMINs and for members in no group and without permissions of their own:
    /// their role alone decides.
    pub restricted: bool,
    pub grants: Vec<Grant>,
}

impl Grants {
    pub fn unrestricted() -> Self {
        Self::default()
    }

    /// Grants from the member's groups and own permissions (each a JSON list); none at all
    /// means unrestricted.
    pub fn from_sources(sources: &[serde_json::Value]) -> Self {
        if sources.is_empty() {
            return Self::unrestricted();
        }
        Self {
            restricted: true,
            grants: sources.iter().flat_map(from_json).collect(),
        }
    }

    pub fn allows(&self, permission: Permission, entity_type: Option<&str>) -> bool {
        !self.restricted
            || self
                .grants
                .iter()
                .any(|grant| grant.covers(permission, entity_type))
    }

    /// FORBIDDEN (reason `permission_denied`) unless the grants allow it.
    pub fn ensure(&self, permission: Permission, entity_type: Option<&str>) -> AppResult<()> {
        if self.allows(permission, entity_type) {
            return Ok(());
        }
        let message = match (permission.takes_types(), entity_type) {
            (true, Some(entity_type)) => format!(
                "your groups do not allow you to {} {entity_type} entities",
                permission.verb()
            ),
            _ => format!("your groups do not allow you to {}", permission.verb()),
        };
        Err(AppError::Forbidden {
            message,
            reason: Some("permission_denied"),
        })
    }
}

/// Whether a viewer's role puts them above groups (ADMIN and SUPERUSER).
pub fn above_groups(viewer: &Viewer) -> bool {
    viewer.role >= Role::Admin
}

/// A starting point for a group: a name and the permissions it grants.
#[derive(Clone, Debug)]
pub struct Preset {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub grants: Vec<Grant>,
}

/// The built-in group presets.
pub fn presets() -> Vec<Preset> {
    use Permission::*;
    vec![
        Preset {
            id: "editors",
            name: "Editors",
            description: "Everything a worldbuilder may do: edit and delete every entity, \
                          assets, notes, AI features and share links.",
            grants: Permission::ALL.into_iter().map(Grant::all).collect(),
        },
        Preset {
            id: "writers",
            name: "Writers",
            description: "Write and edit every kind of entity, take notes and use the AI \
                          features; no deleting, no assets.",
            grants: vec![
                Grant::all(EditEntities),
                Grant::all(WriteNotes),
                Grant::all(UseAi),
            ],
        },
        Preset {
            id: "level_designers",
            name: "Level designers",
            description: "Edit locations and items only, and take notes.",
            grants: vec![
                Grant::of_types(EditEntities, &["location", "item"]),
                Grant::all(WriteNotes),
            ],
        },
        Preset {
            id: "artists",
            name: "Artists",
            description: "Upload and manage assets, edit assemblies and style bibles, and use \
                          the AI features.",
            grants: vec![
                Grant::all(ManageAssets),
                Grant::of_types(EditEntities, &["assembly", "style_bible"]),
                Grant::all(UseAi),
            ],
        },
        Preset {
            id: "reviewers",
            name: "Reviewers",
            description: "Read everything and leave notes; change nothing else.",
            grants: vec![Grant::all(WriteNotes)],
        },
    ]
}

pub fn preset(id: &str) -> Option<Preset> {
    presets().into_iter().find(|preset| preset.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_in_no_group_is_left_to_their_role() {
        let grants = Grants::from_sources(&[]);
        assert!(grants.allows(Permission::EditEntities, Some("character")));
    }

    #[test]
    fn a_group_for_locations_and_items_allows_only_those() {
        let group = to_json(&[Grant::of_types(
            Permission::EditEntities,
            &["location", "item"],
        )]);
        let grants = Grants::from_sources(&[group]);
        assert!(grants.allows(Permission::EditEntities, Some("item")));
        assert!(!grants.allows(Permission::EditEntities, Some("character")));
        assert!(!grants.allows(Permission::DeleteEntities, Some("item")));
        assert!(!grants.allows(Permission::UseAi, None));
        let refusal = grants.ensure(Permission::EditEntities, Some("character"));
        assert!(matches!(
            refusal,
            Err(AppError::Forbidden {
                reason: Some("permission_denied"),
                ..
            })
        ));
    }

    #[test]
    fn grants_of_several_groups_add_up() {
        let a = to_json(&[Grant::of_types(Permission::EditEntities, &["location"])]);
        let b = to_json(&[Grant::all(Permission::UseAi)]);
        let grants = Grants::from_sources(&[a, b]);
        assert!(grants.allows(Permission::EditEntities, Some("location")));
        assert!(grants.allows(Permission::UseAi, None));
        assert!(!grants.allows(Permission::ManageAssets, None));
    }

    #[test]
    fn validation_merges_and_refuses_what_makes_no_sense() {
        let merged = validate(
            "permissions",
            vec![
                Grant::of_types(Permission::EditEntities, &["item"]),
                Grant::of_types(Permission::EditEntities, &["location", "item"]),
            ],
        )
        .expect("valid");
        assert_eq!(
            merged,
            vec![Grant::of_types(
                Permission::EditEntities,
                &["item", "location"]
            )]
        );
        assert!(validate("p", vec![Grant::of_types(Permission::UseAi, &["item"])]).is_err());
        assert!(validate("p", vec![Grant::of_types(Permission::EditEntities, &[])]).is_err());
    }
}
