//! The rules of the timeline: populating it from the tenant's entities (WORLDBUILDER; the same
//! data makes the same timeline, so a second run changes nothing), reading it in time order,
//! the eras of the world's calendar, and what it holds that cannot be true.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use serde_json::Value;
use uuid::Uuid;

use super::dates::{self, Era, Placed};
use super::derive::{self, Derived, IdTypes};
use super::store::{self, EventFilter, EventKey, EventRow};
use crate::auth::{Role, Viewer};
use crate::db::keyset::Window;
use crate::entities::service::{EntityRow, live_page};
use crate::error::{AppError, AppResult};

/// Most entities read and events kept in one tenant's timeline.
const MAX_ENTITIES: usize = 100_000;
pub const MAX_EVENTS: usize = 50_000;
/// Most eras a calendar has, and longest era name.
const MAX_ERAS: usize = 50;
const MAX_ERA_NAME: usize = 100;
/// Most unplaced events listed.
pub const MAX_UNPLACED: i64 = 500;
/// Entities read per round trip.
const PAGE: i64 = 500;

/// What a population did.
#[derive(Default, Debug)]
pub struct Population {
    pub created: usize,
    pub updated: usize,
    pub removed: usize,
    pub unchanged: usize,
    /// Events whose dates could not be placed.
    pub unplaced: usize,
    /// Dated places left out past the timeline's cap.
    pub skipped: usize,
    /// Whether every live entity was read (false past 100,000).
    pub complete: bool,
}

/// The eras of the tenant's calendar.
pub async fn eras(conn: &mut AsyncPgConnection, viewer: &Viewer) -> AppResult<Vec<Era>> {
    let (eras, _) = store::settings(conn, viewer.tenant_id).await?;
    Ok(serde_json::from_value(eras).unwrap_or_default())
}

/// Replaces the eras of the tenant's calendar (WORLDBUILDER); run `autoPopulateTimeline` to
/// place the dates again.
pub async fn set_eras(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    eras: Vec<Era>,
) -> AppResult<Vec<Era>> {
    viewer.require_role(Role::Worldbuilder)?;
    if eras.len() > MAX_ERAS {
        return Err(AppError::bad_field(
            "eras",
            format!("a calendar has at most {MAX_ERAS} eras"),
        ));
    }
    let eras: Vec<Era> = eras
        .into_iter()
        .map(|era| Era {
            name: era.name.trim().to_owned(),
            abbreviation: era.abbreviation.map(|a| a.trim().to_owned()),
            offset: era.offset,
        })
        .collect();
    let mut seen: Vec<String> = Vec::new();
    for era in &eras {
        let names = std::iter::once(&era.name).chain(era.abbreviation.as_ref());
        for name in names {
            let lower = name.to_lowercase();
            let problem = if name.is_empty() || name.chars().count() > MAX_ERA_NAME {
                Some(format!("has 1 to {MAX_ERA_NAME} characters"))
            } else if name
                .chars()
                .any(|c| c.is_ascii_digit() || c == '-' || c == ',')
            {
                Some("holds no digits, dashes or commas".to_owned())
            } else if dates::EPOCH_WORDS.contains(&lower.as_str()) {
                Some("is not one of BC, BCE, AD or CE".to_owned())
            } else if seen.contains(&lower) {
                Some("is named once".to_owned())
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(AppError::bad_field(
                    "eras",
                    format!("an era's name or abbreviation {problem}: `{name}`"),
                ));
            }
            seen.push(lower);
        }
        if era.offset.abs() > 100_000_000 {
            return Err(AppError::bad_field(
                "eras",
                "an era begins within 100,000,000 years of year 0",
            ));
        }
    }
    let value = serde_json::to_value(&eras).map_err(AppError::internal)?;
    store::save_eras(conn, viewer.tenant_id, &value).await?;
    Ok(eras)
}

/// Places a date text on the tenant's calendar (a filter's `from` and `to`).
pub fn place(text: &str, eras: &[Era], field: &'static str) -> AppResult<Placed> {
    dates::place(text, eras).ok_or_else(|| {
        AppError::bad_field(
            field,
            format!("`{text}` is not a date this timeline can place"),
        )
    })
}

/// Derives the timeline from the tenant's live entities and stores what changed
/// (WORLDBUILDER). The entities are read a page at a time and only their events kept; the
/// changes are written in one transaction that holds the tenant's timeline (one population at
/// a time). Events of entities not read (past the cap) or left out (past the events' cap) are
/// kept as they were, never removed.
pub async fn populate(conn: &mut AsyncPgConnection, viewer: &Viewer) -> AppResult<Population> {
    viewer.require_role(Role::Worldbuilder)?;
    let tenant_id = viewer.tenant_id;
    let eras = eras(conn, viewer).await?;
    let mut gathered = Gathered::default();
    let mut after = None;
    loop {
        let page = live_page(conn, tenant_id, after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        if gathered.read.len() >= MAX_ENTITIES {
            gathered.complete = false;
            break;
        }
        // Reading every entity's fields is the heavy part.
        gathered = tokio::task::spawn_blocking(move || {
            gathered.take(&page);
            gathered
        })
        .await
        .map_err(AppError::internal)?;
    }
    conn.transaction::<_, AppError, _>(async |conn| {
        store::lock_populated(conn, tenant_id).await?;
        let existing = store::all(conn, tenant_id, MAX_EVENTS as i64 * 2).await?;
        let diff = tokio::task::spawn_blocking(move || gathered.diff(&eras, tenant_id, existing))
            .await
            .map_err(AppError::internal)?;
        store::insert(conn, &diff.new).await?;
        store::upsert(conn, &diff.changed).await?;
        store::delete(conn, tenant_id, &diff.gone).await?;
        Ok(diff.population)
    })
    .await
}

/// What the reading of the entities found.
struct Gathered {
    events: Vec<Derived>,
    ids: IdTypes,
    /// The entities read, and whether that was all of them.
    read: HashSet<Uuid>,
    complete: bool,
    /// The places left out past the cap.
    skipped: HashSet<(Uuid, String)>,
}

impl Default for Gathered {
    fn default() -> Self {
        Self {
            events: Vec::new(),
            ids: IdTypes::new(),
            read: HashSet::new(),
            complete: true,
            skipped: HashSet::new(),
        }
    }
}

/// The writes a population makes.
struct Diff {
    new: Vec<EventRow>,
    changed: Vec<EventRow>,
    gone: Vec<Uuid>,
    population: Population,
}

impl Gathered {
    fn take(&mut self, page: &[EntityRow]) {
        for row in page {
            self.read.insert(row.id);
            derive::note_id(&mut self.ids, row);
            for event in derive::events_of(row) {
                if self.events.len() == MAX_EVENTS {
                    self.skipped
                        .insert((event.source_entity_id, event.source_path));
                } else {
                    self.events.push(event);
                }
            }
        }
    }

    /// The events placed on the calendar, against what the timeline holds.
    fn diff(self, eras: &[Era], tenant_id: Uuid, existing: Vec<EventRow>) -> Diff {
        let mut population = Population {
            skipped: self.skipped.len(),
            complete: self.complete,
            ..Population::default()
        };
        let mut kept: HashMap<(Uuid, String), EventRow> = existing
            .into_iter()
            .map(|row| ((row.source_entity_id, row.source_path.clone()), row))
            .collect();
        let (mut new, mut changed) = (Vec::new(), Vec::new());
        for mut derived in self.events {
            derive::resolve(&mut derived, &self.ids);
            let mut row = event_row(derived, eras, tenant_id);
            if row.precision.is_none() {
                population.unplaced += 1;
            }
            match kept.remove(&(row.source_entity_id, row.source_path.clone())) {
                Some(old) if old.same_as(&row) => population.unchanged += 1,
                Some(old) => {
                    row.id = old.id;
                    changed.push(row);
                }
                None => new.push(row),
            }
        }
        // What was not read, or left out, stays as it was.
        let gone: Vec<Uuid> = kept
            .into_values()
            .filter(|row| self.complete || self.read.contains(&row.source_entity_id))
            .filter(|row| {
                !self
                    .skipped
                    .contains(&(row.source_entity_id, row.source_path.clone()))
            })
            .map(|row| row.id)
            .collect();
        population.created = new.len();
        population.updated = changed.len();
        population.removed = gone.len();
        Diff {
            new,
            changed,
            gone,
            population,
        }
    }
}

fn event_row(derived: Derived, eras: &[Era], tenant_id: Uuid) -> EventRow {
    let placed = dates::place(&derived.date_text, eras);
    let end = derived
        .end_text
        .as_deref()
        .and_then(|text| dates::place(text, eras))
        .filter(|end| placed.is_some_and(|start| end.key >= start.key));
    EventRow {
        tenant_id,
        id: Uuid::now_v7(),
        source_entity_id: derived.source_entity_id,
        source_type: derived.source_type.slug().to_owned(),
        source_path: derived.source_path,
        kind: derived.kind.to_owned(),
        title: derived.title,
        date_text: derived.date_text,
        end_text: derived.end_text,
        sort_key: placed.map_or(i64::MAX, |p| p.key),
        end_key: end.or(placed).map_or(i64::MAX, |p| p.end_key()),
        precision: placed.map(|p| p.precision.as_str().to_owned()),
        approximate: placed.is_some_and(|p| p.approximate),
        subject: derived.subject,
        participants: derived.participants,
        location: derived.location,
        tags: derived.tags,
        exclusive: derived.exclusive,
        updated_at: Utc::now(),
    }
}

/// A page of the placed events, in time order (any member).
pub async fn placed(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    filter: &EventFilter,
    window: &Window<EventKey>,
) -> AppResult<Vec<EventRow>> {
    store::placed(conn, viewer.tenant_id, filter, window).await
}

/// The events whose dates could not be placed (any member; the date range does not apply).
pub async fn unplaced(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    filter: EventFilter,
) -> AppResult<Vec<EventRow>> {
    let filter = EventFilter {
        from_key: None,
        to_key: None,
        ..filter
    };
    store::unplaced(conn, viewer.tenant_id, &filter, MAX_UNPLACED).await
}

/// When the timeline was last populated.
pub async fn populated_at(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
) -> AppResult<Option<chrono::DateTime<Utc>>> {
    Ok(store::settings(conn, viewer.tenant_id).await?.1)
}

/// Every event of the tenant, in time order, the unplaced last (an export's and the
/// conflicts' input).
pub async fn everything(conn: &mut AsyncPgConnection, viewer: &Viewer) -> AppResult<Vec<EventRow>> {
    store::all(conn, viewer.tenant_id, MAX_EVENTS as i64).await
}

/// The events a filter matches, in time order, the unplaced last (at most the timeline's cap;
/// with a date range, only the placed).
pub async fn matching(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    filter: &EventFilter,
) -> AppResult<Vec<EventRow>> {
    store::matching(conn, viewer.tenant_id, filter, MAX_EVENTS as i64).await
}

/// An entity as the timeline names it: `type:entity_id`.
pub fn entity_key(entity_type: &str, entity_id: &str) -> String {
    format!("{entity_type}:{entity_id}")
}

/// The JSON of an event (an export's row).
pub fn event_json(row: &EventRow) -> Value {
    serde_json::json!({
        "id": row.id,
        "title": row.title,
        "kind": row.kind,
        "date": row.date_text,
        "end_date": row.end_text,
        "placed": row.precision.is_some(),
        "year": row.precision.as_ref().map(|_| row.sort_key.div_euclid(10_000)),
        "precision": row.precision,
        "approximate": row.approximate,
        "subject": row.subject,
        "participants": row.participants,
        "location": row.location,
        "tags": row.tags,
        "source": { "type": row.source_type, "entity_row_id": row.source_entity_id, "path": row.source_path },
    })
}
