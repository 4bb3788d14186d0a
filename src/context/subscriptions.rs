//! Turning the event bus into one tenant's subscription stream.

use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};

use async_graphql::{Context, ID};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use super::ContextExt;
use crate::auth::credentials;
use crate::error::{AppError, AppResult};
use crate::events::{self, Event, log};

/// WebSocket close code for a subscriber that cannot keep up (RFC 6455 policy violation).
pub const CLOSE_TOO_SLOW: u16 = 1008;

/// Where a subscription notes, in its request's data, that it fell so far behind the event bus
/// that events it had not read were overwritten. The field's stream ends; whoever runs the
/// subscription watches [`FellBehind::noticed`] (a document may have several root fields, and
/// the others go on) and disconnects its subscribers with the reason, rather than let them
/// silently miss events.
#[derive(Debug, Default)]
pub struct FellBehind {
    reason: OnceLock<String>,
    noticed: CancellationToken,
}

impl FellBehind {
    pub fn reason(&self) -> Option<String> {
        self.reason.get().cloned()
    }

    /// Notes why; the first reason stands.
    pub fn note(&self, reason: String) {
        let _ = self.reason.set(reason);
        self.noticed.cancel();
    }

    /// Resolves once a reason is noted.
    pub async fn noticed(&self) {
        self.noticed.cancelled().await;
    }
}

/// The events of the viewer's tenant that `select` maps to an item; other tenants' events never
/// pass. Falling behind the bus, or events lost before they were logged, end the stream, noted
/// in the request's [`FellBehind`].
///
/// With `since` (the last sequence number the subscriber received), the tenant's events of
/// `kind` logged after it are replayed first (none from before the viewer joined the tenant),
/// then live ones follow, each event once: the log numbers events in the order every node
/// delivers them. A `since` the log no longer covers, or one further back than
/// [`events::CAPACITY`] events, is refused: the subscriber refetches with queries instead.
pub async fn tenant_events<T, F>(
    ctx: &Context<'_>,
    since: Option<ID>,
    kind: &str,
    select: F,
) -> AppResult<impl futures_util::Stream<Item = T> + use<T, F>>
where
    F: Fn(&Arc<Event>) -> Option<T> + Send + 'static,
    T: Send + 'static,
{
    let tenant_id = ctx.viewer()?.tenant_id;
    // Listening starts before the log is read, so nothing falls between the two.
    let receiver = ctx.platform().events.subscribe();
    let losses = ctx.platform().events.losses();
    let (replayed, delivered) = match since {
        Some(since) => replay(ctx, &since, kind).await?,
        None => (VecDeque::new(), 0),
    };
    let fell_behind = ctx.data_opt::<Arc<FellBehind>>().cloned();
    let feed = Feed {
        replayed,
        delivered,
        receiver,
        losses,
        select,
    };
    Ok(futures_util::stream::unfold(feed, move |mut feed| {
        let fell_behind = fell_behind.clone();
        let end = move |reason: String| {
            if let Some(fell_behind) = &fell_behind {
                fell_behind.note(reason);
            }
        };
        async move {
            while let Some(event) = feed.replayed.pop_front() {
                if let Some(item) = (feed.select)(&event) {
                    return Some((item, feed));
                }
            }
            loop {
                let received = tokio::select! {
                    biased;
                    received = feed.receiver.recv() => received,
                    changed = feed.losses.changed() => {
                        // An error means the bus is gone: the server is stopping.
                        if changed.is_ok() {
                            end("events were lost before they were logged; refetch".into());
                        }
                        return None;
                    }
                };
                match received {
                    // Replayed already when at or below `delivered`.
                    Ok(event) if event.tenant_id == tenant_id && event.seq > feed.delivered => {
                        if let Some(item) = (feed.select)(&event) {
                            return Some((item, feed));
                        }
                    }
                    Ok(_) => {}
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "a subscription fell behind the event bus");
                        end(format!(
                            "too slow: missed {missed} events; reconnect and resume with \
                             `since`, or refetch"
                        ));
                        return None;
                    }
                    Err(RecvError::Closed) => return None,
                }
            }
        }
    }))
}

/// What a subscription stream carries from one item to the next.
struct Feed<F> {
    /// Events read from the log, to go first.
    replayed: VecDeque<Arc<Event>>,
    /// The last sequence replayed (or `since`): live events up to it were replayed.
    delivered: i64,
    receiver: tokio::sync::broadcast::Receiver<Arc<Event>>,
    losses: tokio::sync::watch::Receiver<u64>,
    select: F,
}

/// The viewer's tenant's events of `kind` logged after `since` (and since the viewer joined),
/// oldest first, and the last sequence they reach.
async fn replay(
    ctx: &Context<'_>,
    since: &ID,
    kind: &str,
) -> AppResult<(VecDeque<Arc<Event>>, i64)> {
    let viewer = ctx.viewer()?;
    let since: i64 = since
        .parse()
        .ok()
        .filter(|since| *since >= 0)
        .ok_or_else(|| AppError::bad_field("since", "a `sequence` from an earlier event"))?;
    let expired = || {
        AppError::bad_field(
            "since",
            format!(
                "events after {since} are no longer kept: refetch with queries, then subscribe \
                 without `since`"
            ),
        )
    };
    let limit = i64::try_from(events::CAPACITY).unwrap_or(i64::MAX);
    let mut conn = ctx.conn().await?;
    if log::pruned_through(&mut conn).await? > since {
        return Err(expired());
    }
    let joined = credentials::joined_at(&mut conn, viewer.tenant_id, viewer.user_id).await?;
    let (logged, read) =
        log::replay(&mut conn, viewer.tenant_id, kind, since, joined, limit + 1).await?;
    // Read again after the events: if the sweeper removed any after `since` meanwhile, this
    // says so.
    if log::pruned_through(&mut conn).await? > since {
        return Err(expired());
    }
    if read > events::CAPACITY {
        return Err(AppError::bad_field(
            "since",
            format!(
                "more than {} events happened after {since}: refetch with queries, then \
                 subscribe without `since`",
                events::CAPACITY
            ),
        ));
    }
    let delivered = logged.last().map_or(since, |event| event.seq);
    Ok((logged.into_iter().map(Arc::new).collect(), delivered))
}
