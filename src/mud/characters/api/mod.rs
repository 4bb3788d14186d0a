//! GraphQL: the characters of worlds (not the CHARACTER entity type). Players create and play
//! their own; ADMIN provisions them for users below them; SUPERUSER removes them. Here the
//! character and its lists (by offset, or by cursor); the changes in `mutations`.

mod mutations;

pub use mutations::CharacterMutation;

use async_graphql::{Context, ID, Json, Object};
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::store::{self, CharacterFilter, CharacterKey};
use crate::accounts::api::User;
use crate::accounts::service as accounts;
use crate::context::ContextExt;
use crate::db::connection::{connection_type, items_select, page_of};
use crate::db::cursor::ConnectionArgs;
use crate::db::keyset::Window;
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

connection_type! {
    /// Characters by name, a page at a time by cursor.
    pub struct CharacterConnection;
    /// A character and its cursor.
    pub struct CharacterEdge(WorldCharacter);
}

/// The characters `window` holds of those `filter` chooses in the tenant, each with its
/// lower-cased name (its key), and their owners loaded up front when asked for (under
/// `characters`, `edges { node }` or `nodes`).
async fn load_characters(
    ctx: &Context<'_>,
    tenant_id: Uuid,
    filter: &CharacterFilter,
    window: &Window<CharacterKey>,
) -> AppResult<(Option<i64>, Vec<(CharacterRow, String)>)> {
    let mut conn = ctx.conn().await?;
    let (total, rows) = store::list_characters(&mut conn, tenant_id, filter, window).await?;
    drop(conn);
    if items_select(&ctx.look_ahead(), "characters", "owner") {
        User::prefetch(ctx, rows.iter().filter_map(|(row, _)| row.user_id)).await?;
    }
    Ok((total, rows))
}

/// A page of characters by offset, with how many there are (owners loaded up front when
/// asked for).
pub async fn list_characters_page(
    ctx: &Context<'_>,
    tenant_id: Uuid,
    filter: &CharacterFilter,
    offset: Option<i32>,
    limit: Option<i32>,
) -> AppResult<CharacterPage> {
    let page = PageRequest::new(offset, limit)?;
    let (total, rows) = load_characters(ctx, tenant_id, filter, &Window::Offset(page)).await?;
    Ok(CharacterPage::new(
        total.unwrap_or_default(),
        page,
        rows.into_iter()
            .map(|(row, _)| WorldCharacter(row))
            .collect(),
    ))
}

/// A page of characters by cursor (owners loaded up front when asked for). The cursors are
/// bound to the filter: one works in any list of the same characters.
pub async fn characters_connection_of(
    ctx: &Context<'_>,
    tenant_id: Uuid,
    filter: &CharacterFilter,
    args: ConnectionArgs,
) -> AppResult<CharacterConnection> {
    let cursors = ctx.cursors(format!(
        "characters/{:?}/{:?}/{}",
        filter.world_id, filter.user_id, filter.include_tombstoned
    ))?;
    let window = cursors.window(args)?;
    let (_, rows) =
        load_characters(ctx, tenant_id, filter, &Window::Keyset(window.clone())).await?;
    let page = page_of(
        rows,
        &window,
        &cursors,
        |(row, lower_name)| (lower_name.clone(), row.id),
        |(row, _)| WorldCharacter(row),
    );
    Ok(page.into())
}

/// The filter the `characters` fields were given: a world by its worldId, an owner by
/// username (or the viewer, `mine`), whether tombstoned ones count.
async fn asked_filter(
    ctx: &Context<'_>,
    world_id: Option<String>,
    username: Option<String>,
    mine: bool,
    include_tombstoned: bool,
) -> AppResult<CharacterFilter> {
    let viewer = ctx.viewer()?;
    let mut filter = CharacterFilter {
        include_tombstoned,
        ..CharacterFilter::default()
    };
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
    Ok(filter)
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
        #[graphql(desc = "How many characters to skip: 0 to 10,000, 0 when absent.")]
        offset: Option<i32>,
        #[graphql(desc = "How many characters to return: 1 to 200, 50 when absent.")] limit: Option<
            i32,
        >,
    ) -> AppResult<CharacterPage> {
        let viewer = ctx.viewer()?;
        let filter = asked_filter(ctx, world_id, username, mine, include_tombstoned).await?;
        list_characters_page(ctx, viewer.tenant_id, &filter, offset, limit).await
    }

    /// The tenant's characters by cursor, by name (ignoring case; of equal names, the lower id
    /// first), filtered as `characters` is.
    #[allow(clippy::too_many_arguments)]
    async fn characters_connection(
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
        let viewer = ctx.viewer()?;
        let filter = asked_filter(ctx, world_id, username, mine, include_tombstoned).await?;
        let args = ConnectionArgs {
            first,
            after,
            last,
            before,
        };
        characters_connection_of(ctx, viewer.tenant_id, &filter, args).await
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
