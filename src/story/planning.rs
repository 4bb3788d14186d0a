//! Planning a story (seed 003 `story.generate_plan`): the planner agent, through the API group's
//! planner connection and the preset's planner prompt, turns a story resource's concept, cast
//! and lore into a plain-text outline. The outline is returned, not saved: the client keeps it
//! in the resource's `plannedStory` when it wants it.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, SimpleObject};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::characters::CharacterBody;
use super::connections::service as connections;
use super::groups::{AgentRole, ApiGroupBody};
use super::library::{self, uuids};
use super::lorebooks::LorebookBody;
use super::presets::PresetBody;
use super::resources::StoryResourceBody;
use super::store;
use crate::auth::{Role, Viewer};
use crate::context::{ContextExt, Platform};
use crate::db::parse_id;
use crate::error::{AppError, AppResult};
use crate::llm::service::LlmRuntime;

/// A planned outline and what the call cost.
#[derive(SimpleObject)]
pub struct StoryPlan {
    /// The outline, in plain text (save it as the resource's `plannedStory` to keep it).
    pub outline: String,
    /// Tokens of the prompt, as the provider counted them.
    pub prompt_tokens: Option<u32>,
    /// Tokens of the outline, as the provider counted them.
    pub completion_tokens: Option<u32>,
    /// BrainBits taken (0 when not metered).
    pub charged: i64,
    /// The tenant's BrainBits balance afterwards.
    pub balance: i64,
}

/// The API group to call: the one named, else the tenant's default (read for the engine: the
/// caller's right to call it is their right to the planning or the session).
pub(super) async fn group(
    conn: &mut diesel_async::AsyncPgConnection,
    viewer: &Viewer,
    named: Option<Uuid>,
) -> AppResult<ApiGroupBody> {
    let id = match named {
        Some(id) => id,
        None => store::settings(conn, viewer.tenant_id)
            .await?
            .0
            .ok_or_else(|| {
                AppError::bad_field(
                    "apiGroupId",
                    "name an API group (the tenant has no default)",
                )
            })?,
    };
    Ok(library::fetch::<ApiGroupBody>(conn, viewer.tenant_id, id)
        .await?
        .ok_or_else(|| AppError::bad_field("apiGroupId", "no such API group in this tenant"))?
        .body)
}

/// The preset to use: the one named, else the tenant's default, else the built-in prompts.
pub(super) async fn preset(
    conn: &mut diesel_async::AsyncPgConnection,
    viewer: &Viewer,
    named: Option<Uuid>,
) -> AppResult<PresetBody> {
    let id = match named {
        Some(id) => Some(id),
        None => store::settings(conn, viewer.tenant_id).await?.1,
    };
    let mut body = match id {
        Some(id) => {
            library::get::<PresetBody>(conn, viewer, id)
                .await?
                .ok_or_else(|| AppError::bad_field("presetId", "no such preset in this tenant"))?
                .body
        }
        None => PresetBody::default(),
    };
    library::Body::check(&mut body)?;
    Ok(body)
}

/// The planner's context: the concept, the cast and the lore.
async fn context(
    conn: &mut diesel_async::AsyncPgConnection,
    viewer: &Viewer,
    resource: &StoryResourceBody,
) -> AppResult<Map<String, Value>> {
    let cast: Vec<String> = library::fetch_many::<CharacterBody>(
        conn,
        viewer.tenant_id,
        &uuids(&resource.character_ids),
    )
    .await?
    .into_iter()
    .map(|card| {
        let about = [card.body.personality.as_deref(), card.body.style.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        format!("- {}: {about}", card.body.name)
            .trim_end()
            .to_owned()
    })
    .collect();
    let books =
        library::fetch_many::<LorebookBody>(conn, viewer.tenant_id, &uuids(&resource.lorebook_ids))
            .await?
            .into_iter()
            .map(|book| book.body)
            .collect::<Vec<_>>();
    let lore = super::lore::all(&books);
    let mut context = Map::new();
    context.insert(
        "story_concept".into(),
        Value::String(resource.story_concept.clone()),
    );
    context.insert("characters".into(), Value::String(cast.join("\n")));
    context.insert("lore".into(), Value::String(lore));
    Ok(context)
}

/// Plans a story from a resource as the viewer (WORLDBUILDER and above), metered like every
/// call on the studio's provider.
pub async fn plan(
    platform: &Platform,
    runtime: &LlmRuntime,
    viewer: &Viewer,
    resource_id: Uuid,
    api_group_id: Option<Uuid>,
    preset_id: Option<Uuid>,
) -> AppResult<StoryPlan> {
    viewer.require_role(Role::Worldbuilder)?;
    let mut conn = platform.pool.get().await?;
    let resource = library::get::<StoryResourceBody>(&mut conn, viewer, resource_id)
        .await?
        .ok_or_else(|| AppError::not_found("story resource not found"))?;
    let group = group(&mut conn, viewer, api_group_id).await?;
    let mut preset = preset(&mut conn, viewer, preset_id).await?;
    let context = context(&mut conn, viewer, &resource.body).await?;
    let connection_id = parse_id("apiGroupId", group.connection_id(AgentRole::Planner))?;
    drop(conn);
    let request = preset
        .agent_mut(AgentRole::Planner)
        .request(&context, false);
    let (reply, _) = connections::call(
        platform,
        runtime,
        viewer,
        connection_id,
        &request,
        "story_plan",
    )
    .await?;
    let usage = reply.completion.usage;
    Ok(StoryPlan {
        outline: reply.completion.text.trim().to_owned(),
        prompt_tokens: usage.map(|u| u.prompt_tokens),
        completion_tokens: usage.map(|u| u.completion_tokens),
        charged: reply.charged,
        balance: reply.balance,
    })
}

#[derive(Default)]
pub struct StoryPlanMutation;

#[Object]
impl StoryPlanMutation {
    /// Asks the planner for a story's outline from a resource (WORLDBUILDER and above): the API
    /// group's planner connection (the tenant's default group unless one is named) with the
    /// preset's planner prompt (the default preset, else the built-in one). The outline is
    /// returned, not saved.
    async fn generate_story_plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The story resource.")] resource_id: ID,
        #[graphql(desc = "The API group to call.")] api_group_id: Option<ID>,
        #[graphql(desc = "The preset to use.")] preset_id: Option<ID>,
    ) -> AppResult<StoryPlan> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let resource = parse_id("resourceId", &resource_id)?;
        let group = api_group_id
            .map(|id| parse_id("apiGroupId", &id))
            .transpose()?;
        let preset = preset_id.map(|id| parse_id("presetId", &id)).transpose()?;
        let runtime = ctx.part::<Arc<LlmRuntime>>()?;
        plan(ctx.platform(), runtime, viewer, resource, group, preset).await
    }
}
