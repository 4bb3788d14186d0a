//! GraphQL of stories beyond the library's reads and delete: creating one from a resource
//! with its graph, changing it (a new graph makes a new version), and reading an earlier
//! graph version.

use async_graphql::{Context, ID, InputObject, Object};

use super::graph::StoryGraph;
use super::service::{self, StoryChange};
use super::{Story, StoryBody};
use crate::auth::Role;
use crate::context::ContextExt;
use crate::db::parse_id;
use crate::error::AppResult;
use crate::story::loaders::StoryLoaders;

/// A new story.
#[derive(InputObject)]
pub struct CreateStoryInput {
    /// The story resource it is made from (its cast is the story's).
    pub resource_id: ID,
    /// What the player reads first (up to 8,000 characters).
    pub introduction: Option<String>,
    /// The state schema the world's state follows.
    pub world_schema_id: Option<ID>,
    /// The state schema the player's state follows.
    pub player_schema_id: Option<ID>,
    /// Its graph of scenes.
    pub graph: StoryGraph,
}

#[derive(Default)]
pub struct StoryGraphQuery;

#[Object]
impl StoryGraphQuery {
    /// A story's graph as one of its versions had it; null when there is no such version.
    async fn story_graph_version(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The story's id.")] story_id: ID,
        #[graphql(desc = "The graph version (1 is the first).")] version: i32,
    ) -> AppResult<Option<StoryGraph>> {
        let viewer = ctx.viewer()?;
        let id = parse_id("storyId", &story_id)?;
        let mut conn = ctx.conn().await?;
        service::graph_version(&mut conn, viewer, id, version).await
    }
}

#[derive(Default)]
pub struct StoryWrites;

#[Object]
impl StoryWrites {
    /// Creates a story (WORLDBUILDER and above). Its graph must have nodes with unique ids, a
    /// start node, transitions to nodes, every node reachable from the start, casts within the
    /// resource's characters, and condition and update keys of the bound schemas.
    async fn create_story(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Its name in lists: 1 to 200 characters.")] display_name: String,
        #[graphql(desc = "The story.")] input: CreateStoryInput,
    ) -> AppResult<Story> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let body = StoryBody {
            resource_id: input.resource_id,
            introduction: input.introduction,
            world_schema_id: input.world_schema_id,
            player_schema_id: input.player_schema_id,
            graph: input.graph,
            graph_version: 1,
        };
        let mut conn = ctx.conn().await?;
        Ok(
            service::create(&mut conn, viewer, None, Some(&display_name), body)
                .await?
                .into(),
        )
    }

    /// Changes a story (WORLDBUILDER and above). A new graph or new schemas are checked as
    /// `createStory` checks them and make a new graph version; sessions stay on theirs.
    #[allow(clippy::too_many_arguments)]
    async fn update_story(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Its id.")] id: ID,
        #[graphql(desc = "Change it only if it is still at this version (CONFLICT otherwise).")]
        expected_version: Option<i32>,
        #[graphql(desc = "A new name: 1 to 200 characters.")] display_name: Option<String>,
        #[graphql(desc = "A new introduction.")] introduction: Option<String>,
        #[graphql(desc = "Another world schema.")] world_schema_id: Option<ID>,
        #[graphql(desc = "Another player schema.")] player_schema_id: Option<ID>,
        #[graphql(desc = "A new graph.")] graph: Option<StoryGraph>,
    ) -> AppResult<Story> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let id = parse_id("id", &id)?;
        let change = StoryChange {
            display_name,
            introduction,
            world_schema_id,
            player_schema_id,
            graph,
        };
        let mut conn = ctx.conn().await?;
        let stored = service::update(&mut conn, viewer, id, expected_version, change).await?;
        ctx.loaders::<StoryLoaders>().forget();
        Ok(stored.into())
    }
}
