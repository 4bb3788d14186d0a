//! GraphQL: the characters of worlds (not the CHARACTER entity type). Players create and play
//! their own; ADMIN provisions them for users below them; SUPERUSER removes them.

use async_graphql::{Context, Enum, ID, InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::service::{self, CharacterRequest, Created, Removal, character_or_not_found};
use super::store::{self, CharacterFilter};
use crate::accounts::api::User;
use crate::accounts::service as accounts;
use crate::auth::Role;
use crate::context::ContextExt;
use crate::db::loading::load;
use crate::db::pagination::{PageRequest, page_type};
use crate::db::parse_id;
use crate::error::AppResult;
use crate::mud::loaders::MudLoaders;
use crate::mud::model::CharacterRow;
use crate::mud::worlds::api::{Room, World};
use crate::mud::worlds::service::world_or_not_found;

pub struct WorldCharacter(pub CharacterRow);

/// A character in a world.
#[Object]
impl WorldCharacter {
    /// The character's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Unique in its world (ignoring case).
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The world the character lives in.
    async fn world(&self, ctx: &Context<'_>) -> AppResult<Option<World>> {
        Ok(load(&ctx.loaders::<MudLoaders>().worlds, self.0.world_id)
            .await?
            .map(|row| World((*row).clone())))
    }

    /// Who plays the character (null once tombstoned or their account is deleted).
    async fn owner(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        User::load(ctx, self.0.user_id).await
    }

    /// What the character carries (JSON).
    async fn inventory(&self) -> Json<&Value> {
        Json(&self.0.inventory)
    }

    /// The snapshot the character started from.
    async fn base_state(&self) -> Json<&Value> {
        Json(&self.0.base_state)
    }

    /// The snapshot as it is now.
    async fn current_state(&self) -> Json<&Value> {
        Json(&self.0.current_state)
    }

    /// The seed the character (and its name) were generated from; at least 0.
    async fn state_seed(&self) -> i64 {
        self.0.state_seed
    }

    /// The hash of the axis policy the snapshot was made under.
    async fn state_version(&self) -> Option<&str> {
        self.0.state_version.as_deref()
    }

    /// When the snapshot last changed; null when it never has.
    async fn state_updated_at(&self) -> Option<DateTime<Utc>> {
        self.0.state_updated_at
    }

    /// Where the character is.
    async fn room(&self, ctx: &Context<'_>) -> AppResult<Option<Room>> {
        let Some(room_id) = self.0.room_id else {
            return Ok(None);
        };
        Ok(load(&ctx.loaders::<MudLoaders>().rooms, room_id)
            .await?
            .map(|row| Room((*row).clone())))
    }

    /// When the character last moved.
    async fn moved_at(&self) -> Option<DateTime<Utc>> {
        self.0.moved_at
    }

    /// Removed but kept for history (no owner, renamed).
    async fn is_tombstoned(&self) -> bool {
        self.0.tombstoned_at.is_some()
    }

    /// When the character was tombstoned; null while it is not.
    async fn tombstoned_at(&self) -> Option<DateTime<Utc>> {
        self.0.tombstoned_at
    }

    /// When the character was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the character was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

page_type! {
    /// A page of characters, by name.
    pub struct CharacterPage {
        total,
        characters: Vec<WorldCharacter>,
    }
}

/// A page of characters, with their owners prefetched.
pub async fn list_characters_page(
    ctx: &Context<'_>,
    tenant_id: Uuid,
    filter: &CharacterFilter,
    offset: Option<i32>,
    limit: Option<i32>,
) -> AppResult<CharacterPage> {
    let page = PageRequest::new(offset, limit)?;
    let mut conn = ctx.conn().await?;
    let (total, rows) = store::list_characters(&mut conn, tenant_id, filter, page).await?;
    drop(conn);
    User::prefetch(ctx, rows.iter().filter_map(|r| r.user_id)).await?;
    Ok(CharacterPage::new(
        total,
        page,
        rows.into_iter().map(WorldCharacter).collect(),
    ))
}

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
pub struct CharacterQuery;

#[Object]
impl CharacterQuery {
    #[allow(clippy::too_many_arguments)]
    /// The tenant's characters by name: of one world, one user (by username), or yours
    /// (`mine`); tombstoned ones only when asked.
    async fn characters(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the characters of this world (its worldId).")] world_id: Option<
            String,
        >,
        #[graphql(desc = "Only the characters of the user with this username.")] username: Option<
            String,
        >,
        #[graphql(
            default,
            desc = "Only your own characters (`username` is then ignored)."
        )]
        mine: bool,
        #[graphql(default, desc = "Also list tombstoned characters.")] include_tombstoned: bool,
        #[graphql(desc = "How many characters to skip; 0 when absent.")] offset: Option<i32>,
        #[graphql(desc = "How many characters to return: 1 to 200, 50 when absent.")] limit: Option<
            i32,
        >,
    ) -> AppResult<CharacterPage> {
        let viewer = ctx.viewer()?;
        let mut filter = CharacterFilter {
            include_tombstoned,
            ..CharacterFilter::default()
        };
        {
            let mut conn = ctx.conn().await?;
            if let Some(world_id) = &world_id {
                filter.world_id = Some(
                    world_or_not_found(&mut conn, viewer.tenant_id, world_id)
                        .await?
                        .id,
                );
            }
            if mine {
                filter.user_id = Some(viewer.user_id);
            } else if let Some(username) = &username {
                let user = accounts::find_user_by_username(&mut conn, username).await?;
                // Someone outside the tenant owns no characters here: an empty page.
                filter.user_id = Some(user.map_or(Uuid::nil(), |u| u.id));
            }
        }
        list_characters_page(ctx, viewer.tenant_id, &filter, offset, limit).await
    }

    /// One character of the tenant; null when there is none.
    async fn character(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The character's id.")] id: ID,
    ) -> AppResult<Option<WorldCharacter>> {
        let viewer = ctx.viewer()?;
        let Ok(id) = parse_id("id", &id) else {
            return Ok(None);
        };
        let mut conn = ctx.conn().await?;
        Ok(store::find_character(&mut conn, viewer.tenant_id, id)
            .await?
            .map(WorldCharacter))
    }
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
