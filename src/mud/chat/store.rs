//! Chat messages in PostgreSQL, and the questions chat asks about who is where.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::keyset::{Window, load_window, windowed};
use crate::db::schema::{characters, chat_messages, rooms, sessions, users, worlds};
use crate::error::AppResult;
use crate::events::HeardIn;
use crate::mud::model::{ChatMessageRow, RoomRow};

/// Characters a message may move at most (the room's present characters beyond this are not
/// touched by chat rules, though they still hear it).
pub const MAX_LISTENERS: i64 = 50;

pub struct NewChatMessage<'a> {
    pub room: &'a RoomRow,
    pub user_id: Uuid,
    pub character_id: Uuid,
    pub character_name: &'a str,
    pub channel: &'a str,
    pub recipient: Option<(Uuid, &'a str)>,
    pub text: &'a str,
}

pub async fn insert_message(
    conn: &mut AsyncPgConnection,
    new: NewChatMessage<'_>,
) -> AppResult<ChatMessageRow> {
    Ok(diesel::insert_into(chat_messages::table)
        .values((
            chat_messages::id.eq(Uuid::now_v7()),
            chat_messages::tenant_id.eq(new.room.tenant_id),
            chat_messages::world_id.eq(new.room.world_id),
            chat_messages::room_id.eq(new.room.id),
            chat_messages::user_id.eq(new.user_id),
            chat_messages::character_id.eq(new.character_id),
            chat_messages::character_name.eq(new.character_name),
            chat_messages::channel.eq(new.channel),
            chat_messages::recipient_character_id.eq(new.recipient.map(|r| r.0)),
            chat_messages::recipient_name.eq(new.recipient.map(|r| r.1)),
            chat_messages::text.eq(new.text),
        ))
        .returning(ChatMessageRow::as_returning())
        .get_result(conn)
        .await?)
}

/// The character a login session plays, if any.
pub async fn session_character(
    conn: &mut AsyncPgConnection,
    session_id: Uuid,
) -> AppResult<Option<Uuid>> {
    Ok(sessions::table
        .find(session_id)
        .select(sessions::character_id)
        .first::<Option<Uuid>>(conn)
        .await
        .optional()?
        .flatten())
}

/// The ids of the world's rooms with these keys.
pub async fn room_ids_by_keys(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    world_id: Uuid,
    keys: &[String],
) -> AppResult<Vec<Uuid>> {
    Ok(rooms::table
        .filter(rooms::tenant_id.eq(tenant_id))
        .filter(rooms::world_id.eq(world_id))
        .filter(rooms::room_key.eq_any(keys))
        .select(rooms::id)
        .load(conn)
        .await?)
}

/// The characters that live sessions play.
#[diesel::dsl::auto_type]
fn live_session_characters() -> _ {
    let live = sessions::expires_at
        .is_null()
        .or(sessions::expires_at.gt(diesel::dsl::now));
    sessions::table
        .filter(sessions::revoked_at.is_null())
        .filter(live)
        .select(sessions::character_id.assume_not_null())
}

/// Characters present in a room besides `speaker`: there, not tombstoned, and played by a live
/// session. Bounded by `MAX_LISTENERS`, lowest ids first.
pub async fn present_listeners(
    conn: &mut AsyncPgConnection,
    room: &RoomRow,
    speaker: Uuid,
) -> AppResult<Vec<Uuid>> {
    Ok(characters::table
        .filter(characters::tenant_id.eq(room.tenant_id))
        .filter(characters::room_id.eq(room.id))
        .filter(characters::tombstoned_at.is_null())
        .filter(characters::id.ne(speaker))
        .filter(characters::id.eq_any(live_session_characters()))
        .order(characters::id.asc())
        .limit(MAX_LISTENERS)
        .select(characters::id)
        .load(conn)
        .await?)
}

/// A message as the admin view shows it: with its world's and room's keys and the sender's
/// username.
pub type ListedMessage = (ChatMessageRow, String, String, Option<String>);

/// The tenant's messages with their world's and room's keys and the sender's username (a
/// [`ListedMessage`] each).
#[diesel::dsl::auto_type]
fn listed_messages(tenant_id: Uuid) -> _ {
    let row: diesel::helper_types::AsSelect<ChatMessageRow, diesel::pg::Pg> =
        ChatMessageRow::as_select();
    chat_messages::table
        .inner_join(
            worlds::table.on(worlds::tenant_id
                .eq(chat_messages::tenant_id)
                .and(worlds::id.eq(chat_messages::world_id))),
        )
        .inner_join(
            rooms::table.on(rooms::tenant_id
                .eq(chat_messages::tenant_id)
                .and(rooms::id.eq(chat_messages::room_id))),
        )
        .left_join(users::table.on(users::id.nullable().eq(chat_messages::user_id)))
        .filter(chat_messages::tenant_id.eq(tenant_id))
        .select((
            row,
            worlds::world_key,
            rooms::room_key,
            users::username.nullable(),
        ))
}

/// Messages of one world and room, when given: the filter on a boxed query over the tenant's
/// `chat_messages`, alone (to count them) or joined (to list them).
macro_rules! in_scope {
    ($query:expr, $world_id:expr, $room_id:expr) => {{
        let mut query = $query;
        if let Some(world_id) = $world_id {
            query = query.filter(chat_messages::world_id.eq(world_id));
        }
        if let Some(room_id) = $room_id {
            query = query.filter(chat_messages::room_id.eq(room_id));
        }
        query
    }};
}

/// Where a message sits in the list: when it was said, and its id.
pub type ChatMessageKey = (DateTime<Utc>, Uuid);

/// A page of the tenant's messages, newest first (of two said at once, the higher id first),
/// optionally of one world and room: an offset page with how many there are, or a page by
/// cursor.
pub async fn list_messages(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    world_id: Option<Uuid>,
    room_id: Option<Uuid>,
    window: &Window<ChatMessageKey>,
) -> AppResult<(Option<i64>, Vec<ListedMessage>)> {
    let rows = windowed!(
        in_scope!(listed_messages(tenant_id).into_boxed(), world_id, room_id),
        window.clone(),
        desc(chat_messages::created_at, chat_messages::id)
    );
    let counted = chat_messages::table
        .filter(chat_messages::tenant_id.eq(tenant_id))
        .into_boxed();
    let total = in_scope!(counted, world_id, room_id).count();
    load_window(conn, window, rows, total).await
}

/// One message as the admin view lists it, or None; also how live subscribers are shown a sent
/// message (loaded once per node for all of them).
pub async fn find_listed(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> AppResult<Option<ListedMessage>> {
    Ok(listed_messages(tenant_id)
        .filter(chat_messages::id.eq(id))
        .first(conn)
        .await
        .optional()?)
}

/// Who hears a message said in `room` now: the room itself and, for a yell, the rooms its
/// exits lead to, each with the users whose characters stand there played by a live session.
pub async fn hearers(
    conn: &mut AsyncPgConnection,
    room: &RoomRow,
    yell: bool,
) -> AppResult<Vec<HeardIn>> {
    let mut heard_in = vec![room.id];
    if yell {
        let neighbours: Vec<String> = room
            .exits
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(_, target)| target.as_str().map(str::to_owned))
            .collect();
        for neighbour in room_ids_by_keys(conn, room.tenant_id, room.world_id, &neighbours).await? {
            if !heard_in.contains(&neighbour) {
                heard_in.push(neighbour);
            }
        }
    }
    let mut present: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (room, user) in players_present(conn, room.tenant_id, &heard_in).await? {
        present.entry(room).or_default().push(user);
    }
    Ok(heard_in
        .into_iter()
        .map(|room_id| HeardIn {
            room_id,
            players: present.remove(&room_id).unwrap_or_default(),
        })
        .collect())
}

/// The (room, user) pairs of characters standing in `rooms`, not tombstoned, and played by a
/// live session.
async fn players_present(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    rooms: &[Uuid],
) -> AppResult<Vec<(Uuid, Uuid)>> {
    Ok(characters::table
        .filter(characters::tenant_id.eq(tenant_id))
        .filter(characters::room_id.eq_any(rooms))
        .filter(characters::tombstoned_at.is_null())
        .filter(characters::id.eq_any(live_session_characters()))
        .select((
            characters::room_id.assume_not_null(),
            characters::user_id.assume_not_null(),
        ))
        .distinct()
        .load(conn)
        .await?)
}

/// Deletes the tenant's messages sent before `cutoff`, optionally of one world and room; how
/// many.
pub async fn prune(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    cutoff: DateTime<Utc>,
    world_id: Option<Uuid>,
    room_id: Option<Uuid>,
) -> AppResult<usize> {
    let mut query = diesel::delete(chat_messages::table)
        .filter(chat_messages::tenant_id.eq(tenant_id))
        .filter(chat_messages::created_at.lt(cutoff))
        .into_boxed();
    if let Some(world_id) = world_id {
        query = query.filter(chat_messages::world_id.eq(world_id));
    }
    if let Some(room_id) = room_id {
        query = query.filter(chat_messages::room_id.eq(room_id));
    }
    Ok(query.execute(conn).await?)
}
