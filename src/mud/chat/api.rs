//! GraphQL: chat in a world's rooms. Characters speak (`sendChat`), rooms are heard live (the
//! `chatMessages` subscription), ADMIN moderates (`chatMessages`, `chatMessagesConnection`,
//! `pruneChat`). A world whose axis policy has chat rules turns each exchange into axis events.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};

use super::service::{self, Said, Utterance, scope};
use super::store::{self as chat_store, ChatMessageKey, ListedMessage};
use crate::accounts::api::User;
use crate::auth::Role;
use crate::context::ContextExt;
use crate::context::subscriptions::tenant_events;
use crate::db::connection::{connection_type, page_of};
use crate::db::cursor::ConnectionArgs;
use crate::db::keyset::Window;
use crate::db::pagination::{PageRequest, page_type};
use crate::error::{AppError, AppResult};
use crate::events::{EventPayload, kinds};
use crate::mud::axis::policy::ChatChannel;
use crate::mud::worlds::service::{room_or_not_found, world_or_not_found};

/// A chat message.
#[derive(SimpleObject, Clone)]
pub struct ChatMessage {
    /// The message's id.
    pub id: ID,
    /// The sender's username (null once their account is deleted).
    pub username: Option<String>,
    /// The name of the character who spoke.
    pub character_name: String,
    /// How it was said.
    pub channel: ChatChannel,
    /// The whisper's recipient.
    pub recipient_name: Option<String>,
    /// What was said.
    pub text: String,
    /// The text as the admin views show it: `[WHISPER]` and `[YELL]` mark those channels.
    pub message: String,
    /// The worldId of the world it was said in.
    pub world_id: String,
    /// The roomId of the room it was said in.
    pub room_id: String,
    /// When it was said.
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
    /// True when the prune ran (a failure is an error instead).
    pub success: bool,
    /// What was done, in words.
    pub message: String,
    /// How many messages were deleted.
    pub pruned_count: i64,
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
        #[graphql(desc = "Only the chat of this world, by its key.")] world_id: Option<String>,
        #[graphql(desc = "Only the chat of this room of that world, by its key.")] room_id: Option<
            String,
        >,
        #[graphql(desc = "How many messages to skip: 0 to 10,000, 0 when absent.")] offset: Option<
            i32,
        >,
        #[graphql(desc = "How many messages to return: 1 to 200, 50 when absent.")] limit: Option<
            i32,
        >,
    ) -> AppResult<ChatMessagePage> {
        ctx.viewer_with(Role::Admin)?;
        let page = PageRequest::new(offset, limit)?;
        let (total, rows) = load_messages(ctx, world_id, room_id, &Window::Offset(page)).await?;
        Ok(ChatMessagePage::new(
            total.unwrap_or_default(),
            page,
            rows.into_iter().map(ChatMessage::from).collect(),
        ))
    }

    /// The tenant's chat by cursor, newest first (of two messages said at once, the higher id
    /// first), whispers included (ADMIN): as `chatMessages`, as deep as the log goes.
    #[allow(clippy::too_many_arguments)]
    async fn chat_messages_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the chat of this world, by its key.")] world_id: Option<String>,
        #[graphql(desc = "Only the chat of this room of that world, by its key.")] room_id: Option<
            String,
        >,
        #[graphql(desc = "How many messages to return after `after`: 1 to 200, 50 when \
                          neither `first` nor `last` is given.")]
        first: Option<i32>,
        #[graphql(desc = "The cursor to go on after (an `endCursor`); the start when absent.")]
        after: Option<String>,
        #[graphql(desc = "How many messages to return before `before`: 1 to 200.")] last: Option<
            i32,
        >,
        #[graphql(
            desc = "The cursor to go back from (a `startCursor`); the end when absent \
                          and `last` is given."
        )]
        before: Option<String>,
    ) -> AppResult<ChatMessageConnection> {
        ctx.viewer_with(Role::Admin)?;
        let cursors = ctx.cursors(format!("chat/{world_id:?}/{room_id:?}"))?;
        let window = cursors.window(ConnectionArgs {
            first,
            after,
            last,
            before,
        })?;
        let (_, rows) =
            load_messages(ctx, world_id, room_id, &Window::Keyset(window.clone())).await?;
        let page = page_of(
            rows,
            &window,
            &cursors,
            |(row, ..)| (row.created_at, row.id),
            ChatMessage::from,
        );
        Ok(page.into())
    }
}

connection_type! {
    /// Chat messages, newest first, a page at a time by cursor.
    pub struct ChatMessageConnection;
    /// A chat message and its cursor.
    pub struct ChatMessageEdge(ChatMessage);
}

/// The messages `window` holds of the tenant's chat, or of a world's or a world's room's
/// (ADMIN).
async fn load_messages(
    ctx: &Context<'_>,
    world_id: Option<String>,
    room_id: Option<String>,
    window: &Window<ChatMessageKey>,
) -> AppResult<(Option<i64>, Vec<ListedMessage>)> {
    let viewer = ctx.viewer_with(Role::Admin)?;
    let mut conn = ctx.conn().await?;
    let (world, room) = scope(&mut conn, viewer, world_id, room_id).await?;
    chat_store::list_messages(&mut conn, viewer.tenant_id, world, room, window).await
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
        #[graphql(desc = "The world, by its key.")] world_id: String,
        #[graphql(desc = "The room spoken in, by its key.")] room_id: String,
        #[graphql(desc = "How to say it.")] channel: ChatChannel,
        #[graphql(desc = "For WHISPER: the name of the character whispered to.")] recipient: Option<
            String,
        >,
        #[graphql(desc = "What to say: 1 to 1,000 characters.")] text: String,
    ) -> AppResult<ChatMessage> {
        let viewer = ctx.viewer()?;
        let utterance = Utterance {
            world_id: &world_id,
            room_id: &room_id,
            channel,
            recipient: recipient.as_deref(),
            text: &text,
        };
        let Said {
            message,
            world,
            room,
        } = service::say(ctx.platform(), viewer, utterance).await?;
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
        #[graphql(desc = "Delete messages older than this many hours: at least 1.")]
        max_age_hours: i32,
        #[graphql(desc = "Only in this world, by its key.")] world_id: Option<String>,
        #[graphql(desc = "Only in this room of that world, by its key.")] room_id: Option<String>,
    ) -> AppResult<PruneChatPayload> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let mut conn = ctx.conn().await?;
        let pruned = service::prune(&mut conn, viewer, max_age_hours, world_id, room_id).await?;
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
                            chat_store::find_listed(&mut conn, tenant_id, message_id)
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
