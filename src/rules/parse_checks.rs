//! Reading a rule's check from the keys it carries (`required_fields`, `field` with what to
//! check of it, `forbidden_phrases`, the assembly checks), within bounds.

use serde_json::{Map, Value};

use super::model::{Check, SlotCheck};
use super::parse::{MAX_LIST, Problems, field_list, strings};

/// Longest regular expression a `pattern` may be, in characters.
const MAX_PATTERN_CHARS: usize = 1_000;
/// Most memory one compiled `pattern` may take.
const PATTERN_SIZE_LIMIT: usize = 1 << 20;
/// The keys that give a rule's check (beside `check:` itself).
pub const CHECK_KEYS: [&str; 15] = [
    "required_fields",
    "forbidden_phrases",
    "fields",
    "field",
    "min",
    "max",
    "min_length",
    "max_length",
    "pattern",
    "allowed_values",
    "z_index_min",
    "z_index_max",
    "overlay_z_index_min",
    "max_depth",
    "hierarchy_chain",
];
/// The deepest chain of parents a rule may allow (parents are followed one past it).
pub const MAX_DEPTH_LIMIT: i64 = 16;

/// The slot checks a rule names with `check:` (or `none`: a prose rule).
const NAMED_SLOT_CHECKS: [(&str, SlotCheck); 8] = [
    ("slots_in_groups", SlotCheck::SlotsInGroups),
    ("overlay_modes", SlotCheck::OverlayModes),
    ("accepted_types", SlotCheck::AcceptedTypes),
    ("mirror_strategy", SlotCheck::MirrorStrategy),
    ("inheritance_mode", SlotCheck::InheritanceMode),
    ("parent_required", SlotCheck::ParentRequired),
    ("unique_z_index", SlotCheck::UniqueZIndex),
    ("locked_slot_paths", SlotCheck::LockedSlotPaths),
];

/// The core package's assembly rules say their check in prose only; these are recognised by
/// their ids (in the set `assembly_constraints`) when they carry no `check:` of their own.
const CORE_ASSEMBLY_CHECKS: [(&str, &str); 8] = [
    ("asm_slot_001", "slots_in_groups"),
    ("asm_slot_003", "overlay_modes"),
    ("asm_slot_004", "accepted_types"),
    ("asm_slot_005", "mirror_strategy"),
    ("asm_inh_003", "parent_required"),
    ("asm_inh_004", "inheritance_mode"),
    ("asm_zidx_002", "unique_z_index"),
    ("asm_lock_001", "locked_slot_paths"),
];

/// The rule's check, from the keys it carries; more than one kind of check is a problem.
pub(super) fn read_check(
    set_id: &str,
    rule_id: &str,
    map: &Map<String, Value>,
    place: &str,
    problems: &mut Problems,
) -> Option<Check> {
    let mut found: Vec<Check> = Vec::new();
    let gives_keys = CHECK_KEYS.iter().any(|key| map.contains_key(*key));
    let named = match map.get("check") {
        // The core package's prose-only assembly rules, known by id, unless the rule gives
        // keys of its own.
        None | Some(Value::Null) if !gives_keys => (set_id == "assembly_constraints")
            .then(|| CORE_ASSEMBLY_CHECKS.iter().find(|(id, _)| *id == rule_id))
            .flatten()
            .map(|(_, name)| (*name).to_owned()),
        None | Some(Value::Null) => None,
        // Said outright: a prose rule, whatever its id.
        Some(Value::String(name)) if name == "none" => None,
        Some(Value::String(name)) => Some(name.clone()),
        Some(_) => {
            problems.add(place, "check is the name of a check");
            None
        }
    };
    if let Some(name) = named {
        match NAMED_SLOT_CHECKS.iter().find(|(n, _)| *n == name) {
            Some((_, check)) => found.push(Check::Slots(check.clone())),
            None => problems.add(
                place,
                format!(
                    "there is no check {name:?}; the named checks are none, {}",
                    NAMED_SLOT_CHECKS.map(|(n, _)| n).join(", ")
                ),
            ),
        }
    }
    if let Some(value) = map.get("required_fields") {
        let fields = field_list(value, place, problems);
        if fields.is_empty() {
            problems.add(place, "required_fields names at least one field");
        }
        found.push(Check::RequiredFields { fields });
    }
    if let Some(value) = map.get("forbidden_phrases") {
        let phrases = strings(Some(value), &format!("{place} forbidden_phrases"), problems);
        if phrases.is_empty() || phrases.iter().any(|p| p.trim().is_empty()) {
            problems.add(place, "forbidden_phrases are a list of non-empty phrases");
        }
        let fields = map
            .get("fields")
            .map(|value| field_list(value, place, problems))
            .unwrap_or_default();
        found.push(Check::ForbiddenPhrases {
            phrases: phrases.iter().map(|p| p.trim().to_lowercase()).collect(),
            fields,
        });
    }
    let bound = |key: &str, problems: &mut Problems| -> Option<i64> {
        let value = map.get(key)?;
        let number = value.as_i64();
        if number.is_none() {
            problems.add(place, format!("{key} is a whole number"));
        }
        number
    };
    let (z_min, z_max) = (
        bound("z_index_min", problems),
        bound("z_index_max", problems),
    );
    if z_min.is_some() || z_max.is_some() {
        found.push(Check::Slots(SlotCheck::ZIndexRange {
            min: z_min.unwrap_or(i64::MIN),
            max: z_max.unwrap_or(i64::MAX),
        }));
    }
    if let Some(min) = bound("overlay_z_index_min", problems) {
        found.push(Check::Slots(SlotCheck::OverlayZIndex { min }));
    }
    if let Some(max) = bound("max_depth", problems) {
        if !(1..=MAX_DEPTH_LIMIT).contains(&max) {
            problems.add(place, format!("max_depth is 1 to {MAX_DEPTH_LIMIT}"));
        }
        found.push(Check::Slots(SlotCheck::MaxDepth { max }));
    }
    if let Some(value) = map.get("hierarchy_chain") {
        let chain = strings(Some(value), &format!("{place} hierarchy_chain"), problems);
        if chain.len() < 2 {
            problems.add(place, "hierarchy_chain names at least two tiers");
        }
        found.push(Check::Slots(SlotCheck::HierarchyChain { chain }));
    }
    if let Some(check) = read_field_check(map, place, problems) {
        found.push(check);
    }
    if found.len() > 1 {
        problems.add(
            place,
            "a rule checks one thing: it gives the keys of more than one check",
        );
    }
    found.into_iter().next()
}

/// `field` with the one thing to check of it.
fn read_field_check(
    map: &Map<String, Value>,
    place: &str,
    problems: &mut Problems,
) -> Option<Check> {
    let field_value = map.get("field")?;
    let field = field_list(&Value::Array(vec![field_value.clone()]), place, problems)
        .pop()
        .unwrap_or_default();
    let number = |key: &str, problems: &mut Problems| -> Option<f64> {
        let value = map.get(key)?;
        let number = value.as_f64();
        if number.is_none() {
            problems.add(place, format!("{key} is a number"));
        }
        number
    };
    let count = |key: &str, problems: &mut Problems| -> Option<u64> {
        let value = map.get(key)?;
        let number = value.as_u64();
        if number.is_none() {
            problems.add(place, format!("{key} is a whole number, 0 or more"));
        }
        number
    };
    let mut checks = Vec::new();
    let (min, max) = (number("min", problems), number("max", problems));
    if min.is_some() || max.is_some() {
        checks.push(Check::Range {
            field: field.clone(),
            min,
            max,
        });
    }
    let (min, max) = (count("min_length", problems), count("max_length", problems));
    if min.is_some() || max.is_some() {
        checks.push(Check::Length {
            field: field.clone(),
            min,
            max,
        });
    }
    if let Some(value) = map.get("pattern") {
        match value.as_str() {
            Some(pattern) => {
                if let Err(message) = compile(pattern) {
                    problems.add(place, message);
                }
                checks.push(Check::Pattern {
                    field: field.clone(),
                    pattern: pattern.to_owned(),
                });
            }
            None => problems.add(place, "pattern is a text"),
        }
    }
    if let Some(value) = map.get("allowed_values") {
        match value {
            Value::Array(values) if !values.is_empty() && values.len() <= MAX_LIST => {
                checks.push(Check::AllowedValues {
                    field: field.clone(),
                    values: values.clone(),
                })
            }
            _ => problems.add(
                place,
                format!("allowed_values is a list of 1 to {MAX_LIST} values"),
            ),
        }
    }
    match checks.len() {
        0 => {
            problems.add(
                place,
                "field is given without what to check of it (min/max, min_length/max_length, \
                 pattern or allowed_values)",
            );
            None
        }
        1 => checks.pop(),
        _ => {
            problems.add(
                place,
                "a rule checks one thing: it gives the keys of more than one check of its field",
            );
            checks.pop()
        }
    }
}

/// A `pattern` compiled within its bounds, matching the whole text.
pub fn compile(pattern: &str) -> Result<regex::Regex, String> {
    if pattern.chars().count() > MAX_PATTERN_CHARS {
        return Err(format!(
            "a pattern is at most {MAX_PATTERN_CHARS} characters"
        ));
    }
    let build = |text: &str| {
        regex::RegexBuilder::new(text)
            .size_limit(PATTERN_SIZE_LIMIT)
            .dfa_size_limit(PATTERN_SIZE_LIMIT)
            .build()
            .map_err(|error| {
                let message = error.to_string();
                format!(
                    "pattern is not a regular expression this server takes: {}",
                    message.lines().last().unwrap_or("invalid").trim()
                )
            })
    };
    // On its own first: a pattern that reads only inside the anchors (`x)|(?:.*`) would match
    // more than whole values.
    build(pattern)?;
    build(&format!("^(?:{pattern})$"))
}
