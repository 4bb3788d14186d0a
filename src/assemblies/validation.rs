//! An assembly judged whole: its frontmatter by the tenant's rules (as `validateAgainstRules`
//! judges it), and what its slots hold by the assembly rules (required slots filled, nothing
//! filled under an ancestor's lock or outside the definitions, file types, modes, z-indexes,
//! assets still there, sizes and variants as the slots expect); and how complete it is.

use std::collections::{HashMap, HashSet};

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::chain::{Effective, Resolved};
use super::constraints::RuleRef;
use super::service::Setting;
use crate::assets::service::{self as assets, AssetRow};
use crate::auth::Viewer;
use crate::entities::service::EntityType;
use crate::error::AppResult;
use crate::rules::service::{Outcome, RuleBook, RuleSeverity, validate as judge};

/// One thing wrong with an assembly.
#[derive(Clone, Debug)]
pub struct Problem {
    /// The rule it breaks, when a rule says it.
    pub rule: Option<String>,
    pub severity: RuleSeverity,
    /// The slot it is about (`group.slot`), when it is about one.
    pub path: Option<String>,
    pub message: String,
}

/// How far an assembly is from having every required slot filled.
#[derive(Clone, Debug)]
pub struct Completeness {
    pub required: Vec<String>,
    pub missing: Vec<String>,
    /// Filled slots that list variants, with the variants not filled yet.
    pub missing_variants: Vec<(String, Vec<String>)>,
}

impl Completeness {
    pub fn complete(&self) -> bool {
        self.missing.is_empty()
    }
}

pub fn completeness(resolved: &Resolved) -> Completeness {
    let required: Vec<&Effective> = resolved
        .slots
        .iter()
        .filter(|slot| slot.definition.required)
        .collect();
    let missing_variants = resolved
        .filled()
        .filter(|slot| !slot.definition.variant_keys.is_empty())
        .filter_map(|slot| {
            let have: HashSet<&str> = slot
                .filled
                .iter()
                .flat_map(|f| f.assets.iter().map(|a| a.variant_key.as_str()))
                .collect();
            let lacking: Vec<String> = slot
                .definition
                .variant_keys
                .iter()
                .filter(|key| !have.contains(key.as_str()))
                .cloned()
                .collect();
            (!lacking.is_empty()).then(|| (slot.path(), lacking))
        })
        .collect();
    Completeness {
        required: required.iter().map(|slot| slot.path()).collect(),
        missing: required
            .iter()
            .filter(|slot| !slot.is_filled())
            .map(|slot| slot.path())
            .collect(),
        missing_variants,
    }
}

struct Found(Vec<Problem>);

impl Found {
    fn by(&mut self, rule: &Option<RuleRef>, path: Option<String>, message: String) {
        if let Some(rule) = rule {
            self.0.push(Problem {
                rule: Some(rule.id.clone()),
                severity: rule.severity,
                path,
                message,
            });
        }
    }

    fn plain(&mut self, severity: RuleSeverity, path: Option<String>, message: String) {
        self.0.push(Problem {
            rule: None,
            severity,
            path,
            message,
        });
    }
}

/// The assets the assembly's slots hold, by id (live or recycled).
pub async fn assets_in(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    resolved: &Resolved,
) -> AppResult<HashMap<Uuid, AssetRow>> {
    let mut ids: Vec<Uuid> = resolved
        .filled()
        .flat_map(|slot| {
            slot.filled
                .iter()
                .flat_map(|f| f.assets.iter().map(|a| a.asset_id))
        })
        .collect();
    ids.sort();
    ids.dedup();
    Ok(assets::by_ids(conn, tenant_id, &ids)
        .await?
        .into_iter()
        .map(|asset| (asset.id, asset))
        .collect())
}

/// Everything wrong with the assembly, errors first.
pub async fn validate(
    conn: &mut AsyncPgConnection,
    book: &RuleBook,
    viewer: &Viewer,
    setting: &Setting,
    resolved: &Resolved,
) -> AppResult<Vec<Problem>> {
    let subject = resolved.chain.subject();
    let verdicts = judge(conn, book, viewer, EntityType::Assembly, subject.id()).await?;
    let mut found = Found(Vec::new());
    for verdict in verdicts.verdicts {
        if verdict.outcome == Outcome::Failed {
            for message in verdict.messages {
                found.0.push(Problem {
                    rule: Some(verdict.rule.id.clone()),
                    severity: verdict.rule.severity,
                    path: None,
                    message,
                });
            }
        }
    }
    if let Some(broken) = &resolved.chain.broken {
        found.plain(RuleSeverity::Error, None, broken.clone());
    }
    let assets = assets_in(conn, viewer.tenant_id, resolved).await?;
    judge_slots(&mut found, setting, resolved, &assets);
    found.0.sort_by_key(|problem| match problem.severity {
        RuleSeverity::Error => 0,
        RuleSeverity::Warning => 1,
        RuleSeverity::Info => 2,
    });
    Ok(found.0)
}

fn judge_slots(
    found: &mut Found,
    setting: &Setting,
    resolved: &Resolved,
    assets: &HashMap<Uuid, AssetRow>,
) {
    let rules = &setting.rules;
    for path in completeness(resolved).missing {
        found.by(
            &rules.required_filled,
            Some(path.clone()),
            format!("the required slot {path} is empty"),
        );
    }
    for shadowed in &resolved.shadowed {
        let path = shadowed.slot.path();
        let by = resolved
            .chain
            .ancestor_locks()
            .into_iter()
            .find(|(p, _)| *p == path)
            .map(|(_, by)| by)
            .unwrap_or_default();
        found.by(
            &rules.ancestor_locks,
            Some(path.clone()),
            format!("{path} is filled here, and the ancestor {by} locks it: its fill is ignored"),
        );
    }
    let mut z_seen: HashMap<i64, String> = HashMap::new();
    for slot in resolved.filled() {
        let path = slot.path();
        if !slot.defined {
            found.by(
                &rules.slots_in_groups,
                Some(path.clone()),
                format!("{path} is filled, and no slot definition names it"),
            );
            continue;
        }
        let definition = &slot.definition;
        for fill in slot.filled.iter().flat_map(|f| f.assets.iter()) {
            let place = match fill.variant_key.as_str() {
                "" => path.clone(),
                key => format!("{path} [{key}]"),
            };
            let Some(asset) = assets.get(&fill.asset_id).filter(|a| !a.is_deleted()) else {
                found.plain(
                    RuleSeverity::Error,
                    Some(path.clone()),
                    format!(
                        "{place} holds the asset {}, which is in the recycle bin",
                        fill.asset_id
                    ),
                );
                continue;
            };
            let file_type = assets::file_extension(asset);
            if !definition.accepted_types.contains(&file_type) {
                found.by(
                    &rules.accepted_types,
                    Some(path.clone()),
                    format!(
                        "{place} holds a {file_type} file; it accepts {}",
                        definition.accepted_types.join(", ")
                    ),
                );
            }
            if let (Some((w, h)), Some(aw), Some(ah)) =
                (definition.expected_dimensions, asset.width, asset.height)
                && (i64::from(aw), i64::from(ah)) != (w, h)
            {
                found.plain(
                    RuleSeverity::Warning,
                    Some(path.clone()),
                    format!("{place} is {aw}×{ah}; the slot expects {w}×{h}"),
                );
            }
            if !fill.variant_key.is_empty()
                && !definition.variant_keys.is_empty()
                && !definition.variant_keys.contains(&fill.variant_key)
            {
                found.plain(
                    RuleSeverity::Warning,
                    Some(path.clone()),
                    format!("{place}: the slot lists no variant {}", fill.variant_key),
                );
            }
        }
        let mode = slot.overlay_mode();
        if let Some(mode) = &mode
            && !definition.overlay_modes.contains(mode)
        {
            found.by(
                &rules.overlay_modes,
                Some(path.clone()),
                format!(
                    "{path} is drawn in {mode}; it allows {}",
                    definition.overlay_modes.join(", ")
                ),
            );
        }
        let Some(z) = slot.z_index() else { continue };
        if let Some((rule, min, max)) = &rules.z_range
            && (z < *min || z > *max)
        {
            found.by(
                &Some(rule.clone()),
                Some(path.clone()),
                format!("{path}: z_index {z} is outside {min} to {max}"),
            );
        }
        match z_seen.get(&z) {
            Some(first) => found.by(
                &rules.unique_z,
                Some(path.clone()),
                format!("{first} and {path} share z_index {z}"),
            ),
            None => {
                z_seen.insert(z, path.clone());
            }
        }
        let overlay =
            mode.is_some_and(|m| crate::rules::service::OVERLAY_LIKE_MODES.contains(&m.as_str()));
        if let (true, Some((rule, min))) = (overlay, &rules.overlay_z)
            && z < *min
        {
            found.by(
                &Some(rule.clone()),
                Some(path.clone()),
                format!("{path} is drawn as an overlay at z_index {z}, below {min}"),
            );
        }
    }
}
