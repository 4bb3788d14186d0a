//! The rules of a story's writes: its graph is checked against the story's cast (its
//! resource's characters) and the schemas bound to it on every create and graph change, and
//! each graph change is kept as a new version, in the same transaction.

use std::collections::HashMap;

use async_graphql::ID;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::graph::StoryGraph;
use super::rules::{self, Bindings};
use super::{StoryBody, store};
use crate::auth::{Role, Viewer};
use crate::error::{AppError, AppResult};
use crate::story::characters::CharacterBody;
use crate::story::library::{self, Stored, uuids};
use crate::story::resources::StoryResourceBody;
use crate::story::schemas::StateSchemaBody;

/// What a graph is checked against, loaded.
pub struct Bound {
    pub cast: Vec<ID>,
    pub world: Option<StateSchemaBody>,
    pub player: Option<StateSchemaBody>,
    pub characters: HashMap<String, StateSchemaBody>,
    /// The cast's cards, in the resource's order (as play needs them).
    pub cards: Vec<Stored<CharacterBody>>,
    /// The resource's lorebooks, in its order.
    pub lorebook_ids: Vec<Uuid>,
}

impl Bound {
    pub fn bindings(&self) -> Bindings<'_> {
        Bindings {
            cast: &self.cast,
            world: self.world.as_ref(),
            player: self.player.as_ref(),
            characters: &self.characters,
        }
    }
}

async fn schema(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    field: &'static str,
    id: Option<&ID>,
) -> AppResult<Option<StateSchemaBody>> {
    let Some(id) = id else { return Ok(None) };
    let uuid = crate::db::parse_id(field, id)?;
    let found = library::get::<StateSchemaBody>(conn, viewer, uuid).await?;
    found.map(|schema| Some(schema.body)).ok_or_else(|| {
        AppError::bad_field(
            field,
            format!("{} is not a state schema of this tenant", id.0),
        )
    })
}

/// The cast and schemas `body` binds.
pub async fn bound(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    body: &StoryBody,
) -> AppResult<Bound> {
    let resource_id = crate::db::parse_id("resourceId", &body.resource_id)?;
    let resource = library::get::<StoryResourceBody>(conn, viewer, resource_id)
        .await?
        .ok_or_else(|| {
            AppError::bad_field("resourceId", "no such story resource in this tenant")
        })?;
    // The cast and their schemas: one statement each, however large the cast.
    let cast = uuids(&resource.body.character_ids);
    let cards = library::fetch_many::<CharacterBody>(conn, viewer.tenant_id, &cast).await?;
    let schema_ids: Vec<Uuid> = cards
        .iter()
        .filter_map(|card| card.body.schema_id.as_ref())
        .filter_map(|id| Uuid::parse_str(id).ok())
        .collect();
    let schemas: HashMap<Uuid, StateSchemaBody> =
        library::fetch_many::<StateSchemaBody>(conn, viewer.tenant_id, &schema_ids)
            .await?
            .into_iter()
            .map(|schema| (schema.id, schema.body))
            .collect();
    let characters = cards
        .iter()
        .filter_map(|card| {
            let schema_id = Uuid::parse_str(card.body.schema_id.as_ref()?).ok()?;
            Some((card.id.to_string(), schemas.get(&schema_id)?.clone()))
        })
        .collect();
    Ok(Bound {
        cast: resource.body.character_ids.clone(),
        cards,
        lorebook_ids: uuids(&resource.body.lorebook_ids),
        world: schema(conn, viewer, "worldSchemaId", body.world_schema_id.as_ref()).await?,
        player: schema(
            conn,
            viewer,
            "playerSchemaId",
            body.player_schema_id.as_ref(),
        )
        .await?,
        characters,
    })
}

/// A new story (WORLDBUILDER and above), with the id it brought (an imported one) or a new
/// one: its graph checked, kept as version 1.
pub async fn create(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: Option<Uuid>,
    display_name: Option<&str>,
    mut body: StoryBody,
) -> AppResult<Stored<StoryBody>> {
    viewer.require_role(Role::Worldbuilder)?;
    conn.transaction::<_, AppError, _>(async |conn| {
        let bound = bound(conn, viewer, &body).await?;
        rules::check(&mut body.graph, &bound.bindings())?;
        body.graph_version = 1;
        let id = id.unwrap_or_else(Uuid::now_v7);
        let stored = library::insert_as(conn, viewer, id, display_name, body).await?;
        keep_version(conn, viewer, &stored).await?;
        Ok(stored)
    })
    .await
}

/// What may change of a story.
pub struct StoryChange {
    pub display_name: Option<String>,
    pub introduction: Option<String>,
    pub world_schema_id: Option<ID>,
    pub player_schema_id: Option<ID>,
    pub graph: Option<StoryGraph>,
}

/// Changes a story (WORLDBUILDER and above); a new graph, or new schemas, are checked and make
/// a new graph version (sessions keep the one they started with).
pub async fn update(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: Uuid,
    expected_version: Option<i32>,
    change: StoryChange,
) -> AppResult<Stored<StoryBody>> {
    conn.transaction::<_, AppError, _>(async |conn| {
        let current = library::lock::<StoryBody>(conn, viewer, id, expected_version).await?;
        let mut body = current.body.clone();
        if let Some(introduction) = change.introduction {
            body.introduction = Some(introduction);
        }
        let regraph = change.graph.is_some()
            || change.world_schema_id.is_some()
            || change.player_schema_id.is_some();
        if let Some(world) = change.world_schema_id {
            body.world_schema_id = Some(world);
        }
        if let Some(player) = change.player_schema_id {
            body.player_schema_id = Some(player);
        }
        if let Some(graph) = change.graph {
            body.graph = graph;
        }
        if regraph {
            let bound = bound(conn, viewer, &body).await?;
            rules::check(&mut body.graph, &bound.bindings())?;
            body.graph_version += 1;
        }
        let saved =
            library::save(conn, viewer, &current, change.display_name.as_deref(), body).await?;
        if regraph {
            keep_version(conn, viewer, &saved).await?;
        }
        Ok(saved)
    })
    .await
}

async fn keep_version(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    story: &Stored<StoryBody>,
) -> AppResult<()> {
    let graph = serde_json::to_value(&story.body.graph).map_err(AppError::internal)?;
    store::insert_version(
        conn,
        viewer.tenant_id,
        story.id,
        story.body.graph_version,
        &graph,
        viewer.user_id,
    )
    .await
}

/// The graph version `version` of a story the viewer reads.
pub async fn graph_version(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: Uuid,
    version: i32,
) -> AppResult<Option<StoryGraph>> {
    if library::get::<StoryBody>(conn, viewer, id).await?.is_none() {
        return Ok(None);
    }
    match store::version(conn, viewer.tenant_id, id, version).await? {
        Some(graph) => Ok(Some(
            serde_json::from_value(graph).map_err(AppError::internal)?,
        )),
        None => Ok(None),
    }
}
