//! GraphQL of drafts beyond their reads: the steps, and `storyDraftProgress`.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Object, SimpleObject, Subscription};
use futures_util::Stream;
use uuid::Uuid;

use super::StoryDraft;
use super::service::Drafting;
use crate::auth::Role;
use crate::context::ContextExt;
use crate::context::subscriptions::tenant_events;
use crate::db::parse_id;
use crate::error::AppResult;
use crate::events::{EventPayload, kinds};
use crate::llm::service::LlmRuntime;
use crate::story::loaders::StoryLoaders;
use crate::story::stories::Story;
use crate::story::stories::graph::StoryGraph;

fn drafting<'c>(ctx: &'c Context<'_>) -> AppResult<Drafting<'c>> {
    Ok(Drafting {
        platform: ctx.platform(),
        runtime: ctx.part::<Arc<LlmRuntime>>()?,
        viewer: ctx.viewer_with(Role::Worldbuilder)?,
    })
}

fn uuid(field: &'static str, id: Option<ID>) -> AppResult<Option<Uuid>> {
    id.map(|id| parse_id(field, &id)).transpose()
}

/// A draft's resource, API group and preset, read from the arguments.
fn sources(
    resource_id: &ID,
    api_group_id: Option<ID>,
    preset_id: Option<ID>,
) -> AppResult<(Uuid, Option<Uuid>, Option<Uuid>)> {
    Ok((
        parse_id("resourceId", resource_id)?,
        uuid("apiGroupId", api_group_id)?,
        uuid("presetId", preset_id)?,
    ))
}

#[derive(Default)]
pub struct StoryDraftMutation;

#[Object]
impl StoryDraftMutation {
    /// Starts drafting a story from a resource's planned outline (WORLDBUILDER and above): the
    /// outline cut into sections, the first drafted by the architect — the opening nodes, the
    /// start node, the world and player schemas (made unless the resource seeds them) and the
    /// introduction.
    async fn start_story_draft(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The story resource (with its `plannedStory`).")] resource_id: ID,
        #[graphql(desc = "The API group to call; the tenant's default when absent.")]
        api_group_id: Option<ID>,
        #[graphql(desc = "The preset to use; the tenant's default when absent.")] preset_id: Option<
            ID,
        >,
    ) -> AppResult<StoryDraft> {
        let (resource, group, preset) = sources(&resource_id, api_group_id, preset_id)?;
        Ok(drafting(ctx)?.start(resource, group, preset).await?.into())
    }

    /// Drafts the next section (about four nodes, linked in by transition patches; the graph
    /// checked again). CONFLICT when every section is drafted.
    async fn continue_story_draft(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The draft.")] id: ID,
    ) -> AppResult<StoryDraft> {
        let id = parse_id("id", &id)?;
        let stored = drafting(ctx)?.next(id).await?;
        ctx.loaders::<StoryLoaders>().forget();
        Ok(stored.into())
    }

    /// Replaces a draft's graph by hand (checked as drafting checks it).
    async fn update_draft_graph(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The draft.")] id: ID,
        #[graphql(desc = "The graph.")] graph: StoryGraph,
        #[graphql(desc = "Change it only if it is still at this version (CONFLICT otherwise).")]
        expected_version: Option<i32>,
    ) -> AppResult<StoryDraft> {
        let id = parse_id("id", &id)?;
        let stored = drafting(ctx)?
            .update_graph(id, expected_version, graph)
            .await?;
        ctx.loaders::<StoryLoaders>().forget();
        Ok(stored.into())
    }

    /// Makes the story of a fully drafted draft (its graph checked whole, every node reachable
    /// from the start). Asking again gives the same story.
    async fn finalize_story_draft(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The draft.")] id: ID,
    ) -> AppResult<Story> {
        let id = parse_id("id", &id)?;
        let story = drafting(ctx)?.finalize(id).await?;
        ctx.loaders::<StoryLoaders>().forget();
        Ok(story.into())
    }

    /// Deletes a draft and the schemas it made (those a story or another document uses stay).
    async fn delete_story_draft(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The draft.")] id: ID,
    ) -> AppResult<bool> {
        let id = parse_id("id", &id)?;
        drafting(ctx)?.delete(id).await?;
        ctx.loaders::<StoryLoaders>().forget();
        Ok(true)
    }

    /// Drafts a whole story from a resource's planned outline and finalizes it (the steps of
    /// `startStoryDraft`, `continueStoryDraft` and `finalizeStoryDraft` in one call, each
    /// announced on `storyDraftProgress`). A failure leaves the draft as far as it came.
    async fn generate_story(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The story resource (with its `plannedStory`).")] resource_id: ID,
        #[graphql(desc = "The API group to call; the tenant's default when absent.")]
        api_group_id: Option<ID>,
        #[graphql(desc = "The preset to use; the tenant's default when absent.")] preset_id: Option<
            ID,
        >,
    ) -> AppResult<Story> {
        let (resource, group, preset) = sources(&resource_id, api_group_id, preset_id)?;
        let story = drafting(ctx)?.generate(resource, group, preset).await?;
        ctx.loaders::<StoryLoaders>().forget();
        Ok(story.into())
    }
}

/// A step of a draft.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DraftStep {
    /// The draft began: its first section is drafted.
    Started,
    /// One more section is drafted.
    Section,
    /// The story is made.
    Finalized,
    /// A step of `generateStory` failed (`message` says why).
    Failed,
}

/// How far a draft has come.
#[derive(SimpleObject, Clone, Debug)]
pub struct StoryDraftProgress {
    /// The draft.
    pub draft_id: ID,
    /// What happened.
    pub step: DraftStep,
    /// Sections drafted so far.
    pub sections_done: i32,
    /// Sections in all.
    pub sections: i32,
    /// Why it failed (FAILED).
    pub message: Option<String>,
    /// Where it stands among the tenant's events: pass the last one seen as `since` to resume.
    pub sequence: ID,
}

#[derive(Default)]
pub struct StoryDraftSubscription;

#[Subscription]
impl StoryDraftSubscription {
    /// The tenant's drafts as they move on (WORLDBUILDER and above), or one draft's.
    async fn story_draft_progress(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this draft's steps.")] draft_id: Option<ID>,
        #[graphql(desc = "Resume after this `sequence` (the last one seen).")] since: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = StoryDraftProgress> + use<>> {
        ctx.viewer_with(Role::Worldbuilder)?;
        let only = uuid("draftId", draft_id)?;
        Ok(
            tenant_events(ctx, since, kinds::STORY_DRAFT_PROGRESS, move |event| {
                let EventPayload::StoryDraftProgress(progress) = &event.payload else {
                    return None;
                };
                if only.is_some_and(|id| id != progress.draft_id) {
                    return None;
                }
                let step = match progress.step.as_str() {
                    "started" => DraftStep::Started,
                    "section" => DraftStep::Section,
                    "finalized" => DraftStep::Finalized,
                    _ => DraftStep::Failed,
                };
                Some(StoryDraftProgress {
                    draft_id: ID(progress.draft_id.to_string()),
                    step,
                    sections_done: progress.sections_done,
                    sections: progress.sections,
                    message: progress.message.clone(),
                    sequence: ID(event.seq.to_string()),
                })
            })
            .await?,
        )
    }
}
