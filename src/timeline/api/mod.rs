//! GraphQL: the timeline. Any member reads it; WORLDBUILDER and above populate it and set the
//! calendar's eras.

mod objects;

use async_graphql::{Context, Object};
use chrono::{DateTime, Utc};

pub use objects::*;

use super::conflicts::{self, ConflictKind};
use super::dates::Era;
use super::export::{self, Format};
use super::service;
use super::store::EventFilter;
use crate::context::ContextExt;
use crate::db::connection::page_of;
use crate::db::cursor::ConnectionArgs;
use crate::db::keyset::Window;
use crate::error::{AppError, AppResult};

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The filter as the store takes it: its dates placed on the tenant's calendar (whose eras
/// are read only when the filter has dates).
async fn filter_of(
    conn: &mut diesel_async::AsyncPgConnection,
    viewer: &crate::auth::Viewer,
    filter: Option<TimelineFilter>,
) -> AppResult<EventFilter> {
    let filter = filter.unwrap_or_default();
    let eras = if filter.from.is_some() || filter.to.is_some() {
        service::eras(conn, viewer).await?
    } else {
        Vec::new()
    };
    filter.into_filter(&eras)
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
        let mut conn = ctx.conn().await?;
        let filter = filter_of(&mut conn, viewer, filter).await?;
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
        let mut conn = ctx.conn().await?;
        let filter = filter_of(&mut conn, viewer, filter).await?;
        let rows = service::unplaced(&mut conn, viewer, filter).await?;
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

    /// The timeline written out, whole or filtered (in time order, the unplaced last; at most
    /// 50,000 events).
    async fn export_timeline(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "JSON, CSV or MARKDOWN.")] format: TimelineExportFormat,
        #[graphql(desc = "Which events (with a date range, the unplaced are left out).")]
        filter: Option<TimelineFilter>,
    ) -> AppResult<TimelineExport> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        let filter = filter_of(&mut conn, viewer, filter).await?;
        let events = service::matching(&mut conn, viewer, &filter).await?;
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
