//! Carries the bus across nodes: every node LISTENs on one channel and NOTIFYs what it publishes
//! there. A message is an envelope naming its node (so a node skips its own) around an event or
//! a revocation; events carry ids only, so a message stays far below NOTIFY's 8,000 bytes.
//!
//! One dedicated connection does both, outside the pool. When it drops, the bridge reconnects
//! with growing pauses and carries on: what this node published meanwhile waits and is sent
//! then; what other nodes published meanwhile is missed (queries are the source of truth), so
//! after a reconnect every live socket's credentials are checked again, in case a revocation was
//! among what was missed.

use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, Client, NoTls};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{BusMessage, EventBus};
use crate::auth::Revocation;
use crate::error::{AppError, AppResult};

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
    // Encoded messages not yet sent: kept across a lost connection and sent after it returns.
    let mut pending: Vec<String> = Vec::new();
    let mut retry = FIRST_RETRY;
    let mut connected_before = false;
    loop {
        let connected = tokio::select! {
            () = shutdown.cancelled() => return,
            connected = connect(&database_url) => connected,
        };
        match connected {
            Ok((client, mut notifications)) => {
                retry = FIRST_RETRY;
                tracing::info!("relaying events to and from other nodes");
                if connected_before {
                    // Whatever other nodes sent meanwhile is lost, revocations included: check
                    // every live socket again rather than trust that none were.
                    bus.revoke_locally(Revocation::All);
                }
                connected_before = true;
                let outcome = relay(
                    &bus,
                    &client,
                    &mut notifications,
                    &mut outbox,
                    &mut pending,
                    &shutdown,
                )
                .await;
                match outcome {
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

/// Moves messages both ways until shutdown (`Ok`, after sending what is still queued) or until
/// the connection fails (`Err`, with what was not sent left in `pending`).
async fn relay(
    bus: &EventBus,
    client: &Client,
    notifications: &mut mpsc::UnboundedReceiver<String>,
    outbox: &mut mpsc::Receiver<BusMessage>,
    pending: &mut Vec<String>,
    shutdown: &CancellationToken,
) -> Result<(), String> {
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        if !pending.is_empty() {
            send(client, pending).await?;
        }
        tokio::select! {
            biased;
            () = shutdown.cancelled() => {
                // What was published up to now (this node's users going offline, say) still
                // reaches the others.
                while let Ok(message) = outbox.try_recv() {
                    batch.push(message);
                }
                pending.extend(encode(bus.node_id(), batch.drain(..)));
                return send(client, pending).await;
            }
            payload = notifications.recv() => match payload {
                Some(payload) => receive(bus, &payload),
                None => return Err("the connection closed".into()),
            },
            count = outbox.recv_many(&mut batch, BATCH) => {
                if count == 0 {
                    return Ok(());
                }
                pending.extend(encode(bus.node_id(), batch.drain(..)));
            }
        }
    }
}

/// Sends `pending` in batches; what was sent leaves it, so a failure keeps the rest.
async fn send(client: &Client, pending: &mut Vec<String>) -> Result<(), String> {
    while !pending.is_empty() {
        let take = pending.len().min(BATCH);
        client
            .execute(
                "SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload",
                &[&CHANNEL, &&pending[..take]],
            )
            .await
            .map_err(|error| format!("{} messages not relayed yet: {error}", pending.len()))?;
        pending.drain(..take);
    }
    Ok(())
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

/// Tells every running node of a revocation made outside all of them (the command line), when
/// the surrounding transaction commits.
pub async fn notify_revocation(
    conn: &mut diesel_async::AsyncPgConnection,
    revocation: Revocation,
) -> AppResult<()> {
    use diesel_async::RunQueryDsl;
    let envelope = Envelope {
        node: Uuid::nil(),
        message: BusMessage::Revoked { revocation },
    };
    let payload = serde_json::to_string(&envelope).map_err(AppError::internal)?;
    diesel::sql_query("SELECT pg_notify($1, $2)")
        .bind::<diesel::sql_types::Text, _>(CHANNEL)
        .bind::<diesel::sql_types::Text, _>(payload)
        .execute(conn)
        .await?;
    Ok(())
}
