//! GraphQL: axis policies, axis events, and the seed's character axis views
//! (`characterAxisState`, `characterAxisEvents`, and its events by cursor,
//! `characterAxisEventsConnection`).

use async_graphql::{Context, ID, InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::policy::{AxisPolicy, DEFAULT_SCORE, label_for};
use super::service::{self, AxisEventRequest};
use super::store::{self as axis_store, AxisDelta, AxisEventKey, AxisEventRow};
use crate::auth::{Role, Viewer};
use crate::context::ContextExt;
use crate::db::connection::{connection_type, page_of};
use crate::db::cursor::ConnectionArgs;
use crate::db::keyset::Keyset;
use crate::db::loading::load;
use crate::error::{AppError, AppResult};
use crate::mud::characters::service::character_or_not_found;
use crate::mud::loaders::MudLoaders;
use crate::mud::model::CharacterRow;
use crate::mud::worlds::api::World;
use crate::mud::worlds::store as world_store;

const DEFAULT_EVENTS: i32 = 50;
const MAX_EVENTS: i32 = 200;

/// A character's score on one axis (seed 002's CharacterAxisScore).
#[derive(SimpleObject)]
pub struct CharacterAxisScore {
    /// The axis's registry id.
    pub axis_id: ID,
    /// The axis's name.
    pub axis_name: String,
    /// Between 0 and 1; 0.5 until something moves it.
    pub axis_score: f64,
    /// The label whose range holds the score, if any.
    pub axis_label: Option<String>,
}

/// A character's axis scores and snapshots (seed 002's DatabaseCharacterAxisStateResponse).
#[derive(SimpleObject)]
pub struct CharacterAxisState {
    /// The character's id.
    pub character_id: ID,
    /// The worldId of the character's world.
    pub world_id: String,
    /// The seed the character was generated from.
    pub state_seed: i64,
    /// The hash of the policy the current snapshot was made under.
    pub state_version: Option<String>,
    /// When the snapshot last changed; null when it never has.
    pub state_updated_at: Option<DateTime<Utc>>,
    /// The snapshot the character started from (JSON).
    pub base_state: Json<Value>,
    /// The snapshot as it is now (JSON).
    pub current_state: Json<Value>,
    /// The character's score on each axis, in the policy's order.
    pub axes: Vec<CharacterAxisScore>,
}

/// One axis's change in an event (seed 002's CharacterAxisDelta).
#[derive(SimpleObject)]
pub struct CharacterAxisDelta {
    /// The axis's name.
    pub axis_name: String,
    /// The score before the event.
    pub old_score: f64,
    /// The score after the event.
    pub new_score: f64,
    /// The change made (after clamping to [0, 1]).
    pub delta: f64,
}

/// A key/value pair of an event's metadata.
#[derive(SimpleObject, InputObject, Clone)]
#[graphql(input_name = "MetadataEntryInput")]
pub struct MetadataEntry {
    /// The key: 1 to 64 bytes.
    pub key: String,
    /// The value: at most 1024 bytes.
    pub value: String,
}

/// Something that moved a character's axes (seed 002's CharacterAxisEvent).
#[derive(SimpleObject)]
pub struct CharacterAxisEvent {
    /// The event's id.
    pub event_id: ID,
    /// The worldId of the world it happened in.
    pub world_id: String,
    /// What kind of event it was.
    pub event_type: String,
    /// What happened, in words, when the event says.
    pub event_type_description: Option<String>,
    /// When it happened.
    pub timestamp: DateTime<Utc>,
    /// Free key/value pairs recorded with the event.
    pub metadata: Vec<MetadataEntry>,
    /// This character's deltas in the event.
    pub deltas: Vec<CharacterAxisDelta>,
}

/// A character's axis events (seed 002's DatabaseCharacterAxisEventsResponse).
#[derive(SimpleObject)]
pub struct CharacterAxisEvents {
    /// The character's id.
    pub character_id: ID,
    /// Newest first.
    pub events: Vec<CharacterAxisEvent>,
}

/// A change to one axis of one character.
#[derive(InputObject)]
pub struct AxisDeltaInput {
    /// The axis's name in the world's policy.
    pub axis: String,
    /// What to add to the score (negative to lower it); the result is clamped to [0, 1].
    pub delta: f64,
}

/// An event applying deltas to a character's axes. Deltas for the same axis add up before
/// the sum is applied (and clamped) once.
#[derive(InputObject)]
pub struct ApplyAxisEventInput {
    /// The character's id.
    pub character_id: ID,
    /// 1 to 64 lower-case letters, digits, `_` or `-`.
    pub event_type: String,
    /// What happened, in words: at most 1024 bytes.
    pub description: Option<String>,
    /// Free key/value pairs to record with the event: at most 32.
    #[graphql(default)]
    pub metadata: Vec<MetadataEntry>,
    /// The changes to make: 1 to 64.
    pub deltas: Vec<AxisDeltaInput>,
}

pub(crate) fn event_object(
    world_key: &str,
    event: AxisEventRow,
    deltas: Vec<AxisDelta>,
) -> CharacterAxisEvent {
    let metadata = event
        .metadata
        .as_object()
        .into_iter()
        .flatten()
        .map(|(key, value)| MetadataEntry {
            key: key.clone(),
            value: value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned),
        })
        .collect();
    CharacterAxisEvent {
        event_id: ID(event.id.to_string()),
        world_id: world_key.to_owned(),
        event_type: event.event_type,
        event_type_description: event.event_type_description,
        timestamp: event.created_at,
        metadata,
        deltas: deltas
            .into_iter()
            .map(|d| CharacterAxisDelta {
                axis_name: d.axis_name,
                old_score: d.old_score,
                new_score: d.new_score,
                delta: d.delta,
            })
            .collect(),
    }
}

/// The character's own player, or ADMIN and above ("view logs"), may read its axis state.
fn ensure_may_view(viewer: &Viewer, character: &CharacterRow) -> AppResult<()> {
    if character.user_id == Some(viewer.user_id) {
        return Ok(());
    }
    viewer.require_role(Role::Admin)
}

async fn world_key(ctx: &Context<'_>, world_id: Uuid) -> AppResult<String> {
    Ok(load(&ctx.loaders::<MudLoaders>().worlds, world_id)
        .await?
        .map(|world| world.world_key.clone())
        .unwrap_or_default())
}

#[derive(Default)]
pub struct AxisQuery;

#[Object]
impl AxisQuery {
    /// A character's axis scores (with labels) and snapshots: its player, or ADMIN.
    async fn character_axis_state(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The character's id.")] character_id: ID,
    ) -> AppResult<CharacterAxisState> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        let character = character_or_not_found(&mut conn, viewer.tenant_id, &character_id).await?;
        ensure_may_view(viewer, &character)?;
        let world = world_store::worlds_by_ids(&mut conn, viewer.tenant_id, &[character.world_id])
            .await?
            .pop()
            .ok_or_else(|| AppError::not_found("world not found"))?;
        let registry = axis_store::world_axes(&mut conn, &world).await?;
        let scores = axis_store::scores_of(&mut conn, viewer.tenant_id, &[character.id]).await?;
        let policy = axis_store::policy_of(&world)?.map(|(policy, _)| policy);
        // The policy's axes in its order; without a policy, whatever the registry holds.
        let names: Vec<String> = match &policy {
            Some(policy) => policy.axes.iter().map(|a| a.name.clone()).collect(),
            None => registry.iter().map(|a| a.name.clone()).collect(),
        };
        let axes = names
            .into_iter()
            .filter_map(|name| {
                let axis_id = registry.iter().find(|a| a.name == name)?.id;
                let score = scores
                    .get(&(character.id, name.clone()))
                    .copied()
                    .unwrap_or(DEFAULT_SCORE);
                let label = policy
                    .as_ref()
                    .and_then(|p| p.axis(&name))
                    .and_then(|axis| label_for(&axis.labels, score))
                    .map(str::to_owned);
                Some(CharacterAxisScore {
                    axis_id: ID(axis_id.to_string()),
                    axis_name: name,
                    axis_score: score,
                    axis_label: label,
                })
            })
            .collect();
        Ok(CharacterAxisState {
            character_id: ID(character.id.to_string()),
            world_id: world.world_key.clone(),
            state_seed: character.state_seed,
            state_version: character.state_version,
            state_updated_at: character.state_updated_at,
            base_state: Json(character.base_state),
            current_state: Json(character.current_state),
            axes,
        })
    }

    /// A character's latest axis events, newest first (at most 200; 50 by default): its
    /// player, or ADMIN. `characterAxisEventsConnection` goes further back.
    async fn character_axis_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The character's id.")] character_id: ID,
        #[graphql(desc = "How many events to return: 1 to 200, 50 when absent.")] limit: Option<
            i32,
        >,
    ) -> AppResult<CharacterAxisEvents> {
        let limit = limit.unwrap_or(DEFAULT_EVENTS);
        if !(1..=MAX_EVENTS).contains(&limit) {
            return Err(AppError::bad_field(
                "limit",
                "the limit is between 1 and 200",
            ));
        }
        let character = viewable_character(ctx, &character_id).await?;
        let latest = Keyset {
            key: None,
            limit: i64::from(limit),
            backward: false,
        };
        let (world_key, mut events) = load_events(ctx, &character, &latest).await?;
        // The window fetches one more than the page, to tell whether the log goes on.
        events.truncate(usize::try_from(limit).unwrap_or_default());
        Ok(CharacterAxisEvents {
            character_id: ID(character.id.to_string()),
            events: events
                .into_iter()
                .map(|(event, deltas)| event_object(&world_key, event, deltas))
                .collect(),
        })
    }

    /// A character's axis events by cursor, newest first (of two at once, the higher id
    /// first), as far back as they go: its player, or ADMIN.
    async fn character_axis_events_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The character's id.")] character_id: ID,
        #[graphql(
            desc = "How many events to return after `after`: 1 to 200, 50 when neither \
                          `first` nor `last` is given."
        )]
        first: Option<i32>,
        #[graphql(desc = "The cursor to go on after (an `endCursor`); the start when absent.")]
        after: Option<String>,
        #[graphql(desc = "How many events to return before `before`: 1 to 200.")] last: Option<i32>,
        #[graphql(
            desc = "The cursor to go back from (a `startCursor`); the end when absent \
                          and `last` is given."
        )]
        before: Option<String>,
    ) -> AppResult<CharacterAxisEventConnection> {
        let character = viewable_character(ctx, &character_id).await?;
        let cursors = ctx.cursors(format!("axis-events/{}", character.id))?;
        let window = cursors.window(ConnectionArgs {
            first,
            after,
            last,
            before,
        })?;
        let (world_key, events) = load_events(ctx, &character, &window).await?;
        let page = page_of(
            events,
            &window,
            &cursors,
            |(event, _)| axis_store::event_key_of(event),
            |(event, deltas)| event_object(&world_key, event, deltas),
        );
        Ok(page.into())
    }
}

connection_type! {
    /// A character's axis events, newest first, a page at a time by cursor.
    pub struct CharacterAxisEventConnection;
    /// An axis event and its cursor.
    pub struct CharacterAxisEventEdge(CharacterAxisEvent);
}

/// The character whose axes are asked about, when the viewer may see them (its player, or
/// ADMIN).
async fn viewable_character(ctx: &Context<'_>, character_id: &ID) -> AppResult<CharacterRow> {
    let viewer = ctx.viewer()?;
    let mut conn = ctx.conn().await?;
    let character = character_or_not_found(&mut conn, viewer.tenant_id, character_id).await?;
    ensure_may_view(viewer, &character)?;
    Ok(character)
}

/// The events `keyset` holds of `character`'s, with their deltas, and its world's key.
async fn load_events(
    ctx: &Context<'_>,
    character: &CharacterRow,
    keyset: &Keyset<AxisEventKey>,
) -> AppResult<(String, Vec<(AxisEventRow, Vec<AxisDelta>)>)> {
    let mut conn = ctx.conn().await?;
    let events =
        axis_store::events_of_character(&mut conn, character.tenant_id, character.id, keyset)
            .await?;
    drop(conn);
    Ok((world_key(ctx, character.world_id).await?, events))
}

#[derive(Default)]
pub struct AxisMutation;

#[Object]
impl AxisMutation {
    /// Puts an axis policy in force in a world (WORLDBUILDER). Characters' snapshots keep the
    /// version they were made under until an event refreshes them.
    async fn set_axis_policy(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The world's key (worldId).")] world_id: String,
        #[graphql(desc = "The policy to put in force, replacing the one before.")]
        policy: AxisPolicy,
    ) -> AppResult<World> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let policy = policy.validated()?;
        let row = service::set_policy(ctx.platform(), viewer, &world_id, &policy).await?;
        ctx.loaders::<MudLoaders>().forget();
        Ok(World(row))
    }

    /// Applies deltas to a character's axes in one transaction (WORLDBUILDER): scores are
    /// clamped to [0, 1] and changes under 1e-12 are not recorded.
    async fn apply_axis_event(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The character and the deltas to apply.")] input: ApplyAxisEventInput,
    ) -> AppResult<CharacterAxisEvent> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let event = AxisEventRequest {
            event_type: &input.event_type,
            description: input.description.as_deref(),
            metadata: input
                .metadata
                .into_iter()
                .map(|entry| (entry.key, entry.value))
                .collect(),
            deltas: input
                .deltas
                .into_iter()
                .map(|d| (d.axis, d.delta))
                .collect(),
        };
        let (world, recorded) =
            service::apply_event(ctx.platform(), viewer, &input.character_id, event).await?;
        let (event, deltas) = recorded
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("a kept event was not recorded")))?;
        Ok(event_object(&world.world_key, event, deltas))
    }
}
