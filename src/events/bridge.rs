//! Carries the bus across nodes: every node LISTENs on one channel and NOTIFYs what it publishes
//! there. A message is an envelope naming its node (so a node skips its own) around an event or
//! a revocation; events carry ids only, so a message stays far below NOTIFY's 8,000 bytes.
//!
//! One dedicated connection does both, outside the pool. When it drops, the bridge reconnects
//! with growing pauses and carries on; what other nodes published meanwhile is missed (the
//! queries are the source of truth), and what this node published meanwhile waits in the outbox.

use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, Client, NoTls};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{BusMessage, EventBus};

const CHANNEL: &str = "loregraph_events";
/// `pg_notify` refuses payloads of 8,000 bytes or more.
const MAX_PAYLOAD: usize = 7_900;
/// Messages sent in one round trip.
const BATCH: usize = 256;
const FIRST_RETRY: Duration = Duration::from_millis(100);
const LONGEST_RETRY: Duration = Duration::from_secs(5);
/// How the connection shows in `pg_stat_activity`.
pub const APPLICATION_NAME: &str = "loregraph-events";

#[derive(Serialize, Deserialize)]
struct Envelope {
    node: Uuid,
    message: BusMessage,
}

/// Relays until `shutdown`; returns at once if another bridge already took the bus's outbox.
pub async fn run(bus: EventBus, database_url: String, shutdown: CancellationToken) {
    let Some(mut outbox) = bus.take_outbox() else {
        return;
    };
    let mut retry = FIRST_RETRY;
    loop {
        let connected = tokio::select! {
            () = shutdown.cancelled() => return,
            connected = connect(&database_url) => connected,
        };
        match connected {
            Ok((client, mut notifications)) => {
                retry = FIRST_RETRY;
                tracing::info!("relaying events to and from other nodes");
                match relay(&bus, &client, &mut notifications, &mut outbox, &shutdown).await {
                    Ok(()) => return,
                    Err(reason) => {
                        tracing::warn!(%reason, "lost the event relay connection; reconnecting")
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "cannot open the event relay connection"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(retry) => {}
        }
        retry = (retry * 2).min(LONGEST_RETRY);
    }
}

/// Opens the connection and starts listening. Notifications arrive on the returned channel,
/// which closes when the connection does.
async fn connect(
    database_url: &str,
) -> Result<(Client, mpsc::UnboundedReceiver<String>), tokio_postgres::Error> {
    let (client, mut connection) = tokio_postgres::connect(database_url, NoTls).await?;
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(notification)) => {
                    if sender.send(notification.payload().to_owned()).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::debug!(%error, "event relay connection ended");
                    return;
                }
            }
        }
    });
    client
        .batch_execute(&format!(
            "SET application_name = '{APPLICATION_NAME}'; LISTEN {CHANNEL}"
        ))
        .await?;
    Ok((client, receiver))
}

/// Moves messages both ways until shutdown (`Ok`) or until the connection fails (`Err`).
async fn relay(
    bus: &EventBus,
    client: &Client,
    notifications: &mut mpsc::UnboundedReceiver<String>,
    outbox: &mut mpsc::Receiver<BusMessage>,
    shutdown: &CancellationToken,
) -> Result<(), String> {
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            payload = notifications.recv() => match payload {
                Some(payload) => receive(bus, &payload),
                None => return Err("the connection closed".into()),
            },
            count = outbox.recv_many(&mut batch, BATCH) => {
                if count == 0 {
                    return Ok(());
                }
                let payloads = encode(bus.node_id(), batch.drain(..));
                client
                    .execute(
                        "SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload",
                        &[&CHANNEL, &payloads],
                    )
                    .await
                    .map_err(|error| format!("{count} messages not relayed: {error}"))?;
            }
        }
    }
}

fn encode(node: Uuid, messages: impl Iterator<Item = BusMessage>) -> Vec<String> {
    messages
        .filter_map(|message| {
            let text = serde_json::to_string(&Envelope { node, message }).ok()?;
            if text.len() > MAX_PAYLOAD {
                tracing::warn!(
                    bytes = text.len(),
                    "an event too large to relay stays on this node"
                );
                return None;
            }
            Some(text)
        })
        .collect()
}

fn receive(bus: &EventBus, payload: &str) {
    match serde_json::from_str::<Envelope>(payload) {
        Ok(envelope) if envelope.node == bus.node_id() => {}
        Ok(envelope) => bus.deliver(envelope.message),
        // A node of another version may send what this one does not know; skip it.
        Err(error) => tracing::warn!(%error, "skipped an event relayed by another node"),
    }
}
