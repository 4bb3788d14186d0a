//! An assembly's slot definitions as its frontmatter writes them (`slot_definitions`: groups of
//! slots, each slot's `required`, `z_index`, `overlay_modes`, `accepted_types`, variants and
//! mirror), read leniently (what does not read is left to the rules' verdicts), laid over a
//! parent's, and the assembly template's for an assembly that defines none.

use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::markdown::yaml;
use crate::rules::service::{GROUP_SETTINGS, OVERLAY_LIKE_MODES, SLOT_KEYS};

/// Most groups, and slots per group, read from one assembly's definitions.
const MAX_GROUPS: usize = 100;
const MAX_SLOTS_PER_GROUP: usize = 200;
/// Most variant keys a slot lists.
const MAX_VARIANT_KEYS: usize = 200;

/// The assembly template loregraph carries (the template package's core ASSEMBLY template):
/// the slots of a character, a prop and a building, and the zombie stages.
const BUILTIN_TEMPLATE: &str = include_str!("builtin/ASSEMBLY_TEMPLATE.md");

/// The kinds of assembly (`assembly_type`) and the template's groups that belong to only one
/// of them: a prop's and a building's groups are theirs; every other group is a character's.
pub const ASSEMBLY_TYPES: [&str; 3] = ["character", "prop", "building"];
const GROUPS_OF_ONE_TYPE: [(&str, &str); 2] = [("prop", "prop"), ("structure", "building")];

/// One slot.
#[derive(Clone, Debug, PartialEq)]
pub struct SlotDefinition {
    pub group: String,
    pub name: String,
    pub required: bool,
    pub z_index: Option<i64>,
    pub overlay_modes: Vec<String>,
    pub accepted_types: Vec<String>,
    pub description: Option<String>,
    /// The variants the slot holds, by key (`variant_keys`, or `variant_names`).
    pub variant_keys: Vec<String>,
    pub variants_expected: Option<i64>,
    /// Width and height its images should have.
    pub expected_dimensions: Option<(i64, i64)>,
    pub mirror_of: Option<String>,
    pub mirror_strategy: Option<String>,
    /// Not defined: made up in a group that allows custom slots.
    pub custom: bool,
    /// The assembly whose definitions say it (None: the assembly template's).
    pub defined_by: Option<String>,
    /// The mapping it was read from (what a child's definition of it is laid over).
    pub raw: Map<String, Value>,
}

impl SlotDefinition {
    pub fn path(&self) -> String {
        format!("{}.{}", self.group, self.name)
    }

    /// Whether the slot is drawn as an overlay (any of its modes is overlay, multiply or
    /// blend).
    pub fn is_overlay(&self) -> bool {
        self.overlay_modes
            .iter()
            .any(|mode| OVERLAY_LIKE_MODES.contains(&mode.as_str()))
    }
}

/// A group of slots.
#[derive(Clone, Debug, PartialEq)]
pub struct SlotGroup {
    pub name: String,
    pub allow_custom_slots: bool,
    /// Whether the group says `allow_custom_slots` itself (else a child keeps its parent's).
    pub declares_custom_slots: bool,
    pub layer_type: Option<String>,
    pub default_blend_mode: Option<String>,
    pub description: Option<String>,
    pub content_rules: Vec<String>,
    pub slots: Vec<SlotDefinition>,
}

/// An assembly's slots, group by group.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Definitions {
    pub groups: Vec<SlotGroup>,
}

fn text(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn texts(map: &Map<String, Value>, key: &str, max: usize) -> Vec<String> {
    map.get(key)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|item| match item {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .take(max)
                .collect()
        })
        .unwrap_or_default()
}

/// A slot as its mapping says it (`by`: the assembly whose definitions hold it).
pub fn slot(group: &str, name: &str, map: &Map<String, Value>, by: Option<&str>) -> SlotDefinition {
    let mut variant_keys = texts(map, "variant_keys", MAX_VARIANT_KEYS);
    if variant_keys.is_empty() {
        variant_keys = texts(map, "variant_names", MAX_VARIANT_KEYS);
    }
    let expected_dimensions = map
        .get("expected_dimensions")
        .and_then(Value::as_array)
        .and_then(|wh| Some((wh.first()?.as_i64()?, wh.get(1)?.as_i64()?)));
    SlotDefinition {
        group: group.to_owned(),
        name: name.to_owned(),
        required: map
            .get("required")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        z_index: map.get("z_index").and_then(Value::as_i64),
        overlay_modes: texts(map, "overlay_modes", 16),
        accepted_types: texts(map, "accepted_types", 16)
            .into_iter()
            .map(|t| t.trim_start_matches('.').to_ascii_lowercase())
            .collect(),
        description: text(map, "description"),
        variant_keys,
        variants_expected: map.get("variants_expected").and_then(Value::as_i64),
        expected_dimensions,
        mirror_of: text(map, "mirror_of"),
        mirror_strategy: text(map, "mirror_strategy"),
        custom: false,
        defined_by: by.map(str::to_owned),
        raw: map.clone(),
    }
}

impl Definitions {
    /// Reads `slot_definitions` (a mapping of groups); `by` is the assembly they belong to.
    pub fn read(value: Option<&Value>, by: Option<&str>) -> Self {
        let Some(Value::Object(groups)) = value else {
            return Self::default();
        };
        let mut out = Self::default();
        for (name, members) in groups.iter().take(MAX_GROUPS) {
            let Value::Object(members) = members else {
                continue;
            };
            // A slot outside any group is not a group (asm_slot_001 says so).
            if SLOT_KEYS.iter().any(|key| members.contains_key(*key)) {
                continue;
            }
            let slots = members
                .iter()
                .filter(|(key, _)| !GROUP_SETTINGS.contains(&key.as_str()))
                .filter_map(|(key, value)| Some((key, value.as_object()?)))
                .take(MAX_SLOTS_PER_GROUP)
                .map(|(key, map)| slot(name, key, map, by))
                .collect();
            let custom = members.get("allow_custom_slots").and_then(Value::as_bool);
            out.groups.push(SlotGroup {
                name: name.clone(),
                allow_custom_slots: custom.unwrap_or(false),
                declares_custom_slots: custom.is_some(),
                layer_type: text(members, "layer_type"),
                default_blend_mode: text(members, "default_blend_mode"),
                description: text(members, "description"),
                content_rules: texts(members, "content_rules", 50),
                slots,
            });
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// `own` laid over these (a child's over its parent's): a group of the same name takes the
    /// settings the child gives, and a slot of the same name the keys the child gives (a child
    /// that says only `z_index` keeps the parent's modes and types).
    pub fn overlaid(mut self, own: Definitions) -> Self {
        for group in own.groups {
            match self.groups.iter_mut().find(|g| g.name == group.name) {
                None => self.groups.push(group),
                Some(existing) => {
                    if group.declares_custom_slots {
                        existing.allow_custom_slots = group.allow_custom_slots;
                    }
                    existing.layer_type = group.layer_type.or(existing.layer_type.take());
                    existing.default_blend_mode = group
                        .default_blend_mode
                        .or(existing.default_blend_mode.take());
                    existing.description = group.description.or(existing.description.take());
                    if !group.content_rules.is_empty() {
                        existing.content_rules = group.content_rules;
                    }
                    for own in group.slots {
                        match existing.slots.iter_mut().find(|s| s.name == own.name) {
                            Some(place) => {
                                let mut merged = place.raw.clone();
                                merged.extend(own.raw);
                                *place = slot(
                                    &existing.name,
                                    &own.name,
                                    &merged,
                                    own.defined_by.as_deref(),
                                );
                            }
                            None => existing.slots.push(own),
                        }
                    }
                }
            }
        }
        self
    }

    /// The groups of an assembly of this type (all of them when the type is not known).
    pub fn for_type(mut self, assembly_type: Option<&str>) -> Self {
        let Some(wanted) = assembly_type.filter(|t| ASSEMBLY_TYPES.contains(t)) else {
            return self;
        };
        self.groups.retain(|group| {
            match GROUPS_OF_ONE_TYPE.iter().find(|(g, _)| *g == group.name) {
                Some((_, only)) => *only == wanted,
                None => wanted == "character",
            }
        });
        self
    }

    pub fn group(&self, name: &str) -> Option<&SlotGroup> {
        self.groups.iter().find(|group| group.name == name)
    }

    pub fn slots(&self) -> impl Iterator<Item = &SlotDefinition> {
        self.groups.iter().flat_map(|group| group.slots.iter())
    }

    /// The slot at `group.name`: defined, or made up in a group that allows custom slots (its
    /// modes the group's blend mode, its types images); Err says why there is none.
    pub fn resolve(&self, group: &str, name: &str) -> Result<SlotDefinition, String> {
        let Some(found) = self.group(group) else {
            return Err(format!(
                "there is no slot group {group:?} (the groups: {})",
                self.groups
                    .iter()
                    .map(|g| g.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        };
        if let Some(slot) = found.slots.iter().find(|slot| slot.name == name) {
            return Ok(slot.clone());
        }
        if !found.allow_custom_slots {
            return Err(format!(
                "the group {group} has no slot {name:?} and takes no custom slots"
            ));
        }
        let mode = found
            .default_blend_mode
            .clone()
            .unwrap_or_else(|| "replace".to_owned());
        let mut made_up = slot(
            group,
            name,
            &serde_json::json!({ "overlay_modes": [mode], "accepted_types": ["png", "webp"] })
                .as_object()
                .cloned()
                .unwrap_or_default(),
            found.slots.first().and_then(|s| s.defined_by.as_deref()),
        );
        made_up.custom = true;
        Ok(made_up)
    }
}

/// The frontmatter of loregraph's own assembly template.
pub fn builtin_template() -> &'static Map<String, Value> {
    static TEMPLATE: OnceLock<Map<String, Value>> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let frontmatter = BUILTIN_TEMPLATE
            .strip_prefix("---\n")
            .and_then(|rest| rest.split_once("\n---\n"))
            .map(|(yaml, _)| yaml)
            .unwrap_or_default();
        match yaml::parse_mapping(frontmatter).map(|m| yaml::Node::Map(m).to_json()) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_template_defines_the_slots_of_three_kinds() {
        let all = Definitions::read(builtin_template().get("slot_definitions"), None);
        let character = all.clone().for_type(Some("character"));
        assert!(character.group("head").is_some());
        assert!(character.group("prop").is_none());
        let prop = all.clone().for_type(Some("prop"));
        assert_eq!(prop.groups.len(), 1);
        let head = character.resolve("head", "head_base").expect("head_base");
        assert!(head.required);
        assert_eq!(head.z_index, Some(10));
        let hands = character
            .resolve("hands_right", "hands_right_set")
            .expect("hands");
        assert_eq!(hands.variant_keys.len(), 20);
        let custom = character
            .resolve("overlays_damage", "mud_splash")
            .expect("a custom slot");
        assert!(custom.custom && custom.is_overlay());
        assert!(character.resolve("head", "tail").is_err());
        assert!(character.resolve("tail", "tip").is_err());
    }

    #[test]
    fn a_child_overrides_slot_by_slot() {
        let parent = Definitions::read(
            Some(&serde_json::json!({"head": {"allow_custom_slots": true,
                                             "base": {"z_index": 10, "required": true},
                                             "hat": {"z_index": 50}}})),
            Some("parent"),
        );
        let child = Definitions::read(
            Some(&serde_json::json!({"head": {"base": {"z_index": 12}}, "tail": {"tip": {}}})),
            Some("child"),
        );
        let merged = parent.overlaid(child);
        let base = merged.resolve("head", "base").expect("base");
        assert_eq!((base.z_index, base.required), (Some(12), true));
        assert_eq!(base.defined_by.as_deref(), Some("child"));
        assert!(merged.resolve("head", "hat").is_ok());
        assert!(
            merged.resolve("head", "feather").is_ok_and(|s| s.custom),
            "a child that does not say allow_custom_slots keeps its parent's"
        );
        assert!(merged.resolve("tail", "tip").is_ok());
    }
}
