//! GraphQL of sessions beyond their reads: starting one, changing its variables, deleting it.

use async_graphql::{Context, ID, Object};

use super::StorySession;
use super::service::{self, SessionSettings, SessionStart};
use crate::auth::Role;
use crate::context::ContextExt;
use crate::db::parse_id;
use crate::error::AppResult;
use crate::story::loaders::StoryLoaders;
use crate::story::stories::graph::StateOperation;

#[derive(Default)]
pub struct StorySessionWrites;

#[Object]
impl StorySessionWrites {
    /// Starts a session of a story (PLAYER and above): at the start node with its cast and its
    /// on-enter updates, turn 0, on the story's current graph version; the tenant's default
    /// API group and preset unless others are named.
    async fn start_story_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The story.")] story_id: ID,
        #[graphql(desc = "The player's profile.")] player_profile_id: Option<ID>,
        #[graphql(desc = "The API group its turns call.")] api_group_id: Option<ID>,
        #[graphql(desc = "The preset its turns use.")] preset_id: Option<ID>,
    ) -> AppResult<StorySession> {
        let viewer = ctx.viewer_with(Role::Player)?;
        let start = SessionStart {
            story_id: parse_id("storyId", &story_id)?,
            player_profile_id,
            api_group_id,
            preset_id,
        };
        let mut conn = ctx.conn().await?;
        Ok(service::start(&mut conn, viewer, start).await?.into())
    }

    /// Changes a session's variables (its owner, or a WORLDBUILDER): only the six Set/Remove
    /// state operations, each checked against the story's schemas and cast; all or none.
    async fn update_session_variables(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session.")] session_id: ID,
        #[graphql(desc = "Change it only if it is still at this version (CONFLICT otherwise).")]
        expected_version: Option<i32>,
        #[graphql(desc = "The operations, in order.")] operations: Vec<StateOperation>,
    ) -> AppResult<StorySession> {
        let viewer = ctx.viewer_with(Role::Player)?;
        let id = parse_id("sessionId", &session_id)?;
        let mut conn = ctx.conn().await?;
        let stored =
            service::update_variables(&mut conn, viewer, id, expected_version, &operations).await?;
        ctx.loaders::<StoryLoaders>().forget();
        Ok(stored.into())
    }

    /// Sets the session's player profile (its owner, or a WORLDBUILDER); null clears it.
    async fn set_session_player_profile(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session.")] session_id: ID,
        #[graphql(desc = "The player profile; null for none.")] player_profile_id: Option<ID>,
    ) -> AppResult<StorySession> {
        let change = SessionSettings {
            player_profile_id: Some(player_profile_id),
            ..SessionSettings::default()
        };
        settings(ctx, &session_id, change).await
    }

    /// Sets how the player is described to the models in this session (its owner, or a
    /// WORLDBUILDER; up to 4,000 characters); blank clears it.
    async fn update_player_description(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session.")] session_id: ID,
        #[graphql(desc = "The description.")] description: String,
    ) -> AppResult<StorySession> {
        let change = SessionSettings {
            player_description: Some(Some(description)),
            ..SessionSettings::default()
        };
        settings(ctx, &session_id, change).await
    }

    /// Changes the API group or preset the session's turns use (its owner, or a
    /// WORLDBUILDER); what is absent stays.
    async fn update_session_config(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session.")] session_id: ID,
        #[graphql(desc = "Another API group.")] api_group_id: Option<ID>,
        #[graphql(desc = "Another preset.")] preset_id: Option<ID>,
    ) -> AppResult<StorySession> {
        let change = SessionSettings {
            api_group_id,
            preset_id,
            ..SessionSettings::default()
        };
        settings(ctx, &session_id, change).await
    }

    /// Renames a session (its owner, or a WORLDBUILDER; 1 to 200 characters).
    async fn update_story_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session.")] id: ID,
        #[graphql(desc = "Change it only if it is still at this version (CONFLICT otherwise).")]
        expected_version: Option<i32>,
        #[graphql(desc = "Its new name.")] display_name: String,
    ) -> AppResult<StorySession> {
        let viewer = ctx.viewer_with(Role::Player)?;
        let id = parse_id("id", &id)?;
        let mut conn = ctx.conn().await?;
        let stored =
            service::rename(&mut conn, viewer, id, expected_version, &display_name).await?;
        ctx.loaders::<StoryLoaders>().forget();
        Ok(stored.into())
    }

    /// Deletes a session (its owner, or a WORLDBUILDER).
    async fn delete_story_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session.")] id: ID,
    ) -> AppResult<bool> {
        let viewer = ctx.viewer_with(Role::Player)?;
        let id = parse_id("id", &id)?;
        let mut conn = ctx.conn().await?;
        service::delete(&mut conn, viewer, id).await?;
        ctx.loaders::<StoryLoaders>().forget();
        Ok(true)
    }
}

async fn settings(
    ctx: &Context<'_>,
    session_id: &ID,
    change: SessionSettings,
) -> AppResult<StorySession> {
    let viewer = ctx.viewer_with(Role::Player)?;
    let id = parse_id("sessionId", session_id)?;
    let mut conn = ctx.conn().await?;
    let stored = service::update_settings(&mut conn, viewer, id, None, change).await?;
    ctx.loaders::<StoryLoaders>().forget();
    Ok(stored.into())
}
