//! Turning the event bus into one tenant's subscription stream.

use std::sync::{Arc, OnceLock};

use async_graphql::Context;
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use super::context::ContextExt;
use crate::error::AppResult;
use crate::events::Event;

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
pub fn tenant_events<T, F>(
    ctx: &Context<'_>,
    select: F,
) -> AppResult<impl Stream<Item = T> + use<T, F>>
where
    F: Fn(&Arc<Event>) -> Option<T> + Send + 'static,
    T: Send + 'static,
{
    let tenant_id = ctx.viewer()?.tenant_id;
    let receiver = ctx.app().events.subscribe();
    let fell_behind = ctx.data_opt::<Arc<FellBehind>>().cloned();
    Ok(futures_util::stream::unfold(
        (receiver, select),
        move |(mut receiver, select)| {
            let fell_behind = fell_behind.clone();
            async move {
                loop {
                    match receiver.recv().await {
                        Ok(event) if event.tenant_id == tenant_id => {
                            if let Some(item) = select(&event) {
                                return Some((item, (receiver, select)));
                            }
                        }
                        Ok(_) => {}
                        Err(RecvError::Lagged(missed)) => {
                            tracing::warn!(missed, "a subscription fell behind the event bus");
                            if let Some(fell_behind) = &fell_behind {
                                fell_behind.note(format!(
                                    "too slow: missed {missed} events; reconnect and refetch"
                                ));
                            }
                            return None;
                        }
                        Err(RecvError::Closed) => return None,
                    }
                }
            }
        },
    ))
}
