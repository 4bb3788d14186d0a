//! Reading a rule set's YAML (the template package's `rules/**/*.yaml` format) into a
//! [`RuleSet`], within bounds, listing every problem instead of stopping at the first.

use serde_json::{Map, Value};

use super::model::{Rule, RulePriority, RuleSet, RuleSeverity};
use super::parse_checks::read_check;
pub use super::parse_checks::{CHECK_KEYS, MAX_DEPTH_LIMIT, compile};
use crate::entities::service::EntityType;
use crate::markdown::yaml;

/// Largest rule set source, in bytes.
pub const MAX_SOURCE_BYTES: usize = 256 * 1024;
/// Most rules in one set.
pub const MAX_RULES: usize = 500;
/// Most phrases, fields or values in one check.
pub(super) const MAX_LIST: usize = 1_000;
/// Longest text of a rule, a name or a phrase.
const MAX_TEXT_CHARS: usize = 4_000;

/// Reads a rule set. The problems name where they are (`rules[2] (dial_003): ...`).
pub fn parse(source: &str) -> Result<RuleSet, Vec<String>> {
    if source.len() > MAX_SOURCE_BYTES {
        return Err(vec![format!(
            "a rule set may hold at most {} KiB of YAML",
            MAX_SOURCE_BYTES / 1024
        )]);
    }
    let mapping = yaml::parse_mapping(source).map_err(|error| vec![error.to_string()])?;
    let document = yaml::Node::Map(mapping).to_json();
    let mut problems = Problems::default();
    let set = read_set(&document, &mut problems);
    match set {
        Some(set) if problems.0.is_empty() => Ok(set),
        _ => Err(problems.0),
    }
}

/// Whether a rule or set id is well-formed: 1 to 64 of `a-z 0-9 _ - .`, starting with a
/// letter or digit.
pub fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.'))
}

#[derive(Default)]
pub(super) struct Problems(Vec<String>);

impl Problems {
    pub(super) fn add(&mut self, place: &str, message: impl std::fmt::Display) {
        if self.0.len() < 100 {
            self.0.push(if place.is_empty() {
                message.to_string()
            } else {
                format!("{place}: {message}")
            });
        }
    }
}

fn read_set(document: &Value, problems: &mut Problems) -> Option<RuleSet> {
    let Value::Object(map) = document else {
        problems.add("", "a rule set is a mapping of keys to values");
        return None;
    };
    let id = text(map, "rule_id", "", problems, true);
    if !id.is_empty() && !valid_id(&id) {
        problems.add(
            "rule_id",
            "1 to 64 characters of a-z, 0-9, '_', '-' and '.', starting with a letter or digit",
        );
    }
    let name = text(map, "name", "", problems, true);
    let description = text(map, "description", "", problems, false);
    let version = match map.get("version") {
        None | Some(Value::Null) => "1".to_owned(),
        Some(Value::String(v)) => v.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => {
            problems.add("version", "a version is a text or a number");
            String::new()
        }
    };
    let scope = match text(map, "scope", "", problems, false) {
        scope if scope.is_empty() => "custom".to_owned(),
        scope => scope,
    };
    let priority = priority(map, "priority", "", RulePriority::Medium, problems);
    let applies_to = types(map.get("applies_to"), "applies_to", problems);
    if applies_to.is_empty() {
        problems.add(
            "applies_to",
            "a rule set names the entity types it applies to",
        );
    }
    let defaults = match map.get("defaults") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(value @ Value::Object(_)) => value.clone(),
        Some(_) => {
            problems.add("defaults", "defaults are a mapping");
            Value::Object(Map::new())
        }
    };
    let review_questions = strings(map.get("validation"), "validation", problems);
    let rules = match map.get("rules") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) if items.len() > MAX_RULES => {
            problems.add(
                "rules",
                format!("a rule set holds at most {MAX_RULES} rules"),
            );
            Vec::new()
        }
        Some(Value::Array(items)) => {
            let mut rules: Vec<Rule> = Vec::with_capacity(items.len());
            for (index, item) in items.iter().enumerate() {
                if let Some(rule) = read_rule(&id, index, item, &applies_to, priority, problems) {
                    if rules.iter().any(|r| r.id == rule.id) {
                        problems.add(
                            &format!("rules[{index}] ({})", rule.id),
                            "another rule of the set has this id",
                        );
                    }
                    rules.push(rule);
                }
            }
            rules
        }
        Some(_) => {
            problems.add("rules", "rules are a list");
            Vec::new()
        }
    };
    Some(RuleSet {
        id,
        name,
        description,
        version,
        scope,
        priority,
        applies_to,
        rules,
        defaults,
        review_questions,
    })
}

fn read_rule(
    set_id: &str,
    index: usize,
    item: &Value,
    set_types: &[EntityType],
    set_priority: RulePriority,
    problems: &mut Problems,
) -> Option<Rule> {
    let Value::Object(map) = item else {
        problems.add(&format!("rules[{index}]"), "a rule is a mapping");
        return None;
    };
    let id = map.get("id").and_then(Value::as_str).unwrap_or_default();
    let place = if id.is_empty() {
        format!("rules[{index}]")
    } else {
        format!("rules[{index}] ({id})")
    };
    if !valid_id(id) {
        problems.add(
            &place,
            "a rule's id is 1 to 64 characters of a-z, 0-9, '_', '-' and '.'",
        );
    }
    let text = text(map, "rule", &place, problems, true);
    let category = match self::text(map, "category", &place, problems, false) {
        category if category.is_empty() => "general".to_owned(),
        category => category,
    };
    let priority = priority(map, "priority", &place, set_priority, problems);
    let severity = match map.get("validation_type") {
        None | Some(Value::Null) => RuleSeverity::Warning,
        Some(Value::String(slug)) => RuleSeverity::from_slug(slug).unwrap_or_else(|| {
            problems.add(
                &place,
                format!("validation_type {slug:?} is not error, warning, suggestion or info"),
            );
            RuleSeverity::Warning
        }),
        Some(_) => {
            problems.add(&place, "validation_type is a text");
            RuleSeverity::Warning
        }
    };
    let applies_to = match map.get("applies_to") {
        None | Some(Value::Null) => set_types.to_vec(),
        value => types(value, &format!("{place} applies_to"), problems),
    };
    let check = read_check(set_id, id, map, &place, problems);
    Some(Rule {
        id: id.to_owned(),
        category,
        priority,
        text,
        severity,
        applies_to,
        check,
    })
}

fn text(
    map: &Map<String, Value>,
    key: &str,
    place: &str,
    problems: &mut Problems,
    required: bool,
) -> String {
    let at = if place.is_empty() {
        key.to_owned()
    } else {
        format!("{place} {key}")
    };
    match map.get(key) {
        Some(Value::String(text)) if text.chars().count() > MAX_TEXT_CHARS => {
            problems.add(&at, format!("at most {MAX_TEXT_CHARS} characters"));
            String::new()
        }
        Some(Value::String(text)) if !text.trim().is_empty() => text.trim().to_owned(),
        None | Some(Value::Null) | Some(Value::String(_)) => {
            if required {
                problems.add(&at, "is required");
            }
            String::new()
        }
        Some(_) => {
            problems.add(&at, "is a text");
            String::new()
        }
    }
}

fn priority(
    map: &Map<String, Value>,
    key: &str,
    place: &str,
    default: RulePriority,
    problems: &mut Problems,
) -> RulePriority {
    match map.get(key) {
        None | Some(Value::Null) => default,
        Some(Value::String(slug)) => RulePriority::from_slug(slug).unwrap_or_else(|| {
            problems.add(
                place,
                format!("priority {slug:?} is not critical, high, medium or low"),
            );
            default
        }),
        Some(_) => {
            problems.add(place, "priority is a text");
            default
        }
    }
}

pub(super) fn strings(value: Option<&Value>, place: &str, problems: &mut Problems) -> Vec<String> {
    match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) if items.len() <= MAX_LIST => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::String(text) if text.chars().count() <= MAX_TEXT_CHARS => {
                        out.push(text.clone())
                    }
                    _ => {
                        problems.add(
                            place,
                            format!("each entry is a text of at most {MAX_TEXT_CHARS} characters"),
                        );
                        return Vec::new();
                    }
                }
            }
            out
        }
        Some(_) => {
            problems.add(place, format!("a list of at most {MAX_LIST} texts"));
            Vec::new()
        }
    }
}

fn types(value: Option<&Value>, place: &str, problems: &mut Problems) -> Vec<EntityType> {
    let mut out = Vec::new();
    for slug in strings(value, place, problems) {
        match EntityType::from_slug(slug.trim()) {
            Some(entity_type) if !out.contains(&entity_type) => out.push(entity_type),
            Some(_) => {}
            None => problems.add(place, format!("{slug:?} is not an entity type")),
        }
    }
    out
}

/// Field paths: `age`, `stats.strength`, `family[].character_id`.
pub(super) fn field_list(value: &Value, place: &str, problems: &mut Problems) -> Vec<String> {
    let fields = strings(Some(value), place, problems);
    for field in &fields {
        if !valid_field_path(field) {
            problems.add(
                place,
                format!(
                    "{field:?} is not a field path (names of letters, digits and '_', joined by \
                     '.', a list's items as 'name[]')"
                ),
            );
        }
    }
    fields
}

pub fn valid_field_path(path: &str) -> bool {
    path.len() <= 200
        && path.split('.').all(|part| {
            let name = part.strip_suffix("[]").unwrap_or(part);
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::model::{Check, SlotCheck};

    #[test]
    fn the_core_packages_sets_parse_with_their_checks() {
        let set = parse(include_str!("builtin/assembly_constraints.yaml")).expect("parses");
        assert_eq!(set.id, "assembly_constraints");
        let check = |id: &str| {
            set.rules
                .iter()
                .find(|r| r.id == id)
                .and_then(|r| r.check.clone())
        };
        assert_eq!(
            check("asm_zidx_001"),
            Some(Check::Slots(SlotCheck::ZIndexRange { min: 1, max: 999 }))
        );
        assert_eq!(
            check("asm_zidx_002"),
            Some(Check::Slots(SlotCheck::UniqueZIndex))
        );
        assert_eq!(check("asm_001"), None);
        let dialogue = parse(include_str!("builtin/dialogue_flow.yaml")).expect("parses");
        assert!(matches!(
            dialogue.rules[1].check,
            Some(Check::ForbiddenPhrases { ref phrases, .. }) if phrases.contains(&"okay".to_owned())
        ));
        assert_eq!(dialogue.rules[4].severity, RuleSeverity::Info);
    }

    #[test]
    fn every_problem_is_listed_with_its_place() {
        let problems = parse(
            "rule_id: Bad Id\napplies_to: [dragon]\nrules:\n  - id: a\n    rule: x\n    \
             field: age\n  - id: a\n    rule: y\n    pattern: z\n    field: 'a b'\n",
        )
        .expect_err("refused");
        let all = problems.join("\n");
        assert!(all.contains("rule_id: 1 to 64"), "{all}");
        assert!(all.contains("name: is required"), "{all}");
        assert!(all.contains("\"dragon\" is not an entity type"), "{all}");
        assert!(
            all.contains("rules[0] (a): field is given without"),
            "{all}"
        );
        assert!(all.contains("rules[1] (a): another rule"), "{all}");
        assert!(all.contains("\"a b\" is not a field path"), "{all}");
    }

    #[test]
    fn patterns_are_bounded() {
        assert!(compile("[a-z]+").is_ok());
        assert!(compile(&"a".repeat(1_001)).is_err());
        assert!(compile("(a{1000}){1000}").is_err());
        assert!(compile("(").is_err());
    }
}
