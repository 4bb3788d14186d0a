//! GraphQL: the timeline. Any member reads it; WORLDBUILDER and above populate it and set the
//! calendar's eras.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::conflicts::{self, ConflictKind};
use super::dates::{Era, Precision};
use super::export::{self, Format};
use super::service::{self, MAX_UNPLACED};
use super::store::{EventFilter, EventRow};
use crate::connection_type;
use crate::context::ContextExt;
use crate::db::connection::page_of;
use crate::db::cursor::ConnectionArgs;
use crate::db::keyset::Window;
use crate::entities::api::{Entity, EntityRefInput, EntityType};
use crate::error::{AppError, AppResult};

/// Most items in each list of a filter.
const MAX_FILTER_ITEMS: usize = 100;

/// What made an event.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum TimelineEventKind {
    /// An EVENT entity's `date`.
    Event,
    /// One of a TIMELINE entity's `entries`.
    Entry,
    /// A character's `birth_year`.
    Birth,
    /// A character's `death_year`.
    Death,
    /// One of a character's `key_dates`.
    KeyDate,
    /// An entity's founding (`founded`, `founded_year`, `established`...).
    Founding,
    /// An entity's end (`destroyed`, `dissolved_year`...).
    End,
    /// Another `*_year` or `*_date` field.
    DatedField,
}

impl TimelineEventKind {
    fn slug(self) -> &'static str {
        match self {
            Self::Event => "event",
            Self::Entry => "entry",
            Self::Birth => "birth",
            Self::Death => "death",
            Self::KeyDate => "key_date",
            Self::Founding => "founding",
            Self::End => "end",
            Self::DatedField => "dated_field",
        }
    }

    fn of(slug: &str) -> Self {
        [
            Self::Event,
            Self::Entry,
            Self::Birth,
            Self::Death,
            Self::KeyDate,
            Self::Founding,
            Self::End,
        ]
        .into_iter()
        .find(|kind| kind.slug() == slug)
        .unwrap_or(Self::DatedField)
    }
}

/// How precise a placed date is.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum DatePrecision {
    /// `1204-05-17`.
    Day,
    /// `1204-05`.
    Month,
    /// `1204`, `300 BC`, `312 TA`.
    Year,
    /// `the 1190s`.
    Decade,
    /// `the 1200s`.
    Century,
}

impl From<Precision> for DatePrecision {
    fn from(precision: Precision) -> Self {
        match precision {
            Precision::Day => Self::Day,
            Precision::Month => Self::Month,
            Precision::Year => Self::Year,
            Precision::Decade => Self::Decade,
            Precision::Century => Self::Century,
        }
    }
}

/// One event of the timeline.
pub struct TimelineEvent(EventRow);

/// One event of the timeline, derived from an entity's data.
#[Object]
impl TimelineEvent {
    /// The event's id (kept across populations while its source stays).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// What made it.
    async fn kind(&self) -> TimelineEventKind {
        TimelineEventKind::of(&self.0.kind)
    }

    /// What happened: the EVENT's or entry's name, `Birth of Rex`, `Founding of Keep`.
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// The date as the entity wrote it.
    async fn date(&self) -> &str {
        &self.0.date_text
    }

    /// When it ended, as written (an EVENT's `end_date`).
    async fn end_date(&self) -> Option<&str> {
        self.0.end_text.as_deref()
    }

    /// Whether the date could be placed on the calendar (unplaced events are listed by
    /// `unplacedTimelineEvents`).
    async fn placed(&self) -> bool {
        self.0.precision.is_some()
    }

    /// The year it falls in on the calendar's scale (eras added); null when not placed.
    async fn year(&self) -> Option<i32> {
        self.0
            .precision
            .as_ref()
            .and_then(|_| i32::try_from(self.0.sort_key.div_euclid(10_000)).ok())
    }

    /// How precise the date is; null when not placed.
    async fn precision(&self) -> Option<DatePrecision> {
        self.0
            .precision
            .as_deref()
            .and_then(Precision::from_slug)
            .map(DatePrecision::from)
    }

    /// The date was written as approximate (`circa`, `about`, `~`).
    async fn approximate(&self) -> bool {
        self.0.approximate
    }

    /// The entity whose data made it (null once it is deleted; populate again).
    async fn source(&self, ctx: &Context<'_>) -> AppResult<Option<Entity>> {
        Entity::live(ctx, Some(self.0.source_entity_id)).await
    }

    /// Where in the entity: `date`, `birth_year`, `entries[2]`.
    async fn source_path(&self) -> &str {
        &self.0.source_path
    }

    /// The entity it is about, as `type:entity_id`.
    async fn subject(&self) -> &str {
        &self.0.subject
    }

    /// Who and what takes part, as `type:entity_id`.
    async fn participants(&self) -> &[String] {
        &self.0.participants
    }

    /// Where it happens, as `location:entity_id`.
    async fn location(&self) -> Option<&str> {
        self.0.location.as_deref()
    }

    /// The source entity's tags.
    async fn tags(&self) -> &[String] {
        &self.0.tags
    }
}

connection_type! {
    /// The timeline in time order, a page at a time by cursor.
    pub struct TimelineEventConnection;
    /// An event and its cursor.
    pub struct TimelineEventEdge(TimelineEvent);
}

/// Which events a timeline shows.
#[derive(InputObject, Default)]
pub struct TimelineFilter {
    /// Events that may reach into this date or later (`1200`, `300 BC`, `312 TA`...).
    pub from: Option<String>,
    /// Events beginning at this date or earlier.
    pub to: Option<String>,
    /// Events made by entities of these types.
    pub types: Option<Vec<EntityType>>,
    /// Events of these kinds.
    pub kinds: Option<Vec<TimelineEventKind>>,
    /// Events about, with or at any of these entities.
    pub entities: Option<Vec<EntityRefInput>>,
    /// Events whose source entity has any of these tags.
    pub tags: Option<Vec<String>>,
}

impl TimelineFilter {
    fn into_filter(self, eras: &[Era]) -> AppResult<EventFilter> {
        let too_many = [
            self.types.as_ref().map_or(0, Vec::len),
            self.kinds.as_ref().map_or(0, Vec::len),
            self.entities.as_ref().map_or(0, Vec::len),
            self.tags.as_ref().map_or(0, Vec::len),
        ]
        .into_iter()
        .any(|n| n > MAX_FILTER_ITEMS);
        if too_many {
            return Err(AppError::bad_field(
                "filter",
                format!("each list of a filter has at most {MAX_FILTER_ITEMS} items"),
            ));
        }
        let from = self
            .from
            .as_deref()
            .map(|t| service::place(t, eras, "from"))
            .transpose()?;
        let to = self
            .to
            .as_deref()
            .map(|t| service::place(t, eras, "to"))
            .transpose()?;
        Ok(EventFilter {
            from_key: from.map(|p| p.key),
            to_key: to.map(|p| p.end_key()),
            source_types: self
                .types
                .unwrap_or_default()
                .into_iter()
                .map(|t| t.slug().to_owned())
                .collect(),
            kinds: self
                .kinds
                .unwrap_or_default()
                .into_iter()
                .map(|k| k.slug().to_owned())
                .collect(),
            entities: self
                .entities
                .unwrap_or_default()
                .into_iter()
                .map(|e| service::entity_key(e.r#type.slug(), &e.entity_id))
                .collect(),
            tags: self.tags.unwrap_or_default(),
        })
    }
}

/// What cannot be true.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum TimelineConflictKind {
    /// Someone takes part in an event after their death.
    AfterDeath,
    /// Someone takes part in an event before their birth.
    BeforeBirth,
    /// An event happens at a place before it was founded.
    BeforeLocationExisted,
    /// An event happens at a place after its end.
    AfterLocationEnded,
    /// Exclusive events (`exclusive: true`) of one participant overlap.
    OverlappingExclusive,
}

/// One impossibility in the timeline.
#[derive(SimpleObject)]
pub struct TimelineConflict {
    /// What kind.
    pub kind: TimelineConflictKind,
    /// What is wrong, naming the events and their dates.
    pub message: String,
    /// The events that make it.
    pub events: Vec<TimelineEvent>,
}

/// An era of the world's calendar: `312 TA` is year `offset + 312` on the timeline's scale.
#[derive(SimpleObject, InputObject)]
#[graphql(input_name = "TimelineEraInput")]
pub struct TimelineEra {
    /// Its name: `Third Age`.
    pub name: String,
    /// Its short form: `TA`.
    pub abbreviation: Option<String>,
    /// The year of the timeline's scale its year 0 falls on.
    pub offset: i32,
}

/// What a population of the timeline did.
#[derive(SimpleObject)]
pub struct TimelinePopulation {
    /// Events new to the timeline.
    pub created: i32,
    /// Events whose source changed.
    pub updated: i32,
    /// Events whose source is gone (the entity deleted, or the date taken out of it).
    pub removed: i32,
    /// Events as they were.
    pub unchanged: i32,
    /// Events whose dates could not be placed (see `unplacedTimelineEvents`).
    pub unplaced: i32,
    /// Dated places left out past the timeline's 50,000 events (their events, if any, are
    /// kept as they were).
    pub skipped: i32,
    /// Whether every live entity was read (false past 100,000; the events of those not read
    /// are kept as they were).
    pub complete: bool,
}

/// A timeline written out.
#[derive(SimpleObject)]
pub struct TimelineExport {
    /// A file name for it.
    pub file_name: String,
    /// Its media type.
    pub media_type: String,
    /// The text.
    pub content: String,
    /// How many events it holds.
    pub events: i32,
}

/// An export's format.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum TimelineExportFormat {
    /// A JSON array of events with every field.
    Json,
    /// One line per event.
    Csv,
    /// A heading per year, the unplaced last.
    Markdown,
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

async fn filter_of(ctx: &Context<'_>, filter: Option<TimelineFilter>) -> AppResult<EventFilter> {
    let viewer = ctx.viewer()?;
    let mut conn = ctx.conn().await?;
    let eras = service::eras(&mut conn, viewer).await?;
    filter.unwrap_or_default().into_filter(&eras)
}

#[derive(Default)]
pub struct TimelineQuery;

#[Object]
impl TimelineQuery {
    /// The viewer's tenant's timeline in time order, by cursor (run `autoPopulateTimeline`
    /// to bring it up to date with the entities).
    async fn timeline(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which events.")] filter: Option<TimelineFilter>,
        #[graphql(desc = "At most this many events after `after` (1 to 200; 50 by default).")]
        first: Option<i32>,
        #[graphql(desc = "The cursor to go on after.")] after: Option<String>,
        #[graphql(desc = "At most this many events before `before`.")] last: Option<i32>,
        #[graphql(desc = "The cursor to go back from.")] before: Option<String>,
    ) -> AppResult<TimelineEventConnection> {
        let viewer = ctx.viewer()?;
        let filter = filter_of(ctx, filter).await?;
        // The cursors are bound to the filter.
        let cursors = ctx.cursors(format!(
            "timeline/{:?}/{:?}/{}/{}/{}/{}",
            filter.from_key,
            filter.to_key,
            filter.source_types.join(","),
            filter.kinds.join(","),
            filter.entities.join(","),
            filter.tags.join(",")
        ))?;
        let window = cursors.window(ConnectionArgs {
            first,
            after,
            last,
            before,
        })?;
        let mut conn = ctx.conn().await?;
        let rows =
            service::placed(&mut conn, viewer, &filter, &Window::Keyset(window.clone())).await?;
        Ok(page_of(
            rows,
            &window,
            &cursors,
            |e| (e.sort_key, e.id),
            TimelineEvent,
        )
        .into())
    }

    /// The events whose dates could not be placed on the calendar (at most 500, by title; the
    /// filter's dates do not apply).
    async fn unplaced_timeline_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which events.")] filter: Option<TimelineFilter>,
    ) -> AppResult<Vec<TimelineEvent>> {
        let viewer = ctx.viewer()?;
        let filter = filter_of(ctx, filter).await?;
        let mut conn = ctx.conn().await?;
        let rows = service::unplaced(&mut conn, viewer, filter).await?;
        debug_assert!(rows.len() as i64 <= MAX_UNPLACED);
        Ok(rows.into_iter().map(TimelineEvent).collect())
    }

    /// What the timeline holds that cannot be true (at most 1,000).
    async fn timeline_conflicts(&self, ctx: &Context<'_>) -> AppResult<Vec<TimelineConflict>> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        let events = service::everything(&mut conn, viewer).await?;
        drop(conn);
        tokio::task::spawn_blocking(move || {
            conflicts::find(&events)
                .into_iter()
                .map(|conflict| TimelineConflict {
                    kind: match conflict.kind {
                        ConflictKind::AfterDeath => TimelineConflictKind::AfterDeath,
                        ConflictKind::BeforeBirth => TimelineConflictKind::BeforeBirth,
                        ConflictKind::BeforeLocationExisted => {
                            TimelineConflictKind::BeforeLocationExisted
                        }
                        ConflictKind::AfterLocationEnded => {
                            TimelineConflictKind::AfterLocationEnded
                        }
                        ConflictKind::OverlappingExclusive => {
                            TimelineConflictKind::OverlappingExclusive
                        }
                    },
                    message: conflict.message,
                    events: conflict
                        .events
                        .into_iter()
                        .map(|e| TimelineEvent(e.clone()))
                        .collect(),
                })
                .collect()
        })
        .await
        .map_err(AppError::internal)
    }

    /// The whole timeline written out (the unplaced last).
    async fn export_timeline(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "JSON, CSV or MARKDOWN.")] format: TimelineExportFormat,
    ) -> AppResult<TimelineExport> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        let events = service::everything(&mut conn, viewer).await?;
        drop(conn);
        let format = match format {
            TimelineExportFormat::Json => Format::Json,
            TimelineExportFormat::Csv => Format::Csv,
            TimelineExportFormat::Markdown => Format::Markdown,
        };
        let held = count(events.len());
        let content = tokio::task::spawn_blocking(move || export::write(&events, format))
            .await
            .map_err(AppError::internal)?;
        Ok(TimelineExport {
            file_name: format.file_name().to_owned(),
            media_type: format.media_type().to_owned(),
            content,
            events: held,
        })
    }

    /// The eras of the tenant's calendar.
    async fn timeline_eras(&self, ctx: &Context<'_>) -> AppResult<Vec<TimelineEra>> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        Ok(service::eras(&mut conn, viewer)
            .await?
            .into_iter()
            .map(era_out)
            .collect())
    }

    /// When the timeline was last populated (null: never).
    async fn timeline_populated_at(&self, ctx: &Context<'_>) -> AppResult<Option<DateTime<Utc>>> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        service::populated_at(&mut conn, viewer).await
    }
}

fn era_out(era: Era) -> TimelineEra {
    TimelineEra {
        name: era.name,
        abbreviation: era.abbreviation,
        offset: i32::try_from(era.offset).unwrap_or_default(),
    }
}

#[derive(Default)]
pub struct TimelineMutation;

#[Object]
impl TimelineMutation {
    /// Derives the timeline from the tenant's live entities (WORLDBUILDER): EVENT dates,
    /// TIMELINE entries, births, deaths, key dates, foundings, ends and other dated fields.
    /// Idempotent: the same entities make the same timeline, and a second run changes nothing.
    async fn auto_populate_timeline(&self, ctx: &Context<'_>) -> AppResult<TimelinePopulation> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        let done = service::populate(&mut conn, viewer).await?;
        Ok(TimelinePopulation {
            created: count(done.created),
            updated: count(done.updated),
            removed: count(done.removed),
            unchanged: count(done.unchanged),
            unplaced: count(done.unplaced),
            skipped: count(done.skipped),
            complete: done.complete,
        })
    }

    /// Replaces the eras of the tenant's calendar (WORLDBUILDER; at most 50; names without
    /// digits). Populate the timeline again to place dates by them.
    async fn set_timeline_eras(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The eras, all of them.")] eras: Vec<TimelineEra>,
    ) -> AppResult<Vec<TimelineEra>> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        let eras = eras
            .into_iter()
            .map(|era| Era {
                name: era.name,
                abbreviation: era.abbreviation,
                offset: i64::from(era.offset),
            })
            .collect();
        Ok(service::set_eras(&mut conn, viewer, eras)
            .await?
            .into_iter()
            .map(era_out)
            .collect())
    }
}
