//! Carries the bus across nodes. Every node LISTENs on one channel; what a node publishes is
//! appended to the event log (`super::log`), which numbers it, and notified on the channel in
//! the same statement, then delivered to this node's own subscribers. A notification is an
//! envelope naming its node (so a node skips its own) and the event's sequence around the
//! event, or the sequence alone when the event is too large for NOTIFY (the receiver reads it
//! from the log). Revocations are notified without being logged.
//!
//! One dedicated connection does it all, outside the pool. When it drops, the bridge reconnects
//! with growing pauses and carries on: what this node published meanwhile waits and is logged
//! then; what other nodes logged meanwhile is read back from the log and delivered (each event
//! once: the bridge remembers the sequences it saw recently, since they commit out of order),
//! and every live socket's credentials are checked again, in case a revocation was missed.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, Client, NoTls};
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
/// Recent sequence numbers remembered, to tell a replayed or late event from one already
/// delivered: far more than can commit out of order.
const REMEMBERED: usize = 16_384;
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

/// The sequence numbers this node has delivered lately. Everything at or below `floor` counts
/// as handled for replays; above it, exactly the numbers in `recent`.
#[derive(Default)]
struct Seen {
    floor: i64,
    recent: BTreeSet<i64>,
}

impl Seen {
    /// Notes `seq`; false when it was already delivered.
    fn note(&mut self, seq: i64) -> bool {
        if seq <= self.floor {
            // Older than anything remembered, and not from a replay (which starts above the
            // floor): a late commit, delivered.
            return true;
        }
        if !self.recent.insert(seq) {
            return false;
        }
        while self.recent.len() > REMEMBERED {
            if let Some(oldest) = self.recent.pop_first() {
                self.floor = oldest;
            }
        }
        true
    }
}

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
    let mut seen = Seen::default();
    let mut retry = first_retry;
    let mut connected_before = false;
    loop {
        let connected = tokio::select! {
            () = shutdown.cancelled() => return,
            connected = connect(&database_url, bus.node_id()) => connected,
        };
        match connected {
            Ok((client, mut notifications)) => {
                retry = first_retry;
                tracing::info!("relaying events to and from other nodes");
                let caught_up = if connected_before {
                    catch_up(&bus, &client, &mut seen).await
                } else {
                    // What was logged before this node started is not its business.
                    log::newest(&client)
                        .await
                        .map(|newest| seen.floor = newest)
                        .map_err(|error| error.to_string())
                };
                let outcome = match caught_up {
                    Ok(()) => {
                        connected_before = true;
                        relay(
                            &bus,
                            &client,
                            &mut notifications,
                            &mut outbox,
                            &mut pending,
                            &mut seen,
                            &shutdown,
                        )
                        .await
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
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(retry) => {}
        }
        retry = (retry * 2).min(LONGEST_RETRY.max(first_retry));
    }
}

/// After a reconnect: delivers what other nodes logged while this node was not listening
/// (it listens again already, so nothing falls between), and has every live socket's
/// credentials checked again, since revocations are not logged.
async fn catch_up(bus: &EventBus, client: &Client, seen: &mut Seen) -> Result<(), String> {
    bus.revoke_locally(Revocation::All);
    let pruned = log::pruned_through_on(client)
        .await
        .map_err(|error| error.to_string())?;
    if pruned > seen.floor {
        tracing::warn!(
            from = seen.floor,
            pruned,
            "the relay was away longer than the event log keeps events: some are lost"
        );
    }
    let mut from = seen.floor;
    let mut replayed = 0usize;
    loop {
        let page = log::after(client, from, REPLAY_PAGE)
            .await
            .map_err(|error| error.to_string())?;
        let Some(last) = page.last().map(|(seq, _, _)| *seq) else {
            break;
        };
        let full = i64::try_from(page.len()).unwrap_or(i64::MAX) == REPLAY_PAGE;
        for (seq, node, body) in page {
            if node == bus.node_id() || !seen.note(seq) {
                continue;
            }
            if let Some(event) = log::decode(seq, serde_json::from_str(&body)) {
                replayed += 1;
                bus.deliver_event(Arc::new(event));
            }
        }
        from = last;
        if !full {
            break;
        }
    }
    if replayed > 0 {
        tracing::info!(
            replayed,
            "delivered the events missed while the relay was away"
        );
    }
    Ok(())
}

/// Opens the connection and starts listening. Notifications arrive on the returned channel,
/// which closes when the connection does.
async fn connect(
    database_url: &str,
    node: Uuid,
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
            "SET application_name = '{APPLICATION_NAME} {node}'; LISTEN {CHANNEL}"
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
    pending: &mut Vec<BusMessage>,
    seen: &mut Seen,
    shutdown: &CancellationToken,
) -> Result<(), String> {
    loop {
        if !pending.is_empty() {
            flush(bus, client, pending).await?;
        }
        tokio::select! {
            biased;
            () = shutdown.cancelled() => {
                // What was published up to now (this node's users going offline, say) still
                // reaches the others.
                while let Ok(message) = outbox.try_recv() {
                    pending.push(message);
                }
                return flush(bus, client, pending).await;
            }
            payload = notifications.recv() => match payload {
                Some(payload) => receive(bus, client, seen, &payload).await?,
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

/// Logs and relays `pending` in batches, delivering each event to this node's subscribers once
/// it is logged; what was handled leaves `pending`, so a failure keeps the rest.
async fn flush(bus: &EventBus, client: &Client, pending: &mut Vec<BusMessage>) -> Relayed {
    while !pending.is_empty() {
        let take = pending.len().min(BATCH);
        let mut events = Vec::new();
        let mut revocations = Vec::new();
        for message in &pending[..take] {
            match message {
                BusMessage::Event(event) => events.push(encode_event(event)),
                BusMessage::Revoked { .. } => revocations.push(
                    encode_revocation(bus.node_id(), message.clone())
                        .map_err(|error| error.to_string())?,
                ),
            }
        }
        if !revocations.is_empty() {
            notify(client, &revocations).await?;
        }
        let seqs = append(client, bus.node_id(), &events).await?;
        let mut seqs = seqs.into_iter();
        for message in pending.drain(..take) {
            if let BusMessage::Event(event) = message {
                let mut event = Arc::unwrap_or_clone(event);
                event.seq = seqs.next().flatten().unwrap_or(0);
                bus.deliver_event(Arc::new(event));
            }
        }
    }
    Ok(())
}

/// How a step of the relay went: an error says what is left and why.
type Relayed = Result<(), String>;

/// An event as the log files it: its tenant, kind and the relayed message's JSON.
fn encode_event(event: &Arc<super::Event>) -> (String, &'static str, String) {
    // Plain data (no maps keyed by anything but strings): serializing it cannot fail, and a
    // `null` would only be skipped when read back.
    let body = serde_json::to_string(&BusMessage::Event(event.clone()))
        .unwrap_or_else(|_| "null".to_owned());
    (event.tenant_id.to_string(), event.payload.kind(), body)
}

fn encode_revocation(node: Uuid, message: BusMessage) -> serde_json::Result<String> {
    serde_json::to_string(&Envelope {
        node,
        seq: None,
        message: Some(message),
    })
}

/// Logs `events` and notifies the other nodes of them; each one's sequence number, or none for
/// one the database refused as data (delivered on this node only, with a warning) so that one
/// bad event cannot hold up every later one.
async fn append(
    client: &Client,
    node: Uuid,
    events: &[(String, &'static str, String)],
) -> Result<Vec<Option<i64>>, String> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    match log::append(client, CHANNEL, node, events).await {
        Ok(seqs) => return Ok(seqs.into_iter().map(Some).collect()),
        Err(error) if !is_data_error(&error) => {
            return Err(format!("{} events not logged yet: {error}", events.len()));
        }
        Err(_) => {}
    }
    let mut seqs = Vec::with_capacity(events.len());
    for event in events {
        match log::append(client, CHANNEL, node, std::slice::from_ref(event)).await {
            Ok(seq) => seqs.push(seq.first().copied()),
            Err(error) if is_data_error(&error) => {
                tracing::warn!(%error, kind = event.1, "an event the log refused stays on this node");
                seqs.push(None);
            }
            Err(error) => return Err(format!("events not logged yet: {error}")),
        }
    }
    Ok(seqs)
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

/// A notification from the channel: another node's event (carried, or to be read from the log)
/// or revocation. This node's own were delivered when logged.
async fn receive(bus: &EventBus, client: &Client, seen: &mut Seen, payload: &str) -> Relayed {
    let envelope = match serde_json::from_str::<Envelope>(payload) {
        Ok(envelope) => envelope,
        // A node of another version may send what this one does not know; skip it.
        Err(error) => {
            tracing::warn!(%error, "skipped an event relayed by another node");
            return Ok(());
        }
    };
    if envelope.node == bus.node_id() {
        return Ok(());
    }
    let Some(seq) = envelope.seq else {
        if let Some(message) = envelope.message {
            bus.deliver(message);
        }
        return Ok(());
    };
    if !seen.note(seq) {
        return Ok(());
    }
    let message = match envelope.message {
        Some(message) => Ok(message),
        None => match log::one(client, seq)
            .await
            .map_err(|error| error.to_string())?
        {
            Some(body) => serde_json::from_str(&body),
            None => return Ok(()),
        },
    };
    if let Some(event) = log::decode(seq, message) {
        bus.deliver_event(Arc::new(event));
    }
    Ok(())
}

/// Tells every running node of a revocation made outside all of them (the command line), when
/// the surrounding transaction commits.
pub async fn notify_revocation(
    conn: &mut diesel_async::AsyncPgConnection,
    revocation: Revocation,
) -> AppResult<()> {
    use diesel_async::RunQueryDsl;
    let payload = encode_revocation(Uuid::nil(), BusMessage::Revoked { revocation })
        .map_err(AppError::internal)?;
    diesel::sql_query("SELECT pg_notify($1, $2)")
        .bind::<diesel::sql_types::Text, _>(CHANNEL)
        .bind::<diesel::sql_types::Text, _>(payload)
        .execute(conn)
        .await?;
    Ok(())
}
