//! Story sessions: a player's run through a story, pinned to the graph version it started on
//! (edits of the story do not strand it), with the API group and preset its turns use, the
//! player's profile and description, and its state ([`state`]). A session belongs to the
//! member who started it: they (and WORLDBUILDERs) change and delete it; every member reads
//! it. [`service`] starts sessions and changes their variables; [`characters`] are the
//! characters a session brought in; [`messages`] is the transcript; [`turns`] play it;
//! [`snapshot`] is where it stands; [`replies`] the replyer's suggestions; [`api`] is the
//! GraphQL.

pub mod api;
pub mod characters;
pub mod messages;
pub mod replies;
pub mod service;
pub mod snapshot;
pub mod state;
pub mod turns;

use async_graphql::{ComplexObject, ID, SimpleObject};
use serde::{Deserialize, Serialize};

use super::api::library::library_api;
use super::library::{Body, checked_id, uuids};
use super::model::{Kind, Link};
use super::schemas::checked_text;
use crate::auth::Role;
use crate::error::AppResult;
use characters::SessionCharacter;
use state::SessionState;

/// A session's content.
#[derive(SimpleObject, Serialize, Deserialize, Clone, Debug)]
pub struct SessionBody {
    /// The story played.
    pub story_id: ID,
    /// The story's graph version it plays (kept when the story is edited).
    pub graph_version: i32,
    /// Who started it (and may change it).
    pub owner_id: ID,
    /// The player's profile.
    #[serde(default)]
    pub player_profile_id: Option<ID>,
    /// How the player is described to the models (up to 4,000 characters).
    #[serde(default)]
    pub player_description: Option<String>,
    /// The API group its turns call.
    #[serde(default)]
    pub api_group_id: Option<ID>,
    /// The preset its turns use.
    #[serde(default)]
    pub preset_id: Option<ID>,
    /// The world schema its state follows (the story's when it started).
    #[serde(default)]
    pub world_schema_id: Option<ID>,
    /// The player schema its state follows (the story's when it started).
    #[serde(default)]
    pub player_schema_id: Option<ID>,
    /// Where it stands.
    pub state: SessionState,
    /// Characters the director brought in for this session only (the story's cast is not
    /// changed).
    #[serde(default)]
    pub session_characters: Vec<SessionCharacter>,
}

fn optional(slot: &'static str, kind: Kind, id: &Option<ID>) -> Vec<Link> {
    let ids: Vec<ID> = id.iter().cloned().collect();
    Link::each(slot, kind, &uuids(&ids))
}

impl Body for SessionBody {
    const KIND: Kind = Kind::Session;
    const MAX_BYTES: usize = 1024 * 1024;
    const WRITE_ROLE: Role = Role::Player;

    fn check(&mut self) -> AppResult<()> {
        self.story_id = checked_id("storyId", &self.story_id)?;
        for (field, id) in [
            ("playerProfileId", &mut self.player_profile_id),
            ("apiGroupId", &mut self.api_group_id),
            ("presetId", &mut self.preset_id),
            ("worldSchemaId", &mut self.world_schema_id),
            ("playerSchemaId", &mut self.player_schema_id),
        ] {
            if let Some(value) = id {
                *value = checked_id(field, value)?;
            }
        }
        checked_text("playerDescription", &mut self.player_description, 4_000)?;
        characters::check_all(&mut self.session_characters)
    }

    fn links(&self) -> Vec<Link> {
        let mut links = Link::each(
            "storyId",
            Kind::Story,
            &uuids(std::slice::from_ref(&self.story_id)),
        );
        links.extend(optional(
            "playerProfileId",
            Kind::PlayerProfile,
            &self.player_profile_id,
        ));
        links.extend(optional("apiGroupId", Kind::ApiGroup, &self.api_group_id));
        links.extend(optional("presetId", Kind::Preset, &self.preset_id));
        links.extend(optional(
            "worldSchemaId",
            Kind::Schema,
            &self.world_schema_id,
        ));
        links.extend(optional(
            "playerSchemaId",
            Kind::Schema,
            &self.player_schema_id,
        ));
        links
    }
}

library_api! {
    body: SessionBody, node: StorySession,
    node_doc: "A story session: a player's run through a story.",
    query: StorySessionQuery { one: story_session, many: story_sessions },
    mutation: StorySessionDeletion { delete: delete_any_story_session },
    connection: StorySessionConnection, StorySessionEdge,
    docs: "One story session of the viewer's tenant; null when there is none.",
        "The tenant's story sessions by name, a page at a time.",
        "Story sessions, a page at a time by cursor.",
        "A story session and its cursor.",
}

#[ComplexObject]
impl StorySession {}
