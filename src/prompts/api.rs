//! GraphQL: prompt templates filled from entities, and the variables a type offers. Any member.

use std::sync::Arc;

use async_graphql::{Context, Object, SimpleObject};

use super::service::{self, TemplateField};
use super::template::Filled;
use crate::context::ContextExt;
use crate::entities::api::{Entity, EntityRefInput, EntityType};
use crate::entities::service::{EntityRow, TemplateBook};
use crate::error::AppResult;

/// A template filled from one entity.
#[derive(SimpleObject)]
pub struct PromptResolution {
    /// The entity's type.
    pub entity_type: EntityType,
    /// The entity's id.
    pub entity_id: String,
    /// The entity (null when the tenant has no such live entity).
    pub entity: Option<Entity>,
    /// The text, its variables filled; a variable with no value is left as written.
    pub text: Option<String>,
    /// The variables with no value (each once), never filled with nothing.
    pub missing: Vec<String>,
    /// The variables filled.
    pub used: Vec<String>,
    /// True when every variable had a value.
    pub complete: bool,
}

impl PromptResolution {
    fn of(entity_type: EntityType, entity_id: String, done: Option<(EntityRow, Filled)>) -> Self {
        match done {
            Some((row, filled)) => Self {
                entity_type,
                entity_id,
                entity: Some(Entity::from(row)),
                complete: filled.missing.is_empty(),
                text: Some(filled.text),
                missing: filled.missing,
                used: filled.used,
            },
            None => Self {
                entity_type,
                entity_id,
                entity: None,
                text: None,
                missing: Vec::new(),
                used: Vec::new(),
                complete: false,
            },
        }
    }
}

/// A variable a type offers to prompt templates.
#[derive(SimpleObject)]
pub struct PromptTemplateField {
    /// How a template writes it, without the braces (`entity.age`).
    pub variable: String,
    /// Its value's JSON Schema type (`string`, `integer | string`...).
    pub kind: String,
    /// What it holds.
    pub description: Option<String>,
}

#[derive(Default)]
pub struct PromptQuery;

#[Object]
impl PromptQuery {
    /// A prompt template (`{{entity.field}}` variables, up to 64 KiB) filled from one entity;
    /// NOT_FOUND when the tenant has no such live entity.
    async fn resolve_prompt_template(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The template.")] template: String,
        #[graphql(desc = "The entity to fill it from.")] entity: EntityRefInput,
    ) -> AppResult<PromptResolution> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        let done = service::resolve(
            &mut conn,
            viewer,
            &template,
            entity.r#type,
            &entity.entity_id,
        )
        .await?;
        Ok(PromptResolution::of(
            entity.r#type,
            entity.entity_id,
            Some(done),
        ))
    }

    /// A prompt template filled from each of up to 100 entities, in the order given (an entity
    /// the tenant does not have answers with no text).
    async fn resolve_prompt_templates(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The template.")] template: String,
        #[graphql(desc = "The entities to fill it from.")] entities: Vec<EntityRefInput>,
    ) -> AppResult<Vec<PromptResolution>> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        let keys = entities
            .into_iter()
            .map(|e| (e.r#type, e.entity_id))
            .collect();
        let done = service::resolve_batch(&mut conn, viewer, &template, keys).await?;
        Ok(done
            .into_iter()
            .map(|((entity_type, entity_id), done)| {
                PromptResolution::of(entity_type, entity_id, done)
            })
            .collect())
    }

    /// The variables a type offers: the entity's own, then its template's fields (the tenant's
    /// template when signed in).
    async fn available_template_fields(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity type.")] r#type: EntityType,
    ) -> AppResult<Vec<PromptTemplateField>> {
        let viewer = ctx.viewer()?;
        let catalog = ctx
            .part::<Arc<TemplateBook>>()?
            .for_tenant(&ctx.platform().pool, viewer.tenant_id)
            .await?;
        Ok(service::available_fields(&catalog, r#type)
            .into_iter()
            .map(
                |TemplateField {
                     variable,
                     kind,
                     description,
                 }| PromptTemplateField {
                    variable,
                    kind,
                    description,
                },
            )
            .collect())
    }
}
