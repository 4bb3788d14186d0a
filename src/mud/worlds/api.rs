//! GraphQL: worlds and their rooms. Every member of a tenant reads them; WORLDBUILDER and above
//! ("edit world", "create rooms") create and change them.

use async_graphql::{Context, ID, InputObject, Json, Object};
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::service::{self, RoomChange, WorldChange};
use super::store;
use crate::auth::Role;
use crate::context::ContextExt;
use crate::db::loading::load;
use crate::db::pagination::{PageRequest, page_type};
use crate::entities::api::Entity;
use crate::error::AppResult;
use crate::mud::axis::policy::AxisPolicy;
use crate::mud::axis::store as axis_store;
use crate::mud::characters::api::{CharacterPage, list_characters_page};
use crate::mud::characters::store::CharacterFilter;
use crate::mud::loaders::MudLoaders;
use crate::mud::model::{RoomRow, WorldRow};

pub struct World(pub WorldRow);

/// A world a MUD runs (seed 002's worlds).
#[Object]
impl World {
    /// The world's row id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The world's key (seed 002's world_id), unique in the tenant.
    async fn world_id(&self) -> &str {
        &self.0.world_key
    }

    /// The world's display name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// What the world is, in words.
    async fn description(&self) -> &str {
        &self.0.description
    }

    /// The world's configuration (a JSON object).
    async fn config(&self) -> Json<&Value> {
        Json(&self.0.config)
    }

    /// Whether the world is open for play (the catalog's activation flag).
    async fn is_active(&self) -> bool {
        self.0.is_active
    }

    /// The axis policy in force: the axes characters are scored on and how chat moves them.
    async fn axis_policy(&self) -> AppResult<Option<AxisPolicy>> {
        Ok(axis_store::policy_of(&self.0)?.map(|(policy, _)| policy))
    }

    /// The policy's hash: the state version of snapshots made under it.
    async fn axis_policy_version(&self) -> Option<&str> {
        self.0.axis_policy_hash.as_deref()
    }

    /// The UNIVERSE entity the world is set in, while it is live.
    async fn universe(&self, ctx: &Context<'_>) -> AppResult<Option<Entity>> {
        Entity::live(ctx, self.0.universe_row_id).await
    }

    /// The world's rooms by zone and roomId, optionally of one zone.
    async fn rooms(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the rooms of this zone.")] zone_id: Option<String>,
        #[graphql(desc = "How many rooms to skip; 0 when absent.")] offset: Option<i32>,
        #[graphql(desc = "How many rooms to return: 1 to 200, 50 when absent.")] limit: Option<i32>,
    ) -> AppResult<RoomPage> {
        let page = PageRequest::new(offset, limit)?;
        let mut conn = ctx.conn().await?;
        let (total, rows) = store::list_rooms(&mut conn, &self.0, zone_id.as_deref(), page).await?;
        Ok(RoomPage::new(
            total,
            page,
            rows.into_iter().map(Room).collect(),
        ))
    }

    /// One room, by its roomId.
    async fn room(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The room's key in this world.")] room_id: String,
    ) -> AppResult<Option<Room>> {
        let mut conn = ctx.conn().await?;
        Ok(
            store::find_room(&mut conn, self.0.tenant_id, self.0.id, &room_id)
                .await?
                .map(Room),
        )
    }

    /// The world's characters by name (tombstoned ones only when asked).
    async fn characters(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default,
            desc = "Also list tombstoned characters (removed, kept for history)."
        )]
        include_tombstoned: bool,
        #[graphql(desc = "How many characters to skip; 0 when absent.")] offset: Option<i32>,
        #[graphql(desc = "How many characters to return: 1 to 200, 50 when absent.")] limit: Option<
            i32,
        >,
    ) -> AppResult<CharacterPage> {
        let filter = CharacterFilter {
            world_id: Some(self.0.id),
            user_id: None,
            include_tombstoned,
        };
        list_characters_page(ctx, self.0.tenant_id, &filter, offset, limit).await
    }

    /// When the world was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the world was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

pub struct Room(pub RoomRow);

/// A room of a world.
#[Object]
impl Room {
    /// The room's row id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The room's key, unique in its world.
    async fn room_id(&self) -> &str {
        &self.0.room_key
    }

    /// The zone the room belongs to, if any.
    async fn zone_id(&self) -> Option<&str> {
        self.0.zone_key.as_deref()
    }

    /// The room's display name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// What the room looks like, in words.
    async fn description(&self) -> &str {
        &self.0.description
    }

    /// Direction → roomId.
    async fn exits(&self) -> Json<&Value> {
        Json(&self.0.exits)
    }

    /// The world the room is in.
    async fn world(&self, ctx: &Context<'_>) -> AppResult<Option<World>> {
        Ok(load(&ctx.loaders::<MudLoaders>().worlds, self.0.world_id)
            .await?
            .map(|row| World((*row).clone())))
    }
}

page_type! {
    /// A page of worlds, by worldId.
    pub struct WorldPage {
        total,
        worlds: Vec<World>,
    }
}

page_type! {
    /// A page of a world's rooms, by zone and roomId.
    pub struct RoomPage {
        total,
        rooms: Vec<Room>,
    }
}

/// A new world.
#[derive(InputObject)]
pub struct CreateWorldInput {
    /// The world's key: 1 to 64 lower-case letters, digits, `_` or `-`.
    pub world_id: String,
    /// The display name: 1 to 100 characters.
    pub name: String,
    /// What the world is, in words (at most 20,000 characters).
    #[graphql(default)]
    pub description: String,
    /// A JSON object.
    pub config: Option<Json<Value>>,
    /// Open for play at once (default) or not yet.
    #[graphql(default = true)]
    pub is_active: bool,
    /// The entityId of the UNIVERSE entity the world is set in.
    pub universe_id: Option<String>,
}

/// Only what is given changes.
#[derive(InputObject)]
pub struct UpdateWorldInput {
    /// A new display name: 1 to 100 characters.
    pub name: Option<String>,
    /// A new description (at most 20,000 characters).
    pub description: Option<String>,
    /// Replaces the configuration (a JSON object).
    pub config: Option<Json<Value>>,
    /// The entityId of the UNIVERSE entity the world is set in.
    pub universe_id: Option<String>,
    /// Unlinks the world from its universe.
    #[graphql(default)]
    pub detach_universe: bool,
}

/// A new room.
#[derive(InputObject)]
pub struct CreateRoomInput {
    /// The room's key in its world.
    pub room_id: String,
    /// The zone the room belongs to: 1 to 64 lower-case letters, digits, `_` or `-`.
    pub zone_id: Option<String>,
    /// The display name: 1 to 100 characters.
    pub name: String,
    /// What the room looks like, in words (at most 20,000 characters).
    #[graphql(default)]
    pub description: String,
    /// Direction → roomId (a JSON object).
    pub exits: Option<Json<Value>>,
}

/// Only what is given changes.
#[derive(InputObject)]
pub struct UpdateRoomInput {
    /// Moves the room to this zone.
    pub zone_id: Option<String>,
    /// Takes the room out of its zone.
    #[graphql(default)]
    pub clear_zone: bool,
    /// A new display name: 1 to 100 characters.
    pub name: Option<String>,
    /// A new description (at most 20,000 characters).
    pub description: Option<String>,
    /// Replaces the exits: direction → roomId (a JSON object).
    pub exits: Option<Json<Value>>,
}

/// Changes a world of the viewer's tenant; the request forgets the MUD rows it had loaded.
async fn change_world(
    ctx: &Context<'_>,
    world_id: &str,
    change: WorldChange<'_>,
) -> AppResult<World> {
    let viewer = ctx.viewer()?;
    let mut conn = ctx.conn().await?;
    ctx.loaders::<MudLoaders>().forget();
    Ok(World(
        service::update_world(&mut conn, viewer, world_id, change).await?,
    ))
}

#[derive(Default)]
pub struct WorldQuery;

#[Object]
impl WorldQuery {
    /// The tenant's worlds by worldId.
    async fn worlds(
        &self,
        ctx: &Context<'_>,
        #[graphql(default, desc = "Only the worlds open for play.")] only_active: bool,
        #[graphql(desc = "How many worlds to skip; 0 when absent.")] offset: Option<i32>,
        #[graphql(desc = "How many worlds to return: 1 to 200, 50 when absent.")] limit: Option<
            i32,
        >,
    ) -> AppResult<WorldPage> {
        let viewer = ctx.viewer()?;
        let page = PageRequest::new(offset, limit)?;
        let mut conn = ctx.conn().await?;
        let (total, rows) =
            store::list_worlds(&mut conn, viewer.tenant_id, only_active, page).await?;
        Ok(WorldPage::new(
            total,
            page,
            rows.into_iter().map(World).collect(),
        ))
    }

    /// One world of the tenant; null when there is none.
    async fn world(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The world's key (worldId).")] world_id: String,
    ) -> AppResult<Option<World>> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        Ok(store::find_world(&mut conn, viewer.tenant_id, &world_id)
            .await?
            .map(World))
    }
}

#[derive(Default)]
pub struct WorldMutation;

#[Object]
impl WorldMutation {
    /// Creates a world (WORLDBUILDER).
    async fn create_world(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new world.")] input: CreateWorldInput,
    ) -> AppResult<World> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let change = WorldChange {
            world_key: Some(&input.world_id),
            name: Some(&input.name),
            description: Some(&input.description),
            config: input.config.map(|c| c.0),
            is_active: Some(input.is_active),
            universe_id: input.universe_id.as_deref().map(Some),
        };
        let mut conn = ctx.conn().await?;
        Ok(World(
            service::create_world(&mut conn, viewer, change).await?,
        ))
    }

    /// Changes a world (WORLDBUILDER).
    async fn update_world(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The world's key (worldId).")] world_id: String,
        #[graphql(desc = "The changes; what is absent stays.")] input: UpdateWorldInput,
    ) -> AppResult<World> {
        ctx.viewer_with(Role::Worldbuilder)?;
        let change = WorldChange {
            name: input.name.as_deref(),
            description: input.description.as_deref(),
            config: input.config.map(|c| c.0),
            universe_id: if input.detach_universe {
                Some(None)
            } else {
                input.universe_id.as_deref().map(Some)
            },
            ..WorldChange::default()
        };
        change_world(ctx, &world_id, change).await
    }

    /// Opens a world for play or closes it (WORLDBUILDER). Characters cannot enter an inactive
    /// world.
    async fn activate_world(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The world's key (worldId).")] world_id: String,
        #[graphql(
            default = true,
            desc = "True opens the world for play; false closes it."
        )]
        active: bool,
    ) -> AppResult<World> {
        ctx.viewer_with(Role::Worldbuilder)?;
        let change = WorldChange {
            is_active: Some(active),
            ..WorldChange::default()
        };
        change_world(ctx, &world_id, change).await
    }

    /// Adds a room to a world (WORLDBUILDER).
    async fn create_room(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The key (worldId) of the world to add the room to.")] world_id: String,
        #[graphql(desc = "The new room.")] input: CreateRoomInput,
    ) -> AppResult<Room> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let change = RoomChange {
            room_key: Some(&input.room_id),
            zone_key: Some(input.zone_id.as_deref()),
            name: Some(&input.name),
            description: Some(&input.description),
            exits: input.exits.map(|e| e.0),
        };
        let mut conn = ctx.conn().await?;
        let room = service::create_room(&mut conn, viewer, &world_id, change).await?;
        Ok(Room(room))
    }

    /// Changes a room (WORLDBUILDER).
    async fn update_room(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The key (worldId) of the room's world.")] world_id: String,
        #[graphql(desc = "The room's key in its world.")] room_id: String,
        #[graphql(desc = "The changes; what is absent stays.")] input: UpdateRoomInput,
    ) -> AppResult<Room> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let change = RoomChange {
            zone_key: if input.clear_zone {
                Some(None)
            } else {
                input.zone_id.as_deref().map(Some)
            },
            name: input.name.as_deref(),
            description: input.description.as_deref(),
            exits: input.exits.map(|e| e.0),
            ..RoomChange::default()
        };
        let mut conn = ctx.conn().await?;
        ctx.loaders::<MudLoaders>().forget();
        let room = service::update_room(&mut conn, viewer, &world_id, &room_id, change).await?;
        Ok(Room(room))
    }
}
