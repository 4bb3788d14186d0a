//! Carries the bus across nodes. Every node LISTENs on one channel. What a node publishes is
//! appended to the event log (`super::log`), which numbers it, and notified on the channel in
//! the same transaction; every node, the publisher included, hands the event to its
//! subscribers when the notification arrives. Notifications arrive in commit order and the log
//! numbers events in commit order, so each node delivers events in sequence order and needs to
//! remember only the last number it delivered. A notification is an envelope naming its node
//! and the event's sequence around the event, or the sequence alone when the event is too large
//! for NOTIFY (it is read from the log). Revocations are notified without being logged.
//!
//! One dedicated connection does it all, outside the pool. When it drops, the bridge reconnects
//! with growing pauses and carries on: what this node published meanwhile waits and is logged
//! then (an event already logged before the connection dropped is not logged twice); what was
//! logged meanwhile is read back from the log after the last delivered number and delivered;
//! and every live socket's credentials are checked again, since revocations are not logged.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, Client, NoTls, Statement};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{BusMessage, EventBus, log};
use crate::auth::Revocation;
use crate::error::{AppError, AppResult};

const CHANNEL: &str = "loregraph_events";
/// Messages sent in one round trip.
const BATCH: usize = 256;
/// Events read back from the log in one round trip after a reconnect.
const REPLAY_PAGE: i64 = 1_000;
const LONGEST_RETRY: Duration = Duration::from_secs(5);
/// How the connection shows in `pg_stat_activity` (followed by the node's id).
pub const APPLICATION_NAME: &str = "loregraph-events";

#[derive(Serialize, Deserialize)]
struct Envelope {
    node: Uuid,
    /// A logged event's sequence number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seq: Option<i64>,
    /// Absent for an event too large to notify: it is read from the log by its sequence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<BusMessage>,
}

/// How a step of the relay went: an error says what is left and why.
type Relayed = Result<(), String>;

/// Relays until `shutdown`; returns at once if another bridge already took the bus's outbox.
/// `first_retry` is the pause before the first attempt to reconnect (it doubles up to 5 s).
pub async fn run(
    bus: EventBus,
    database_url: String,
    first_retry: Duration,
    shutdown: CancellationToken,
) {
    let Some(mut outbox) = bus.take_outbox() else {
        return;
    };
    // Messages not yet logged or sent: kept across a lost connection and sent after it returns.
    let mut pending: Vec<BusMessage> = Vec::new();
    // The last sequence number delivered here; none before the first connection.
    let mut delivered: Option<i64> = None;
    let mut retry = first_retry;
    loop {
        let connected = tokio::select! {
            () = shutdown.cancelled() => return,
            connected = connect(&database_url, bus.node_id()) => connected,
        };
        match connected {
            Ok((client, prepared_append, mut notifications)) => {
                retry = first_retry;
                tracing::info!("relaying events to and from other nodes");
                let outcome = match catch_up(&bus, &client, &mut delivered).await {
                    Ok(last) => {
                        let mut relay = Relay {
                            bus: &bus,
                            client: &client,
                            prepared_append: &prepared_append,
                            delivered: last,
                        };
                        let outcome = relay
                            .run(&mut notifications, &mut outbox, &mut pending, &shutdown)
                            .await;
                        delivered = Some(relay.delivered);
                        outcome
                    }
                    Err(reason) => Err(reason),
                };
                match outcome {
                    Ok(()) => return,
                    Err(reason) => {
                        tracing::warn!(%reason, "lost the event relay connection; reconnecting")
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "cannot open the event relay connection"),
        }
        crate::metrics::event_relay_reconnect();
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(retry) => {}
        }
        retry = (retry * 2).min(LONGEST_RETRY.max(first_retry));
    }
}

/// Once listening: on the first connection, starts after the newest logged event (what came
/// before this node is not its business); after a reconnect, delivers what was logged while
/// this node was not listening (nothing falls between: it listens already) and has every live
/// socket's credentials checked again. Returns the last sequence delivered.
async fn catch_up(
    bus: &EventBus,
    client: &Client,
    delivered: &mut Option<i64>,
) -> Result<i64, String> {
    let Some(mut last) = *delivered else {
        let newest = log::newest(client).await.map_err(|e| e.to_string())?;
        *delivered = Some(newest);
        return Ok(newest);
    };
    bus.revoke_locally(Revocation::All);
    let pruned = log::pruned_through_on(client)
        .await
        .map_err(|e| e.to_string())?;
    if pruned > last {
        tracing::warn!(
            last,
            pruned,
            "the relay was away longer than the event log keeps events: some are lost"
        );
        bus.note_loss_locally();
        last = pruned;
        *delivered = Some(pruned);
    }
    let mut replayed = 0usize;
    loop {
        let page = log::after(client, last, REPLAY_PAGE)
            .await
            .map_err(|e| e.to_string())?;
        let full = i64::try_from(page.len()).unwrap_or(i64::MAX) == REPLAY_PAGE;
        for (seq, body) in page {
            if let Some(event) = log::decode(seq, serde_json::from_str(&body)) {
                replayed += 1;
                bus.deliver_event(Arc::new(event));
            }
            last = seq;
            *delivered = Some(seq);
        }
        if !full {
            break;
        }
    }
    if replayed > 0 {
        tracing::info!(
            replayed,
            "delivered the events logged while the relay was away"
        );
    }
    Ok(last)
}

/// Opens the connection, starts listening and prepares the log's append. Notifications arrive
/// on the returned channel, which closes when the connection does.
async fn connect(
    database_url: &str,
    node: Uuid,
) -> Result<(Client, Statement, mpsc::UnboundedReceiver<String>), tokio_postgres::Error> {
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
            "SET application_name = '{APPLICATION_NAME} {node}'; \
             SET statement_timeout = '30s'; LISTEN {CHANNEL}"
        ))
        .await?;
    let prepared_append = log::prepare_append(&client).await?;
    Ok((client, prepared_append, receiver))
}

/// One connection's relaying.
struct Relay<'a> {
    bus: &'a EventBus,
    client: &'a Client,
    prepared_append: &'a Statement,
    /// The last sequence number delivered here.
    delivered: i64,
}

impl Relay<'_> {
    /// Moves messages both ways until shutdown (`Ok`, after sending what is still queued) or
    /// until the connection fails (`Err`, with what was not sent left in `pending`).
    async fn run(
        &mut self,
        notifications: &mut mpsc::UnboundedReceiver<String>,
        outbox: &mut mpsc::Receiver<BusMessage>,
        pending: &mut Vec<BusMessage>,
        shutdown: &CancellationToken,
    ) -> Relayed {
        loop {
            if !pending.is_empty() {
                self.flush(pending).await?;
            }
            tokio::select! {
                biased;
                () = shutdown.cancelled() => {
                    // What was published up to now (this node's users going offline, say)
                    // still reaches the others.
                    while let Ok(message) = outbox.try_recv() {
                        pending.push(message);
                    }
                    return self.flush(pending).await;
                }
                payload = notifications.recv() => match payload {
                    Some(payload) => self.receive(&payload).await?,
                    None => return Err("the connection closed".into()),
                },
                count = outbox.recv_many(pending, BATCH) => {
                    if count == 0 {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Logs and relays `pending` in batches; what was handled leaves `pending`, so a failure
    /// keeps the rest (and an event logged just before a failure is not logged again).
    async fn flush(&mut self, pending: &mut Vec<BusMessage>) -> Relayed {
        let node = self.bus.node_id();
        if self.bus.take_loss_to_relay() {
            let lost = encode_notice(node, BusMessage::Lost).map_err(|e| e.to_string())?;
            if let Err(error) = notify(self.client, &[lost]).await {
                // Told with the next flush.
                self.bus.note_loss_to_relay_again();
                return Err(error);
            }
        }
        while !pending.is_empty() {
            let take = pending.len().min(BATCH);
            let mut entries = Vec::new();
            let mut revocations = Vec::new();
            for message in &pending[..take] {
                match message {
                    BusMessage::Event(event) => entries.extend(entry(event)),
                    BusMessage::Revoked { .. } => revocations.push(
                        encode_notice(node, message.clone()).map_err(|error| error.to_string())?,
                    ),
                    // Only a wake-up: the flag above carries the loss.
                    BusMessage::Lost => {}
                }
            }
            if !revocations.is_empty() {
                notify(self.client, &revocations).await?;
            }
            self.append(&entries).await?;
            pending.drain(..take);
        }
        Ok(())
    }

    /// Logs `entries`; one the database refuses as data is dropped (and noted as lost), so that
    /// one bad event cannot hold up every later one.
    async fn append(&mut self, entries: &[log::Entry]) -> Relayed {
        if entries.is_empty() {
            return Ok(());
        }
        let node = self.bus.node_id();
        match log::append(self.client, self.prepared_append, CHANNEL, node, entries).await {
            Ok(()) => return Ok(()),
            Err(error) if !is_data_error(&error) => {
                return Err(format!("{} events not logged yet: {error}", entries.len()));
            }
            Err(_) => {}
        }
        for entry in entries {
            match log::append(
                self.client,
                self.prepared_append,
                CHANNEL,
                node,
                std::slice::from_ref(entry),
            )
            .await
            {
                Ok(()) => {}
                Err(error) if is_data_error(&error) => {
                    tracing::warn!(%error, kind = entry.kind, "the event log refused an event: it is lost");
                    self.bus.note_loss();
                }
                Err(error) => return Err(format!("events not logged yet: {error}")),
            }
        }
        Ok(())
    }

    /// A notification from the channel: a logged event (carried, or to be read from the log),
    /// delivered once and in order; or another node's revocation.
    async fn receive(&mut self, payload: &str) -> Relayed {
        let envelope = match serde_json::from_str::<Envelope>(payload) {
            Ok(envelope) => envelope,
            // A node of another version may send what this one does not know; skip it.
            Err(error) => {
                tracing::warn!(%error, "skipped a notification this version cannot read");
                return Ok(());
            }
        };
        let Some(seq) = envelope.seq else {
            // A revocation or a loss: this node's own were applied when made.
            if envelope.node != self.bus.node_id()
                && let Some(message) = envelope.message
            {
                self.bus.deliver(message);
            }
            return Ok(());
        };
        if seq <= self.delivered {
            // Already replayed from the log after a reconnect.
            return Ok(());
        }
        let message = match envelope.message {
            Some(message) => Ok(message),
            None => match log::one(self.client, seq)
                .await
                .map_err(|e| e.to_string())?
            {
                Some(body) => serde_json::from_str(&body),
                None => {
                    // Pruned before it could be read: lost here.
                    tracing::warn!(seq, "an event left the log before this node could read it");
                    self.bus.note_loss_locally();
                    self.delivered = seq;
                    return Ok(());
                }
            },
        };
        if let Some(event) = log::decode(seq, message) {
            self.bus.deliver_event(Arc::new(event));
        }
        self.delivered = seq;
        Ok(())
    }
}

/// An event as the log files it.
fn entry(event: &Arc<super::Event>) -> Option<log::Entry> {
    match serde_json::to_string(&BusMessage::Event(event.clone())) {
        Ok(body) => Some(log::Entry {
            event_id: event.id,
            tenant_id: event.tenant_id,
            kind: event.payload.kind(),
            body,
        }),
        Err(error) => {
            tracing::warn!(%error, "an event that cannot be encoded is lost");
            None
        }
    }
}

/// A revocation or a loss, as notified (not logged).
fn encode_notice(node: Uuid, message: BusMessage) -> serde_json::Result<String> {
    serde_json::to_string(&Envelope {
        node,
        seq: None,
        message: Some(message),
    })
}

/// Whether PostgreSQL refused the values themselves (SQLSTATE class 22), which no retry mends.
fn is_data_error(error: &tokio_postgres::Error) -> bool {
    error
        .code()
        .is_some_and(|code| code.code().starts_with("22"))
}

/// Sends revocations to every node; they are not logged (a reconnecting node re-checks every
/// socket instead).
async fn notify(client: &Client, payloads: &[String]) -> Relayed {
    client
        .execute(
            "SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload",
            &[&CHANNEL, &payloads],
        )
        .await
        .map_err(|error| format!("{} revocations not relayed yet: {error}", payloads.len()))?;
    Ok(())
}

/// Tells every running node of a revocation made outside all of them (the command line), when
/// the surrounding transaction commits.
pub async fn notify_revocation(
    conn: &mut diesel_async::AsyncPgConnection,
    revocation: Revocation,
) -> AppResult<()> {
    use diesel_async::RunQueryDsl;
    let payload = encode_notice(Uuid::nil(), BusMessage::Revoked { revocation })
        .map_err(AppError::internal)?;
    diesel::sql_query("SELECT pg_notify($1, $2)")
        .bind::<diesel::sql_types::Text, _>(CHANNEL)
        .bind::<diesel::sql_types::Text, _>(payload)
        .execute(conn)
        .await?;
    Ok(())
}
