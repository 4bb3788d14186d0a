//! GraphQL: chat in a world's rooms. Characters speak (`sendChat`), rooms are heard live (the
//! `chatMessages` subscription), ADMIN moderates (`chatMessages`, `pruneChat`). A world whose
//! axis policy has chat rules turns each exchange into axis events.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_graphql::{Context, ID, Object, SimpleObject, Subscription};
use chrono::{DateTime, Duration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use futures_util::{Stream, StreamExt};
use uuid::Uuid;

use super::store::{self as chat_store, ListedMessage, NewChatMessage};
use crate::accounts::api::User;
use crate::auth::{Role, Viewer};
use crate::context::ContextExt;
use crate::context::subscriptions::tenant_events;
use crate::db::pagination::{PageRequest, page_type};
use crate::db::validate_text;
use crate::error::{AppError, AppResult};
use crate::events::{ChatPosted, EventPayload, kinds};
use crate::mud::axis::policy::{AxisPolicy, ChatChannel, DEFAULT_SCORE, chat_deltas};
use crate::mud::axis::store::{self as axis_store, NewAxisEvent};
use crate::mud::characters::store as character_store;
use crate::mud::model::{CharacterRow, ChatMessageRow, RoomRow, WorldRow};
use crate::mud::worlds::service::{room_or_not_found, world_or_not_found};

const MAX_TEXT_CHARS: usize = 1000;

/// A chat message.
#[derive(SimpleObject, Clone)]
pub struct ChatMessage {
    pub id: ID,
    /// The sender's username (null once their account is deleted).
    pub username: Option<String>,
    pub character_name: String,
    pub channel: ChatChannel,
    /// The whisper's recipient.
    pub recipient_name: Option<String>,
    pub text: String,
    /// The text as the admin views show it: `[WHISPER]` and `[YELL]` mark those channels.
    pub message: String,
    pub world_id: String,
    pub room_id: String,
    pub timestamp: DateTime<Utc>,
    /// Where it stands among the tenant's events, as `chatMessages` streams it: pass the last
    /// one seen as `since` to resume there. Null outside the subscription.
    pub sequence: Option<ID>,
}

impl ChatMessage {
    fn with_sequence(mut self, seq: i64) -> Self {
        self.sequence = (seq > 0).then(|| ID(seq.to_string()));
        self
    }
}

impl From<ListedMessage> for ChatMessage {
    fn from((row, world_key, room_key, username): ListedMessage) -> Self {
        let channel = ChatChannel::parse(&row.channel);
        let message = match channel {
            ChatChannel::Say => row.text.clone(),
            ChatChannel::Yell => format!("[YELL] {}", row.text),
            ChatChannel::Whisper => format!("[WHISPER] {}", row.text),
        };
        Self {
            id: ID(row.id.to_string()),
            username,
            character_name: row.character_name,
            channel,
            recipient_name: row.recipient_name,
            text: row.text,
            message,
            world_id: world_key,
            room_id: room_key,
            timestamp: row.created_at,
            sequence: None,
        }
    }
}

page_type! {
    /// A page of chat messages, newest first.
    pub struct ChatMessagePage {
        total,
        messages: Vec<ChatMessage>,
    }
}

/// What `pruneChat` did (seed 002's ChatPruneResponse).
#[derive(SimpleObject)]
pub struct PruneChatPayload {
    pub success: bool,
    pub message: String,
    pub pruned_count: i64,
}

/// The character the viewer's session plays, which must stand in `room`.
async fn speaker_in(
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
async fn recipient_in(
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
async fn apply_chat_rules(
    conn: &mut AsyncPgConnection,
    world: &WorldRow,
    (policy, version): &(AxisPolicy, String),
    message: &ChatMessageRow,
    speaker: Uuid,
    listeners: &[Uuid],
) -> AppResult<()> {
    let channel = ChatChannel::parse(&message.channel);
    for &listener in listeners {
        let scores = axis_store::scores_of(conn, &[speaker, listener]).await?;
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

#[derive(Default)]
pub struct ChatQuery;

#[Object]
impl ChatQuery {
    /// Recent chat across the tenant's rooms, newest first, whispers included (ADMIN,
    /// "view logs"; seed 002's DatabaseChatResponse). Narrow it to a world, or a world's room.
    async fn chat_messages(
        &self,
        ctx: &Context<'_>,
        world_id: Option<String>,
        room_id: Option<String>,
        offset: Option<i32>,
        limit: Option<i32>,
    ) -> AppResult<ChatMessagePage> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let page = PageRequest::new(offset, limit)?;
        let mut conn = ctx.conn().await?;
        let (world, room) = scope(&mut conn, viewer, world_id, room_id).await?;
        let (total, rows) =
            chat_store::list_messages(&mut conn, viewer.tenant_id, world, room, page).await?;
        Ok(ChatMessagePage::new(
            total,
            page,
            rows.into_iter().map(ChatMessage::from).collect(),
        ))
    }
}

/// The world and room a moderation call narrows to (a room needs its world).
async fn scope(
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

#[derive(Default)]
pub struct ChatMutation;

#[Object]
impl ChatMutation {
    /// Speaks in a room as the character your session plays (it must stand there): SAY to the
    /// room, YELL to it and the rooms its exits lead to, WHISPER to one `recipient` (a
    /// character's name) in the room. Text of 1 to 1,000 characters.
    async fn send_chat(
        &self,
        ctx: &Context<'_>,
        world_id: String,
        room_id: String,
        channel: ChatChannel,
        recipient: Option<String>,
        text: String,
    ) -> AppResult<ChatMessage> {
        let viewer = ctx.viewer()?;
        validate_text("text", &text, MAX_TEXT_CHARS)?;
        let text = text.trim();
        if text.is_empty() || text.chars().any(|c| c.is_control() && c != '\n') {
            return Err(AppError::bad_field(
                "text",
                "say something: printable text of 1 to 1,000 characters",
            ));
        }
        let mut conn = ctx.conn().await?;
        let world = world_or_not_found(&mut conn, viewer.tenant_id, &world_id).await?;
        if !world.is_active {
            return Err(AppError::conflict(format!(
                "the world `{world_id}` is closed"
            )));
        }
        let room = room_or_not_found(&mut conn, &world, &room_id).await?;
        let speaker = speaker_in(&mut conn, viewer, &room).await?;
        let recipient = match (channel, recipient.as_deref()) {
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
                let policy =
                    axis_store::policy_of(&world)?.filter(|(p, _)| !p.chat.rules.is_empty());
                let listeners = match (&policy, &recipient) {
                    (None, _) => Vec::new(),
                    (Some(_), Some(recipient)) => vec![recipient.id],
                    (Some(_), None) => {
                        chat_store::present_listeners(conn, &room, speaker.id).await?
                    }
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
                    apply_chat_rules(conn, &world, policy, &message, speaker.id, &listeners)
                        .await?;
                }
                // Who hears it is settled as it is said: a subscriber resuming later hears
                // what it would have heard live.
                let heard_in =
                    chat_store::hearers(conn, &room, channel == ChatChannel::Yell).await?;
                Ok((message, heard_in))
            })
            .await?;
        drop(conn);
        ctx.platform().events.publish(
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
        let username = User::load(ctx, Some(viewer.user_id))
            .await?
            .map(|user| user.row.username);
        Ok(ChatMessage::from((
            message,
            world.world_key,
            room.room_key,
            username,
        )))
    }

    /// Deletes chat older than `maxAgeHours` (at least 1) in the tenant, a world, or a world's
    /// room (ADMIN).
    async fn prune_chat(
        &self,
        ctx: &Context<'_>,
        max_age_hours: i32,
        world_id: Option<String>,
        room_id: Option<String>,
    ) -> AppResult<PruneChatPayload> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        if max_age_hours < 1 {
            return Err(AppError::bad_field(
                "maxAgeHours",
                "prune messages at least 1 hour old",
            ));
        }
        let mut conn = ctx.conn().await?;
        let (world, room) = scope(&mut conn, viewer, world_id, room_id).await?;
        let cutoff = Utc::now() - Duration::hours(i64::from(max_age_hours));
        let pruned = chat_store::prune(&mut conn, viewer.tenant_id, cutoff, world, room).await?;
        Ok(PruneChatPayload {
            success: true,
            message: format!("pruned {pruned} messages older than {max_age_hours} hours"),
            pruned_count: i64::try_from(pruned).unwrap_or(i64::MAX),
        })
    }
}

#[derive(Default)]
pub struct ChatSubscription;

#[Subscription]
impl ChatSubscription {
    /// What is heard in a room as it is said: its messages, yells from the rooms next door,
    /// and whispers only by their sender and recipient. A PLAYER hears a room only while one of
    /// their characters stands in it, played by a live session (as in the game); WORLDBUILDER
    /// and above listen anywhere.
    async fn chat_messages(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The world, by its key.")] world_id: String,
        #[graphql(desc = "The room listened to, by its key.")] room_id: String,
        #[graphql(
            desc = "Resume after this `sequence` (the last one seen): what was said \
                          since is replayed first, as it was heard then."
        )]
        since: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = ChatMessage> + use<>> {
        let viewer = ctx.viewer()?;
        let user_id = viewer.user_id;
        let listens_anywhere = viewer.role >= Role::Worldbuilder;
        let room = {
            let mut conn = ctx.conn().await?;
            let world = world_or_not_found(&mut conn, viewer.tenant_id, &world_id).await?;
            room_or_not_found(&mut conn, &world, &room_id).await?
        };
        let tenant_id = viewer.tenant_id;
        let pool = ctx.platform().pool.clone();
        // Who hears it where was settled as it was said; only the message itself is loaded,
        // once per node for every subscriber.
        let events = tenant_events(ctx, since, kinds::CHAT, move |event| {
            match &event.payload {
                EventPayload::Chat(posted) if posted.world_id == room.world_id => {
                    let heard_here = posted.heard_in.iter().find(|h| h.room_id == room.id)?;
                    // A PLAYER hears it where one of their characters stood as it was said.
                    let within_earshot = listens_anywhere || heard_here.players.contains(&user_id);
                    let hidden_whisper = posted.whisper
                        && posted.sender_user_id != Some(user_id)
                        && posted.recipient_user_id != Some(user_id);
                    (within_earshot && !hidden_whisper).then(|| (event.clone(), posted.message_id))
                }
                _ => None,
            }
        })
        .await?;
        Ok(events.filter_map(move |(event, message_id)| {
            let pool = pool.clone();
            async move {
                let loaded = event
                    .loaded
                    .get_or_try_init(async || {
                        let mut conn = pool.get().await.map_err(AppError::from)?;
                        Ok::<_, AppError>(
                            chat_store::load_posted(&mut conn, tenant_id, message_id)
                                .await?
                                .map(Arc::new),
                        )
                    })
                    .await;
                match loaded {
                    Ok(Some(message)) => {
                        Some(ChatMessage::from(message.as_ref().clone()).with_sequence(event.seq))
                    }
                    Ok(None) => None,
                    Err(error) => {
                        tracing::warn!(?error, "could not load a chat message for its subscribers");
                        None
                    }
                }
            }
        }))
    }
}
