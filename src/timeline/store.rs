//! Queries of the timeline: its events and the tenant's calendar settings.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use uuid::Uuid;

use crate::db::keyset::{Window, load_window, windowed};
use crate::db::schema::{timeline_events, timeline_settings};
use crate::error::AppResult;

/// One event of the timeline.
#[derive(Queryable, Selectable, Insertable, Clone, Debug, PartialEq)]
#[diesel(table_name = timeline_events, check_for_backend(diesel::pg::Pg))]
pub struct EventRow {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub source_entity_id: Uuid,
    pub source_type: String,
    pub source_path: String,
    pub kind: String,
    pub title: String,
    pub date_text: String,
    pub end_text: Option<String>,
    pub sort_key: i64,
    pub end_key: i64,
    pub precision: Option<String>,
    pub approximate: bool,
    pub subject: String,
    pub participants: Vec<String>,
    pub location: Option<String>,
    pub tags: Vec<String>,
    pub exclusive: bool,
    pub updated_at: DateTime<Utc>,
}

impl EventRow {
    /// Whether two rows say the same (their ids and times aside).
    pub fn same_as(&self, other: &EventRow) -> bool {
        (
            &self.source_type,
            &self.kind,
            &self.title,
            &self.date_text,
            &self.end_text,
            self.sort_key,
            self.end_key,
            &self.precision,
            self.approximate,
            &self.subject,
            &self.participants,
            &self.location,
        ) == (
            &other.source_type,
            &other.kind,
            &other.title,
            &other.date_text,
            &other.end_text,
            other.sort_key,
            other.end_key,
            &other.precision,
            other.approximate,
            &other.subject,
            &other.participants,
            &other.location,
        ) && (&self.tags, self.exclusive) == (&other.tags, other.exclusive)
    }
}

/// What a list of the timeline is asked to hold.
#[derive(Default)]
pub struct EventFilter {
    pub from_key: Option<i64>,
    pub to_key: Option<i64>,
    pub source_types: Vec<String>,
    pub kinds: Vec<String>,
    /// `type:entity_id`: events about, with or at any of them.
    pub entities: Vec<String>,
    pub tags: Vec<String>,
}

/// Where an event sits in the timeline: its key, and its id.
pub type EventKey = (i64, Uuid);

fn filtered(
    tenant_id: Uuid,
    filter: &EventFilter,
) -> timeline_events::BoxedQuery<'_, diesel::pg::Pg> {
    let mut query = timeline_events::table
        .filter(timeline_events::tenant_id.eq(tenant_id))
        .into_boxed();
    if let Some(from) = filter.from_key {
        // An event that may reach into the range is in it.
        query = query.filter(timeline_events::end_key.ge(from));
    }
    if let Some(to) = filter.to_key {
        query = query.filter(timeline_events::sort_key.le(to));
    }
    if !filter.source_types.is_empty() {
        query = query.filter(timeline_events::source_type.eq_any(&filter.source_types));
    }
    if !filter.kinds.is_empty() {
        query = query.filter(timeline_events::kind.eq_any(&filter.kinds));
    }
    if !filter.entities.is_empty() {
        query = query.filter(
            timeline_events::participants
                .overlaps_with(&filter.entities)
                .or(timeline_events::subject.eq_any(&filter.entities))
                .or(timeline_events::location.eq_any(&filter.entities)),
        );
    }
    if !filter.tags.is_empty() {
        query = query.filter(timeline_events::tags.overlaps_with(&filter.tags));
    }
    query
}

/// A page of the placed events in time order (by cursor).
pub async fn placed(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    filter: &EventFilter,
    window: &Window<EventKey>,
) -> AppResult<Vec<EventRow>> {
    let placed = || filtered(tenant_id, filter).filter(timeline_events::precision.is_not_null());
    let rows = windowed!(
        placed(),
        window.clone(),
        asc(timeline_events::sort_key, timeline_events::id)
    )
    .select(EventRow::as_select());
    Ok(load_window(conn, window, rows, placed().count()).await?.1)
}

/// The events whose dates could not be placed, at most `limit`, by title.
pub async fn unplaced(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    filter: &EventFilter,
    limit: i64,
) -> AppResult<Vec<EventRow>> {
    Ok(filtered(tenant_id, filter)
        .filter(timeline_events::precision.is_null())
        .order((timeline_events::title, timeline_events::id))
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)
        .await?)
}

/// The events a filter matches in time order, the unplaced last, at most `limit` (with a date
/// range, only the placed: an unplaced event is in no range).
pub async fn matching(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    filter: &EventFilter,
    limit: i64,
) -> AppResult<Vec<EventRow>> {
    let mut query = filtered(tenant_id, filter);
    if filter.from_key.is_some() || filter.to_key.is_some() {
        query = query.filter(timeline_events::precision.is_not_null());
    }
    Ok(query
        .order((timeline_events::sort_key, timeline_events::id))
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)
        .await?)
}

/// Every event of the tenant, at most `limit` (the conflicts' and an export's input).
pub async fn all(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    limit: i64,
) -> AppResult<Vec<EventRow>> {
    Ok(timeline_events::table
        .filter(timeline_events::tenant_id.eq(tenant_id))
        .order((timeline_events::sort_key, timeline_events::id))
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)
        .await?)
}

pub async fn insert(conn: &mut AsyncPgConnection, rows: &[EventRow]) -> AppResult<()> {
    for chunk in rows.chunks(1_000) {
        diesel::insert_into(timeline_events::table)
            .values(chunk)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Writes changed events over the rows of their places (ids kept), a thousand a statement.
pub async fn upsert(conn: &mut AsyncPgConnection, rows: &[EventRow]) -> AppResult<()> {
    use diesel::upsert::excluded;
    use timeline_events::*;
    for chunk in rows.chunks(1_000) {
        diesel::insert_into(table)
            .values(chunk)
            .on_conflict((tenant_id, source_entity_id, source_path))
            .do_update()
            .set((
                source_type.eq(excluded(source_type)),
                kind.eq(excluded(kind)),
                title.eq(excluded(title)),
                date_text.eq(excluded(date_text)),
                end_text.eq(excluded(end_text)),
                sort_key.eq(excluded(sort_key)),
                end_key.eq(excluded(end_key)),
                precision.eq(excluded(precision)),
                approximate.eq(excluded(approximate)),
                subject.eq(excluded(subject)),
                participants.eq(excluded(participants)),
                location.eq(excluded(location)),
                tags.eq(excluded(tags)),
                exclusive.eq(excluded(exclusive)),
                updated_at.eq(excluded(updated_at)),
            ))
            .execute(conn)
            .await?;
    }
    Ok(())
}

pub async fn delete(conn: &mut AsyncPgConnection, tenant_id: Uuid, ids: &[Uuid]) -> AppResult<()> {
    diesel::delete(
        timeline_events::table
            .filter(timeline_events::tenant_id.eq(tenant_id))
            .filter(timeline_events::id.eq_any(ids)),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The tenant's eras (JSON) and when its timeline was last populated.
pub async fn settings(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
) -> AppResult<(Value, Option<DateTime<Utc>>)> {
    Ok(timeline_settings::table
        .find(tenant_id)
        .select((timeline_settings::eras, timeline_settings::populated_at))
        .first(conn)
        .await
        .optional()?
        .unwrap_or((Value::Array(Vec::new()), None)))
}

pub async fn save_eras(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    eras: &Value,
) -> AppResult<()> {
    diesel::insert_into(timeline_settings::table)
        .values((
            timeline_settings::tenant_id.eq(tenant_id),
            timeline_settings::eras.eq(eras),
        ))
        .on_conflict(timeline_settings::tenant_id)
        .do_update()
        .set(timeline_settings::eras.eq(eras))
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a population, holding the tenant's settings row (one population at a time).
pub async fn lock_populated(conn: &mut AsyncPgConnection, tenant_id: Uuid) -> AppResult<()> {
    diesel::insert_into(timeline_settings::table)
        .values((
            timeline_settings::tenant_id.eq(tenant_id),
            timeline_settings::populated_at.eq(Utc::now()),
        ))
        .on_conflict(timeline_settings::tenant_id)
        .do_update()
        .set(timeline_settings::populated_at.eq(Utc::now()))
        .execute(conn)
        .await?;
    Ok(())
}
