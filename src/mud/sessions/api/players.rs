//! GraphQL: seed 002's players view for ADMIN ("view logs"): the tenant's accounts with their
//! characters and whether they are online, in the game or outside it (`players` by offset,
//! `playersConnection` by cursor).

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::accounts::service as accounts;
use crate::accounts::service::{AccountOrigin, MemberKey, UserRow};
use crate::auth::Role;
use crate::context::ContextExt;
use crate::db::connection::{connection_type, page_of};
use crate::db::cursor::ConnectionArgs;
use crate::db::keyset::Window;
use crate::db::pagination::{PageRequest, page_type};
use crate::error::AppResult;
use crate::mud::sessions::store::{self, PlayerActivity};

/// How much of a password hash the view shows.
const HASH_PREFIX_CHARS: usize = 20;

/// A password hash cut to its first 20 characters and "…": enough to tell the scheme, never
/// enough to attack it.
pub fn truncated_hash(hash: &str) -> String {
    let prefix: String = hash.chars().take(HASH_PREFIX_CHARS).collect();
    format!("{prefix}…")
}

/// An account as the players view shows it (seed 002's player rows).
#[derive(SimpleObject)]
pub struct Player {
    /// The account's id.
    pub id: ID,
    /// The account's username.
    pub username: String,
    /// The first 20 characters of the password hash and "…".
    pub password_hash: String,
    /// The account's role in this tenant.
    pub role: Role,
    /// How the account came to be.
    pub account_origin: AccountOrigin,
    /// Characters in this tenant's worlds (not tombstoned).
    pub character_count: i64,
    /// Whether any live session exists.
    pub is_online_account: bool,
    /// Whether any live session plays a character.
    pub is_online_in_world: bool,
    /// The worlds those sessions play in.
    pub online_world_ids: Vec<String>,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// When the account last signed in; null if it never has.
    pub last_login: Option<DateTime<Utc>>,
    /// False once banned.
    pub is_active: bool,
}

page_type! {
    /// A page of players, by display name.
    pub struct PlayerPage {
        total,
        players: Vec<Player>,
    }
}

connection_type! {
    /// Players by display name, a page at a time by cursor.
    pub struct PlayerConnection;
    /// A player and its cursor.
    pub struct PlayerEdge(Player);
}

/// The members `window` holds of the tenant's (those `search` matches), with their roles and
/// what the view shows of their play (ADMIN).
async fn load_players(
    ctx: &Context<'_>,
    search: Option<&str>,
    window: &Window<MemberKey>,
) -> AppResult<(Option<i64>, Vec<(UserRow, String)>, PlayerActivity)> {
    let viewer = ctx.viewer_with(Role::Admin)?;
    let mut conn = ctx.conn().await?;
    let (total, members) =
        accounts::list_members_windowed(&mut conn, viewer.tenant_id, search, window).await?;
    let ids: Vec<Uuid> = members.iter().map(|(user, _)| user.id).collect();
    let activity = store::player_activity(&mut conn, viewer.tenant_id, &ids).await?;
    Ok((total, members, activity))
}

/// A member as the players view shows them, with their play taken from `activity`.
fn player_of(activity: &mut PlayerActivity, (user, role): (UserRow, String)) -> Player {
    let sessions = activity.live_sessions.remove(&user.id).unwrap_or_default();
    let mut worlds: Vec<String> = sessions.iter().flatten().cloned().collect();
    worlds.sort();
    worlds.dedup();
    Player {
        id: ID(user.id.to_string()),
        password_hash: truncated_hash(&user.password_hash),
        role: if user.is_superuser {
            Role::Superuser
        } else {
            Role::from_db(&role)
        },
        account_origin: AccountOrigin::from_db(&user.account_origin),
        character_count: activity
            .character_counts
            .get(&user.id)
            .copied()
            .unwrap_or(0),
        is_online_account: !sessions.is_empty(),
        is_online_in_world: !worlds.is_empty(),
        online_world_ids: worlds,
        created_at: user.created_at,
        last_login: user.last_login_at,
        is_active: user.is_active,
        username: user.username,
    }
}

#[derive(Default)]
pub struct PlayersQuery;

#[Object]
impl PlayersQuery {
    /// The tenant's members by display name, with their play activity (ADMIN). `search`
    /// matches username, email or name.
    async fn players(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Text to look for in the username, email or display name.")]
        search: Option<String>,
        #[graphql(desc = "How many players to skip: 0 to 10,000, 0 when absent.")] offset: Option<
            i32,
        >,
        #[graphql(desc = "How many players to return: 1 to 200, 50 when absent.")] limit: Option<
            i32,
        >,
    ) -> AppResult<PlayerPage> {
        ctx.viewer_with(Role::Admin)?;
        let page = PageRequest::new(offset, limit)?;
        let (total, members, mut activity) =
            load_players(ctx, search.as_deref(), &Window::Offset(page)).await?;
        let players = members
            .into_iter()
            .map(|member| player_of(&mut activity, member))
            .collect();
        Ok(PlayerPage::new(total.unwrap_or_default(), page, players))
    }

    /// The tenant's members by cursor, by display name (of equal names, the lower id first),
    /// with their play activity (ADMIN); `search` as in `players`.
    async fn players_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Text to look for in the username, email or display name.")]
        search: Option<String>,
        #[graphql(desc = "How many players to return after `after`: 1 to 200, 50 when \
                          neither `first` nor `last` is given.")]
        first: Option<i32>,
        #[graphql(desc = "The cursor to go on after (an `endCursor`); the start when absent.")]
        after: Option<String>,
        #[graphql(desc = "How many players to return before `before`: 1 to 200.")] last: Option<
            i32,
        >,
        #[graphql(
            desc = "The cursor to go back from (a `startCursor`); the end when absent \
                          and `last` is given."
        )]
        before: Option<String>,
    ) -> AppResult<PlayerConnection> {
        ctx.viewer_with(Role::Admin)?;
        let cursors = ctx.cursors(format!("players/{search:?}"))?;
        let window = cursors.window(ConnectionArgs {
            first,
            after,
            last,
            before,
        })?;
        let keyset = Window::Keyset(window.clone());
        let (_, members, mut activity) = load_players(ctx, search.as_deref(), &keyset).await?;
        let page = page_of(
            members,
            &window,
            &cursors,
            |(user, _)| (user.display_name.clone(), user.id),
            |member| player_of(&mut activity, member),
        );
        Ok(page.into())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_are_cut_to_twenty_characters() {
        let hash = "$argon2id$v=19$m=19456,t=2,p=1$abcdefghijklmnop";
        assert_eq!(super::truncated_hash(hash), "$argon2id$v=19$m=194…");
    }
}
