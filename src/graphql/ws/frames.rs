//! Writing to the socket: sends that time out on a peer that stopped reading, close frames,
//! and waiting for an optional deadline.

use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, future};

use super::Ending;
use crate::context::subscriptions::CLOSE_TOO_SLOW;

/// Sends `message`, or says how the socket ends. A reading peer takes a message at once; only a
/// send that has to wait is timed (a timer per message would cost every delivery a trip
/// through the timer wheel).
pub(super) async fn send(
    sink: &mut SplitSink<WebSocket, Message>,
    message: Message,
    timeout: Duration,
) -> Result<(), Ending> {
    let mut send = sink.send(message);
    let sent = match futures_util::poll!(&mut send) {
        Poll::Ready(result) => Ok(result),
        Poll::Pending => tokio::time::timeout(timeout, send).await,
    };
    match sent {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(Ending::Gone),
        Err(_) => {
            tracing::info!("disconnecting a subscriber that stopped reading");
            Err(Ending::close(
                CLOSE_TOO_SLOW,
                "too slow: the client stopped reading its messages",
            ))
        }
    }
}

/// Resolves when `deadline` does, or never without one.
pub(super) async fn until(deadline: Option<&mut Pin<Box<tokio::time::Sleep>>>) {
    match deadline {
        Some(deadline) => deadline.await,
        None => future::pending().await,
    }
}

pub(super) fn close_frame(code: u16, reason: &str) -> Message {
    // Close reasons are limited to 123 bytes.
    let mut reason = reason.to_owned();
    while reason.len() > 123 {
        reason.pop();
    }
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}
