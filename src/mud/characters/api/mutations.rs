//! GraphQL: the changes to characters: creating one (for yourself, or as ADMIN for a member
//! below you), changing it, removing it (SUPERUSER), and entering or leaving a world with it.

use async_graphql::{Context, Enum, ID, InputObject, Json, Object, SimpleObject};
use serde_json::Value;

use super::WorldCharacter;
use crate::auth::Role;
use crate::context::ContextExt;
use crate::error::AppResult;
use crate::mud::characters::service::{
    self, CharacterRequest, Created, Removal, character_or_not_found,
};
use crate::mud::loaders::MudLoaders;

/// A new character.
#[derive(InputObject)]
pub struct CreateCharacterInput {
    /// The world's worldId.
    pub world_id: String,
    /// Who will own it: a member below you (ADMIN); yourself when absent.
    pub target_username: Option<String>,
    /// A name of your own; otherwise one is generated from `seed`.
    pub name: Option<String>,
    /// At least 0. The same seed generates the same name; random when absent.
    pub seed: Option<i64>,
}

/// What `createCharacter` did (seed 002's CreateCharacterResponse).
#[derive(SimpleObject)]
pub struct CreateCharacterPayload {
    /// True when the character was created (a failure is an error instead).
    pub success: bool,
    /// What was done, in words.
    pub message: String,
    /// The new character's id.
    pub character_id: ID,
    /// The new character's name.
    pub character_name: String,
    /// The worldId of its world.
    pub world_id: String,
    /// The seed the name and state were generated from.
    pub seed: i64,
    /// The character's seeded axis snapshot, when its world has an axis policy.
    pub entity_state: Option<Json<Value>>,
    /// The new character.
    pub character: WorldCharacter,
}

/// Only what is given changes.
#[derive(InputObject)]
pub struct UpdateCharacterInput {
    /// Replaces the inventory (JSON, at most 64 KiB).
    pub inventory: Option<Json<Value>>,
    /// Moves the character to this room of its world.
    pub room_id: Option<String>,
}

/// How `manageCharacter` removes a character.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ManageCharacterAction {
    /// Keep its history; detach it from its owner and rename it.
    Tombstone,
    /// Delete it and everything that depends on it.
    Delete,
}

/// What `manageCharacter` did (seed 002's ManageCharacterResponse).
#[derive(SimpleObject)]
pub struct ManageCharacterPayload {
    /// True when the character was removed (a failure is an error instead).
    pub success: bool,
    /// What was done, in words.
    pub message: String,
    /// The id of the character removed.
    pub character_id: ID,
    /// How it was removed.
    pub action: ManageCharacterAction,
}

#[derive(Default)]
pub struct CharacterMutation;

#[Object]
impl CharacterMutation {
    /// Creates a character in a world, for yourself or (ADMIN) for a member below you. Without
    /// a `name`, the built-in generator mints one from `seed` (trying the next seeds while the
    /// world already has that name).
    async fn create_character(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new character.")] input: CreateCharacterInput,
    ) -> AppResult<CreateCharacterPayload> {
        let viewer = ctx.viewer()?;
        let request = CharacterRequest {
            world_id: &input.world_id,
            name: input.name.as_deref(),
            seed: input.seed,
            target_username: input.target_username.as_deref(),
        };
        let mut conn = ctx.conn().await?;
        let Created {
            character: row,
            world,
            seed,
            seeded,
        } = service::create(&mut conn, viewer, request).await?;
        let entity_state = seeded.then(|| Json(row.current_state.clone()));
        Ok(CreateCharacterPayload {
            success: true,
            message: format!("created {} in {}", row.name, world.world_key),
            character_id: ID(row.id.to_string()),
            character_name: row.name.clone(),
            world_id: world.world_key.clone(),
            seed,
            entity_state,
            character: WorldCharacter(row),
        })
    }

    /// Changes a character: its own player, or WORLDBUILDER and above.
    async fn update_character(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The character's id.")] id: ID,
        #[graphql(desc = "The changes; what is absent stays.")] input: UpdateCharacterInput,
    ) -> AppResult<WorldCharacter> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        let inventory = input.inventory.map(|inventory| inventory.0);
        let row =
            service::update(&mut conn, viewer, &id, inventory, input.room_id.as_deref()).await?;
        ctx.loaders::<MudLoaders>().forget();
        Ok(WorldCharacter(row))
    }

    /// Removes a character (SUPERUSER): a tombstone keeps its history, detaches it from its
    /// owner and renames it; delete removes it and what depends on it. Sessions playing it are
    /// unbound.
    async fn manage_character(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The character's id.")] character_id: ID,
        #[graphql(desc = "How to remove it.")] action: ManageCharacterAction,
    ) -> AppResult<ManageCharacterPayload> {
        let viewer = ctx.viewer_with(Role::Superuser)?;
        let mut conn = ctx.conn().await?;
        let character = character_or_not_found(&mut conn, viewer.tenant_id, &character_id).await?;
        let removal = match action {
            ManageCharacterAction::Tombstone => Removal::Tombstone,
            ManageCharacterAction::Delete => Removal::Delete,
        };
        let message = service::remove(&mut conn, &character, removal).await?;
        ctx.loaders::<MudLoaders>().forget();
        Ok(ManageCharacterPayload {
            success: true,
            message,
            character_id,
            action,
        })
    }

    /// Enters a world as one of your characters: binds it to your current session (taking it
    /// over from any other session playing it). Needs a signed-in session, not an API key.
    async fn enter_world(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id of your character to play.")] character_id: ID,
    ) -> AppResult<WorldCharacter> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        Ok(WorldCharacter(
            service::enter(&mut conn, viewer, &character_id).await?,
        ))
    }

    /// Leaves the world: unbinds the character from your current session. Whether one was bound.
    async fn leave_world(&self, ctx: &Context<'_>) -> AppResult<bool> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        service::leave(&mut conn, viewer).await
    }
}
