//! References between entities: ids stored in fields. A template's reference map says where they
//! are (`leader`, `members[]`, `family[].character_id`); this module finds them in an entity's
//! fields and rewrites them when the entity they name is renamed.

use std::collections::HashSet;

use serde_json::Value;

use super::types::EntityType;

/// One step of a path into an entity's fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathStep {
    Key(String),
    /// Every item of a list.
    Each,
}

/// Where a template keeps ids of other entities, and of which types.
#[derive(Clone, Debug)]
pub struct ReferenceSpec {
    /// Starts with a key: the top-level field.
    pub path: Vec<PathStep>,
    pub targets: Vec<EntityType>,
}

impl ReferenceSpec {
    pub fn new(path: Vec<PathStep>, targets: Vec<EntityType>) -> Self {
        Self { path, targets }
    }

    /// The top-level field holding the references.
    pub fn field(&self) -> &str {
        match self.path.first() {
            Some(PathStep::Key(key)) => key,
            _ => "",
        }
    }

    /// The path as written in templates: `family[].character_id`.
    pub fn display_path(&self) -> String {
        let mut out = String::new();
        for step in &self.path {
            match step {
                PathStep::Key(key) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(key);
                }
                PathStep::Each => out.push_str("[]"),
            }
        }
        out
    }

    /// The relationship kind of the references found here: the keys of the path joined by dots
    /// (`leader`, `family.character_id`).
    pub fn kind(&self) -> String {
        let keys: Vec<&str> = self
            .path
            .iter()
            .filter_map(|step| match step {
                PathStep::Key(key) => Some(key.as_str()),
                PathStep::Each => None,
            })
            .collect();
        keys.join(".")
    }

    /// Whether the path holds a list of ids rather than one.
    pub fn many(&self) -> bool {
        self.path.contains(&PathStep::Each)
    }
}

/// A reference found in an entity's fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundReference {
    pub kind: String,
    pub entity_id: String,
    pub target_types: Vec<EntityType>,
}

/// Every reference in `fields`, in the order of the specs, each (kind, id) once.
pub fn extract(fields: &Value, specs: &[ReferenceSpec]) -> Vec<FoundReference> {
    let mut found: Vec<FoundReference> = Vec::new();
    let mut seen: HashSet<(String, String)> = HashSet::new();
    for spec in specs {
        let kind = spec.kind();
        let mut ids = Vec::new();
        walk(fields, &spec.path, &mut |id: &str| ids.push(id.to_owned()));
        for entity_id in ids {
            if seen.insert((kind.clone(), entity_id.clone())) {
                found.push(FoundReference {
                    kind: kind.clone(),
                    entity_id,
                    target_types: spec.targets.clone(),
                });
            }
        }
    }
    found
}

/// Calls `visit` with every id at `path` in `value`. Real data is messy: a plain string met
/// before the path ends (`family: ["jane"]` where `family[].character_id` is expected) is taken
/// as the id itself.
fn walk(value: &Value, path: &[PathStep], visit: &mut impl FnMut(&str)) {
    match (value, path.first()) {
        (Value::String(id), _) => {
            let id = id.trim();
            if !id.is_empty() {
                visit(id);
            }
        }
        (Value::Object(map), Some(PathStep::Key(key))) => {
            if let Some(inner) = map.get(key) {
                walk(inner, &path[1..], visit);
            }
        }
        (Value::Array(items), Some(PathStep::Each)) => {
            for item in items {
                walk(item, &path[1..], visit);
            }
        }
        _ => {}
    }
}

/// Replaces `old_id` by `new_id` wherever a spec targeting `renamed_type` holds it. Returns
/// whether anything changed. A field that may also target one of `ambiguous` (other types
/// holding an entity with the old id) is left alone: there the id may mean that other entity.
pub fn rewrite(
    fields: &mut Value,
    specs: &[ReferenceSpec],
    renamed_type: EntityType,
    ambiguous: &[EntityType],
    old_id: &str,
    new_id: &str,
) -> bool {
    let mut changed = false;
    let applies = |spec: &&ReferenceSpec| {
        spec.targets.contains(&renamed_type) && !spec.targets.iter().any(|t| ambiguous.contains(t))
    };
    for spec in specs.iter().filter(applies) {
        rewrite_at(fields, &spec.path, old_id, new_id, &mut changed);
    }
    changed
}

fn rewrite_at(
    value: &mut Value,
    path: &[PathStep],
    old_id: &str,
    new_id: &str,
    changed: &mut bool,
) {
    match (value, path.first()) {
        (Value::String(id), _) if id.trim() == old_id => {
            *id = new_id.to_owned();
            *changed = true;
        }
        (Value::Object(map), Some(PathStep::Key(key))) => {
            if let Some(inner) = map.get_mut(key) {
                rewrite_at(inner, &path[1..], old_id, new_id, changed);
            }
        }
        (Value::Array(items), Some(PathStep::Each)) => {
            for item in items {
                rewrite_at(item, &path[1..], old_id, new_id, changed);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn family() -> ReferenceSpec {
        ReferenceSpec::new(
            vec![
                PathStep::Key("family".into()),
                PathStep::Each,
                PathStep::Key("character_id".into()),
            ],
            vec![EntityType::Character],
        )
    }

    #[test]
    fn finds_ids_in_nested_lists_and_tolerates_plain_strings() {
        let fields = json!({"family": [{"character_id": "ann"}, "bob", {"relationship": "x"}, {"character_id": "ann"}]});
        let found = extract(&fields, &[family()]);
        let ids: Vec<_> = found.iter().map(|f| f.entity_id.as_str()).collect();
        assert_eq!(ids, ["ann", "bob"]);
        assert!(found.iter().all(|f| f.kind == "family.character_id"));
    }

    #[test]
    fn rewrites_only_matching_unambiguous_ids() {
        let mut fields = json!({"family": [{"character_id": "ann"}, {"character_id": "bob"}]});
        let character = EntityType::Character;
        assert!(rewrite(
            &mut fields,
            &[family()],
            character,
            &[],
            "ann",
            "anna"
        ));
        assert_eq!(
            fields,
            json!({"family": [{"character_id": "anna"}, {"character_id": "bob"}]})
        );
        assert!(!rewrite(
            &mut fields,
            &[family()],
            EntityType::Location,
            &[],
            "bob",
            "x"
        ));
        assert!(!rewrite(
            &mut fields,
            &[family()],
            character,
            &[character],
            "bob",
            "x"
        ));
    }
}
