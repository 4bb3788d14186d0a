//! GraphQL: explicit relationships and the relationship graph.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Json, Object, SimpleObject};
use serde_json::Value;

use super::object::{Entity, Relationship, RelationshipDirection, RelationshipOrigin};
use super::prefetch::prefetch;
use crate::auth::Role;
use crate::context::ContextExt;
use crate::db::parse_id;
use crate::entities::graph::{self, Graph, MAX_DEPTH};
use crate::entities::loaders::EntityLoaders;
use crate::entities::store;
use crate::entities::types::EntityType;
use crate::entities::validation;
use crate::entities::writes;
use crate::error::{AppError, AppResult};

/// Names one entity.
#[derive(InputObject, Clone)]
pub struct EntityRefInput {
    /// The entity's type.
    pub r#type: EntityType,
    /// The entity's id within its type.
    pub entity_id: String,
}

/// Nodes and edges of the relationship graph.
#[derive(SimpleObject)]
pub struct EntityGraph {
    /// The entities in the graph.
    pub nodes: Vec<Entity>,
    /// Edges between the nodes; `source` and `target` are node ids.
    pub edges: Vec<GraphEdge>,
    /// Nodes were left out to stay within the limit.
    pub truncated: bool,
}

/// A directed edge of the relationship graph.
#[derive(SimpleObject)]
pub struct GraphEdge {
    /// The explicit relationship's id; null for a field reference.
    pub id: Option<ID>,
    /// The id of the node the edge starts from.
    pub source: ID,
    /// The id of the node the edge points to.
    pub target: ID,
    /// What the edge is: the field path of a reference, or the kind given by hand.
    pub kind: String,
    /// How the relationship came to be.
    pub origin: RelationshipOrigin,
    /// Free data on an explicit relationship (a JSON object); empty for field references.
    pub attributes: Json<Value>,
}

impl From<Graph> for EntityGraph {
    fn from(graph: Graph) -> Self {
        Self {
            nodes: graph.nodes.into_iter().map(Entity::from).collect(),
            edges: graph
                .edges
                .into_iter()
                .map(|e| GraphEdge {
                    id: e.id.map(|id| ID(id.to_string())),
                    source: ID(e.source.to_string()),
                    target: ID(e.target.to_string()),
                    kind: e.kind,
                    origin: e.origin,
                    attributes: Json(e.attributes),
                })
                .collect(),
            truncated: graph.truncated,
        }
    }
}

const MAX_NEIGHBOURHOOD_NODES: usize = 500;
const DEFAULT_UNIVERSE_NODES: i32 = 500;
const MAX_UNIVERSE_NODES: i32 = 2000;

#[derive(Default)]
pub struct GraphQuery;

#[Object]
impl GraphQuery {
    /// An entity and everything within `depth` hops of it (1 to 3, default 1), in both
    /// directions, at most 500 nodes; null when the entity does not exist.
    async fn entity_graph(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity's type.")] r#type: EntityType,
        #[graphql(desc = "The entity's id within its type.")] entity_id: String,
        #[graphql(default = 1, desc = "How many hops to follow from the entity: 1 to 3.")]
        depth: i32,
    ) -> AppResult<Option<EntityGraph>> {
        let viewer = ctx.viewer()?;
        if !(1..=MAX_DEPTH).contains(&depth) {
            return Err(AppError::bad_field(
                "depth",
                format!("depth must be between 1 and {MAX_DEPTH}"),
            ));
        }
        let mut conn = ctx.conn().await?;
        let Some(root) = store::find_live(&mut conn, viewer.tenant_id, r#type, &entity_id).await?
        else {
            return Ok(None);
        };
        let graph = graph::neighbourhood(
            &mut conn,
            viewer.tenant_id,
            root,
            depth,
            MAX_NEIGHBOURHOOD_NODES,
        )
        .await?;
        // Hand the connection back first: the prefetch takes its own.
        drop(conn);
        prefetch(ctx, ctx.look_ahead().field("nodes"), &graph.nodes).await?;
        Ok(Some(graph.into()))
    }

    /// The whole tenant's graph (optionally of some types): the most recently changed
    /// `limit` entities (default 500, at most 2000) and every edge among them.
    async fn universe_graph(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only entities of these types; every type when absent or empty.")]
        types: Option<Vec<EntityType>>,
        #[graphql(desc = "The most entities to include: 1 to 2000, 500 when absent.")]
        limit: Option<i32>,
    ) -> AppResult<EntityGraph> {
        let viewer = ctx.viewer()?;
        let limit = limit.unwrap_or(DEFAULT_UNIVERSE_NODES);
        if !(1..=MAX_UNIVERSE_NODES).contains(&limit) {
            return Err(AppError::bad_field(
                "limit",
                format!("limit must be between 1 and {MAX_UNIVERSE_NODES}"),
            ));
        }
        let types: Vec<String> = types
            .unwrap_or_default()
            .iter()
            .map(|t| t.slug().to_owned())
            .collect();
        let mut conn = ctx.conn().await?;
        let max_nodes = usize::try_from(limit).unwrap_or_default();
        let graph = graph::universe(&mut conn, viewer.tenant_id, &types, max_nodes).await?;
        // Hand the connection back first: the prefetch takes its own.
        drop(conn);
        prefetch(ctx, ctx.look_ahead().field("nodes"), &graph.nodes).await?;
        Ok(graph.into())
    }
}

#[derive(Default)]
pub struct GraphMutation;

#[Object]
impl GraphMutation {
    /// Draws a relationship by hand from one live entity to another (WORLDBUILDER). `kind` is
    /// lowercase (`mentor_of`, `rivals`); `attributes` is any JSON object.
    async fn create_relationship(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity the relationship starts from.")] from: EntityRefInput,
        #[graphql(desc = "The entity the relationship points to.")] to: EntityRefInput,
        #[graphql(desc = "What it is: 1 to 64 lowercase letters, digits, underscores or dots.")]
        kind: String,
        #[graphql(desc = "Free data to keep on it (a JSON object); empty when absent.")]
        attributes: Option<Json<Value>>,
    ) -> AppResult<Relationship> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let (kind, attributes) = validation::validate_relationship(&kind, attributes.map(|a| a.0))?;
        let mut conn = ctx.conn().await?;
        let (row, target) = writes::create_relationship(
            ctx.platform(),
            &mut conn,
            viewer,
            (from.r#type, &from.entity_id),
            (to.r#type, &to.entity_id),
            &kind,
            &attributes,
        )
        .await?;
        ctx.loaders::<EntityLoaders>().forget();
        Ok(Relationship::explicit(
            row,
            RelationshipDirection::Outgoing,
            Arc::new(target),
        ))
    }

    /// Removes an explicit relationship (WORLDBUILDER).
    async fn delete_relationship(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The explicit relationship's id.")] id: ID,
    ) -> AppResult<bool> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let id = parse_id("id", &id)?;
        let mut conn = ctx.conn().await?;
        writes::delete_relationship(ctx.platform(), &mut conn, viewer, id).await?;
        ctx.loaders::<EntityLoaders>().forget();
        Ok(true)
    }
}
