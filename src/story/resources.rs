//! Story resources: what a story is generated from — its concept, its cast, the lorebooks it
//! draws on, the schemas world and player state start from, and the plan once there is one.

use async_graphql::{ComplexObject, Context, ID, InputObject, SimpleObject};
use serde::{Deserialize, Serialize};

use super::api::library::{library_api, library_writes, linked, linked_all};
use super::characters::{CharacterBody, CharacterCard};
use super::library::{Body, MAX_NAME_CHARS, checked_id, checked_ids, uuids};
use super::lorebooks::{Lorebook, LorebookBody};
use super::model::{Kind, Link};
use super::schemas::{StateSchema, StateSchemaBody, checked_text};
use crate::db::validate_text;
use crate::error::{AppError, AppResult};

/// A story resource's content.
#[derive(SimpleObject, InputObject, Serialize, Deserialize, Clone, Debug)]
#[graphql(input_name = "StoryResourceInput")]
pub struct StoryResourceBody {
    /// What the story is about: 1 to 8,000 characters.
    pub story_concept: String,
    /// Its cast: 1 to 50 character cards, in order.
    pub character_ids: Vec<ID>,
    /// The state schema the player's state starts from.
    #[serde(default)]
    pub player_schema_id_seed: Option<ID>,
    /// The state schema the world's state starts from.
    #[serde(default)]
    pub world_schema_id_seed: Option<ID>,
    /// The lorebooks it draws on, in order (up to 20).
    #[serde(default)]
    #[graphql(default)]
    pub lorebook_ids: Vec<ID>,
    /// The story's plan, once planned (up to 50,000 characters).
    #[serde(default)]
    pub planned_story: Option<String>,
}

impl Body for StoryResourceBody {
    const KIND: Kind = Kind::StoryResource;

    fn check(&mut self) -> AppResult<()> {
        validate_text("storyConcept", &self.story_concept, 8_000)?;
        self.story_concept = self.story_concept.trim().to_owned();
        if self.story_concept.is_empty() {
            return Err(AppError::bad_field(
                "storyConcept",
                "say what the story is about",
            ));
        }
        if self.character_ids.is_empty() {
            return Err(AppError::bad_field(
                "characterIds",
                "a story needs at least one character",
            ));
        }
        checked_ids("characterIds", &mut self.character_ids, 50)?;
        checked_ids("lorebookIds", &mut self.lorebook_ids, 20)?;
        for (field, seed) in [
            ("playerSchemaIdSeed", &mut self.player_schema_id_seed),
            ("worldSchemaIdSeed", &mut self.world_schema_id_seed),
        ] {
            if let Some(id) = seed {
                *id = checked_id(field, id)?;
            }
        }
        checked_text("plannedStory", &mut self.planned_story, 50_000)
    }

    fn links(&self) -> Vec<Link> {
        let mut links = Link::each("characterIds", Kind::Character, &uuids(&self.character_ids));
        links.extend(Link::each(
            "lorebookIds",
            Kind::Lorebook,
            &uuids(&self.lorebook_ids),
        ));
        let player: Vec<ID> = self.player_schema_id_seed.iter().cloned().collect();
        links.extend(Link::each(
            "playerSchemaIdSeed",
            Kind::Schema,
            &uuids(&player),
        ));
        let world: Vec<ID> = self.world_schema_id_seed.iter().cloned().collect();
        links.extend(Link::each(
            "worldSchemaIdSeed",
            Kind::Schema,
            &uuids(&world),
        ));
        links
    }

    /// Blank names become the concept (its first line, cut to fit).
    fn default_name(&self) -> Option<String> {
        let first_line = self.story_concept.lines().next().unwrap_or_default();
        let name: String = first_line
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        Some(name.trim().chars().take(MAX_NAME_CHARS).collect())
    }
}

library_api! {
    body: StoryResourceBody, node: StoryResource,
    node_doc: "A story resource: the concept, cast, lorebooks and seed schemas a story is \
               generated from.",
    query: StoryResourceQuery { one: story_resource, many: story_resources },
    mutation: StoryResourceDeletion { delete: delete_story_resource },
    connection: StoryResourceConnection, StoryResourceEdge,
    docs: "One story resource of the viewer's tenant; null when there is none.",
        "The tenant's story resources by name, a page at a time.",
        "Story resources, a page at a time by cursor.",
        "A story resource and its cursor.",
}

library_writes! {
    body: StoryResourceBody, node: StoryResource,
    mutation: StoryResourceWrites { create: create_story_resource, update: update_story_resource },
    docs: "Creates a story resource (WORLDBUILDER and above); named after its concept when no \
           display name is given.",
        "Changes a story resource (WORLDBUILDER and above).",
}

#[ComplexObject]
impl StoryResource {
    /// Its cast, in order.
    async fn characters(&self, ctx: &Context<'_>) -> AppResult<Vec<CharacterCard>> {
        Ok(linked_all::<CharacterBody>(ctx, &self.body.character_ids)
            .await?
            .into_iter()
            .map(CharacterCard::from)
            .collect())
    }

    /// The lorebooks it draws on, in order.
    async fn lorebooks(&self, ctx: &Context<'_>) -> AppResult<Vec<Lorebook>> {
        Ok(linked_all::<LorebookBody>(ctx, &self.body.lorebook_ids)
            .await?
            .into_iter()
            .map(Lorebook::from)
            .collect())
    }

    /// The schema the player's state starts from.
    async fn player_schema_seed(&self, ctx: &Context<'_>) -> AppResult<Option<StateSchema>> {
        schema(ctx, self.body.player_schema_id_seed.as_ref()).await
    }

    /// The schema the world's state starts from.
    async fn world_schema_seed(&self, ctx: &Context<'_>) -> AppResult<Option<StateSchema>> {
        schema(ctx, self.body.world_schema_id_seed.as_ref()).await
    }
}

async fn schema(ctx: &Context<'_>, id: Option<&ID>) -> AppResult<Option<StateSchema>> {
    Ok(match id {
        Some(id) => linked::<StateSchemaBody>(ctx, id)
            .await?
            .map(StateSchema::from),
        None => None,
    })
}
