//! GraphQL: the timeline's types — its events, filter, conflicts, eras, population and
//! export.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};

use crate::connection_type;
use crate::entities::api::{Entity, EntityRefInput, EntityType};
use crate::error::{AppError, AppResult};
use crate::timeline::dates::{Era, Precision};
use crate::timeline::service;
use crate::timeline::store::{EventFilter, EventRow};

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
pub struct TimelineEvent(pub(super) EventRow);

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
    pub(super) fn into_filter(self, eras: &[Era]) -> AppResult<EventFilter> {
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
