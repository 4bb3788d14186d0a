//! Player profiles: who the player is in a story (the name `{{user}}` stands for, and how
//! the player is described to the models).

use async_graphql::{ComplexObject, InputObject, SimpleObject};
use serde::{Deserialize, Serialize};

use super::api::library::{library_api, library_writes};
use super::library::Body;
use super::model::Kind;
use super::schemas::checked_text;
use crate::db::validate_text;
use crate::error::{AppError, AppResult};

/// A player profile's content.
#[derive(SimpleObject, InputObject, Serialize, Deserialize, Clone, Debug)]
#[graphql(input_name = "PlayerProfileInput")]
pub struct PlayerProfileBody {
    /// The player's name in the story (what `{{user}}` becomes): 1 to 100 characters.
    pub name: String,
    /// How the player is described to the models (up to 4,000 characters).
    #[serde(default)]
    pub description: Option<String>,
}

impl Body for PlayerProfileBody {
    const KIND: Kind = Kind::PlayerProfile;

    fn check(&mut self) -> AppResult<()> {
        validate_text("name", &self.name, 100)?;
        self.name = self.name.trim().to_owned();
        if self.name.is_empty() {
            return Err(AppError::bad_field("name", "give the player a name"));
        }
        checked_text("description", &mut self.description, 4_000)
    }

    fn default_name(&self) -> Option<String> {
        Some(self.name.clone())
    }
}

library_api! {
    body: PlayerProfileBody, node: PlayerProfile,
    node_doc: "A player profile: who the player is in a story.",
    query: PlayerProfileQuery { one: player_profile, many: player_profiles },
    mutation: PlayerProfileDeletion { delete: delete_player_profile },
    connection: PlayerProfileConnection, PlayerProfileEdge,
    docs: "One player profile of the viewer's tenant; null when there is none.",
        "The tenant's player profiles by name, a page at a time.",
        "Player profiles, a page at a time by cursor.",
        "A player profile and its cursor.",
}

library_writes! {
    body: PlayerProfileBody, node: PlayerProfile,
    mutation: PlayerProfileWrites { create: create_player_profile, update: update_player_profile },
    docs: "Creates a player profile (WORLDBUILDER and above); named after the player when no \
           display name is given.",
        "Changes a player profile (WORLDBUILDER and above).",
}

#[ComplexObject]
impl PlayerProfile {}
