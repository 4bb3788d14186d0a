//! Turning the event bus into one tenant's subscription stream.

use std::sync::Arc;

use async_graphql::Context;
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::context::ContextExt;
use crate::error::AppResult;
use crate::events::Event;
use crate::realtime::connections::LiveConnection;

/// WebSocket close code for a subscriber that cannot keep up (RFC 6455 policy violation).
pub const CLOSE_TOO_SLOW: u16 = 1008;

/// The events of the viewer's tenant that `select` maps to an item; other tenants' events never
/// pass. A subscriber that falls so far behind that the bus overwrites events it has not read
/// is disconnected with the reason, rather than silently missing them: it reconnects and
/// refetches.
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
    let connection = ctx.data_opt::<Arc<LiveConnection>>().cloned();
    Ok(futures_util::stream::unfold(
        (receiver, select),
        move |(mut receiver, select)| {
            let connection = connection.clone();
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
                            tracing::warn!(missed, "a subscriber fell behind; disconnecting it");
                            if let Some(connection) = &connection {
                                connection.closer.close(
                                    CLOSE_TOO_SLOW,
                                    format!(
                                        "too slow: missed {missed} events; reconnect and refetch"
                                    ),
                                );
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
