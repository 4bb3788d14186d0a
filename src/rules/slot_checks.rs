//! The assembly checks (seed "Assembly System", `rules/Core/assembly_constraints.yaml`): an
//! assembly's `slot_definitions` (slots in named groups, their overlay modes, file types,
//! mirrors and z-indexes), its locks, and its chain of parents.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::checks::{Subject, show};
use super::model::SlotCheck;

/// How a slot's image may be drawn over what lies beneath.
pub const OVERLAY_MODES: [&str; 6] = ["replace", "overlay", "blend", "multiply", "screen", "add"];
/// The modes that make a slot an overlay (whose z_index must be high: asm_zidx_003).
pub const OVERLAY_LIKE_MODES: [&str; 3] = ["overlay", "multiply", "blend"];
/// The file types a slot may accept.
pub const ACCEPTED_TYPES: [&str; 6] = ["png", "webp", "glb", "fbx", "jpg", "svg"];
pub const MIRROR_STRATEGIES: [&str; 3] = ["flip_x", "flip_y", "rotate_180"];
/// How much an assembly inherits from its parent.
pub const INHERITANCE_MODES: [&str; 3] = ["full", "selective", "none"];
/// A group's own settings in `slot_definitions`, beside its slots.
pub const GROUP_SETTINGS: [&str; 5] = [
    "allow_custom_slots",
    "layer_type",
    "default_blend_mode",
    "content_rules",
    "description",
];
/// Keys that make a mapping a slot.
pub const SLOT_KEYS: [&str; 4] = ["z_index", "required", "overlay_modes", "accepted_types"];

/// The slots of `slot_definitions`: `(group.slot, its mapping)`.
fn slot_list(frontmatter: &Map<String, Value>) -> Vec<(String, &Map<String, Value>)> {
    let Some(Value::Object(groups)) = frontmatter.get("slot_definitions") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (group, members) in groups {
        let Value::Object(members) = members else {
            continue;
        };
        if SLOT_KEYS.iter().any(|key| members.contains_key(*key)) {
            continue; // a slot outside any group: SlotsInGroups says so
        }
        for (name, slot) in members {
            if let (false, Value::Object(slot)) = (GROUP_SETTINGS.contains(&name.as_str()), slot) {
                out.push((format!("{group}.{name}"), slot));
            }
        }
    }
    out
}

fn listed_from(
    place: &str,
    key: &str,
    slot: &Map<String, Value>,
    allowed: &[&str],
) -> Option<String> {
    match slot.get(key) {
        Some(Value::Array(items)) if !items.is_empty() => {
            let wrong: Vec<String> = items
                .iter()
                .filter(|item| !item.as_str().is_some_and(|s| allowed.contains(&s)))
                .map(show)
                .collect();
            (!wrong.is_empty()).then(|| {
                format!(
                    "{place}: {key} has {}, not one of {}",
                    wrong.join(", "),
                    allowed.join(", ")
                )
            })
        }
        _ => Some(format!(
            "{place}: {key} must be a non-empty list of {}",
            allowed.join(", ")
        )),
    }
}

fn text_of<'v>(map: &'v Map<String, Value>, key: &str) -> Option<&'v str> {
    map.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn parent_id(map: &Map<String, Value>) -> Option<&str> {
    text_of(map, "parent_assembly_id").or_else(|| text_of(map, "parent_assembly"))
}

fn z_index(slot: &Map<String, Value>) -> Option<&Value> {
    slot.get("z_index").filter(|v| !v.is_null())
}

/// What the assembly breaks of a slot check.
pub(super) fn failures(check: &SlotCheck, subject: &Subject<'_>) -> Vec<String> {
    let frontmatter = subject.frontmatter;
    let slots = slot_list(frontmatter);
    match check {
        SlotCheck::SlotsInGroups => match frontmatter.get("slot_definitions") {
            Some(Value::Object(groups)) => groups
                .iter()
                .filter_map(|(name, members)| match members {
                    Value::Object(members)
                        if SLOT_KEYS.iter().any(|key| members.contains_key(*key)) =>
                    {
                        Some(format!("slot {name} is defined outside a slot group"))
                    }
                    Value::Object(_) | Value::Null => None,
                    _ => Some(format!("{name} is not a group of slots")),
                })
                .collect(),
            None | Some(Value::Null) => Vec::new(),
            Some(_) => vec!["slot_definitions is not a mapping of slot groups".to_owned()],
        },
        SlotCheck::OverlayModes => slots
            .iter()
            .filter_map(|(place, slot)| listed_from(place, "overlay_modes", slot, &OVERLAY_MODES))
            .collect(),
        SlotCheck::AcceptedTypes => slots
            .iter()
            .filter_map(|(place, slot)| listed_from(place, "accepted_types", slot, &ACCEPTED_TYPES))
            .collect(),
        SlotCheck::MirrorStrategy => slots
            .iter()
            .filter(|(_, slot)| text_of(slot, "mirror_of").is_some())
            .filter(|(_, slot)| {
                !text_of(slot, "mirror_strategy").is_some_and(|s| MIRROR_STRATEGIES.contains(&s))
            })
            .map(|(place, _)| {
                format!(
                    "{place} mirrors another slot without a mirror_strategy of {}",
                    MIRROR_STRATEGIES.join(", ")
                )
            })
            .collect(),
        SlotCheck::InheritanceMode => match frontmatter.get("inheritance_mode") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(mode)) if INHERITANCE_MODES.contains(&mode.as_str()) => Vec::new(),
            Some(other) => vec![format!(
                "inheritance_mode is {}, not one of {}",
                show(other),
                INHERITANCE_MODES.join(", ")
            )],
        },
        SlotCheck::ParentRequired => {
            let level = text_of(frontmatter, "hierarchy_level").unwrap_or("template");
            if level != "template" && parent_id(frontmatter).is_none() {
                vec![format!("a {level} assembly names no parent_assembly_id")]
            } else {
                Vec::new()
            }
        }
        SlotCheck::UniqueZIndex => {
            let mut seen: HashMap<String, &str> = HashMap::new();
            let mut out = Vec::new();
            for (place, slot) in &slots {
                let Some(z) = z_index(slot) else { continue };
                let key = z.to_string();
                match seen.get(&key) {
                    Some(first) => out.push(format!("{first} and {place} share z_index {key}")),
                    None => {
                        seen.insert(key, place);
                    }
                }
            }
            out
        }
        SlotCheck::LockedSlotPaths => {
            // Its own slots and those it inherits; when neither defines any, its slots are the
            // assembly template's, which this check does not see.
            let mut known: Vec<String> = slots.iter().map(|(place, _)| place.clone()).collect();
            for parent in &subject.ancestry.parents {
                known.extend(slot_list(parent).into_iter().map(|(place, _)| place));
            }
            if known.is_empty() {
                return Vec::new();
            }
            match frontmatter.get("locked_slots") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(paths)) => paths
                    .iter()
                    .filter(|path| !path.as_str().is_some_and(|p| known.iter().any(|k| k == p)))
                    .map(|path| {
                        format!(
                            "locked_slots names {}, not a slot_group.slot_name of this assembly \
                             or its parents",
                            show(path)
                        )
                    })
                    .collect(),
                Some(_) => vec!["locked_slots is not a list".to_owned()],
            }
        }
        SlotCheck::ZIndexRange { min, max } => slots
            .iter()
            .filter_map(|(place, slot)| {
                let z = z_index(slot)?;
                match z.as_i64() {
                    Some(n) if (*min..=*max).contains(&n) => None,
                    Some(n) => Some(format!("{place}: z_index {n} is outside {min} to {max}")),
                    None => Some(format!(
                        "{place}: z_index {} is not a whole number",
                        show(z)
                    )),
                }
            })
            .collect(),
        SlotCheck::OverlayZIndex { min } => slots
            .iter()
            .filter(|(_, slot)| {
                slot.get("overlay_modes")
                    .and_then(Value::as_array)
                    .is_some_and(|modes| {
                        modes
                            .iter()
                            .any(|m| m.as_str().is_some_and(|m| OVERLAY_LIKE_MODES.contains(&m)))
                    })
            })
            .filter_map(|(place, slot)| {
                let z = z_index(slot)?.as_i64()?;
                (z < *min)
                    .then(|| format!("{place} is an overlay slot with z_index {z}, below {min}"))
            })
            .collect(),
        SlotCheck::HierarchyChain { chain } => hierarchy(chain, subject),
        SlotCheck::MaxDepth { max } => {
            let mut out = Vec::new();
            if let Some(broken) = subject
                .ancestry
                .broken
                .as_deref()
                .filter(|b| b.contains("loop"))
            {
                out.push(broken.to_owned());
            }
            let depth = subject.ancestry.parents.len() as i64 + 1;
            if depth > *max {
                out.push(format!(
                    "the chain of parents is {depth} assemblies deep, more than {max}"
                ));
            }
            out
        }
    }
}

fn hierarchy(chain: &[String], subject: &Subject<'_>) -> Vec<String> {
    let Some(first) = chain.first() else {
        return vec!["the rule names no hierarchy_chain".to_owned()];
    };
    let level = text_of(subject.frontmatter, "hierarchy_level").unwrap_or(first);
    let Some(position) = chain.iter().position(|tier| tier == level) else {
        return vec![format!(
            "hierarchy_level {level} is not one of {}",
            chain.join(", ")
        )];
    };
    if position == 0 {
        return Vec::new();
    }
    let expected = &chain[position - 1];
    match subject.ancestry.parents.first() {
        Some(parent) => {
            let parent_level = text_of(parent, "hierarchy_level").unwrap_or(first);
            if parent_level == expected {
                Vec::new()
            } else {
                vec![format!(
                    "a {level}'s parent must be a {expected}, and {} is a {parent_level}",
                    text_of(parent, "id").unwrap_or("its parent")
                )]
            }
        }
        None => vec![match subject.ancestry.broken.as_deref() {
            Some(broken) => format!("a {level} needs a {expected} as its parent: {broken}"),
            None => format!("a {level} needs a {expected} as its parent, and names none"),
        }],
    }
}
