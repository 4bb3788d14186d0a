//! GraphQL: reading and writing entities, the recycle bin, renames and bulk validation.

use std::sync::Arc;

use async_graphql::{Context, InputObject, Json, Object, SimpleObject};
use serde_json::Value;

use super::object::Entity;
use super::prefetch::prefetch;
use crate::auth::Role;
use crate::context::ContextExt;
use crate::db::pagination::{PageRequest, page_type};
use crate::db::search::TsQuery;
use crate::entities::id_check::{self, EntityIdCheck};
use crate::entities::loaders::EntityLoaders;
use crate::entities::renames;
use crate::entities::revalidation;
use crate::entities::store::{self, Bin, EntitySortField, ListFilter, SortOrder};
use crate::entities::templates::TemplateBook;
use crate::entities::types::{EntityStatus, EntityType};
use crate::entities::writes::{self, EntityPatch, NewEntity};
use crate::error::AppResult;

/// A new entity. `fields` holds the type-specific frontmatter (a JSON object).
#[derive(InputObject)]
pub struct CreateEntityInput {
    /// Lowercase letters, digits and underscores (`rex_marshall`); unique within the type.
    pub entity_id: String,
    /// The display name: 1 to 200 characters.
    pub name: String,
    /// Defaults to ACTIVE.
    pub status: Option<EntityStatus>,
    /// The type-specific frontmatter (a JSON object, at most 256 KiB); empty when absent.
    pub fields: Option<Json<Value>>,
    /// The free text after the frontmatter, in Markdown; empty when absent.
    pub markdown_body: Option<String>,
}

/// A partial update: only what is given changes. `fields` are merged key by key, and a key
/// set to null is removed.
#[derive(InputObject)]
pub struct UpdateEntityInput {
    /// A new display name: 1 to 200 characters.
    pub name: Option<String>,
    /// A new status.
    pub status: Option<EntityStatus>,
    /// Keys to merge into the fields (a JSON object); a key set to null is removed.
    pub fields: Option<Json<Value>>,
    /// A new Markdown body, replacing the old one.
    pub markdown_body: Option<String>,
    /// Fails with CONFLICT when the entity is no longer at this version.
    pub expected_version: Option<i32>,
}

page_type! {
    /// A page of entities.
    pub struct EntityPage {
        total,
        entities: Vec<Entity>,
    }
}

/// The outcome of `validateEntities`.
#[derive(SimpleObject)]
pub struct ValidationSummary {
    /// How many entities were validated.
    pub checked: i64,
    /// How many match their template.
    pub valid: i64,
    /// How many do not.
    pub invalid: i64,
    /// The invalid entities with their errors (the first 100).
    pub invalid_entities: Vec<InvalidEntity>,
}

/// An entity that does not match its template, and why.
#[derive(SimpleObject)]
pub struct InvalidEntity {
    /// The entity.
    pub entity: Entity,
    /// What does not match, one message per problem.
    pub errors: Vec<String>,
}

/// One page of the viewer's entities, with what its nested fields will ask for prefetched.
async fn entity_page(
    ctx: &Context<'_>,
    filter: &ListFilter<'_>,
    sort: Option<(EntitySortField, SortOrder)>,
    page: PageRequest,
) -> AppResult<EntityPage> {
    let viewer = ctx.viewer()?;
    let with_total = ctx.look_ahead().field("total").exists();
    let mut conn = ctx.conn().await?;
    let (total, rows) =
        store::list_entities(&mut conn, viewer.tenant_id, filter, sort, page, with_total).await?;
    // Hand the connection back first: the prefetch takes its own.
    drop(conn);
    prefetch(ctx, ctx.look_ahead().field("entities"), &rows).await?;
    // Counted only when asked for; a field nobody selected is never sent.
    let total = total.unwrap_or_default();
    Ok(EntityPage::new(
        total,
        page,
        rows.into_iter().map(Entity::from).collect(),
    ))
}

#[derive(Default)]
pub struct EntityQuery;

#[Object]
impl EntityQuery {
    /// One live entity of the viewer's tenant; null when there is none.
    async fn entity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity's type.")] r#type: EntityType,
        #[graphql(desc = "The entity's id within its type.")] entity_id: String,
    ) -> AppResult<Option<Entity>> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        Ok(
            store::find_live(&mut conn, viewer.tenant_id, r#type, &entity_id)
                .await?
                .map(Entity::from),
        )
    }

    /// Live entities of one type: filtered by status and a full-text search (prefix matching;
    /// best matches first unless `sortBy` is given), newest change first by default.
    #[allow(clippy::too_many_arguments)]
    async fn entities(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The type to list.")] r#type: EntityType,
        #[graphql(desc = "How many entities to skip: 0 to 10,000, 0 when absent.")] offset: Option<
            i32,
        >,
        #[graphql(desc = "How many entities to return: 1 to 200, 50 when absent.")] limit: Option<
            i32,
        >,
        #[graphql(desc = "Words to look for (full-text search, prefix matching).")] search: Option<
            String,
        >,
        #[graphql(desc = "Only entities with this status.")] status: Option<EntityStatus>,
        #[graphql(desc = "What to sort by; UPDATED_AT when only `sortOrder` is given.")]
        sort_by: Option<EntitySortField>,
        #[graphql(desc = "Which way to sort; DESC when only `sortBy` is given.")]
        sort_order: Option<SortOrder>,
    ) -> AppResult<EntityPage> {
        ctx.viewer()?;
        let page = PageRequest::new(offset, limit)?;
        let search = search.as_deref().and_then(TsQuery::parse);
        let sort = match (sort_by, sort_order) {
            (None, None) => None,
            (field, order) => Some((field.unwrap_or_default(), order.unwrap_or_default())),
        };
        let filter = ListFilter {
            entity_type: Some(r#type),
            status,
            search: search.as_ref(),
            bin: Bin::Live,
        };
        entity_page(ctx, &filter, sort, page).await
    }

    /// Whether an id is well-formed and free in the viewer's tenant: within one type, or
    /// across all types when none is given.
    async fn check_entity_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id to check.")] entity_id: String,
        #[graphql(desc = "The type to check it in; every type when absent.")] r#type: Option<
            EntityType,
        >,
    ) -> AppResult<EntityIdCheck> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        id_check::check(&mut conn, viewer.tenant_id, r#type, entity_id).await
    }

    /// Entities in the recycle bin, most recently deleted first.
    async fn recycled_entities(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only entities of this type; every type when absent.")] r#type: Option<
            EntityType,
        >,
        #[graphql(desc = "How many entities to skip: 0 to 10,000, 0 when absent.")] offset: Option<
            i32,
        >,
        #[graphql(desc = "How many entities to return: 1 to 200, 50 when absent.")] limit: Option<
            i32,
        >,
    ) -> AppResult<EntityPage> {
        ctx.viewer()?;
        let page = PageRequest::new(offset, limit)?;
        let filter = ListFilter {
            entity_type: r#type,
            status: None,
            search: None,
            bin: Bin::Recycled,
        };
        entity_page(ctx, &filter, None, page).await
    }
}

#[derive(Default)]
pub struct EntityMutation;

#[Object]
impl EntityMutation {
    /// Creates an entity (WORLDBUILDER). It is saved even when it does not match its template;
    /// `validationErrors` then says what is wrong. A duplicate id within the type is CONFLICT.
    async fn create_entity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new entity's type.")] r#type: EntityType,
        #[graphql(desc = "The new entity.")] input: CreateEntityInput,
    ) -> AppResult<Entity> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let mut conn = ctx.conn().await?;
        let input = NewEntity {
            entity_id: input.entity_id,
            name: input.name,
            status: input.status,
            fields: input.fields.map(|f| f.0),
            markdown_body: input.markdown_body,
        };
        let row = writes::create(
            ctx.platform(),
            ctx.part::<Arc<TemplateBook>>()?
                .for_tenant(&ctx.platform().pool, viewer.tenant_id)
                .await?
                .as_ref(),
            &mut conn,
            viewer,
            r#type,
            input,
        )
        .await?;
        ctx.loaders::<EntityLoaders>().forget();
        Ok(Entity::from(row))
    }

    /// Changes an entity (WORLDBUILDER); see UpdateEntityInput.
    async fn update_entity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity's type.")] r#type: EntityType,
        #[graphql(desc = "The entity's id within its type.")] entity_id: String,
        #[graphql(desc = "The changes; what is absent stays.")] input: UpdateEntityInput,
    ) -> AppResult<Entity> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let mut conn = ctx.conn().await?;
        let patch = EntityPatch {
            name: input.name,
            status: input.status,
            fields: input.fields.map(|f| f.0),
            markdown_body: input.markdown_body,
            expected_version: input.expected_version,
        };
        let row = writes::update(
            ctx.platform(),
            ctx.part::<Arc<TemplateBook>>()?
                .for_tenant(&ctx.platform().pool, viewer.tenant_id)
                .await?
                .as_ref(),
            &mut conn,
            viewer,
            r#type,
            &entity_id,
            patch,
        )
        .await?;
        ctx.loaders::<EntityLoaders>().forget();
        Ok(Entity::from(row))
    }

    /// Moves an entity to the recycle bin (WORLDBUILDER).
    async fn delete_entity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity's type.")] r#type: EntityType,
        #[graphql(desc = "The entity's id within its type.")] entity_id: String,
    ) -> AppResult<bool> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let mut conn = ctx.conn().await?;
        writes::set_recycled(ctx.platform(), &mut conn, viewer, r#type, &entity_id, true).await?;
        ctx.loaders::<EntityLoaders>().forget();
        Ok(true)
    }

    /// Brings an entity back from the recycle bin (WORLDBUILDER).
    async fn restore_entity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The recycled entity's type.")] r#type: EntityType,
        #[graphql(desc = "The recycled entity's id within its type.")] entity_id: String,
    ) -> AppResult<Entity> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let mut conn = ctx.conn().await?;
        let row =
            writes::set_recycled(ctx.platform(), &mut conn, viewer, r#type, &entity_id, false)
                .await?;
        ctx.loaders::<EntityLoaders>().forget();
        Ok(Entity::from(row))
    }

    /// Removes a recycled entity for good, with its history and relationships (ADMIN).
    async fn purge_entity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The recycled entity's type.")] r#type: EntityType,
        #[graphql(desc = "The recycled entity's id within its type.")] entity_id: String,
    ) -> AppResult<bool> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let mut conn = ctx.conn().await?;
        writes::purge(ctx.platform(), &mut conn, viewer, r#type, &entity_id).await?;
        ctx.loaders::<EntityLoaders>().forget();
        Ok(true)
    }

    /// Purges everything in the recycle bin, or only one type's (ADMIN). Returns how many.
    async fn empty_recycle_bin(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this type's recycled entities; every type when absent.")]
        r#type: Option<EntityType>,
    ) -> AppResult<i64> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let mut conn = ctx.conn().await?;
        let purged = writes::empty_recycle_bin(ctx.platform(), &mut conn, viewer, r#type).await?;
        ctx.loaders::<EntityLoaders>().forget();
        Ok(i64::try_from(purged).unwrap_or(i64::MAX))
    }

    /// Gives an entity a new id and rewrites every reference to it, in one transaction
    /// (WORLDBUILDER).
    async fn rename_entity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity's type.")] r#type: EntityType,
        #[graphql(desc = "The entity's current id within its type.")] entity_id: String,
        #[graphql(desc = "The new id: lowercase letters, digits and underscores.")]
        new_entity_id: String,
    ) -> AppResult<Entity> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let mut conn = ctx.conn().await?;
        let row = renames::rename(
            ctx.platform(),
            ctx.part::<Arc<TemplateBook>>()?
                .for_tenant(&ctx.platform().pool, viewer.tenant_id)
                .await?
                .as_ref(),
            &mut conn,
            viewer,
            r#type,
            &entity_id,
            &new_entity_id,
        )
        .await?;
        ctx.loaders::<EntityLoaders>().forget();
        Ok(Entity::from(row))
    }

    /// Re-validates every live entity (of one type, or all) against the templates in force
    /// and stores the results (WORLDBUILDER).
    async fn validate_entities(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only entities of this type; every type when absent.")] r#type: Option<
            EntityType,
        >,
    ) -> AppResult<ValidationSummary> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let types: Vec<EntityType> = match r#type {
            Some(entity_type) => vec![entity_type],
            None => EntityType::ALL.to_vec(),
        };
        let mut conn = ctx.conn().await?;
        let report = revalidation::validate_all(
            ctx.part::<Arc<TemplateBook>>()?
                .for_tenant(&ctx.platform().pool, viewer.tenant_id)
                .await?
                .as_ref(),
            &mut conn,
            viewer,
            &types,
        )
        .await?;
        ctx.loaders::<EntityLoaders>().forget();
        let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        Ok(ValidationSummary {
            checked: count(report.checked),
            valid: count(report.valid),
            invalid: count(report.invalid),
            invalid_entities: report
                .examples
                .into_iter()
                .map(|(row, errors)| InvalidEntity {
                    entity: Entity::from(row),
                    errors,
                })
                .collect(),
        })
    }
}
