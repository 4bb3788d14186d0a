//! Turning the event bus into one tenant's subscription stream.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, OnceLock};

use async_graphql::{Context, ID};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::context::ContextExt;
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
/// pass. Falling behind the bus ends the stream, noted in the request's [`FellBehind`].
///
/// With `since` (a sequence number the subscriber saw), the tenant's events of `kinds` logged
/// after it are replayed first, then live ones follow, each event once. A `since` the log no
/// longer covers, or one further back than [`events::CAPACITY`] events, is refused: the
/// subscriber refetches with queries instead.
pub async fn tenant_events<T, F>(
    ctx: &Context<'_>,
    since: Option<ID>,
    kinds: &[&str],
    select: F,
) -> AppResult<impl futures_util::Stream<Item = T> + use<T, F>>
where
    F: Fn(&Arc<Event>) -> Option<T> + Send + 'static,
    T: Send + 'static,
{
    let tenant_id = ctx.viewer()?.tenant_id;
    // Listening starts before the log is read, so nothing falls between the two.
    let receiver = ctx.app().events.subscribe();
    let replayed = match since {
        Some(since) => replay(ctx, tenant_id, &since, kinds).await?,
        None => VecDeque::new(),
    };
    let fell_behind = ctx.data_opt::<Arc<FellBehind>>().cloned();
    let feed = Feed {
        replayed_seqs: replayed.iter().map(|event| event.seq).collect(),
        replayed,
        receiver,
        select,
    };
    Ok(futures_util::stream::unfold(feed, move |mut stream| {
        let fell_behind = fell_behind.clone();
        async move {
            while let Some(event) = stream.replayed.pop_front() {
                if let Some(item) = (stream.select)(&event) {
                    return Some((item, stream));
                }
            }
            loop {
                match stream.receiver.recv().await {
                    Ok(event)
                        if event.tenant_id == tenant_id
                            && !stream.replayed_seqs.contains(&event.seq) =>
                    {
                        if let Some(item) = (stream.select)(&event) {
                            return Some((item, stream));
                        }
                    }
                    Ok(_) => {}
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "a subscription fell behind the event bus");
                        if let Some(fell_behind) = &fell_behind {
                            fell_behind.note(format!(
                                "too slow: missed {missed} events; reconnect and resume \
                                     with `since`, or refetch"
                            ));
                        }
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
    /// Their numbers, so that the same events arriving live are skipped.
    replayed_seqs: HashSet<i64>,
    receiver: tokio::sync::broadcast::Receiver<Arc<Event>>,
    select: F,
}

/// The tenant's events of `kinds` logged after `since`, oldest first.
async fn replay(
    ctx: &Context<'_>,
    tenant_id: Uuid,
    since: &ID,
    kinds: &[&str],
) -> AppResult<VecDeque<Arc<Event>>> {
    let since: i64 = since
        .parse()
        .ok()
        .filter(|since| *since >= 0)
        .ok_or_else(|| AppError::bad_field("since", "a `sequence` from an earlier event"))?;
    let limit = i64::try_from(events::CAPACITY).unwrap_or(i64::MAX);
    let mut conn = ctx.conn().await?;
    let logged = log::replay(&mut conn, tenant_id, kinds, since, limit + 1).await?;
    // Read after the events: if the sweeper removed any after `since` before they were read,
    // this says so.
    let pruned_through = log::pruned_through(&mut conn).await?;
    if pruned_through > since {
        return Err(AppError::bad_field(
            "since",
            format!(
                "events after {since} are no longer kept: refetch with queries, then subscribe \
                 without `since`"
            ),
        ));
    }
    if logged.len() > events::CAPACITY {
        return Err(AppError::bad_field(
            "since",
            format!(
                "more than {} events happened after {since}: refetch with queries, then \
                 subscribe without `since`",
                events::CAPACITY
            ),
        ));
    }
    Ok(logged.into_iter().map(Arc::new).collect())
}
