//! GraphQL types of the rules: sets, rules, the index, settings, verdicts, and the inputs.

use std::sync::Arc;

use async_graphql::{Context, InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::accounts::api::User;
use crate::entities::service::EntityType;
use crate::error::{AppError, AppResult};
use crate::rules::service::{
    Outcome, Rule, RulePriority, RuleSet, RuleSetOrigin, RuleSeverity, SetInForce, TenantRules,
    Validation, Verdict,
};

/// A set of rules: one YAML file of the template package (`rules/**/*.yaml`), a tenant's copy
/// of one, or a tenant's own.
pub struct RuleSetObject {
    pub(super) entry: SetInForce,
    pub(super) disabled: Arc<Vec<String>>,
}

/// A set of rules for entity types: a template package's rule file, a tenant's copy of one (in
/// its place), or a tenant's own.
#[Object(name = "RuleSet")]
impl RuleSetObject {
    /// The set's id (`rule_id`): `dialogue_flow`, `custom_character`.
    async fn id(&self) -> &str {
        &self.entry.set.id
    }

    /// Its name.
    async fn name(&self) -> &str {
        &self.entry.set.name
    }

    /// What the rules are about.
    async fn description(&self) -> &str {
        &self.entry.set.description
    }

    /// The set's own version text (`version`).
    async fn version(&self) -> &str {
        &self.entry.set.version
    }

    /// Its scope as written (`core`, `custom`...).
    async fn scope(&self) -> &str {
        &self.entry.set.scope
    }

    /// How important the set is.
    async fn priority(&self) -> RulePriority {
        self.entry.set.priority
    }

    /// The entity types the set is about.
    async fn applies_to(&self) -> &[EntityType] {
        &self.entry.set.applies_to
    }

    /// Its rules, in the file's order.
    async fn rules(&self) -> Vec<RuleObject> {
        self.entry
            .set
            .rules
            .iter()
            .map(|rule| RuleObject::new(&self.entry.set, rule, &self.disabled))
            .collect()
    }

    /// The set's `defaults` mapping, as written.
    async fn defaults(&self) -> Json<&Value> {
        Json(&self.entry.set.defaults)
    }

    /// Questions for a reviewer (the set's `validation` list).
    async fn review_questions(&self) -> &[String] {
        &self.entry.set.review_questions
    }

    /// Where the set comes from.
    async fn origin(&self) -> RuleSetOrigin {
        self.entry.origin
    }

    /// False when the tenant switched the whole set off.
    async fn enabled(&self) -> bool {
        !self.disabled.contains(&self.entry.set.id)
    }

    /// The tenant's revision of its copy or its own set (null for the package's): pass it as
    /// `expectedRevision` when saving.
    async fn revision(&self) -> Option<i32> {
        self.entry.revision
    }

    /// When the tenant last changed it (null for the package's).
    async fn updated_at(&self) -> Option<DateTime<Utc>> {
        self.entry.updated_at
    }

    /// Who last changed it (null for the package's, or once their account is gone).
    async fn updated_by(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        match self.entry.updated_by {
            Some(id) => User::load(ctx, Some(id)).await,
            None => Ok(None),
        }
    }

    /// The set's YAML as in force (the package file's text, or what the tenant saved).
    async fn source(&self) -> &str {
        &self.entry.source
    }
}

/// One rule.
pub struct RuleObject {
    set: Arc<RuleSet>,
    rule: Rule,
    enabled: bool,
}

impl RuleObject {
    pub(super) fn new(set: &Arc<RuleSet>, rule: &Rule, disabled: &[String]) -> Self {
        Self {
            set: set.clone(),
            rule: rule.clone(),
            enabled: !disabled.iter().any(|id| *id == rule.id || *id == set.id),
        }
    }
}

/// One rule of a set: a sentence, how much breaking it matters, and what a machine checks of
/// it when it can.
#[Object(name = "Rule")]
impl RuleObject {
    /// The rule's id, unique among the tenant's rules: `dial_002`.
    async fn id(&self) -> &str {
        &self.rule.id
    }

    /// The id of the set it belongs to.
    async fn rule_set_id(&self) -> &str {
        &self.set.id
    }

    /// Its category (`structure`, `slots`...).
    async fn category(&self) -> &str {
        &self.rule.category
    }

    /// How important it is.
    async fn priority(&self) -> RulePriority {
        self.rule.priority
    }

    /// The rule, as a sentence.
    async fn text(&self) -> &str {
        &self.rule.text
    }

    /// What breaking it means.
    async fn severity(&self) -> RuleSeverity {
        self.rule.severity
    }

    /// The entity types it applies to.
    async fn applies_to(&self) -> &[EntityType] {
        &self.rule.applies_to
    }

    /// Whether a machine checks it (else validation lists it as needing review).
    async fn checkable(&self) -> bool {
        self.rule.check.is_some()
    }

    /// What is checked, as loregraph reads it (`{"kind": "range", "field": "age", ...}`); null
    /// for a prose-only rule.
    async fn check(&self) -> AppResult<Option<Json<Value>>> {
        self.rule
            .check
            .as_ref()
            .map(|check| {
                serde_json::to_value(check)
                    .map(Json)
                    .map_err(AppError::internal)
            })
            .transpose()
    }

    /// False when the tenant switched it (or its set) off.
    async fn enabled(&self) -> bool {
        self.enabled
    }
}

/// How many rules apply to one entity type, from which sets.
#[derive(SimpleObject)]
pub struct RulesIndexEntry {
    /// The type.
    pub entity_type: EntityType,
    /// The sets with rules for it.
    pub rule_set_ids: Vec<String>,
    /// Rules that apply to it.
    pub rules: i32,
    /// Of those, the ones switched on.
    pub enabled: i32,
    /// Of those, the ones a machine checks.
    pub checkable: i32,
}

/// A type's AI system prompt.
#[derive(SimpleObject)]
pub struct RuleSystemPrompt {
    /// The entity type.
    pub entity_type: EntityType,
    /// The prompt its AI generation starts from.
    pub prompt: String,
}

/// The tenant's rule settings.
#[derive(SimpleObject)]
pub struct RuleSettings {
    /// Rules (and whole sets, by their ids) switched off.
    pub disabled_rules: Vec<String>,
    /// The AI system prompts set per type.
    pub system_prompts: Vec<RuleSystemPrompt>,
}

impl RuleSettings {
    pub(super) fn of(rules: &TenantRules) -> Self {
        Self {
            disabled_rules: rules.disabled.clone(),
            system_prompts: EntityType::ALL
                .iter()
                .filter_map(|entity_type| {
                    let prompt = rules.system_prompts.get(entity_type.slug())?.as_str()?;
                    Some(RuleSystemPrompt {
                        entity_type: *entity_type,
                        prompt: prompt.to_owned(),
                    })
                })
                .collect(),
        }
    }
}

/// One rule's verdict on an entity.
pub struct RuleVerdict(Verdict);

/// One rule's verdict on an entity.
#[Object]
impl RuleVerdict {
    /// The rule.
    async fn rule(&self) -> RuleObject {
        RuleObject::new(&self.0.set, &self.0.rule, &[])
    }

    /// Passed, failed, or to be reviewed by a person.
    async fn outcome(&self) -> Outcome {
        self.0.outcome
    }

    /// The rule's severity (what a failure means).
    async fn severity(&self) -> RuleSeverity {
        self.0.rule.severity
    }

    /// What breaks the rule, one line each (empty unless failed).
    async fn messages(&self) -> &[String] {
        &self.0.messages
    }
}

/// An entity judged by every enabled rule for its type.
pub struct RuleValidation(pub(super) Validation);

impl RuleValidation {
    fn failed(&self, severity: RuleSeverity) -> i32 {
        self.0
            .verdicts
            .iter()
            .filter(|v| v.outcome == Outcome::Failed && v.rule.severity == severity)
            .count() as i32
    }
}

/// An entity judged by every enabled rule for its type.
#[Object]
impl RuleValidation {
    /// The entity's type.
    async fn entity_type(&self) -> EntityType {
        self.0.entity_type
    }

    /// The entity's id.
    async fn entity_id(&self) -> &str {
        &self.0.entity_id
    }

    /// True when no error-severity rule failed.
    async fn valid(&self) -> bool {
        self.failed(RuleSeverity::Error) == 0
    }

    /// Failed rules of severity ERROR.
    async fn errors(&self) -> i32 {
        self.failed(RuleSeverity::Error)
    }

    /// Failed rules of severity WARNING.
    async fn warnings(&self) -> i32 {
        self.failed(RuleSeverity::Warning)
    }

    /// Failed rules of severity INFO.
    async fn infos(&self) -> i32 {
        self.failed(RuleSeverity::Info)
    }

    /// Rules a machine cannot check, for a person to review.
    async fn needs_review(&self) -> i32 {
        self.0
            .verdicts
            .iter()
            .filter(|v| v.outcome == Outcome::NeedsReview)
            .count() as i32
    }

    /// Every enabled rule's verdict, in set order.
    async fn verdicts(&self) -> Vec<RuleVerdict> {
        self.0.verdicts.iter().cloned().map(RuleVerdict).collect()
    }
}

/// What a reload of the package's rules read.
#[derive(SimpleObject)]
pub struct RulesReload {
    /// Rule sets of the package now in force.
    pub rule_sets: i32,
    /// Their rules.
    pub rules: i32,
}

/// A new rule.
#[derive(InputObject)]
pub struct CreateRuleInput {
    /// Its id: 1 to 64 of a-z, 0-9, `_`, `-`, `.`; unique among the tenant's rules.
    pub id: String,
    /// The rule, as a sentence.
    pub text: String,
    /// What breaking it means.
    pub severity: RuleSeverity,
    /// How important it is (MEDIUM when absent).
    pub priority: Option<RulePriority>,
    /// Its category (`general` when absent).
    pub category: Option<String>,
    /// What a machine checks, as the YAML keys of a rule: `{"required_fields": ["age"]}`,
    /// `{"field": "age", "min": 0, "max": 120}`, `{"field": "id", "pattern": "[a-z_]+"}`,
    /// `{"field": "status", "allowed_values": [...]}`, `{"forbidden_phrases": [...]}`,
    /// `{"check": "unique_z_index"}`... Absent: a prose rule, reviewed by a person.
    pub check: Option<Json<Map<String, Value>>>,
}

/// Only what is given changes.
#[derive(InputObject)]
pub struct UpdateRuleInput {
    /// The rule, as a sentence.
    pub text: Option<String>,
    /// What breaking it means.
    pub severity: Option<RuleSeverity>,
    /// How important it is.
    pub priority: Option<RulePriority>,
    /// Its category.
    pub category: Option<String>,
    /// The types it applies to.
    pub applies_to: Option<Vec<EntityType>>,
    /// Its check's keys, replacing the ones it has; `{}` makes it a prose rule (written
    /// `check: none`).
    pub check: Option<Json<Map<String, Value>>>,
}

/// The rule settings to change.
#[derive(InputObject)]
pub struct UpdateRuleSettingsInput {
    /// Rules and sets (by id) to switch off, replacing the list; every other rule is on.
    pub disabled_rules: Vec<String>,
}
