//! Axis state in PostgreSQL: a world's policy and axis registry, characters' scores, and events
//! with their deltas. `record_event` is the one way scores change.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::{Value, json};
use uuid::Uuid;

use super::policy::{AxisPolicy, DEFAULT_SCORE, apply_delta, label_for};
use crate::db::keyset::{Keyset, Window, windowed};
use crate::db::schema::{
    axes, axis_event_characters, axis_event_deltas, axis_events, character_axis_scores, characters,
    worlds,
};
use crate::error::{AppError, AppResult};
use crate::mud::model::{CharacterRow, WorldRow};

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = axes, check_for_backend(diesel::pg::Pg))]
pub struct AxisRow {
    pub id: Uuid,
    pub name: String,
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = axis_events, check_for_backend(diesel::pg::Pg))]
pub struct AxisEventRow {
    pub id: Uuid,
    pub world_id: Uuid,
    pub event_type: String,
    pub event_type_description: Option<String>,
    pub metadata: Value,
    pub created_at: DateTime<Utc>,
}

/// One recorded change of one character's score on one axis.
#[derive(Clone, Debug)]
pub struct AxisDelta {
    pub event_id: Uuid,
    pub character_id: Uuid,
    pub axis_name: String,
    pub old_score: f64,
    pub new_score: f64,
    pub delta: f64,
}

/// A world's policy and its version, when it has one.
pub fn policy_of(world: &WorldRow) -> AppResult<Option<(AxisPolicy, String)>> {
    match (&world.axis_policy, &world.axis_policy_hash) {
        (Some(policy), Some(version)) => {
            Ok(Some((AxisPolicy::from_json(policy)?, version.clone())))
        }
        _ => Ok(None),
    }
}

/// Puts `policy` in force in `world` and registers its axes (axes it dropped stay registered,
/// for history). Run inside a transaction.
pub async fn set_policy(
    conn: &mut AsyncPgConnection,
    world: &WorldRow,
    policy: &AxisPolicy,
) -> AppResult<WorldRow> {
    let version = policy.version()?;
    let stored = serde_json::to_value(policy).map_err(AppError::internal)?;
    let rows: Vec<_> = policy
        .axes
        .iter()
        .map(|axis| {
            (
                axes::id.eq(Uuid::now_v7()),
                axes::tenant_id.eq(world.tenant_id),
                axes::world_id.eq(world.id),
                axes::name.eq(&axis.name),
            )
        })
        .collect();
    diesel::insert_into(axes::table)
        .values(rows)
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(
        diesel::update(worlds::table.find((world.tenant_id, world.id)))
            .filter(worlds::tenant_id.eq(world.tenant_id))
            .set((
                worlds::axis_policy.eq(stored),
                worlds::axis_policy_hash.eq(version),
                worlds::updated_at.eq(diesel::dsl::now),
            ))
            .returning(WorldRow::as_returning())
            .get_result(conn)
            .await?,
    )
}

pub async fn world_axes(conn: &mut AsyncPgConnection, world: &WorldRow) -> AppResult<Vec<AxisRow>> {
    Ok(axes::table
        .filter(axes::tenant_id.eq(world.tenant_id))
        .filter(axes::world_id.eq(world.id))
        .select(AxisRow::as_select())
        .load(conn)
        .await?)
}

/// The world, read in the caller's transaction and shared-locked until it ends, so the policy
/// an event is applied under stays in force until the event commits (`setAxisPolicy` waits).
pub async fn world_for_share(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    world_id: Uuid,
) -> AppResult<WorldRow> {
    worlds::table
        .filter(worlds::tenant_id.eq(tenant_id))
        .filter(worlds::id.eq(world_id))
        .for_share()
        .select(WorldRow::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found("world not found"))
}

/// Locks characters of the tenant in ascending id order, so two transactions touching the same
/// pair cannot deadlock. NO KEY UPDATE, because rows referencing a character (a chat message)
/// take KEY SHARE locks on it, which must not conflict. Returns them in that order.
pub async fn lock_characters(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    ids: &[Uuid],
) -> AppResult<Vec<CharacterRow>> {
    Ok(characters::table
        .filter(characters::tenant_id.eq(tenant_id))
        .filter(characters::id.eq_any(ids))
        .order(characters::id.asc())
        .for_no_key_update()
        .select(CharacterRow::as_select())
        .load(conn)
        .await?)
}

/// Scores by (character, axis name); absent ones are the default.
pub async fn scores_of(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    character_ids: &[Uuid],
) -> AppResult<HashMap<(Uuid, String), f64>> {
    let rows: Vec<(Uuid, String, f64)> = character_axis_scores::table
        .inner_join(
            axes::table.on(axes::tenant_id
                .eq(character_axis_scores::tenant_id)
                .and(axes::id.eq(character_axis_scores::axis_id))),
        )
        .filter(character_axis_scores::tenant_id.eq(tenant_id))
        .filter(character_axis_scores::character_id.eq_any(character_ids))
        .select((
            character_axis_scores::character_id,
            axes::name,
            character_axis_scores::score,
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(character, axis, score)| ((character, axis), score))
        .collect())
}

/// The current-state snapshot: every axis of the policy with its score and label.
pub fn snapshot(
    policy: &AxisPolicy,
    version: &str,
    scores: &HashMap<(Uuid, String), f64>,
    character_id: Uuid,
) -> Value {
    let axes: serde_json::Map<String, Value> = policy
        .axes
        .iter()
        .map(|axis| {
            let score = scores
                .get(&(character_id, axis.name.clone()))
                .copied()
                .unwrap_or(DEFAULT_SCORE);
            (
                axis.name.clone(),
                json!({ "score": score, "label": label_for(&axis.labels, score) }),
            )
        })
        .collect();
    json!({ "state_version": version, "axes": axes })
}

/// An event to record: deltas per (character, axis name).
pub struct NewAxisEvent<'a> {
    pub world: &'a WorldRow,
    pub event_type: &'a str,
    pub description: Option<&'a str>,
    pub metadata: BTreeMap<String, String>,
    pub deltas: Vec<(Uuid, String, f64)>,
    /// Record the event even when no delta is big enough to record.
    pub keep_if_empty: bool,
}

/// Records an event in the caller's transaction, whose characters the caller has locked
/// (`lock_characters`): the event row, one delta row per character and axis that moved (old,
/// new, applied delta; clamped to [0, 1]; changes under 1e-12 skipped), the new scores, and
/// the touched characters' refreshed snapshots. None when nothing moved and the event need not
/// be kept.
pub async fn record_event(
    conn: &mut AsyncPgConnection,
    policy: &AxisPolicy,
    version: &str,
    event: NewAxisEvent<'_>,
) -> AppResult<Option<(AxisEventRow, Vec<AxisDelta>)>> {
    let axis_ids: HashMap<String, Uuid> = world_axes(conn, event.world)
        .await?
        .into_iter()
        .map(|axis| (axis.name, axis.id))
        .collect();
    // Several deltas for the same character and axis add up.
    let mut requested: BTreeMap<(Uuid, String), f64> = BTreeMap::new();
    for (character_id, axis, delta) in event.deltas {
        if policy.axis(&axis).is_none() || !axis_ids.contains_key(&axis) {
            return Err(AppError::bad_field(
                "deltas",
                format!("the world's policy has no axis `{axis}`"),
            ));
        }
        if !delta.is_finite() {
            return Err(AppError::bad_field(
                "deltas",
                "a delta must be a finite number",
            ));
        }
        *requested.entry((character_id, axis)).or_default() += delta;
    }
    let mut character_ids: Vec<Uuid> = requested.keys().map(|(c, _)| *c).collect();
    character_ids.dedup();
    let mut scores = scores_of(conn, event.world.tenant_id, &character_ids).await?;
    let event_id = Uuid::now_v7();
    let mut deltas = Vec::new();
    for ((character_id, axis_name), delta) in requested {
        let key = (character_id, axis_name);
        let old_score = scores.get(&key).copied().unwrap_or(DEFAULT_SCORE);
        if let Some((new_score, applied)) = apply_delta(old_score, delta) {
            scores.insert(key.clone(), new_score);
            deltas.push(AxisDelta {
                event_id,
                character_id,
                axis_name: key.1,
                old_score,
                new_score,
                delta: applied,
            });
        }
    }
    if deltas.is_empty() && !event.keep_if_empty {
        return Ok(None);
    }
    let metadata = serde_json::to_value(&event.metadata).map_err(AppError::internal)?;
    let row = diesel::insert_into(axis_events::table)
        .values((
            axis_events::id.eq(event_id),
            axis_events::tenant_id.eq(event.world.tenant_id),
            axis_events::world_id.eq(event.world.id),
            axis_events::event_type.eq(event.event_type),
            axis_events::event_type_description.eq(event.description),
            axis_events::metadata.eq(metadata),
        ))
        .returning(AxisEventRow::as_returning())
        .get_result(conn)
        .await?;
    let subjects: Vec<_> = character_ids
        .iter()
        .map(|character_id| {
            (
                axis_event_characters::tenant_id.eq(event.world.tenant_id),
                axis_event_characters::event_id.eq(event_id),
                axis_event_characters::character_id.eq(*character_id),
                axis_event_characters::created_at.eq(row.created_at),
            )
        })
        .collect();
    diesel::insert_into(axis_event_characters::table)
        .values(subjects)
        .execute(conn)
        .await?;
    let tenant_id = event.world.tenant_id;
    if !deltas.is_empty() {
        write_moves(conn, tenant_id, event_id, &axis_ids, &deltas).await?;
    }
    // Every character the event is about gets a current snapshot under this policy, moved or
    // not (a new character's first event may move nothing).
    for &character_id in &character_ids {
        let state = snapshot(policy, version, &scores, character_id);
        write_snapshot(conn, tenant_id, character_id, state, version).await?;
    }
    Ok(Some((row, deltas)))
}

/// The delta rows of an event and the scores they leave.
async fn write_moves(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    event_id: Uuid,
    axis_ids: &HashMap<String, Uuid>,
    deltas: &[AxisDelta],
) -> AppResult<()> {
    let delta_rows: Vec<_> = deltas
        .iter()
        .map(|d| {
            (
                axis_event_deltas::tenant_id.eq(tenant_id),
                axis_event_deltas::event_id.eq(event_id),
                axis_event_deltas::character_id.eq(d.character_id),
                axis_event_deltas::axis_id.eq(axis_ids[&d.axis_name]),
                axis_event_deltas::old_score.eq(d.old_score),
                axis_event_deltas::new_score.eq(d.new_score),
                axis_event_deltas::delta.eq(d.delta),
            )
        })
        .collect();
    diesel::insert_into(axis_event_deltas::table)
        .values(delta_rows)
        .execute(conn)
        .await?;
    let score_rows: Vec<_> = deltas
        .iter()
        .map(|d| {
            (
                character_axis_scores::tenant_id.eq(tenant_id),
                character_axis_scores::character_id.eq(d.character_id),
                character_axis_scores::axis_id.eq(axis_ids[&d.axis_name]),
                character_axis_scores::score.eq(d.new_score),
            )
        })
        .collect();
    diesel::insert_into(character_axis_scores::table)
        .values(score_rows)
        .on_conflict((
            character_axis_scores::tenant_id,
            character_axis_scores::character_id,
            character_axis_scores::axis_id,
        ))
        .do_update()
        .set((
            character_axis_scores::score.eq(excluded(character_axis_scores::score)),
            character_axis_scores::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Stores a character's current snapshot, made under policy `version`.
async fn write_snapshot(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    character_id: Uuid,
    snapshot: Value,
    version: &str,
) -> AppResult<()> {
    diesel::update(characters::table.find((tenant_id, character_id)))
        .filter(characters::tenant_id.eq(tenant_id))
        .set((
            characters::current_state.eq(snapshot),
            characters::state_version.eq(version),
            characters::state_updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Makes the character's current snapshot its base snapshot too (a new character's start).
pub async fn settle_base_state(
    conn: &mut AsyncPgConnection,
    character: &CharacterRow,
) -> AppResult<CharacterRow> {
    Ok(
        diesel::update(characters::table.find((character.tenant_id, character.id)))
            .filter(characters::tenant_id.eq(character.tenant_id))
            .set(characters::base_state.eq(characters::current_state))
            .returning(CharacterRow::as_returning())
            .get_result(conn)
            .await?,
    )
}

/// Where an event sits in a character's list: when it happened, and its id.
pub type AxisEventKey = (DateTime<Utc>, Uuid);

/// The key of an event in a character's list (the character's row of it holds the event's
/// time).
pub fn event_key_of(event: &AxisEventRow) -> AxisEventKey {
    (event.created_at, event.id)
}

/// A page by cursor of the character's events, newest first (of two at once, the higher id
/// first), each with the character's own deltas (none when its scores did not move). Without a
/// key, the latest; no total (the log only grows).
pub async fn events_of_character(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    character_id: Uuid,
    keyset: &Keyset<AxisEventKey>,
) -> AppResult<Vec<(AxisEventRow, Vec<AxisDelta>)>> {
    let query = axis_event_characters::table
        .inner_join(
            axis_events::table.on(axis_events::tenant_id
                .eq(axis_event_characters::tenant_id)
                .and(axis_events::id.eq(axis_event_characters::event_id))),
        )
        .filter(axis_event_characters::tenant_id.eq(tenant_id))
        .filter(axis_event_characters::character_id.eq(character_id))
        .select(AxisEventRow::as_select())
        .into_boxed();
    let events: Vec<AxisEventRow> = windowed!(
        query,
        Window::Keyset(keyset.clone()),
        desc(
            axis_event_characters::created_at,
            axis_event_characters::event_id
        )
    )
    .load(conn)
    .await?;
    let event_ids: Vec<Uuid> = events.iter().map(|e| e.id).collect();
    let rows: Vec<(Uuid, String, f64, f64, f64)> = axis_event_deltas::table
        .inner_join(
            axes::table.on(axes::tenant_id
                .eq(axis_event_deltas::tenant_id)
                .and(axes::id.eq(axis_event_deltas::axis_id))),
        )
        .filter(axis_event_deltas::tenant_id.eq(tenant_id))
        .filter(axis_event_deltas::event_id.eq_any(&event_ids))
        .filter(axis_event_deltas::character_id.eq(character_id))
        .order((axis_event_deltas::event_id, axes::name))
        .select((
            axis_event_deltas::event_id,
            axes::name,
            axis_event_deltas::old_score,
            axis_event_deltas::new_score,
            axis_event_deltas::delta,
        ))
        .load(conn)
        .await?;
    let mut by_event: HashMap<Uuid, Vec<AxisDelta>> = HashMap::new();
    for (event_id, axis_name, old_score, new_score, delta) in rows {
        by_event.entry(event_id).or_default().push(AxisDelta {
            event_id,
            character_id,
            axis_name,
            old_score,
            new_score,
            delta,
        });
    }
    Ok(events
        .into_iter()
        .map(|event| {
            let deltas = by_event.remove(&event.id).unwrap_or_default();
            (event, deltas)
        })
        .collect())
}
