//! The Entity type of the schema and the links it resolves, all through per-request loaders.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Json, Object};
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::accounts::api::User;
use crate::assets::api::Asset;
use crate::context::ContextExt;
use crate::db::loading::{load, load_many, prefetch_many};
use crate::db::pagination::PageRequest;
use crate::entities::links::ResolvedReference;
use crate::entities::loaders::EntityLoaders;
use crate::entities::loaders::Referrer;
use crate::entities::model::{EntityRow, RelationshipRow};
use crate::entities::revalidation::entity_errors;
use crate::entities::types::{EntityStatus, EntityType};
use crate::error::AppResult;

#[derive(Clone)]
pub struct Entity(pub Arc<EntityRow>);

impl From<EntityRow> for Entity {
    fn from(row: EntityRow) -> Self {
        Self(Arc::new(row))
    }
}

impl From<Arc<EntityRow>> for Entity {
    fn from(row: Arc<EntityRow>) -> Self {
        Self(row)
    }
}

/// How other domains' GraphQL types show an entity (a note's, an asset's, a world's).
impl Entity {
    /// The entity with this row id, while it is live (null when there is none, or no id).
    pub async fn live(ctx: &Context<'_>, row_id: Option<Uuid>) -> AppResult<Option<Entity>> {
        let Some(row_id) = row_id else {
            return Ok(None);
        };
        Ok(load(&ctx.loaders::<EntityLoaders>().by_row, row_id)
            .await?
            .filter(|row| !row.is_deleted())
            .map(Entity::from))
    }

    /// The live ones of these entities, in the order given.
    pub async fn live_many(ctx: &Context<'_>, row_ids: &[Uuid]) -> AppResult<Vec<Entity>> {
        let rows = load_many(
            &ctx.loaders::<EntityLoaders>().by_row,
            row_ids.iter().copied(),
        )
        .await?;
        Ok(row_ids
            .iter()
            .filter_map(|id| rows.get(id))
            .filter(|row| !row.is_deleted())
            .cloned()
            .map(Entity::from)
            .collect())
    }

    /// Forgets the entities this request has loaded (after a write elsewhere changed them).
    pub fn forget_loaded(ctx: &Context<'_>) {
        ctx.loaders::<EntityLoaders>().forget();
    }

    /// Loads these entities in one statement for the fields of a list that will ask for them
    /// (nothing to do when the request's loaders keep nothing).
    pub async fn prefetch(
        ctx: &Context<'_>,
        row_ids: impl IntoIterator<Item = Uuid>,
    ) -> AppResult<()> {
        if ctx.caches_loads() {
            prefetch_many(&ctx.loaders::<EntityLoaders>().by_row, row_ids).await?;
        }
        Ok(())
    }
}

/// A worldbuilding entity: a character, location, faction... Its `fields` are the frontmatter
/// its type's template describes; references to other entities are ids inside them.
#[Object]
impl Entity {
    /// The row id (stable across renames).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The entity's type.
    async fn entity_type(&self) -> EntityType {
        self.0.kind()
    }

    /// The entity's id within its type: lowercase letters, digits and underscores.
    async fn entity_id(&self) -> &str {
        &self.0.entity_id
    }

    /// The entity's display name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Where the entity is in its life (in the story or in production).
    async fn status(&self) -> EntityStatus {
        self.0.status()
    }

    /// The type-specific fields (the frontmatter, without id, entity_type, name and status).
    async fn fields(&self) -> Json<&Value> {
        Json(&self.0.fields)
    }

    /// The free text after the frontmatter, in Markdown.
    async fn markdown_body(&self) -> &str {
        &self.0.markdown_body
    }

    /// What does not match the type's template: JSON Schema errors, then references that name
    /// no live entity. The entity is saved regardless.
    async fn validation_errors(&self, ctx: &Context<'_>) -> AppResult<Vec<String>> {
        let references = outgoing(ctx, self.0.id).await?;
        Ok(entity_errors(&self.0, &references))
    }

    /// True when `validationErrors` is empty.
    async fn is_valid(&self, ctx: &Context<'_>) -> AppResult<bool> {
        if !self.0.schema_errors.is_empty() {
            return Ok(false);
        }
        let references = outgoing(ctx, self.0.id).await?;
        Ok(references.iter().all(|r| r.target.is_some()))
    }

    /// Increases with every write; pass it back as `expectedVersion` to avoid lost updates.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// When the entity was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the entity was last written.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// When it was moved to the recycle bin; null while it is live.
    async fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.0.deleted_at
    }

    /// Who created it; null once that account is deleted.
    async fn created_by(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        User::load(ctx, self.0.created_by).await
    }

    /// Who wrote it last; null once that account is deleted.
    async fn updated_by(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        User::load(ctx, self.0.updated_by).await
    }

    /// Who moved it to the recycle bin; null while it is live.
    async fn deleted_by(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        User::load(ctx, self.0.deleted_by).await
    }

    /// The image that stands for it (a portrait, a map), when one is set.
    async fn primary_asset(&self, ctx: &Context<'_>) -> AppResult<Option<Asset>> {
        Asset::primary_of_entity(ctx, self.0.id).await
    }

    /// The live assets linked to it, the primary one first, then in the order they were
    /// linked (at most 200).
    async fn assets(&self, ctx: &Context<'_>) -> AppResult<Vec<Asset>> {
        Asset::of_entity(ctx, self.0.id).await
    }

    /// The references this entity's fields hold, in field order (a page: 50 by default, at
    /// most 200), only those of the field `kind` when given; `entity` is null when the id names
    /// no live entity.
    async fn references(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the references of this field path (e.g. `leader`).")] kind: Option<
            String,
        >,
        #[graphql(desc = "How many references to skip: 0 to 10,000, 0 when absent.")]
        offset: Option<i32>,
        #[graphql(desc = "How many references to return: 1 to 200, 50 when absent.")] limit: Option<
            i32,
        >,
    ) -> AppResult<Vec<EntityReference>> {
        let references = match kind {
            Some(kind) => load(
                &ctx.loaders::<EntityLoaders>().outgoing_of_kind,
                (self.0.id, kind),
            )
            .await?
            .unwrap_or_default(),
            None => outgoing(ctx, self.0.id).await?,
        };
        let matching = references
            .iter()
            .map(|r| EntityReference {
                kind: r.kind.clone(),
                entity_id: r.entity_id.clone(),
                target_types: r.target_types.clone(),
                entity: r.target.clone(),
            })
            .collect();
        window(matching, offset, limit)
    }

    /// The live entities whose fields reference this one (a page: 50 by default, at most 200),
    /// only through the field `kind` when given; `kind` is their field.
    async fn referenced_by(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only references through this field path of the referring entities.")]
        kind: Option<String>,
        #[graphql(desc = "How many references to skip: 0 to 10,000, 0 when absent.")]
        offset: Option<i32>,
        #[graphql(desc = "How many references to return: 1 to 200, 50 when absent.")] limit: Option<
            i32,
        >,
    ) -> AppResult<Vec<EntityReference>> {
        let referrers = incoming(ctx, &self.0).await?;
        let matching = referrers
            .iter()
            .filter(|r| kind.as_ref().is_none_or(|k| *k == r.kind))
            .map(|r| EntityReference {
                kind: r.kind.clone(),
                entity_id: r.entity.entity_id.clone(),
                target_types: vec![r.entity.entity_type.clone()],
                entity: Some(r.entity.clone()),
            })
            .collect();
        window(matching, offset, limit)
    }

    /// The relationships of this entity with live ones: those its fields' references make
    /// (origin FIELD, kind = the field path) and those drawn by hand (origin EXPLICIT); a page,
    /// 50 by default, at most 200.
    async fn relationships(
        &self,
        ctx: &Context<'_>,
        #[graphql(default, desc = "Which way the relationships point; BOTH when absent.")]
        direction: RelationshipDirection,
        #[graphql(desc = "Only relationships of this kind (a field path, or an explicit kind).")]
        kind: Option<String>,
        #[graphql(desc = "How many relationships to skip: 0 to 10,000, 0 when absent.")]
        offset: Option<i32>,
        #[graphql(desc = "How many relationships to return: 1 to 200, 50 when absent.")]
        limit: Option<i32>,
    ) -> AppResult<Vec<Relationship>> {
        let mut found = Vec::new();
        let wants =
            |d: RelationshipDirection| direction == RelationshipDirection::Both || direction == d;
        if wants(RelationshipDirection::Outgoing) {
            for reference in outgoing(ctx, self.0.id).await?.iter() {
                if let Some(target) = &reference.target {
                    found.push(Relationship::derived(
                        reference.kind.clone(),
                        RelationshipDirection::Outgoing,
                        target.clone(),
                    ));
                }
            }
        }
        if wants(RelationshipDirection::Incoming) {
            for referrer in incoming(ctx, &self.0).await?.iter() {
                found.push(Relationship::derived(
                    referrer.kind.clone(),
                    RelationshipDirection::Incoming,
                    referrer.entity.clone(),
                ));
            }
        }
        let loaders = ctx.loaders::<EntityLoaders>();
        let explicit = load(&loaders.relationships, self.0.id)
            .await?
            .unwrap_or_default();
        let other_end = |row: &RelationshipRow| {
            if row.source_id == self.0.id {
                (RelationshipDirection::Outgoing, row.target_id)
            } else {
                (RelationshipDirection::Incoming, row.source_id)
            }
        };
        let others = load_many(&loaders.by_row, explicit.iter().map(|r| other_end(r).1)).await?;
        for row in explicit.iter() {
            let (direction, other) = other_end(row);
            if !wants(direction) {
                continue;
            }
            if let Some(entity) = others.get(&other).filter(|e| !e.is_deleted()) {
                found.push(Relationship::explicit(
                    row.clone(),
                    direction,
                    entity.clone(),
                ));
            }
        }
        if let Some(kind) = kind {
            found.retain(|r| r.kind == kind);
        }
        window(found, offset, limit)
    }
}

/// A page of a list already in memory, with the usual bounds.
fn window<T>(items: Vec<T>, offset: Option<i32>, limit: Option<i32>) -> AppResult<Vec<T>> {
    let page = PageRequest::new(offset, limit)?;
    let skip = usize::try_from(page.offset).unwrap_or(usize::MAX);
    let take = usize::try_from(page.limit).unwrap_or(usize::MAX);
    Ok(items.into_iter().skip(skip).take(take).collect())
}

async fn outgoing(ctx: &Context<'_>, id: Uuid) -> AppResult<Arc<Vec<ResolvedReference>>> {
    Ok(load(&ctx.loaders::<EntityLoaders>().outgoing, id)
        .await?
        .unwrap_or_default())
}

async fn incoming(ctx: &Context<'_>, row: &EntityRow) -> AppResult<Arc<Vec<Referrer>>> {
    let key = (row.kind(), row.entity_id.clone());
    Ok(load(&ctx.loaders::<EntityLoaders>().incoming, key)
        .await?
        .unwrap_or_default())
}

pub struct EntityReference {
    kind: String,
    entity_id: String,
    target_types: Vec<String>,
    entity: Option<Arc<EntityRow>>,
}

/// A reference between two entities through a field.
#[Object]
impl EntityReference {
    /// The field path holding the reference: `leader`, `family.character_id`.
    async fn kind(&self) -> &str {
        &self.kind
    }

    /// The id as written in the field (for `referencedBy`, the referring entity's id).
    async fn entity_id(&self) -> &str {
        &self.entity_id
    }

    /// The types the field may reference.
    async fn target_types(&self) -> Vec<EntityType> {
        self.target_types
            .iter()
            .filter_map(|t| EntityType::from_slug(t))
            .collect()
    }

    /// The entity at the other end; null when the id names no live entity.
    async fn entity(&self) -> Option<Entity> {
        self.entity.clone().filter(|e| !e.is_deleted()).map(Entity)
    }
}

/// Which way a relationship points, seen from the entity asked about.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum RelationshipDirection {
    /// From this entity to others.
    Outgoing,
    /// From others to this entity.
    Incoming,
    /// Both ways.
    #[default]
    Both,
}

/// How a relationship came to be.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum RelationshipOrigin {
    /// A reference in a field.
    Field,
    /// Drawn by hand with `createRelationship`.
    Explicit,
}

pub struct Relationship {
    id: Option<Uuid>,
    kind: String,
    origin: RelationshipOrigin,
    direction: RelationshipDirection,
    attributes: Value,
    created_at: Option<DateTime<Utc>>,
    entity: Arc<EntityRow>,
}

impl Relationship {
    fn derived(kind: String, direction: RelationshipDirection, entity: Arc<EntityRow>) -> Self {
        Self {
            id: None,
            kind,
            origin: RelationshipOrigin::Field,
            direction,
            attributes: Value::Object(Default::default()),
            created_at: None,
            entity,
        }
    }

    pub fn explicit(
        row: RelationshipRow,
        direction: RelationshipDirection,
        entity: Arc<EntityRow>,
    ) -> Self {
        Self {
            id: Some(row.id),
            kind: row.kind,
            origin: RelationshipOrigin::Explicit,
            direction,
            attributes: row.attributes,
            created_at: Some(row.created_at),
            entity,
        }
    }
}

/// A link from one entity to another, seen from one end.
#[Object]
impl Relationship {
    /// The id of an explicit relationship (for `deleteRelationship`); null for field references.
    async fn id(&self) -> Option<ID> {
        self.id.map(|id| ID(id.to_string()))
    }

    /// What the relationship is: the field path of a reference, or the kind given by hand.
    async fn kind(&self) -> &str {
        &self.kind
    }

    /// How the relationship came to be.
    async fn origin(&self) -> RelationshipOrigin {
        self.origin
    }

    /// Which way it points, seen from the entity asked about.
    async fn direction(&self) -> RelationshipDirection {
        self.direction
    }

    /// Free data on an explicit relationship (a JSON object); empty for field references.
    async fn attributes(&self) -> Json<&Value> {
        Json(&self.attributes)
    }

    /// When an explicit relationship was drawn; null for field references.
    async fn created_at(&self) -> Option<DateTime<Utc>> {
        self.created_at
    }

    /// The entity at the other end.
    async fn entity(&self) -> Entity {
        Entity(self.entity.clone())
    }
}
