//! GraphQL: worlds and their rooms. Every member of a tenant reads them (by offset, or by
//! cursor in the `…Connection` fields); WORLDBUILDER and above ("edit world", "create rooms")
//! create and change them (`mutations`).

mod mutations;

pub use mutations::WorldMutation;

use async_graphql::{Context, ID, Json, Object};
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::store::{self, RoomKey, WorldKey};
use crate::context::ContextExt;
use crate::db::connection::{connection_type, page_of};
use crate::db::cursor::ConnectionArgs;
use crate::db::keyset::Window;
use crate::db::loading::load;
use crate::db::pagination::{PageRequest, page_type};
use crate::entities::api::Entity;
use crate::error::AppResult;
use crate::mud::axis::policy::AxisPolicy;
use crate::mud::axis::store as axis_store;
use crate::mud::characters::api::{
    CharacterConnection, CharacterPage, characters_connection_of, list_characters_page,
};
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

    /// The world's rooms by zone (rooms without one last) and roomId, optionally of one zone.
    async fn rooms(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the rooms of this zone.")] zone_id: Option<String>,
        #[graphql(desc = "How many rooms to skip: 0 to 10,000, 0 when absent.")] offset: Option<
            i32,
        >,
        #[graphql(desc = "How many rooms to return: 1 to 200, 50 when absent.")] limit: Option<i32>,
    ) -> AppResult<RoomPage> {
        let page = PageRequest::new(offset, limit)?;
        let (total, rows) =
            load_rooms(ctx, &self.0, zone_id.as_deref(), &Window::Offset(page)).await?;
        Ok(RoomPage::new(
            total.unwrap_or_default(),
            page,
            rows.into_iter().map(Room).collect(),
        ))
    }

    /// The world's rooms by cursor, by zone (rooms without one last) and roomId, optionally
    /// of one zone.
    async fn rooms_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the rooms of this zone.")] zone_id: Option<String>,
        #[graphql(
            desc = "How many rooms to return after `after`: 1 to 200, 50 when neither \
                          `first` nor `last` is given."
        )]
        first: Option<i32>,
        #[graphql(desc = "The cursor to go on after (an `endCursor`); the start when absent.")]
        after: Option<String>,
        #[graphql(desc = "How many rooms to return before `before`: 1 to 200.")] last: Option<i32>,
        #[graphql(
            desc = "The cursor to go back from (a `startCursor`); the end when absent \
                          and `last` is given."
        )]
        before: Option<String>,
    ) -> AppResult<RoomConnection> {
        let cursors = ctx.cursors(format!("rooms/{}/{zone_id:?}", self.0.id))?;
        let window = cursors.window(ConnectionArgs {
            first,
            after,
            last,
            before,
        })?;
        let keyset = Window::Keyset(window.clone());
        let (_, rows) = load_rooms(ctx, &self.0, zone_id.as_deref(), &keyset).await?;
        Ok(page_of(rows, &window, &cursors, store::room_key_of, Room).into())
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
        #[graphql(desc = "How many characters to skip: 0 to 10,000, 0 when absent.")]
        offset: Option<i32>,
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

    /// The world's characters by cursor, by name (ignoring case; of equal names, the lower id
    /// first), tombstoned ones only when asked.
    async fn characters_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default,
            desc = "Also list tombstoned characters (removed, kept for history)."
        )]
        include_tombstoned: bool,
        #[graphql(
            desc = "How many characters to return after `after`: 1 to 200, 50 when \
                          neither `first` nor `last` is given."
        )]
        first: Option<i32>,
        #[graphql(desc = "The cursor to go on after (an `endCursor`); the start when absent.")]
        after: Option<String>,
        #[graphql(desc = "How many characters to return before `before`: 1 to 200.")] last: Option<
            i32,
        >,
        #[graphql(
            desc = "The cursor to go back from (a `startCursor`); the end when absent \
                          and `last` is given."
        )]
        before: Option<String>,
    ) -> AppResult<CharacterConnection> {
        let filter = CharacterFilter {
            world_id: Some(self.0.id),
            user_id: None,
            include_tombstoned,
        };
        let args = ConnectionArgs {
            first,
            after,
            last,
            before,
        };
        characters_connection_of(ctx, self.0.tenant_id, &filter, args).await
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
    /// A page of a world's rooms, by zone (rooms without one last) and roomId.
    pub struct RoomPage {
        total,
        rooms: Vec<Room>,
    }
}

connection_type! {
    /// Worlds by worldId, a page at a time by cursor.
    pub struct WorldConnection;
    /// A world and its cursor.
    pub struct WorldEdge(World);
}

connection_type! {
    /// A world's rooms by zone and roomId, a page at a time by cursor.
    pub struct RoomConnection;
    /// A room and its cursor.
    pub struct RoomEdge(Room);
}

/// The worlds `window` holds of the viewer's tenant's, or of those open for play.
async fn load_worlds(
    ctx: &Context<'_>,
    only_active: bool,
    window: &Window<WorldKey>,
) -> AppResult<(Option<i64>, Vec<WorldRow>)> {
    let viewer = ctx.viewer()?;
    let mut conn = ctx.conn().await?;
    store::list_worlds(&mut conn, viewer.tenant_id, only_active, window).await
}

/// The rooms `window` holds of `world`'s, or of those of one zone.
async fn load_rooms(
    ctx: &Context<'_>,
    world: &WorldRow,
    zone: Option<&str>,
    window: &Window<RoomKey>,
) -> AppResult<(Option<i64>, Vec<RoomRow>)> {
    let mut conn = ctx.conn().await?;
    store::list_rooms(&mut conn, world, zone, window).await
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
        #[graphql(desc = "How many worlds to skip: 0 to 10,000, 0 when absent.")] offset: Option<
            i32,
        >,
        #[graphql(desc = "How many worlds to return: 1 to 200, 50 when absent.")] limit: Option<
            i32,
        >,
    ) -> AppResult<WorldPage> {
        ctx.viewer()?;
        let page = PageRequest::new(offset, limit)?;
        let (total, rows) = load_worlds(ctx, only_active, &Window::Offset(page)).await?;
        Ok(WorldPage::new(
            total.unwrap_or_default(),
            page,
            rows.into_iter().map(World).collect(),
        ))
    }

    /// The tenant's worlds by cursor, by worldId.
    async fn worlds_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(default, desc = "Only the worlds open for play.")] only_active: bool,
        #[graphql(
            desc = "How many worlds to return after `after`: 1 to 200, 50 when neither \
                          `first` nor `last` is given."
        )]
        first: Option<i32>,
        #[graphql(desc = "The cursor to go on after (an `endCursor`); the start when absent.")]
        after: Option<String>,
        #[graphql(desc = "How many worlds to return before `before`: 1 to 200.")] last: Option<i32>,
        #[graphql(
            desc = "The cursor to go back from (a `startCursor`); the end when absent \
                          and `last` is given."
        )]
        before: Option<String>,
    ) -> AppResult<WorldConnection> {
        let cursors = ctx.cursors(format!("worlds/{only_active}"))?;
        let window = cursors.window(ConnectionArgs {
            first,
            after,
            last,
            before,
        })?;
        let (_, rows) = load_worlds(ctx, only_active, &Window::Keyset(window.clone())).await?;
        let key = |world: &WorldRow| (world.world_key.clone(), world.id);
        Ok(page_of(rows, &window, &cursors, key, World).into())
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
