//! The rules of chat: who may speak where (the character the session plays, standing in the
//! room), whispers and their recipients, the world's chat rules turned into axis events, and
//! what a moderation call narrows to.

use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::store::{self as chat_store, NewChatMessage};
use crate::auth::{Role, Viewer};
use crate::context::Platform;
use crate::db::validate_text;
use crate::error::{AppError, AppResult};
use crate::events::{ChatPosted, EventPayload};
use crate::mud::axis::policy::{AxisPolicy, ChatChannel, DEFAULT_SCORE, chat_deltas};
use crate::mud::axis::store::{self as axis_store, NewAxisEvent};
use crate::mud::characters::store as character_store;
use crate::mud::model::{CharacterRow, ChatMessageRow, RoomRow, WorldRow};
use crate::mud::worlds::service::{room_or_not_found, world_or_not_found};

/// The longest message, characters.
pub const MAX_TEXT_CHARS: usize = 1000;

/// What `sendChat` asks to say.
pub struct Utterance<'a> {
    pub world_id: &'a str,
    pub room_id: &'a str,
    pub channel: ChatChannel,
    /// A whisper's recipient (a character's name); nothing else has one.
    pub recipient: Option<&'a str>,
    pub text: &'a str,
}

/// What was said, and where.
pub struct Said {
    pub message: ChatMessageRow,
    pub world: WorldRow,
    pub room: RoomRow,
}

/// Says something in a room as the character the viewer's session plays: checks the text,
/// the world (open), the room, the speaker (standing there) and a whisper's recipient; stores
/// the message, applies the world's chat rules and settles who hears it, in one transaction;
/// then tells the tenant's subscribers.
pub async fn say(platform: &Platform, viewer: &Viewer, said: Utterance<'_>) -> AppResult<Said> {
    let Utterance {
        world_id,
        room_id,
        channel,
        recipient,
        text,
    } = said;
    validate_text("text", text, MAX_TEXT_CHARS)?;
    let text = text.trim();
    if text.is_empty() || text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(AppError::bad_field(
            "text",
            "say something: printable text of 1 to 1,000 characters",
        ));
    }
    let mut conn = platform.pool.get().await?;
    let world = world_or_not_found(&mut conn, viewer.tenant_id, world_id).await?;
    if !world.is_active {
        return Err(AppError::conflict(format!(
            "the world `{world_id}` is closed"
        )));
    }
    let room = room_or_not_found(&mut conn, &world, room_id).await?;
    let speaker = speaker_in(&mut conn, viewer, &room).await?;
    let recipient = match (channel, recipient) {
        (ChatChannel::Whisper, Some(name)) => {
            Some(recipient_in(&mut conn, viewer, &room, name).await?)
        }
        (ChatChannel::Whisper, None) => {
            return Err(AppError::bad_field(
                "recipient",
                "a whisper needs a recipient",
            ));
        }
        (_, Some(_)) => {
            return Err(AppError::bad_field(
                "recipient",
                "only a whisper has a recipient",
            ));
        }
        (_, None) => None,
    };
    if recipient.as_ref().is_some_and(|r| r.id == speaker.id) {
        return Err(AppError::bad_field("recipient", "whisper to someone else"));
    }
    let (message, heard_in) = conn
        .transaction::<_, AppError, _>(async |conn| {
            // Locks in one order everywhere: the world (its policy stays in force), then
            // the characters by ascending id, then the message (whose references only
            // key-share-lock them).
            let world = axis_store::world_for_share(conn, world.tenant_id, world.id).await?;
            let policy = axis_store::policy_of(&world)?.filter(|(p, _)| !p.chat.rules.is_empty());
            let listeners = match (&policy, &recipient) {
                (None, _) => Vec::new(),
                (Some(_), Some(recipient)) => vec![recipient.id],
                (Some(_), None) => chat_store::present_listeners(conn, &room, speaker.id).await?,
            };
            if policy.is_some() {
                let mut everyone = listeners.clone();
                everyone.push(speaker.id);
                axis_store::lock_characters(conn, world.tenant_id, &everyone).await?;
            }
            let message = chat_store::insert_message(
                conn,
                NewChatMessage {
                    room: &room,
                    user_id: viewer.user_id,
                    character_id: speaker.id,
                    character_name: &speaker.name,
                    channel: channel.as_str(),
                    recipient: recipient.as_ref().map(|r| (r.id, r.name.as_str())),
                    text,
                },
            )
            .await?;
            if let Some(policy) = &policy {
                apply_chat_rules(conn, &world, policy, &message, speaker.id, &listeners).await?;
            }
            // Who hears it is settled as it is said: a subscriber resuming later hears
            // what it would have heard live.
            let heard_in = chat_store::hearers(conn, &room, channel == ChatChannel::Yell).await?;
            Ok((message, heard_in))
        })
        .await?;
    drop(conn);
    platform.events.publish(
        viewer.tenant_id,
        Some(viewer.user_id),
        EventPayload::Chat(ChatPosted {
            message_id: message.id,
            world_id: world.id,
            room_id: room.id,
            whisper: channel == ChatChannel::Whisper,
            yell: channel == ChatChannel::Yell,
            sender_user_id: Some(viewer.user_id),
            recipient_user_id: recipient.and_then(|r| r.user_id),
            heard_in,
        }),
    );
    Ok(Said {
        message,
        world,
        room,
    })
}

/// The character the viewer's session plays, which must stand in `room`.
pub async fn speaker_in(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    room: &RoomRow,
) -> AppResult<CharacterRow> {
    let session_id = viewer.session_id.ok_or_else(|| {
        AppError::bad_input("chat needs a signed-in session playing a character, not an API key")
    })?;
    let character_id = chat_store::session_character(conn, session_id)
        .await?
        .ok_or_else(|| AppError::bad_input("enter the world with a character first"))?;
    let character = character_store::find_character(conn, viewer.tenant_id, character_id)
        .await?
        .ok_or_else(|| AppError::bad_input("enter the world with a character first"))?;
    if character.room_id != Some(room.id) {
        return Err(AppError::conflict(format!(
            "{} is not in the room `{}`",
            character.name, room.room_key
        )));
    }
    Ok(character)
}

/// The whisper's recipient: a character of the world standing in the same room.
pub async fn recipient_in(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    room: &RoomRow,
    name: &str,
) -> AppResult<CharacterRow> {
    character_store::find_character_by_name(conn, viewer.tenant_id, room.world_id, name)
        .await?
        .filter(|c| c.tombstoned_at.is_none() && c.room_id == Some(room.id))
        .ok_or_else(|| {
            AppError::bad_field(
                "recipient",
                format!("nobody called `{name}` is in this room"),
            )
        })
}

/// Turns the exchange between the speaker and each listener into an axis event, per the
/// world's chat rules, in the caller's transaction, which has locked the characters.
pub async fn apply_chat_rules(
    conn: &mut AsyncPgConnection,
    world: &WorldRow,
    (policy, version): &(AxisPolicy, String),
    message: &ChatMessageRow,
    speaker: Uuid,
    listeners: &[Uuid],
) -> AppResult<()> {
    let channel = ChatChannel::parse(&message.channel);
    for &listener in listeners {
        let scores = axis_store::scores_of(conn, world.tenant_id, &[speaker, listener]).await?;
        let score = |is_speaker: bool, axis: &str| {
            let character = if is_speaker { speaker } else { listener };
            scores
                .get(&(character, axis.to_owned()))
                .copied()
                .unwrap_or(DEFAULT_SCORE)
        };
        let mut deltas = Vec::new();
        for (axis, speaker_delta, listener_delta) in chat_deltas(policy, channel, score) {
            deltas.push((speaker, axis.clone(), speaker_delta));
            deltas.push((listener, axis, listener_delta));
        }
        if deltas.is_empty() {
            continue;
        }
        let metadata = BTreeMap::from([
            ("channel".to_owned(), message.channel.clone()),
            ("message_id".to_owned(), message.id.to_string()),
            ("speaker_id".to_owned(), speaker.to_string()),
            ("listener_id".to_owned(), listener.to_string()),
        ]);
        let event = NewAxisEvent {
            world,
            event_type: "chat_interaction",
            description: Some("a chat exchange, resolved by the world's chat rules"),
            metadata,
            deltas,
            keep_if_empty: false,
        };
        axis_store::record_event(conn, policy, version, event).await?;
    }
    Ok(())
}

/// The world and room a moderation call narrows to (a room needs its world).
pub async fn scope(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    world_id: Option<String>,
    room_id: Option<String>,
) -> AppResult<(Option<Uuid>, Option<Uuid>)> {
    let Some(world_id) = world_id else {
        if room_id.is_some() {
            return Err(AppError::bad_field("roomId", "a room needs its worldId"));
        }
        return Ok((None, None));
    };
    let world = world_or_not_found(conn, viewer.tenant_id, &world_id).await?;
    let room = match room_id {
        Some(room_id) => Some(room_or_not_found(conn, &world, &room_id).await?.id),
        None => None,
    };
    Ok((Some(world.id), room))
}

/// Deletes the tenant's chat older than `max_age_hours` (at least 1), in a world or a world's
/// room when named (ADMIN); how many messages went.
pub async fn prune(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    max_age_hours: i32,
    world_id: Option<String>,
    room_id: Option<String>,
) -> AppResult<usize> {
    viewer.require_role(Role::Admin)?;
    if max_age_hours < 1 {
        return Err(AppError::bad_field(
            "maxAgeHours",
            "prune messages at least 1 hour old",
        ));
    }
    let (world, room) = scope(conn, viewer, world_id, room_id).await?;
    let cutoff = Utc::now() - Duration::hours(i64::from(max_age_hours));
    chat_store::prune(conn, viewer.tenant_id, cutoff, world, room).await
}
