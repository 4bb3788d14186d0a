//! Single rules added, changed or removed: the set's YAML edited as a tree (a package set's
//! into the tenant's copy), read whole again and saved on the revision it was read at.

use std::sync::Arc;

use diesel_async::AsyncPgConnection;
use serde_json::{Map, Value};

use super::parse;
use super::service::{
    RuleBook, RulePriority, RuleSet, RuleSeverity, SetInForce, in_force, parse_source, save,
};
use crate::auth::{Role, Viewer};
use crate::entities::service::EntityType;
use crate::error::{AppError, AppResult};
use crate::markdown::yaml::{self, Node};

/// A new rule, or the new parts of one (only what is given changes).
#[derive(Default)]
pub struct RuleDraft {
    pub id: Option<String>,
    pub text: Option<String>,
    pub severity: Option<RuleSeverity>,
    pub priority: Option<RulePriority>,
    pub category: Option<String>,
    pub applies_to: Option<Vec<EntityType>>,
    /// The check's keys (`{"required_fields": ["age"]}`); an empty mapping removes the check.
    pub check: Option<Map<String, Value>>,
}

/// Adds a rule for a type to the tenant's set `custom_<type>` (made on first use).
pub async fn add_rule(
    conn: &mut AsyncPgConnection,
    book: &RuleBook,
    viewer: &Viewer,
    entity_type: EntityType,
    draft: RuleDraft,
) -> AppResult<SetInForce> {
    viewer.require_role(Role::Worldbuilder)?;
    let Some(id) = draft.id.clone().filter(|id| parse::valid_id(id)) else {
        return Err(AppError::bad_field(
            "id",
            "a rule's id is 1 to 64 characters of a-z, 0-9, '_', '-' and '.'",
        ));
    };
    let rules = in_force(conn, book, viewer.tenant_id).await?;
    if let Some((entry, _)) = rules
        .sets
        .iter()
        .flat_map(|entry| entry.set.rules.iter().map(move |r| (entry, r)))
        .find(|(_, rule)| rule.id == id)
    {
        return Err(AppError::conflict(format!(
            "the set {} already has a rule {id}",
            entry.set.id
        )));
    }
    let set_id = format!("custom_{}", entity_type.slug());
    let (source, revision) = match rules.set(&set_id) {
        Some(entry) => (entry.source.clone(), entry.revision.unwrap_or(0)),
        None => {
            let skeleton = vec![
                ("rule_id".to_owned(), Node::String(set_id.clone())),
                (
                    "name".to_owned(),
                    Node::String(format!("{} rules", entity_type.label())),
                ),
                (
                    "description".to_owned(),
                    Node::String(format!(
                        "The studio's own rules for {} entities.",
                        entity_type.slug()
                    )),
                ),
                ("scope".to_owned(), Node::String("custom".to_owned())),
                (
                    "applies_to".to_owned(),
                    Node::List(vec![Node::String(entity_type.slug().to_owned())]),
                ),
                ("rules".to_owned(), Node::List(Vec::new())),
            ];
            (Arc::from(yaml::emit_mapping(&skeleton)), 0)
        }
    };
    let (set, source) = edit_source(source, move |document| {
        let mut rule = vec![("id".to_owned(), Node::String(id))];
        apply_draft(&mut rule, &draft)?;
        rules_list(document)?.push(Node::Map(rule));
        Ok(())
    })
    .await?;
    save(conn, book, viewer, set, source, Some(revision), "input").await
}

/// Changes a rule that applies to a type, in the tenant's own set or in its copy of the
/// package set that holds it.
pub async fn update_rule(
    conn: &mut AsyncPgConnection,
    book: &RuleBook,
    viewer: &Viewer,
    entity_type: EntityType,
    rule_id: &str,
    draft: RuleDraft,
) -> AppResult<SetInForce> {
    edit_held_rule(
        conn,
        book,
        viewer,
        entity_type,
        rule_id,
        move |rules, rule_id| {
            let rule = rules
                .iter_mut()
                .find_map(|node| match node {
                    Node::Map(rule) if rule_node_id(rule) == Some(rule_id) => Some(rule),
                    _ => None,
                })
                .ok_or_else(|| AppError::not_found(format!("no rule {rule_id}")))?;
            apply_draft(rule, &draft)
        },
    )
    .await
}

/// Removes a rule that applies to a type (from the tenant's copy, for a package set's).
pub async fn delete_rule(
    conn: &mut AsyncPgConnection,
    book: &RuleBook,
    viewer: &Viewer,
    entity_type: EntityType,
    rule_id: &str,
) -> AppResult<SetInForce> {
    edit_held_rule(
        conn,
        book,
        viewer,
        entity_type,
        rule_id,
        |rules, rule_id| {
            rules.retain(|node| match node {
                Node::Map(rule) => rule_node_id(rule) != Some(rule_id),
                _ => true,
            });
            Ok(())
        },
    )
    .await
}

/// Edits the rules of the set holding a rule that applies to the type (WORLDBUILDER), and
/// saves the set on the revision it was read at.
async fn edit_held_rule(
    conn: &mut AsyncPgConnection,
    book: &RuleBook,
    viewer: &Viewer,
    entity_type: EntityType,
    rule_id: &str,
    edit: impl FnOnce(&mut Vec<Node>, &str) -> AppResult<()> + Send + 'static,
) -> AppResult<SetInForce> {
    viewer.require_role(Role::Worldbuilder)?;
    let rules = in_force(conn, book, viewer.tenant_id).await?;
    let entry = rules.holder(entity_type, rule_id)?;
    let revision = entry.revision.unwrap_or(0);
    let rule_id = rule_id.to_owned();
    let (set, source) = edit_source(entry.source.clone(), move |document| {
        edit(rules_list(document)?, &rule_id)
    })
    .await?;
    save(conn, book, viewer, set, source, Some(revision), "input").await
}

/// Edits a set's YAML as a tree and reads the result whole, off the async workers (a set may
/// hold 256 KiB); the problems of the result are blamed on the `input`.
async fn edit_source(
    source: Arc<str>,
    edit: impl FnOnce(&mut yaml::Mapping) -> AppResult<()> + Send + 'static,
) -> AppResult<(RuleSet, String)> {
    let edited = tokio::task::spawn_blocking(move || -> AppResult<String> {
        let mut document = mapping_of(&source)?;
        edit(&mut document)?;
        Ok(format!("---\n{}", yaml::emit_mapping(&document)))
    })
    .await
    .map_err(AppError::internal)??;
    parse_source(edited, "input").await
}

fn mapping_of(source: &str) -> AppResult<yaml::Mapping> {
    yaml::parse_mapping(source).map_err(|error| {
        AppError::internal(anyhow::anyhow!(
            "a rule set in force does not read: {error}"
        ))
    })
}

fn rules_list(document: &mut yaml::Mapping) -> AppResult<&mut Vec<Node>> {
    if !document.iter().any(|(key, _)| key == "rules") {
        document.push(("rules".to_owned(), Node::List(Vec::new())));
    }
    match document.iter_mut().find(|(key, _)| key == "rules") {
        Some((_, Node::List(items))) => Ok(items),
        _ => Err(AppError::internal(anyhow::anyhow!(
            "a rule set in force has rules that are not a list"
        ))),
    }
}

fn rule_node_id(rule: &yaml::Mapping) -> Option<&str> {
    rule.iter()
        .find(|(key, _)| key == "id")
        .and_then(|(_, value)| value.as_str())
}

fn put(rule: &mut yaml::Mapping, key: &str, value: Node) {
    match rule.iter_mut().find(|(k, _)| k == key) {
        Some((_, slot)) => *slot = value,
        None => rule.push((key.to_owned(), value)),
    }
}

fn apply_draft(rule: &mut yaml::Mapping, draft: &RuleDraft) -> AppResult<()> {
    if let Some(category) = &draft.category {
        put(rule, "category", Node::String(category.trim().to_owned()));
    }
    if let Some(priority) = draft.priority {
        put(rule, "priority", Node::String(priority.slug().to_owned()));
    }
    if let Some(text) = &draft.text {
        put(rule, "rule", Node::String(text.trim().to_owned()));
    }
    if let Some(severity) = draft.severity {
        put(
            rule,
            "validation_type",
            Node::String(severity.slug().to_owned()),
        );
    }
    if let Some(types) = &draft.applies_to {
        if types.is_empty() {
            return Err(AppError::bad_field(
                "appliesTo",
                "a rule applies to at least one type",
            ));
        }
        let list = types
            .iter()
            .map(|t| Node::String(t.slug().to_owned()))
            .collect();
        put(rule, "applies_to", Node::List(list));
    }
    if let Some(check) = &draft.check {
        let is_check_key = |key: &str| key == "check" || parse::CHECK_KEYS.contains(&key);
        if let Some(key) = check.keys().find(|key| !is_check_key(key)) {
            return Err(AppError::bad_field(
                "check",
                format!(
                    "{key} is not a check's key; they are check, {}",
                    parse::CHECK_KEYS.join(", ")
                ),
            ));
        }
        rule.retain(|(key, _)| !is_check_key(key));
        if check.is_empty() {
            // Said outright, so no check a rule's id is known by comes back.
            rule.push(("check".to_owned(), Node::String("none".to_owned())));
        }
        for (key, value) in check {
            rule.push((key.clone(), Node::from_json(value)));
        }
    }
    Ok(())
}
