//! The rules in force for a tenant — the package's sets, each replaced by the tenant's copy
//! when it has one, and the tenant's own sets — and the changes to them: a set's YAML saved
//! whole, single rules added, changed or removed (a package set is copied to the tenant on its
//! first change), rules switched off, a type's AI system prompt; and an entity judged by them.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use serde_json::{Map, Value};
use uuid::Uuid;

pub use super::catalog::RuleBook;
pub use super::model::{Check, Rule, RulePriority, RuleSet, RuleSeverity};
use super::parse;
use super::store::{self, TenantSetRow};
use crate::auth::{Role, Viewer};
use crate::entities::service::EntityType;
use crate::error::{AppError, AppResult};

pub use super::model::SlotCheck;
/// The vocabulary of assembly slots, which the assemblies domain checks its writes against.
pub use super::slot_checks::{
    ACCEPTED_TYPES, GROUP_SETTINGS, INHERITANCE_MODES, MIRROR_STRATEGIES, OVERLAY_LIKE_MODES,
    OVERLAY_MODES, SLOT_KEYS,
};

pub use super::edits::{RuleDraft, add_rule, delete_rule, update_rule};
pub use super::validate::{Outcome, Validation, Verdict, validate};

/// Most rule sets of a tenant's own (copies of package sets included).
const MAX_TENANT_SETS: i64 = 200;
/// Most entries in the list of rules switched off.
const MAX_DISABLED: usize = 1_000;
/// Longest system prompt of a type, in characters.
const MAX_PROMPT_CHARS: usize = 20_000;

/// Where a set in force comes from.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum RuleSetOrigin {
    /// The template package's (built in, or `LOREGRAPH_TEMPLATES_DIR`).
    Package,
    /// The tenant's copy of a package set, in its place.
    TenantCopy,
    /// The tenant's own.
    Tenant,
}

/// A set in force for a tenant.
pub struct SetInForce {
    pub set: Arc<RuleSet>,
    pub source: Arc<str>,
    pub origin: RuleSetOrigin,
    /// The tenant's revision of its copy or its own set (none for the package's).
    pub revision: Option<i32>,
    pub updated_by: Option<Uuid>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// Everything about a tenant's rules.
pub struct TenantRules {
    pub sets: Vec<SetInForce>,
    pub disabled: Vec<String>,
    pub system_prompts: Map<String, Value>,
}

impl TenantRules {
    /// Whether a rule is switched off (by its id, or its set's).
    pub fn enabled(&self, set: &RuleSet, rule: &Rule) -> bool {
        !self
            .disabled
            .iter()
            .any(|id| *id == rule.id || *id == set.id)
    }

    pub fn set(&self, id: &str) -> Option<&SetInForce> {
        self.sets.iter().find(|entry| entry.set.id == id)
    }

    /// The rules applying to a type, each with its set, in set order.
    pub fn rules_for(&self, entity_type: EntityType) -> Vec<(&SetInForce, &Rule)> {
        self.sets
            .iter()
            .flat_map(|entry| entry.set.rules.iter().map(move |rule| (entry, rule)))
            .filter(|(_, rule)| rule.applies_to.contains(&entity_type))
            .collect()
    }

    /// The set holding a rule that applies to the type.
    pub fn holder(&self, entity_type: EntityType, rule_id: &str) -> AppResult<&SetInForce> {
        self.rules_for(entity_type)
            .into_iter()
            .find(|(_, rule)| rule.id == rule_id)
            .map(|(entry, _)| entry)
            .ok_or_else(|| {
                AppError::not_found(format!(
                    "no rule {rule_id} applies to {}",
                    entity_type.slug()
                ))
            })
    }
}

/// The sets in force for the tenant, with its settings.
pub async fn in_force(
    conn: &mut AsyncPgConnection,
    book: &RuleBook,
    tenant_id: Uuid,
) -> AppResult<TenantRules> {
    let package = book.current();
    let own = store::sets(conn, tenant_id).await?;
    let settings = store::settings(conn, tenant_id).await?;
    let mut sets: Vec<SetInForce> = Vec::with_capacity(package.sets.len() + own.len());
    for entry in &package.sets {
        sets.push(SetInForce {
            set: entry.set.clone(),
            source: entry.source.clone(),
            origin: RuleSetOrigin::Package,
            revision: None,
            updated_by: None,
            updated_at: None,
        });
    }
    for row in own {
        let in_force = tenant_set(row)?;
        match sets.iter_mut().find(|s| s.set.id == in_force.set.id) {
            Some(slot) => {
                *slot = SetInForce {
                    origin: RuleSetOrigin::TenantCopy,
                    ..in_force
                }
            }
            None => sets.push(in_force),
        }
    }
    Ok(TenantRules {
        sets,
        disabled: settings.disabled_rules,
        system_prompts: match settings.system_prompts {
            Value::Object(map) => map,
            _ => Map::new(),
        },
    })
}

fn tenant_set(row: TenantSetRow) -> AppResult<SetInForce> {
    // The parsed form was written by this code; a form an older version wrote is read again
    // from its source.
    let set = match serde_json::from_value::<RuleSet>(row.parsed) {
        Ok(set) => set,
        Err(_) => parse::parse(&row.source).map_err(|problems| {
            AppError::internal(anyhow::anyhow!(
                "the stored rule set {} no longer reads: {}",
                row.rule_set_id,
                problems.join("; ")
            ))
        })?,
    };
    Ok(SetInForce {
        set: Arc::new(set),
        source: Arc::from(row.source),
        origin: RuleSetOrigin::Tenant,
        revision: Some(row.revision),
        updated_by: row.updated_by,
        updated_at: Some(row.updated_at),
    })
}

/// Reads a source off the async workers (YAML up to 256 KiB, every pattern compiled); its
/// problems are blamed on `field`.
pub(super) async fn parse_source(
    source: String,
    field: &'static str,
) -> AppResult<(RuleSet, String)> {
    let (parsed, source) = tokio::task::spawn_blocking(move || (parse::parse(&source), source))
        .await
        .map_err(AppError::internal)?;
    match parsed {
        Ok(set) => Ok((set, source)),
        Err(problems) => Err(AppError::bad_field(
            field,
            format!("the rule set does not read: {}", problems.join("; ")),
        )),
    }
}

/// Saves a set's YAML for the tenant: a new set, a change to its own, or its copy of a
/// package set (same `rule_id`). `expected_revision` (the revision read; 0 for a set the
/// tenant has no copy of yet) makes a concurrent change a CONFLICT instead of lost.
pub async fn save_source(
    conn: &mut AsyncPgConnection,
    book: &RuleBook,
    viewer: &Viewer,
    source: String,
    expected_revision: Option<i32>,
) -> AppResult<SetInForce> {
    viewer.require_role(Role::Worldbuilder)?;
    let (set, source) = parse_source(source, "source").await?;
    save(conn, book, viewer, set, source, expected_revision, "source").await
}

pub(super) async fn save(
    conn: &mut AsyncPgConnection,
    book: &RuleBook,
    viewer: &Viewer,
    set: RuleSet,
    source: String,
    expected_revision: Option<i32>,
    field: &'static str,
) -> AppResult<SetInForce> {
    let tenant_id = viewer.tenant_id;
    let parsed = serde_json::to_value(&set).map_err(AppError::internal)?;
    let row = conn
        .transaction::<_, AppError, _>(async |conn| {
            // Rule ids are checked across every set of the tenant's: one change at a time.
            store::lock_rules(conn, tenant_id).await?;
            let rules = in_force(conn, book, tenant_id).await?;
            unique_ids(&rules, &set.id, &set.rules, field)?;
            let current = store::find_set(conn, tenant_id, &set.id, true).await?;
            let stored = current.as_ref().map_or(0, |row| row.revision);
            let in_force = current
                .as_ref()
                .filter(|row| row.active)
                .map_or(0, |row| row.revision);
            if let Some(expected) = expected_revision
                && expected != in_force
            {
                return Err(AppError::conflict(format!(
                    "the rule set {} is at revision {in_force}, not {expected}: reload and try \
                     again",
                    set.id
                )));
            }
            if in_force == 0 && store::count_sets(conn, tenant_id).await? >= MAX_TENANT_SETS {
                return Err(AppError::bad_input(format!(
                    "a tenant keeps at most {MAX_TENANT_SETS} rule sets of its own"
                )));
            }
            store::write_set(
                conn,
                tenant_id,
                &set.id,
                &source,
                &parsed,
                stored + 1,
                viewer.user_id,
            )
            .await?
            .ok_or_else(|| {
                AppError::conflict(format!(
                    "the rule set {} was changed meanwhile: reload and try again",
                    set.id
                ))
            })
        })
        .await?;
    let in_force = tenant_set(row)?;
    Ok(SetInForce {
        origin: if book.current().get(&in_force.set.id).is_some() {
            RuleSetOrigin::TenantCopy
        } else {
            RuleSetOrigin::Tenant
        },
        ..in_force
    })
}

/// Refuses rules whose ids another set in force (than `set_id`) already has.
fn unique_ids(
    rules: &TenantRules,
    set_id: &str,
    new_rules: &[Rule],
    field: &'static str,
) -> AppResult<()> {
    for rule in new_rules {
        if let Some(other) = rules
            .sets
            .iter()
            .filter(|entry| entry.set.id != set_id)
            .find(|entry| entry.set.rules.iter().any(|r| r.id == rule.id))
        {
            return Err(AppError::bad_field(
                field,
                format!(
                    "the rule id {} is already a rule of the set {}: rule ids are unique among \
                     a tenant's rules",
                    rule.id, other.set.id
                ),
            ));
        }
    }
    Ok(())
}

/// Lets the tenant's copy of a package set go (the package's is in force again) or a set of
/// its own (WORLDBUILDER). False when it had none in force. A package set whose rule ids the
/// tenant has since used in another set cannot come back (CONFLICT, naming them).
pub async fn reset_set(
    conn: &mut AsyncPgConnection,
    book: &RuleBook,
    viewer: &Viewer,
    rule_set_id: &str,
) -> AppResult<bool> {
    viewer.require_role(Role::Worldbuilder)?;
    let tenant_id = viewer.tenant_id;
    conn.transaction::<_, AppError, _>(async |conn| {
        store::lock_rules(conn, tenant_id).await?;
        if let Some(package) = book.current().get(rule_set_id) {
            let rules = in_force(conn, book, tenant_id).await?;
            unique_ids(&rules, rule_set_id, &package.set.rules, "id").map_err(|_| {
                AppError::conflict(format!(
                    "the package's {rule_set_id} has rule ids another of the tenant's sets \
                     uses now; rename those rules first"
                ))
            })?;
        }
        store::deactivate_set(conn, tenant_id, rule_set_id, viewer.user_id).await
    })
    .await
}

/// Switches rules (or whole sets, by their ids) off; the list replaces the last one.
pub async fn set_disabled(
    conn: &mut AsyncPgConnection,
    book: &RuleBook,
    viewer: &Viewer,
    ids: Vec<String>,
) -> AppResult<()> {
    viewer.require_role(Role::Worldbuilder)?;
    if ids.len() > MAX_DISABLED {
        return Err(AppError::bad_field(
            "disabledRules",
            format!("at most {MAX_DISABLED} rules may be switched off"),
        ));
    }
    let rules = in_force(conn, book, viewer.tenant_id).await?;
    let unknown: Vec<&str> = ids
        .iter()
        .map(String::as_str)
        .filter(|id| {
            !rules.sets.iter().any(|entry| {
                entry.set.id == *id || entry.set.rules.iter().any(|rule| rule.id == *id)
            })
        })
        .collect();
    if !unknown.is_empty() {
        return Err(AppError::bad_field(
            "disabledRules",
            format!("no rule or rule set is called {}", unknown.join(", ")),
        ));
    }
    let mut ids = ids;
    ids.sort();
    ids.dedup();
    store::save_disabled(conn, viewer.tenant_id, &ids, viewer.user_id).await
}

/// A type's AI system prompt, or none (removed).
pub async fn set_system_prompt(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    entity_type: EntityType,
    prompt: Option<&str>,
) -> AppResult<()> {
    viewer.require_role(Role::Worldbuilder)?;
    let prompt = prompt.map(str::trim).filter(|p| !p.is_empty());
    if let Some(prompt) = prompt {
        crate::db::validate_text("prompt", prompt, MAX_PROMPT_CHARS)?;
    }
    store::save_prompt(
        conn,
        viewer.tenant_id,
        entity_type.slug(),
        prompt,
        viewer.user_id,
    )
    .await
}

/// The rules (and sets) the tenant switched off.
pub async fn disabled(conn: &mut AsyncPgConnection, tenant_id: Uuid) -> AppResult<Vec<String>> {
    Ok(store::settings(conn, tenant_id).await?.disabled_rules)
}
