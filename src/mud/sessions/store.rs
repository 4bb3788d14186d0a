//! Queries behind the operations views: live sessions with who and what they play, where
//! characters are, and each world's activity. Always within one tenant.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::dsl::{count, count_star, max};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::accounts::service::SessionRow;
use crate::db::keyset::{Window, load_window, windowed};
use crate::db::pagination::{PageDsl, PageRequest, load_page};
use crate::db::schema::{characters, rooms, sessions, users, worlds};
use crate::error::AppResult;
use crate::mud::model::CharacterRow;

/// A live session with its user's name and the character it plays.
pub struct LiveSession {
    pub session: SessionRow,
    pub username: String,
    pub character: Option<CharacterRow>,
}

/// How to order live sessions; each order is descending and ends with the session's id.
#[derive(Clone, Copy, Debug)]
pub enum SessionOrder {
    /// By when the session was made.
    NewestFirst,
    /// By when the session was last active.
    MostRecentlyActive,
}

impl SessionOrder {
    /// The key of a session in a list in this order.
    pub fn key_of(self, session: &SessionRow) -> SessionKey {
        match self {
            Self::NewestFirst => (session.created_at, session.id),
            Self::MostRecentlyActive => (session.last_activity, session.id),
        }
    }
}

/// Where a session sits in a list: its time in the list's order (made, or last active), and
/// its id.
pub type SessionKey = (DateTime<Utc>, Uuid);

/// Sessions of the tenant that are neither revoked nor expired.
macro_rules! live_sessions {
    ($tenant_id:expr) => {
        sessions::table
            .filter(sessions::tenant_id.eq($tenant_id))
            .filter(sessions::revoked_at.is_null())
            .filter(
                sessions::expires_at
                    .is_null()
                    .or(sessions::expires_at.gt(diesel::dsl::now)),
            )
    };
}

/// The character a session plays, joined through the tenant as well as the id.
macro_rules! played_character {
    () => {
        characters::table.on(characters::tenant_id
            .nullable()
            .eq(sessions::tenant_id)
            .and(characters::id.nullable().eq(sessions::character_id)))
    };
}

/// A page of the tenant's live sessions in `order`: an offset page with how many there are,
/// or a page by cursor.
pub async fn live_sessions(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    order: SessionOrder,
    window: &Window<SessionKey>,
) -> AppResult<(Option<i64>, Vec<LiveSession>)> {
    let query = live_sessions!(tenant_id)
        .inner_join(users::table)
        .left_join(played_character!())
        .select((
            SessionRow::as_select(),
            users::username,
            Option::<CharacterRow>::as_select(),
        ))
        .into_boxed();
    let rows = match order {
        SessionOrder::NewestFirst => {
            windowed!(
                query,
                window.clone(),
                desc(sessions::created_at, sessions::id)
            )
        }
        SessionOrder::MostRecentlyActive => {
            windowed!(
                query,
                window.clone(),
                desc(sessions::last_activity, sessions::id)
            )
        }
    };
    let total = live_sessions!(tenant_id).count();
    let (total, rows): (Option<i64>, Vec<SessionWithPlayer>) =
        load_window(conn, window, rows, total).await?;
    Ok((
        total,
        rows.into_iter()
            .map(|(session, username, character)| LiveSession {
                session,
                username,
                character,
            })
            .collect(),
    ))
}

/// A session as the list loads it: with its player's username and character.
type SessionWithPlayer = (SessionRow, String, Option<CharacterRow>);

#[derive(QueryableByName)]
struct PickedSession {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

/// Ends those of these sessions of the tenant that are still live, in one statement; the ids
/// it ended.
pub async fn end_live_sessions(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    ids: &[Uuid],
) -> AppResult<Vec<Uuid>> {
    Ok(
        diesel::update(live_sessions!(tenant_id).filter(sessions::id.eq_any(ids)))
            .set(sessions::revoked_at.eq(diesel::dsl::now))
            .returning(sessions::id)
            .get_results(conn)
            .await?,
    )
}

/// The live sessions of the tenant that play this character.
pub async fn sessions_playing(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    character_id: Uuid,
) -> AppResult<Vec<SessionRow>> {
    Ok(live_sessions!(tenant_id)
        .filter(sessions::character_id.eq(character_id))
        .select(SessionRow::as_select())
        .load(conn)
        .await?)
}

/// Where a character is.
#[derive(Queryable)]
pub struct Location {
    pub character_id: Uuid,
    pub character_name: String,
    pub world_key: String,
    pub zone_key: Option<String>,
    pub room_key: String,
    pub updated_at: Option<DateTime<Utc>>,
}

/// The tenant's placed characters (not tombstoned), by world and name.
pub async fn locations(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    page: PageRequest,
) -> AppResult<(i64, Vec<Location>)> {
    let placed = || {
        characters::table
            .inner_join(
                rooms::table.on(rooms::tenant_id
                    .eq(characters::tenant_id)
                    .and(rooms::id.nullable().eq(characters::room_id))),
            )
            .inner_join(
                worlds::table.on(worlds::tenant_id
                    .eq(characters::tenant_id)
                    .and(worlds::id.eq(characters::world_id))),
            )
            .filter(characters::tenant_id.eq(tenant_id))
            .filter(characters::tombstoned_at.is_null())
    };
    let rows = placed()
        .order((worlds::world_key.asc(), characters::name.asc()))
        .select((
            characters::id,
            characters::name,
            worlds::world_key,
            rooms::zone_key,
            rooms::room_key,
            characters::moved_at,
        ))
        .page(page);
    load_page(conn, rows, placed().count()).await
}

/// A world's live activity.
#[derive(Default)]
pub struct WorldActivity {
    pub session_count: i64,
    pub character_count: i64,
    pub last_activity: Option<DateTime<Utc>>,
    /// The most recently active character sessions (at most `per_world`).
    pub sessions: Vec<(SessionRow, String, CharacterRow)>,
}

/// The activity of these worlds: counts over every live character session, and the most
/// recently active `per_world` of them listed.
pub async fn world_activity(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    world_ids: &[Uuid],
    per_world: usize,
) -> AppResult<HashMap<Uuid, WorldActivity>> {
    let counts: Vec<(Uuid, i64, i64, Option<DateTime<Utc>>)> = live_sessions!(tenant_id)
        .inner_join(played_character!())
        .filter(characters::world_id.eq_any(world_ids))
        .group_by(characters::world_id)
        .select((
            characters::world_id,
            count_star(),
            count(characters::id).aggregate_distinct(),
            max(sessions::last_activity),
        ))
        .load(conn)
        .await?;
    let mut activity: HashMap<Uuid, WorldActivity> = counts
        .into_iter()
        .map(
            |(world_id, session_count, character_count, last_activity)| {
                (
                    world_id,
                    WorldActivity {
                        session_count,
                        character_count,
                        last_activity,
                        sessions: Vec::new(),
                    },
                )
            },
        )
        .collect();
    // The most recent `per_world` of each world: a window the DSL cannot say, picking ids only.
    let picked: Vec<PickedSession> = diesel::sql_query(
        "SELECT id FROM (
             SELECT s.id, row_number() OVER (
                 PARTITION BY c.world_id ORDER BY s.last_activity DESC, s.id) AS rank
             FROM sessions s JOIN characters c ON c.tenant_id = s.tenant_id AND c.id = s.character_id
             WHERE s.tenant_id = $1 AND s.revoked_at IS NULL
               AND (s.expires_at IS NULL OR s.expires_at > now())
               AND c.world_id = ANY($2)) ranked
         WHERE rank <= $3",
    )
    .bind::<SqlUuid, _>(tenant_id)
    .bind::<Array<SqlUuid>, _>(world_ids)
    .bind::<BigInt, _>(i64::try_from(per_world).unwrap_or(i64::MAX))
    .load(conn)
    .await?;
    let picked: Vec<Uuid> = picked.into_iter().map(|p| p.id).collect();
    let rows: Vec<(SessionRow, String, CharacterRow)> = sessions::table
        .inner_join(played_character!())
        .inner_join(users::table)
        .filter(sessions::id.eq_any(&picked))
        .order((sessions::last_activity.desc(), sessions::id.asc()))
        .select((
            SessionRow::as_select(),
            users::username,
            CharacterRow::as_select(),
        ))
        .load(conn)
        .await?;
    for row in rows {
        activity
            .entry(row.2.world_id)
            .or_default()
            .sessions
            .push(row);
    }
    Ok(activity)
}

/// For the users of a players page: their characters in the tenant (not tombstoned), and the
/// world keys their live sessions play in (None for a session outside any world).
pub struct PlayerActivity {
    pub character_counts: HashMap<Uuid, i64>,
    pub live_sessions: HashMap<Uuid, Vec<Option<String>>>,
}

pub async fn player_activity(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_ids: &[Uuid],
) -> AppResult<PlayerActivity> {
    let counts: Vec<(Option<Uuid>, i64)> = characters::table
        .filter(characters::tenant_id.eq(tenant_id))
        .filter(characters::user_id.eq_any(user_ids))
        .filter(characters::tombstoned_at.is_null())
        .group_by(characters::user_id)
        .select((characters::user_id, count_star()))
        .load(conn)
        .await?;
    let sessions: Vec<(Uuid, Option<String>)> = live_sessions!(tenant_id)
        .filter(sessions::user_id.eq_any(user_ids))
        .left_join(played_character!())
        .left_join(
            worlds::table.on(worlds::tenant_id
                .nullable()
                .eq(characters::tenant_id.nullable())
                .and(worlds::id.nullable().eq(characters::world_id.nullable()))),
        )
        .select((sessions::user_id, worlds::world_key.nullable()))
        .load(conn)
        .await?;
    let mut live_sessions: HashMap<Uuid, Vec<Option<String>>> = HashMap::new();
    for (user_id, world_key) in sessions {
        live_sessions.entry(user_id).or_default().push(world_key);
    }
    Ok(PlayerActivity {
        character_counts: counts
            .into_iter()
            .filter_map(|(user_id, count)| Some((user_id?, count)))
            .collect(),
        live_sessions,
    })
}
