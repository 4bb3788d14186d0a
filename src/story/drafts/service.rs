//! The steps of a draft (WORLDBUILDER and above): start (the plan cut into sections, the
//! first drafted, the schemas it needs made), continue (the next section merged in), a graph
//! edited by hand, finalize (the story made, once: asking again gives the same story), delete
//! (with the schemas it made, unless a story uses them), and generate (all of it in one call).
//! Each step is written in one transaction after the architect answered (no connection is
//! held while it thinks), checking the draft did not change meanwhile, and is announced on
//! `storyDraftProgress`.

use async_graphql::ID;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::architect::{Architect, SectionAnswer};
use super::{DraftStatus, StoryDraftBody, sections};
use crate::auth::{Role, Viewer};
use crate::context::Platform;
use crate::db::parse_id;
use crate::error::{AppError, AppResult};
use crate::events::{DraftProgress, EventPayload};
use crate::llm::service::LlmRuntime;
use crate::story::characters::CharacterBody;
use crate::story::groups::AgentRole;
use crate::story::library::{self, Body, Stored, uuids};
use crate::story::lore;
use crate::story::lorebooks::LorebookBody;
use crate::story::planning::{group, preset};
use crate::story::resources::StoryResourceBody;
use crate::story::schemas::StateSchemaBody;
use crate::story::store;
use crate::story::stories::StoryBody;
use crate::story::stories::graph::{StoryGraph, StoryNode};
use crate::story::stories::rules::check_shape;
use crate::story::stories::service::{self as stories, Bound, bound};

/// Who drafts, with what.
pub struct Drafting<'a> {
    pub platform: &'a Platform,
    pub runtime: &'a LlmRuntime,
    pub viewer: &'a Viewer,
}

fn id(uuid: Uuid) -> ID {
    ID(uuid.to_string())
}

fn optional(id: Option<&ID>) -> Option<Uuid> {
    id.and_then(|id| Uuid::parse_str(id).ok())
}

/// A node's characters named by id (the architect may write names).
fn by_id(nodes: &mut [StoryNode], cards: &[Stored<CharacterBody>]) {
    for node in nodes {
        for character in &mut node.characters {
            if let Some(card) = cards.iter().find(|card| {
                card.id.to_string() == character.0
                    || card.body.name.eq_ignore_ascii_case(character.0.trim())
            }) {
                *character = id(card.id);
            }
        }
    }
}

/// The graph with `answer` merged in: its nodes added (new ids only), its patches made.
fn merged(
    mut graph: StoryGraph,
    mut answer: SectionAnswer,
    cards: &[Stored<CharacterBody>],
) -> AppResult<StoryGraph> {
    by_id(&mut answer.nodes, cards);
    if answer.nodes.is_empty() {
        return Err(AppError::bad_input("the section adds no node"));
    }
    for node in answer.nodes {
        if graph.nodes.iter().any(|n| n.id == node.id) {
            return Err(AppError::bad_input(format!(
                "the node id `{}` is taken",
                node.id
            )));
        }
        graph.nodes.push(node);
    }
    if graph.start_node.is_empty() {
        graph.start_node = answer
            .start_node
            .or_else(|| graph.nodes.first().map(|n| n.id.clone()))
            .unwrap_or_default();
    }
    for patch in answer.transition_patches {
        let node = graph
            .nodes
            .iter_mut()
            .find(|n| n.id == patch.node_id)
            .ok_or_else(|| AppError::bad_input(format!("no node `{}` to patch", patch.node_id)))?;
        node.transitions.extend(patch.add_transitions);
    }
    Ok(graph)
}

/// What a draft step works with: the resource, the cast's cards and schemas, the architect.
struct Bench<'a> {
    resource: Stored<StoryResourceBody>,
    bound: Bound,
    architect: Architect<'a>,
    group_id: Uuid,
    preset_id: Option<Uuid>,
}

impl<'a> Drafting<'a> {
    /// Loads what a step needs (the connection is let go before the architect is called).
    async fn bench(
        &self,
        resource_id: Uuid,
        group_id: Option<Uuid>,
        preset_id: Option<Uuid>,
        schemas: (Option<ID>, Option<ID>),
        plan: &str,
    ) -> AppResult<Bench<'a>> {
        let viewer = self.viewer;
        let mut conn = self.platform.pool.get().await?;
        let conn = &mut conn;
        let resource = library::get::<StoryResourceBody>(conn, viewer, resource_id)
            .await?
            .ok_or_else(|| AppError::not_found("story resource not found"))?;
        let (default_group, default_preset) = store::settings(conn, viewer.tenant_id).await?;
        let group_id = group_id.or(default_group).ok_or_else(|| {
            AppError::bad_field(
                "apiGroupId",
                "name an API group (the tenant has no default)",
            )
        })?;
        let preset_id = preset_id.or(default_preset);
        let group = group(conn, viewer, Some(group_id)).await?;
        let preset = preset(conn, viewer, preset_id).await?;
        let story = StoryBody {
            resource_id: id(resource_id),
            introduction: None,
            world_schema_id: schemas.0,
            player_schema_id: schemas.1,
            graph: StoryGraph {
                start_node: String::new(),
                nodes: Vec::new(),
            },
            graph_version: 0,
        };
        let bound = bound(conn, viewer, &story).await?;
        let books: Vec<LorebookBody> =
            library::fetch_many::<LorebookBody>(conn, viewer.tenant_id, &bound.lorebook_ids)
                .await?
                .into_iter()
                .map(|book| book.body)
                .collect();
        let cast: Vec<String> = bound
            .cards
            .iter()
            .map(|card| {
                let about = card.body.personality.as_deref().unwrap_or_default();
                format!("- {} (id {}): {about}", card.body.name, card.id)
            })
            .collect();
        let mut context = Map::new();
        context.insert("story_plan".into(), Value::String(plan.to_owned()));
        context.insert("characters".into(), Value::String(cast.join("\n")));
        context.insert("lore".into(), Value::String(lore::all(&books)));
        context.insert(
            "state_schemas".into(),
            json!({ "world": bound.world, "player": bound.player }),
        );
        let architect = preset
            .agent(AgentRole::Architect)
            .cloned()
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("a preset without its architect")))?;
        Ok(Bench {
            architect: Architect {
                platform: self.platform,
                runtime: self.runtime,
                viewer,
                connection_id: parse_id("apiGroupId", group.connection_id(AgentRole::Architect))?,
                preset: architect,
                context,
            },
            resource,
            bound,
            group_id,
            preset_id,
        })
    }

    fn announce(&self, draft: &Stored<StoryDraftBody>, step: &str, message: Option<String>) {
        self.platform.events.publish(
            self.viewer.tenant_id,
            Some(self.viewer.user_id),
            EventPayload::StoryDraftProgress(DraftProgress {
                draft_id: draft.id,
                step: step.to_owned(),
                sections_done: draft.body.sections_done,
                sections: i32::try_from(draft.body.sections.len()).unwrap_or(i32::MAX),
                message,
            }),
        );
    }

    /// Starts a draft of a resource's planned outline: its first section drafted.
    pub async fn start(
        &self,
        resource_id: Uuid,
        group_id: Option<Uuid>,
        preset_id: Option<Uuid>,
    ) -> AppResult<Stored<StoryDraftBody>> {
        self.viewer.require_role(Role::Worldbuilder)?;
        // The outline and the seed schemas, in one read of the resource.
        let (plan, seeds) = {
            let mut conn = self.platform.pool.get().await?;
            let resource = library::get::<StoryResourceBody>(&mut conn, self.viewer, resource_id)
                .await?
                .ok_or_else(|| AppError::not_found("story resource not found"))?
                .body;
            let plan = resource
                .planned_story
                .filter(|plan| !plan.trim().is_empty())
                .ok_or_else(|| {
                    AppError::bad_field(
                        "resourceId",
                        "the resource has no planned story: ask generateStoryPlan and keep its \
                         outline as the resource's plannedStory",
                    )
                })?;
            (
                plan,
                (
                    resource.world_schema_id_seed,
                    resource.player_schema_id_seed,
                ),
            )
        };
        let parts = sections(&plan);
        if parts.is_empty() {
            return Err(AppError::bad_field(
                "resourceId",
                "the planned story is empty",
            ));
        }
        let bench = self
            .bench(resource_id, group_id, preset_id, seeds.clone(), &plan)
            .await?;
        let empty = StoryGraph {
            start_node: String::new(),
            nodes: Vec::new(),
        };
        let made = bench
            .architect
            .section(0, parts.len(), &parts[0], &empty, |mut answer| {
                // Seed schemas stay; the architect's are made only where there is none.
                let mut world = bench.bound.world.clone().or(answer.world_schema.take());
                let mut player = bench.bound.player.clone().or(answer.player_schema.take());
                for schema in [&mut world, &mut player].into_iter().flatten() {
                    schema.check()?;
                }
                let introduction = answer.introduction.take();
                let summary = answer.section_summary.take();
                let mut graph = merged(empty.clone(), answer, &bench.bound.cards)?;
                let bindings = crate::story::stories::rules::Bindings {
                    cast: &bench.bound.cast,
                    world: world.as_ref(),
                    player: player.as_ref(),
                    characters: &bench.bound.characters,
                };
                check_shape(&mut graph, &bindings)?;
                Ok((graph, world, player, introduction, summary))
            })
            .await?;
        let (graph, world, player, introduction, summary) = made;
        let name = bench.resource.display_name.clone();
        let mut conn = self.platform.pool.get().await?;
        let stored = conn
            .transaction::<_, AppError, _>(async |conn| {
                let mut generated = Vec::new();
                let mut made_schema = async |conn: &mut AsyncPgConnection,
                                             seed: Option<ID>,
                                             schema: Option<StateSchemaBody>,
                                             whose: &str|
                       -> AppResult<Option<ID>> {
                    match (seed, schema) {
                        (Some(seed), _) => Ok(Some(seed)),
                        (None, Some(schema)) => {
                            let label = format!("{name} ({whose})");
                            let stored =
                                library::insert(conn, self.viewer, Some(&label), schema).await?;
                            generated.push(id(stored.id));
                            Ok(Some(id(stored.id)))
                        }
                        (None, None) => Ok(None),
                    }
                };
                let world_schema_id = made_schema(conn, seeds.0.clone(), world, "world").await?;
                let player_schema_id = made_schema(conn, seeds.1.clone(), player, "player").await?;
                let body = StoryDraftBody {
                    resource_id: id(resource_id),
                    api_group_id: Some(id(bench.group_id)),
                    preset_id: bench.preset_id.map(id),
                    status: if parts.len() == 1 {
                        DraftStatus::ReadyToFinalize
                    } else {
                        DraftStatus::Building
                    },
                    plan: plan.clone(),
                    sections: parts.clone(),
                    sections_done: 1,
                    summaries: summary.into_iter().collect(),
                    introduction,
                    graph,
                    world_schema_id,
                    player_schema_id,
                    generated_schema_ids: generated,
                    story_id: None,
                };
                library::insert(conn, self.viewer, Some(&name), body).await
            })
            .await?;
        self.announce(&stored, "started", None);
        Ok(stored)
    }

    /// Drafts the next section of a draft still building.
    pub async fn next(&self, draft_id: Uuid) -> AppResult<Stored<StoryDraftBody>> {
        self.viewer.require_role(Role::Worldbuilder)?;
        let draft = {
            let mut conn = self.platform.pool.get().await?;
            library::get::<StoryDraftBody>(&mut conn, self.viewer, draft_id)
                .await?
                .ok_or_else(|| AppError::not_found("story draft not found"))?
        };
        if draft.body.status != DraftStatus::Building {
            return Err(AppError::conflict(
                "every section of the draft is drafted already",
            ));
        }
        let body = &draft.body;
        let index = usize::try_from(body.sections_done)
            .unwrap_or(0)
            .min(body.sections.len() - 1);
        let bench = self
            .bench(
                parse_id("resourceId", &body.resource_id)?,
                optional(body.api_group_id.as_ref()),
                optional(body.preset_id.as_ref()),
                (body.world_schema_id.clone(), body.player_schema_id.clone()),
                &body.plan,
            )
            .await?;
        let made = bench
            .architect
            .section(
                index,
                body.sections.len(),
                &body.sections[index],
                &body.graph,
                |mut answer| {
                    let summary = answer.section_summary.take();
                    let mut graph = merged(body.graph.clone(), answer, &bench.bound.cards)?;
                    check_shape(&mut graph, &bench.bound.bindings())?;
                    Ok((graph, summary))
                },
            )
            .await?;
        let (graph, summary) = made;
        let mut next = draft.body.clone();
        next.graph = graph;
        next.summaries.extend(summary);
        next.sections_done += 1;
        if usize::try_from(next.sections_done).unwrap_or(0) >= next.sections.len() {
            next.status = DraftStatus::ReadyToFinalize;
        }
        let stored = self.save(draft_id, draft.version, next).await?;
        self.announce(&stored, "section", None);
        Ok(stored)
    }

    /// Saves a draft still at `version` (CONFLICT when it moved on).
    async fn save(
        &self,
        draft_id: Uuid,
        version: i32,
        body: StoryDraftBody,
    ) -> AppResult<Stored<StoryDraftBody>> {
        let mut conn = self.platform.pool.get().await?;
        conn.transaction::<_, AppError, _>(async |conn| {
            let current =
                library::lock::<StoryDraftBody>(conn, self.viewer, draft_id, Some(version)).await?;
            library::save(conn, self.viewer, &current, None, body).await
        })
        .await
    }

    /// Replaces a draft's graph by hand (checked as drafting checks it).
    pub async fn update_graph(
        &self,
        draft_id: Uuid,
        expected_version: Option<i32>,
        mut graph: StoryGraph,
    ) -> AppResult<Stored<StoryDraftBody>> {
        self.viewer.require_role(Role::Worldbuilder)?;
        let mut conn = self.platform.pool.get().await?;
        conn.transaction::<_, AppError, _>(async |conn| {
            let current =
                library::lock::<StoryDraftBody>(conn, self.viewer, draft_id, expected_version)
                    .await?;
            if current.body.status == DraftStatus::Finalized {
                return Err(AppError::conflict(
                    "the draft is a story now: edit the story",
                ));
            }
            let story = draft_story(&current.body);
            let bound = bound(conn, self.viewer, &story).await?;
            check_shape(&mut graph, &bound.bindings())?;
            let mut body = current.body.clone();
            body.graph = graph;
            library::save(conn, self.viewer, &current, None, body).await
        })
        .await
    }

    /// Makes the story of a drafted draft; a finalized draft gives its story again.
    pub async fn finalize(&self, draft_id: Uuid) -> AppResult<Stored<StoryBody>> {
        self.viewer.require_role(Role::Worldbuilder)?;
        let mut conn = self.platform.pool.get().await?;
        let (story, draft) = conn
            .transaction::<_, AppError, _>(async |conn| {
                let current =
                    library::lock::<StoryDraftBody>(conn, self.viewer, draft_id, None).await?;
                match current.body.status {
                    DraftStatus::Finalized => {
                        let story_id = optional(current.body.story_id.as_ref())
                            .ok_or_else(|| AppError::not_found("the draft's story is gone"))?;
                        let story = library::get::<StoryBody>(conn, self.viewer, story_id)
                            .await?
                            .ok_or_else(|| AppError::not_found("the draft's story was deleted"))?;
                        return Ok((story, None));
                    }
                    DraftStatus::Building => {
                        let left = current.body.sections.len() as i32 - current.body.sections_done;
                        return Err(AppError::conflict(format!(
                            "{left} section(s) remain: continue the draft first"
                        )));
                    }
                    DraftStatus::ReadyToFinalize => {}
                }
                let story = stories::create(
                    conn,
                    self.viewer,
                    None,
                    Some(&current.display_name),
                    draft_story(&current.body),
                )
                .await?;
                let mut body = current.body.clone();
                body.status = DraftStatus::Finalized;
                body.story_id = Some(id(story.id));
                let saved = library::save(conn, self.viewer, &current, None, body).await?;
                Ok((story, Some(saved)))
            })
            .await?;
        if let Some(draft) = draft {
            self.announce(&draft, "finalized", None);
        }
        Ok(story)
    }

    /// Deletes a draft and the schemas it made that no story or other document uses.
    pub async fn delete(&self, draft_id: Uuid) -> AppResult<()> {
        self.viewer.require_role(Role::Worldbuilder)?;
        let mut conn = self.platform.pool.get().await?;
        conn.transaction::<_, AppError, _>(async |conn| {
            let current =
                library::lock::<StoryDraftBody>(conn, self.viewer, draft_id, None).await?;
            library::delete::<StoryDraftBody>(conn, self.viewer, draft_id).await?;
            for schema in uuids(&current.body.generated_schema_ids) {
                // Each in its own savepoint: one still in use stays, and the rest go.
                match library::delete::<StateSchemaBody>(conn, self.viewer, schema).await {
                    Ok(()) | Err(AppError::InUse { .. } | AppError::NotFound(_)) => {}
                    Err(other) => return Err(other),
                }
            }
            Ok(())
        })
        .await
    }

    /// The whole loop: start, every section, finalize. A failure is announced with the
    /// draft kept as far as it came (continue or delete it).
    pub async fn generate(
        &self,
        resource_id: Uuid,
        group_id: Option<Uuid>,
        preset_id: Option<Uuid>,
    ) -> AppResult<Stored<StoryBody>> {
        let mut draft = self.start(resource_id, group_id, preset_id).await?;
        while draft.body.status == DraftStatus::Building {
            draft = match self.next(draft.id).await {
                Ok(next) => next,
                Err(error) => {
                    self.announce(&draft, "failed", Some(error.message()));
                    return Err(error);
                }
            };
        }
        self.finalize(draft.id).await
    }
}

/// The story a draft makes.
fn draft_story(draft: &StoryDraftBody) -> StoryBody {
    StoryBody {
        resource_id: draft.resource_id.clone(),
        introduction: draft.introduction.clone(),
        world_schema_id: draft.world_schema_id.clone(),
        player_schema_id: draft.player_schema_id.clone(),
        graph: draft.graph.clone(),
        graph_version: 0,
    }
}
