//! `validateAgainstRules`: an entity judged by every enabled rule that applies to its type —
//! the machine-checkable ones passed or failed with what they found, the prose-only ones
//! listed for a person to review.

use std::collections::HashSet;
use std::sync::Arc;

use diesel_async::AsyncPgConnection;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::checks::{self, Ancestry, Subject};
use super::model::{Check, Rule, RuleSet, SlotCheck};
use super::service::{RuleBook, in_force};
use crate::auth::Viewer;
use crate::entities::service::{self as entities, EntityRow, EntityType};
use crate::error::{AppError, AppResult};

/// How far up an assembly's parents are followed: past the deepest chain a rule allows, so a
/// chain one too deep is seen.
const MAX_ANCESTORS: usize = 16;

/// A rule's verdict.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "RuleOutcome")]
pub enum Outcome {
    /// The entity keeps the rule.
    Passed,
    /// The entity breaks the rule; the messages say where.
    Failed,
    /// The rule is prose a machine cannot check: a person (or the AI review) judges it.
    NeedsReview,
}

/// One rule's verdict on the entity.
#[derive(Clone)]
pub struct Verdict {
    pub set: Arc<RuleSet>,
    pub rule: Rule,
    pub outcome: Outcome,
    pub messages: Vec<String>,
}

/// Every enabled rule's verdict on one entity.
pub struct Validation {
    pub entity_type: EntityType,
    pub entity_id: String,
    pub verdicts: Vec<Verdict>,
}

/// Judges a live entity of the viewer's tenant by the rules in force for its type.
pub async fn validate(
    conn: &mut AsyncPgConnection,
    book: &RuleBook,
    viewer: &Viewer,
    entity_type: EntityType,
    entity_id: &str,
) -> AppResult<Validation> {
    let tenant_id = viewer.tenant_id;
    let entity = entities::find_live(conn, tenant_id, entity_type, entity_id)
        .await?
        .ok_or_else(|| {
            AppError::not_found(format!("there is no {} {entity_id}", entity_type.slug()))
        })?;
    let rules = in_force(conn, book, tenant_id).await?;
    let applicable: Vec<(Arc<RuleSet>, Rule)> = rules
        .rules_for(entity_type)
        .into_iter()
        .filter(|(entry, rule)| rules.enabled(&entry.set, rule))
        .map(|(entry, rule)| (entry.set.clone(), rule.clone()))
        .collect();
    let needs_parents = entity_type == EntityType::Assembly
        && applicable.iter().any(|(_, rule)| {
            matches!(
                rule.check,
                Some(Check::Slots(
                    SlotCheck::HierarchyChain { .. }
                        | SlotCheck::MaxDepth { .. }
                        | SlotCheck::LockedSlotPaths
                ))
            )
        });
    let ancestry = if needs_parents {
        ancestry(conn, tenant_id, &entity).await?
    } else {
        Ancestry::default()
    };
    let frontmatter = frontmatter(&entity);
    let body = entity.markdown_body.clone();
    // Patterns and phrases over a whole entity: off the async workers.
    let verdicts = tokio::task::spawn_blocking(move || {
        let subject = Subject {
            frontmatter: &frontmatter,
            body: &body,
            ancestry: &ancestry,
        };
        applicable
            .into_iter()
            .map(|(set, rule)| {
                let (outcome, messages) = match &rule.check {
                    None => (Outcome::NeedsReview, Vec::new()),
                    Some(check) => match checks::failures(check, &subject) {
                        found if found.is_empty() => (Outcome::Passed, found),
                        found => (Outcome::Failed, found),
                    },
                };
                Verdict {
                    set,
                    rule,
                    outcome,
                    messages,
                }
            })
            .collect()
    })
    .await
    .map_err(AppError::internal)?;
    Ok(Validation {
        entity_type,
        entity_id: entity.entity_id,
        verdicts,
    })
}

/// The entity as its file's frontmatter says it: its fields with its id, name and status.
fn frontmatter(entity: &EntityRow) -> Map<String, Value> {
    let mut map = match entity.fields.value() {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    map.insert("id".to_owned(), Value::String(entity.entity_id.clone()));
    map.insert("name".to_owned(), Value::String(entity.name.clone()));
    map.insert("status".to_owned(), Value::String(entity.status.clone()));
    map
}

fn parent_of(frontmatter: &Map<String, Value>) -> Option<String> {
    ["parent_assembly_id", "parent_assembly"]
        .iter()
        .filter_map(|key| frontmatter.get(*key).and_then(Value::as_str))
        .map(str::trim)
        .find(|id| !id.is_empty())
        .map(str::to_owned)
}

/// An assembly's parents, nearest first, followed until one names no parent, is missing, or
/// loops back.
async fn ancestry(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    entity: &EntityRow,
) -> AppResult<Ancestry> {
    let mut ancestry = Ancestry::default();
    let mut seen: HashSet<String> = HashSet::from([entity.entity_id.clone()]);
    let mut next = parent_of(&frontmatter(entity));
    while let Some(parent_id) = next.take() {
        if !seen.insert(parent_id.clone()) {
            ancestry.broken = Some(format!("the chain of parents loops back at {parent_id}"));
            break;
        }
        if ancestry.parents.len() == MAX_ANCESTORS {
            break;
        }
        match entities::find_live(conn, tenant_id, EntityType::Assembly, &parent_id).await? {
            Some(parent) => {
                let parent = frontmatter(&parent);
                next = parent_of(&parent);
                ancestry.parents.push(parent);
            }
            None => {
                ancestry.broken = Some(format!(
                    "its parent {parent_id} is not a live assembly of this tenant"
                ));
            }
        }
    }
    Ok(ancestry)
}
