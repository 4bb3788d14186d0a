//! Stories: a story resource made playable — its introduction, the state schemas its world
//! and player follow, and its graph of scenes ([`graph`]). Every graph a story has had is kept
//! by version ([`store`]): editing the graph makes a new version, and sessions stay on the one
//! they started with. [`rules`] are what a graph must keep; [`service`] checks a graph against the story's cast and schemas on every
//! write; [`api`] is the GraphQL.

pub mod api;
pub mod graph;
pub mod rules;
pub mod service;
pub mod store;

use async_graphql::{ComplexObject, ID, SimpleObject};
use serde::{Deserialize, Serialize};

use super::api::library::library_api;
use super::library::{Body, checked_id, uuids};
use super::model::{Kind, Link};
use super::schemas::checked_text;
use crate::error::AppResult;
use graph::StoryGraph;

/// A story's content.
#[derive(SimpleObject, Serialize, Deserialize, Clone, Debug)]
pub struct StoryBody {
    /// The story resource it was made from (its cast is the story's).
    pub resource_id: ID,
    /// What the player reads first (up to 8,000 characters).
    #[serde(default)]
    pub introduction: Option<String>,
    /// The state schema the world's state follows.
    #[serde(default)]
    pub world_schema_id: Option<ID>,
    /// The state schema the player's state follows.
    #[serde(default)]
    pub player_schema_id: Option<ID>,
    /// Its graph as it stands.
    pub graph: StoryGraph,
    /// Counts the graph's versions from 1 (`storyGraphVersion` reads an earlier one).
    pub graph_version: i32,
}

impl Body for StoryBody {
    const KIND: Kind = Kind::Story;
    const MAX_BYTES: usize = 2 * 1024 * 1024;

    fn check(&mut self) -> AppResult<()> {
        self.resource_id = checked_id("resourceId", &self.resource_id)?;
        for (field, id) in [
            ("worldSchemaId", &mut self.world_schema_id),
            ("playerSchemaId", &mut self.player_schema_id),
        ] {
            if let Some(value) = id {
                *value = checked_id(field, value)?;
            }
        }
        checked_text("introduction", &mut self.introduction, 8_000)
    }

    fn links(&self) -> Vec<Link> {
        let mut links = Link::each(
            "resourceId",
            Kind::StoryResource,
            &uuids(std::slice::from_ref(&self.resource_id)),
        );
        let world: Vec<ID> = self.world_schema_id.iter().cloned().collect();
        links.extend(Link::each("worldSchemaId", Kind::Schema, &uuids(&world)));
        let player: Vec<ID> = self.player_schema_id.iter().cloned().collect();
        links.extend(Link::each("playerSchemaId", Kind::Schema, &uuids(&player)));
        links
    }
}

library_api! {
    body: StoryBody, node: Story,
    node_doc: "A story: a resource made playable, with its schemas and its graph of scenes.",
    query: StoriesQuery { one: story, many: stories },
    mutation: StoryDeletion { delete: delete_story },
    connection: StoryConnection, StoryEdge,
    docs: "One story of the viewer's tenant; null when there is none.",
        "The tenant's stories by name, a page at a time.",
        "Stories, a page at a time by cursor.",
        "A story and its cursor.",
}

#[ComplexObject]
impl Story {}
