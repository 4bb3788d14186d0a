//! GraphQL: the changes to worlds and rooms (WORLDBUILDER and above: "edit world", "create
//! rooms").

use async_graphql::{Context, InputObject, Json, Object};
use serde_json::Value;

use super::{Room, World};
use crate::auth::Role;
use crate::context::ContextExt;
use crate::error::AppResult;
use crate::mud::loaders::MudLoaders;
use crate::mud::worlds::service::{self, RoomChange, WorldChange};

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
