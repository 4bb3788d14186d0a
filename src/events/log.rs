//! The event log in PostgreSQL (`event_log`): every event any node publishes, under a sequence
//! number, kept for `LOREGRAPH_RETENTION_EVENT_LOG`. Each node's relay appends what its node
//! publishes and notifies the others in the same statement; a relay that was cut off reads what
//! it missed from here, and so does a subscriber resuming with `since`.
//!
//! Sequence numbers are handed out as rows are inserted, and concurrent inserts may commit out
//! of order, so a reader never assumes that having seen N means having seen everything below
//! N: the relay remembers which recent numbers it saw, and replays skip those.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use tokio_postgres::Client;
use uuid::Uuid;

use super::{BusMessage, Event};
use crate::db::schema::{event_log, maintenance_cursors};
use crate::error::{AppError, AppResult};

/// Where `maintenance_cursors` keeps the highest sequence the sweeper removed: a resume from
/// below it may have lost events.
const PRUNED_THROUGH: &str = "event-log-pruned-through";
/// A notification stays below this many bytes (`pg_notify` refuses 8,000 and more, and the
/// envelope around the event takes a little); a larger event is notified by its sequence alone
/// and read from the log.
const MAX_NOTIFIED_EVENT: i32 = 7_700;

/// Appends `events` (already encoded as relayed messages: `(tenant, kind, json)`) and notifies
/// `channel` of each with `node` as the sender, in one statement: other nodes hear of an event
/// when, and only when, its row is committed. Returns the sequence numbers in the order given.
pub async fn append(
    client: &Client,
    channel: &str,
    node: Uuid,
    events: &[(String, &'static str, String)],
) -> Result<Vec<i64>, tokio_postgres::Error> {
    let tenants: Vec<&str> = events.iter().map(|(t, _, _)| t.as_str()).collect();
    let kinds: Vec<&str> = events.iter().map(|(_, k, _)| *k).collect();
    let bodies: Vec<&str> = events.iter().map(|(_, _, b)| b.as_str()).collect();
    // Rows are inserted in the order given (ORDER BY position), so ascending sequence numbers
    // are that order too.
    let rows = client
        .query(
            "WITH logged AS (
                 INSERT INTO event_log (tenant_id, kind, node_id, event)
                 SELECT tenant::uuid, kind, $1::text::uuid, body::jsonb
                   FROM unnest($2::text[], $3::text[], $4::text[])
                        WITH ORDINALITY AS given (tenant, kind, body, position)
                  ORDER BY position
                 RETURNING seq, event
             )
             SELECT seq, pg_notify($5, CASE
                        WHEN octet_length(event::text) <= $6
                        THEN json_build_object('node', $1::text, 'seq', seq, 'message', event)
                        ELSE json_build_object('node', $1::text, 'seq', seq)
                    END::text)::text AS notified
               FROM logged
              ORDER BY seq",
            &[
                &node.to_string(),
                &tenants,
                &kinds,
                &bodies,
                &channel,
                &MAX_NOTIFIED_EVENT,
            ],
        )
        .await?;
    Ok(rows.iter().map(|row| row.get::<_, i64>(0)).collect())
}

/// The newest sequence number handed out so far (0 for an empty log).
pub async fn newest(client: &Client) -> Result<i64, tokio_postgres::Error> {
    let row = client
        .query_one("SELECT coalesce(max(seq), 0) FROM event_log", &[])
        .await?;
    Ok(row.get(0))
}

/// Up to `limit` events after `after`, oldest first, with the node that published each.
pub async fn after(
    client: &Client,
    after: i64,
    limit: i64,
) -> Result<Vec<(i64, Uuid, String)>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT seq, node_id::text, event::text FROM event_log
              WHERE seq > $1 ORDER BY seq LIMIT $2",
            &[&after, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            let node = row.get::<_, String>(1).parse().ok()?;
            Some((row.get(0), node, row.get(2)))
        })
        .collect())
}

/// The event under `seq`, when the log still holds it.
pub async fn one(client: &Client, seq: i64) -> Result<Option<String>, tokio_postgres::Error> {
    let row = client
        .query_opt("SELECT event::text FROM event_log WHERE seq = $1", &[&seq])
        .await?;
    Ok(row.map(|row| row.get(0)))
}

/// The highest sequence number the sweeper removed (0 when it removed none), read by a relay.
pub async fn pruned_through_on(client: &Client) -> Result<i64, tokio_postgres::Error> {
    let row = client
        .query_opt(
            "SELECT position FROM maintenance_cursors WHERE name = $1",
            &[&PRUNED_THROUGH],
        )
        .await?;
    Ok(row
        .and_then(|row| row.get::<_, String>(0).parse().ok())
        .unwrap_or(0))
}

/// The same, on a pooled connection.
pub async fn pruned_through(conn: &mut AsyncPgConnection) -> AppResult<i64> {
    let position: Option<String> = maintenance_cursors::table
        .find(PRUNED_THROUGH)
        .select(maintenance_cursors::position)
        .first(conn)
        .await
        .optional()?;
    Ok(position.and_then(|p| p.parse().ok()).unwrap_or(0))
}

/// Up to `limit` of a tenant's events of the given kinds after `after`, oldest first, decoded
/// and numbered. Rows this version cannot read (written by a newer one) are skipped.
pub async fn replay(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    kinds: &[&str],
    after: i64,
    limit: i64,
) -> AppResult<Vec<Event>> {
    let rows: Vec<(i64, serde_json::Value)> = event_log::table
        .filter(event_log::tenant_id.eq(tenant_id))
        .filter(event_log::kind.eq_any(kinds))
        .filter(event_log::seq.gt(after))
        .order(event_log::seq.asc())
        .limit(limit)
        .select((event_log::seq, event_log::event))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(seq, event)| decode(seq, serde_json::from_value(event)))
        .collect())
}

/// An event read back from the log (as the relayed message it was written as), numbered.
pub fn decode(seq: i64, message: serde_json::Result<BusMessage>) -> Option<Event> {
    match message {
        Ok(BusMessage::Event(event)) => {
            let mut event = std::sync::Arc::unwrap_or_clone(event);
            event.seq = seq;
            Some(event)
        }
        Ok(BusMessage::Revoked { .. }) => None,
        Err(error) => {
            tracing::warn!(seq, %error, "skipped a logged event this version cannot read");
            None
        }
    }
}

/// Removes up to `batch` events logged more than `older_than_secs` ago, oldest first, and
/// remembers the highest sequence removed; how many.
pub async fn prune(
    conn: &mut AsyncPgConnection,
    older_than_secs: f64,
    batch: i64,
) -> AppResult<i64> {
    #[derive(QueryableByName)]
    struct Pruned {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        removed: i64,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
        highest: Option<i64>,
    }
    let pruned: Pruned = diesel::sql_query(
        "WITH removed AS (
             DELETE FROM event_log WHERE seq IN (
                 SELECT seq FROM event_log
                  WHERE logged_at < now() - make_interval(secs => $1)
                  ORDER BY seq LIMIT $2)
             RETURNING seq
         )
         SELECT count(*) AS removed, max(seq) AS highest FROM removed",
    )
    .bind::<diesel::sql_types::Double, _>(older_than_secs)
    .bind::<diesel::sql_types::BigInt, _>(batch)
    .get_result(conn)
    .await?;
    if let Some(highest) = pruned.highest {
        // Only ever raised: the watermark says below what a resume is no longer whole.
        diesel::sql_query(
            "INSERT INTO maintenance_cursors (name, position) VALUES ($1, $2::text)
             ON CONFLICT (name) DO UPDATE
                SET position = GREATEST(maintenance_cursors.position::bigint, $2)::text,
                    updated_at = now()",
        )
        .bind::<diesel::sql_types::Text, _>(PRUNED_THROUGH)
        .bind::<diesel::sql_types::BigInt, _>(highest)
        .execute(conn)
        .await
        .map_err(AppError::from)?;
    }
    Ok(pruned.removed)
}
