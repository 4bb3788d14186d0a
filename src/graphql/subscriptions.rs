//! Turning the event bus into one tenant's subscription stream.

use std::sync::Arc;

use futures_util::Stream;
use tokio::sync::broadcast::{Receiver, error::RecvError};
use uuid::Uuid;

use crate::events::Event;

/// The events of `tenant_id` that `select` maps to an item; other tenants' events never pass.
/// A subscriber that falls behind the bus's buffer skips what it missed rather than stalling
/// everyone else.
pub fn tenant_events<T, F>(
    receiver: Receiver<Arc<Event>>,
    tenant_id: Uuid,
    select: F,
) -> impl Stream<Item = T> + use<T, F>
where
    F: Fn(&Event) -> Option<T> + Send + 'static,
    T: Send + 'static,
{
    futures_util::stream::unfold(
        (receiver, select),
        move |(mut receiver, select)| async move {
            loop {
                match receiver.recv().await {
                    Ok(event) if event.tenant_id == tenant_id => {
                        if let Some(item) = select(&event) {
                            return Some((item, (receiver, select)));
                        }
                    }
                    Ok(_) => {}
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "a subscriber fell behind and skipped events");
                    }
                    Err(RecvError::Closed) => return None,
                }
            }
        },
    )
}
