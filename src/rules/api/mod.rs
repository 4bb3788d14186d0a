//! GraphQL: the rules in force (every member reads them), their changes (WORLDBUILDER and
//! above), the package's reload (SUPERUSER) and an entity judged by them.

use std::sync::Arc;

use async_graphql::{Context, Json, Object};

use super::service::{self, RuleBook, RuleDraft, SetInForce, TenantRules};
use crate::auth::Role;
use crate::context::ContextExt;
use crate::entities::service::EntityType;
use crate::error::{AppError, AppResult};

mod objects;

pub use objects::*;

async fn tenant_rules(ctx: &Context<'_>) -> AppResult<(TenantRules, Arc<Vec<String>>)> {
    let viewer = ctx.viewer()?;
    let book = ctx.part::<Arc<RuleBook>>()?;
    let mut conn = ctx.conn().await?;
    let rules = service::in_force(&mut conn, book, viewer.tenant_id).await?;
    let disabled = Arc::new(rules.disabled.clone());
    Ok((rules, disabled))
}

#[derive(Default)]
pub struct RuleQuery;

#[Object]
impl RuleQuery {
    /// Every rule set in force for the viewer's tenant: the package's (or the tenant's copies
    /// in their place), then the tenant's own.
    async fn rules(&self, ctx: &Context<'_>) -> AppResult<Vec<RuleSetObject>> {
        let (rules, disabled) = tenant_rules(ctx).await?;
        Ok(rules
            .sets
            .into_iter()
            .map(|entry| RuleSetObject {
                entry,
                disabled: disabled.clone(),
            })
            .collect())
    }

    /// One rule set in force, with its YAML; null when there is none.
    async fn rule_set(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The set's id (`rule_id`).")] id: String,
    ) -> AppResult<Option<RuleSetObject>> {
        let (rules, disabled) = tenant_rules(ctx).await?;
        Ok(rules
            .sets
            .into_iter()
            .find(|entry| entry.set.id == id)
            .map(|entry| RuleSetObject { entry, disabled }))
    }

    /// Per entity type, how many rules apply and from which sets.
    async fn rules_index(&self, ctx: &Context<'_>) -> AppResult<Vec<RulesIndexEntry>> {
        let (rules, _) = tenant_rules(ctx).await?;
        Ok(EntityType::ALL
            .iter()
            .map(|entity_type| {
                let found = rules.rules_for(*entity_type);
                let mut rule_set_ids: Vec<String> = Vec::new();
                for (entry, _) in &found {
                    if !rule_set_ids.contains(&entry.set.id) {
                        rule_set_ids.push(entry.set.id.clone());
                    }
                }
                let enabled: Vec<_> = found
                    .iter()
                    .filter(|(entry, rule)| rules.enabled(&entry.set, rule))
                    .collect();
                RulesIndexEntry {
                    entity_type: *entity_type,
                    rule_set_ids,
                    rules: found.len() as i32,
                    enabled: enabled.len() as i32,
                    checkable: enabled.iter().filter(|(_, r)| r.check.is_some()).count() as i32,
                }
            })
            .collect())
    }

    /// The rules that apply to a type, parsed, in set order (each set's YAML is on its
    /// `ruleSet`).
    async fn rules_for(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "type", desc = "The entity type.")] entity_type: EntityType,
    ) -> AppResult<Vec<RuleObject>> {
        let (rules, disabled) = tenant_rules(ctx).await?;
        Ok(rules
            .rules_for(entity_type)
            .into_iter()
            .map(|(entry, rule)| RuleObject::new(&entry.set, rule, &disabled))
            .collect())
    }

    /// The tenant's rule settings.
    async fn rule_settings(&self, ctx: &Context<'_>) -> AppResult<RuleSettings> {
        let (rules, _) = tenant_rules(ctx).await?;
        Ok(RuleSettings::of(&rules))
    }

    /// A live entity judged by every enabled rule for its type: machine-checkable rules
    /// passed or failed (with what they found), prose rules listed as NEEDS_REVIEW.
    async fn validate_against_rules(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "type", desc = "The entity's type.")] entity_type: EntityType,
        #[graphql(desc = "The entity's id.")] entity_id: String,
    ) -> AppResult<RuleValidation> {
        let viewer = ctx.viewer()?;
        let book = ctx.part::<Arc<RuleBook>>()?;
        let mut conn = ctx.conn().await?;
        Ok(RuleValidation(
            service::validate(&mut conn, book, viewer, entity_type, &entity_id).await?,
        ))
    }
}

#[derive(Default)]
pub struct RuleMutation;

/// A changed set, told as the tenant's rules now stand (whether it is switched off).
async fn set_object(ctx: &Context<'_>, entry: SetInForce) -> AppResult<RuleSetObject> {
    let viewer = ctx.viewer()?;
    let mut conn = ctx.conn().await?;
    Ok(RuleSetObject {
        entry,
        disabled: Arc::new(service::disabled(&mut conn, viewer.tenant_id).await?),
    })
}

#[Object]
impl RuleMutation {
    /// Saves a rule set's YAML for the tenant (WORLDBUILDER): a new set, a change to its own,
    /// or — with a package set's `rule_id` — its copy in that set's place. The whole text is
    /// read first; every problem is listed (BAD_USER_INPUT).
    async fn save_rule_set(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The set's YAML, in the package's `rules/*.yaml` format (256 KiB at most)."
        )]
        source: String,
        #[graphql(
            desc = "The `revision` the change was made on (0 for a set the tenant has no copy of): a set changed meanwhile is a CONFLICT. Absent: saved over whatever is there."
        )]
        expected_revision: Option<i32>,
    ) -> AppResult<RuleSetObject> {
        let viewer = ctx.viewer()?;
        let book = ctx.part::<Arc<RuleBook>>()?;
        let mut conn = ctx.conn().await?;
        let entry =
            service::save_source(&mut conn, book, viewer, source, expected_revision).await?;
        drop(conn);
        set_object(ctx, entry).await
    }

    /// Lets the tenant's copy of a package set go (the package's is in force again) or a set
    /// of its own (WORLDBUILDER). False when it had none in force; CONFLICT when the package's
    /// set has rule ids the tenant has since used in another set.
    async fn reset_rule_set(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The set's id.")] id: String,
    ) -> AppResult<bool> {
        let viewer = ctx.viewer()?;
        let book = ctx.part::<Arc<RuleBook>>()?;
        let mut conn = ctx.conn().await?;
        service::reset_set(&mut conn, book, viewer, &id).await
    }

    /// Adds a rule for a type to the tenant's set `custom_<type>` (WORLDBUILDER).
    async fn add_rule(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "type", desc = "The entity type the rule is for.")]
        entity_type: EntityType,
        #[graphql(desc = "The rule.")] input: CreateRuleInput,
    ) -> AppResult<RuleSetObject> {
        let viewer = ctx.viewer()?;
        let book = ctx.part::<Arc<RuleBook>>()?;
        let mut conn = ctx.conn().await?;
        let draft = RuleDraft {
            id: Some(input.id),
            text: Some(input.text),
            severity: Some(input.severity),
            priority: input.priority,
            category: input.category,
            applies_to: None,
            check: input.check.map(|Json(check)| check),
        };
        let entry = service::add_rule(&mut conn, book, viewer, entity_type, draft).await?;
        drop(conn);
        set_object(ctx, entry).await
    }

    /// Changes a rule that applies to a type (WORLDBUILDER); a package set's rule is changed in
    /// the tenant's copy of that set.
    async fn update_rule(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "type", desc = "A type the rule applies to.")] entity_type: EntityType,
        #[graphql(desc = "The rule's id.")] rule_id: String,
        #[graphql(desc = "What changes.")] input: UpdateRuleInput,
    ) -> AppResult<RuleSetObject> {
        let viewer = ctx.viewer()?;
        let book = ctx.part::<Arc<RuleBook>>()?;
        let mut conn = ctx.conn().await?;
        let draft = RuleDraft {
            id: None,
            text: input.text,
            severity: input.severity,
            priority: input.priority,
            category: input.category,
            applies_to: input.applies_to,
            check: input.check.map(|Json(check)| check),
        };
        let entry =
            service::update_rule(&mut conn, book, viewer, entity_type, &rule_id, draft).await?;
        drop(conn);
        set_object(ctx, entry).await
    }

    /// Removes a rule that applies to a type (WORLDBUILDER); a package set's rule is removed
    /// from the tenant's copy of that set.
    async fn delete_rule(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "type", desc = "A type the rule applies to.")] entity_type: EntityType,
        #[graphql(desc = "The rule's id.")] rule_id: String,
    ) -> AppResult<RuleSetObject> {
        let viewer = ctx.viewer()?;
        let book = ctx.part::<Arc<RuleBook>>()?;
        let mut conn = ctx.conn().await?;
        let entry = service::delete_rule(&mut conn, book, viewer, entity_type, &rule_id).await?;
        drop(conn);
        set_object(ctx, entry).await
    }

    /// Switches rules and sets off by id, replacing the list (WORLDBUILDER).
    async fn update_rule_settings(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The settings.")] input: UpdateRuleSettingsInput,
    ) -> AppResult<RuleSettings> {
        let viewer = ctx.viewer()?;
        let book = ctx.part::<Arc<RuleBook>>()?;
        let mut conn = ctx.conn().await?;
        service::set_disabled(&mut conn, book, viewer, input.disabled_rules).await?;
        let rules = service::in_force(&mut conn, book, viewer.tenant_id).await?;
        Ok(RuleSettings::of(&rules))
    }

    /// Sets the AI system prompt for a type's generation, or removes it with null
    /// (WORLDBUILDER; 20,000 characters at most).
    async fn set_rule_system_prompt(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "type", desc = "The entity type.")] entity_type: EntityType,
        #[graphql(desc = "The prompt; null or blank removes it.")] prompt: Option<String>,
    ) -> AppResult<RuleSettings> {
        let viewer = ctx.viewer()?;
        let book = ctx.part::<Arc<RuleBook>>()?;
        let mut conn = ctx.conn().await?;
        service::set_system_prompt(&mut conn, viewer, entity_type, prompt.as_deref()).await?;
        let rules = service::in_force(&mut conn, book, viewer.tenant_id).await?;
        Ok(RuleSettings::of(&rules))
    }

    /// Reads the template package's rule files again (SUPERUSER: the package is the server's).
    /// A file that does not read changes nothing, and every problem is listed.
    async fn reload_rules(&self, ctx: &Context<'_>) -> AppResult<RulesReload> {
        ctx.viewer()?.require_role(Role::Superuser)?;
        let book = ctx.part::<Arc<RuleBook>>()?;
        let rules = book.reload().await.map_err(|problems| {
            AppError::bad_input(format!(
                "the rules were not reloaded: {}",
                problems.join("; ")
            ))
        })?;
        Ok(RulesReload {
            rule_sets: rules.sets.len() as i32,
            rules: rules.sets.iter().map(|s| s.set.rules.len() as i32).sum(),
        })
    }
}
