//! GraphQL: the operations side of the MUD (seed 002) for ADMIN ("view logs", "kick"): live
//! sessions and connections (by offset, or by cursor in their `…Connection` fields), where
//! characters are, each world's activity, and kicks that end sessions and close their live
//! sockets on every node.

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::live::{AdminSessionConnection, AdminSessionPage, session_connection, session_page};
use crate::auth::Role;
use crate::context::ContextExt;
use crate::db::cursor::ConnectionArgs;
use crate::db::keyset::Window;
use crate::db::pagination::{PageRequest, page_type};
use crate::db::parse_id;
use crate::error::AppResult;
use crate::mud::characters::service::character_or_not_found;
use crate::mud::sessions::kicks;
use crate::mud::sessions::store::{self as store, SessionOrder};

/// How many character sessions `worldStatus` lists per world.
const SESSIONS_PER_WORLD: usize = 200;

/// Where a character is (seed 002's player locations).
#[derive(SimpleObject)]
pub struct PlayerLocation {
    /// The character's id.
    pub character_id: ID,
    /// The character's name.
    pub character_name: String,
    /// The worldId of the world it is in.
    pub world_id: String,
    /// The zone of its room; null when the room has none.
    pub zone_id: Option<String>,
    /// The roomId of the room it is in.
    pub room_id: String,
    /// When the character moved there.
    pub updated_at: Option<DateTime<Utc>>,
}

page_type! {
    /// A page of character locations, by world and name.
    pub struct PlayerLocationPage {
        total,
        locations: Vec<PlayerLocation>,
    }
}

/// A character session in a world, kickable (seed 002's WorldActiveCharacterSession).
#[derive(SimpleObject)]
pub struct WorldActiveCharacterSession {
    /// The id of the character played.
    pub character_id: ID,
    /// The name of the character played.
    pub character_name: String,
    /// The username of the player.
    pub username: String,
    /// The session's id (`kickSession` takes it).
    pub session_id: ID,
    /// When the session was last active.
    pub last_activity: DateTime<Utc>,
    /// tui, browser or api.
    pub client_type: String,
}

/// A world's operations row (seed 002's DatabaseWorldStatusRow).
#[derive(SimpleObject)]
pub struct WorldStatus {
    /// The world's key.
    pub world_id: String,
    /// The world's display name.
    pub name: String,
    /// The world's description.
    pub description: String,
    /// The catalog's activation flag.
    pub is_active: bool,
    /// Whether any character session is live in the world.
    pub is_online: bool,
    /// How many live sessions play a character in the world.
    pub active_session_count: i64,
    /// How many characters those sessions play.
    pub active_character_count: i64,
    /// When a session in the world was last active; null when none is live.
    pub last_activity: Option<DateTime<Utc>>,
    /// The most recently active character sessions (at most 200).
    pub active_characters: Vec<WorldActiveCharacterSession>,
}

page_type! {
    /// A page of worlds with their activity, by worldId.
    pub struct WorldStatusPage {
        total,
        worlds: Vec<WorldStatus>,
    }
}

/// What a kick did (seed 002's KickSessionResponse).
#[derive(SimpleObject)]
pub struct KickSessionPayload {
    /// Whether the session was ended.
    pub success: bool,
    /// What was done, in words.
    pub message: String,
}

/// What a character kick did (seed 002's KickCharacterResponse).
#[derive(SimpleObject)]
pub struct KickCharacterPayload {
    /// Whether at least one session was ended.
    pub success: bool,
    /// What was done, in words.
    pub message: String,
    /// How many sessions were ended.
    pub removed_sessions: i32,
}

#[derive(Default)]
pub struct OperationsQuery;

#[Object]
impl OperationsQuery {
    /// The tenant's live login sessions, newest first (ADMIN).
    async fn active_sessions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many sessions to skip: 0 to 10,000, 0 when absent.")] offset: Option<
            i32,
        >,
        #[graphql(desc = "How many sessions to return: 1 to 200, 50 when absent.")] limit: Option<
            i32,
        >,
    ) -> AppResult<AdminSessionPage> {
        session_page(ctx, SessionOrder::NewestFirst, offset, limit).await
    }

    /// The tenant's live login sessions by cursor, newest first (of two made at once, the
    /// higher id first) (ADMIN).
    async fn active_sessions_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many sessions to return after `after`: 1 to 200, 50 when \
                          neither `first` nor `last` is given.")]
        first: Option<i32>,
        #[graphql(desc = "The cursor to go on after (an `endCursor`); the start when absent.")]
        after: Option<String>,
        #[graphql(desc = "How many sessions to return before `before`: 1 to 200.")] last: Option<
            i32,
        >,
        #[graphql(
            desc = "The cursor to go back from (a `startCursor`); the end when absent \
                          and `last` is given."
        )]
        before: Option<String>,
    ) -> AppResult<AdminSessionConnection> {
        let args = ConnectionArgs {
            first,
            after,
            last,
            before,
        };
        session_connection(ctx, SessionOrder::NewestFirst, args).await
    }

    /// The tenant's live sessions by recent activity, with their age (ADMIN).
    async fn connections(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many sessions to skip: 0 to 10,000, 0 when absent.")] offset: Option<
            i32,
        >,
        #[graphql(desc = "How many sessions to return: 1 to 200, 50 when absent.")] limit: Option<
            i32,
        >,
    ) -> AppResult<AdminSessionPage> {
        session_page(ctx, SessionOrder::MostRecentlyActive, offset, limit).await
    }

    /// The tenant's live sessions by cursor, most recently active first (of two active at
    /// once, the higher id first), with their age (ADMIN). A session that is active again
    /// moves to the list's start, so a walk may miss it or meet it twice.
    async fn connections_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many sessions to return after `after`: 1 to 200, 50 when \
                          neither `first` nor `last` is given.")]
        first: Option<i32>,
        #[graphql(desc = "The cursor to go on after (an `endCursor`); the start when absent.")]
        after: Option<String>,
        #[graphql(desc = "How many sessions to return before `before`: 1 to 200.")] last: Option<
            i32,
        >,
        #[graphql(
            desc = "The cursor to go back from (a `startCursor`); the end when absent \
                          and `last` is given."
        )]
        before: Option<String>,
    ) -> AppResult<AdminSessionConnection> {
        let args = ConnectionArgs {
            first,
            after,
            last,
            before,
        };
        session_connection(ctx, SessionOrder::MostRecentlyActive, args).await
    }

    /// Where the tenant's characters are, by world and name (ADMIN).
    async fn player_locations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many locations to skip: 0 to 10,000, 0 when absent.")] offset: Option<
            i32,
        >,
        #[graphql(desc = "How many locations to return: 1 to 200, 50 when absent.")] limit: Option<
            i32,
        >,
    ) -> AppResult<PlayerLocationPage> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let page = PageRequest::new(offset, limit)?;
        let mut conn = ctx.conn().await?;
        let (total, rows) = store::locations(&mut conn, viewer.tenant_id, page).await?;
        let locations = rows
            .into_iter()
            .map(|l| PlayerLocation {
                character_id: ID(l.character_id.to_string()),
                character_name: l.character_name,
                world_id: l.world_key,
                zone_id: l.zone_key,
                room_id: l.room_key,
                updated_at: l.updated_at,
            })
            .collect();
        Ok(PlayerLocationPage::new(total, page, locations))
    }

    /// Each world with its live character sessions (ADMIN).
    async fn world_status(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many worlds to skip: 0 to 10,000, 0 when absent.")] offset: Option<
            i32,
        >,
        #[graphql(desc = "How many worlds to return: 1 to 200, 50 when absent.")] limit: Option<
            i32,
        >,
    ) -> AppResult<WorldStatusPage> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let page = PageRequest::new(offset, limit)?;
        let mut conn = ctx.conn().await?;
        let (total, worlds) = crate::mud::worlds::store::list_worlds(
            &mut conn,
            viewer.tenant_id,
            false,
            &Window::Offset(page),
        )
        .await?;
        let ids: Vec<Uuid> = worlds.iter().map(|w| w.id).collect();
        let mut activity =
            store::world_activity(&mut conn, viewer.tenant_id, &ids, SESSIONS_PER_WORLD).await?;
        let statuses = worlds
            .into_iter()
            .map(|world| {
                let live = activity.remove(&world.id).unwrap_or_default();
                WorldStatus {
                    is_online: live.session_count > 0,
                    active_session_count: live.session_count,
                    active_character_count: live.character_count,
                    last_activity: live.last_activity,
                    active_characters: live
                        .sessions
                        .into_iter()
                        .map(
                            |(session, username, character)| WorldActiveCharacterSession {
                                character_id: ID(character.id.to_string()),
                                character_name: character.name,
                                username,
                                session_id: ID(session.id.to_string()),
                                last_activity: session.last_activity,
                                client_type: session.client_type,
                            },
                        )
                        .collect(),
                    world_id: world.world_key,
                    name: world.name,
                    description: world.description,
                    is_active: world.is_active,
                }
            })
            .collect();
        Ok(WorldStatusPage::new(
            total.unwrap_or_default(),
            page,
            statuses,
        ))
    }
}

#[derive(Default)]
pub struct OperationsMutation;

#[Object]
impl OperationsMutation {
    /// Ends a session of a member below you and closes its live sockets (ADMIN).
    async fn kick_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id of the session to end.")] target_session_id: ID,
        #[graphql(desc = "Why, for the log: at most 500 characters.")] reason: Option<String>,
    ) -> AppResult<KickSessionPayload> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let session_id = parse_id("targetSessionId", &target_session_id)?;
        let mut conn = ctx.conn().await?;
        let ended = kicks::kick_session(
            ctx.platform(),
            &mut conn,
            viewer,
            session_id,
            reason.as_deref(),
        )
        .await?;
        Ok(KickSessionPayload {
            success: ended,
            message: if ended {
                "the session was ended"
            } else {
                "the session had already ended"
            }
            .into(),
        })
    }

    /// Ends every session playing a character (its owner must be below you) and closes their
    /// live sockets (ADMIN).
    async fn kick_character(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The character's id.")] character_id: ID,
        #[graphql(desc = "Why, for the log: at most 500 characters.")] reason: Option<String>,
    ) -> AppResult<KickCharacterPayload> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        kicks::check_reason(reason.as_deref())?;
        let mut conn = ctx.conn().await?;
        let character = character_or_not_found(&mut conn, viewer.tenant_id, &character_id).await?;
        let ended = kicks::kick_character(
            ctx.platform(),
            &mut conn,
            viewer,
            &character,
            reason.as_deref(),
        )
        .await?;
        let removed = i32::try_from(ended).unwrap_or(i32::MAX);
        Ok(KickCharacterPayload {
            success: removed > 0,
            message: if removed > 0 {
                format!("ended {removed} session(s) playing {}", character.name)
            } else {
                format!("no live session plays {}", character.name)
            },
            removed_sessions: removed,
        })
    }
}
