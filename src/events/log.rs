//! The event log in PostgreSQL (`event_log`): every event any node publishes, under a sequence
//! number, kept for `LOREGRAPH_RETENTION_EVENT_LOG`. Each node's relay appends what its node
//! publishes and notifies the others in the same statement; a relay that was cut off reads what
//! it missed from here, and so does a subscriber resuming with `since`.
//!
//! Sequence numbers are handed out as rows are inserted, and concurrent inserts could commit
//! out of order; appends therefore hold one advisory lock from before their rows are numbered
//! until they have committed. So numbers become visible in order: a reader that sees N sees
//! every event below N that will ever be logged, and notifications (which PostgreSQL queues in
//! commit order) arrive in the same order.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use tokio_postgres::{Client, Statement};
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

/// The append, one statement (a function would count as three in PostgreSQL's statement
/// statistics, and run its notifications one statement each). The lock comes first: the rows
/// are read through the one-row `locked`, so none is numbered (the identity's `nextval`, in the
/// insert's own output) before the lock is held; it is held until the statement commits. The
/// notifications go out in sequence order, row by row of the sorted `logged`: the event itself
/// when it fits a notification, else its sequence alone.
const APPEND: &str = "
WITH locked AS MATERIALIZED (
    SELECT pg_advisory_xact_lock(hashtextextended('loregraph-event-log', 0))
), inserted AS (
    INSERT INTO event_log (event_id, tenant_id, kind, node_id, event)
    SELECT given.id, given.tenant, given.kind, $1::text::uuid, given.body
      FROM locked,
           unnest($2::text[]::uuid[], $3::text[]::uuid[], $4::text[], $5::text[]::jsonb[])
               WITH ORDINALITY AS given (id, tenant, kind, body, position)
     ORDER BY given.position
    ON CONFLICT (event_id) DO NOTHING
    RETURNING seq, event
)
SELECT count(pg_notify($6, CASE
           WHEN octet_length(logged.event::text) <= $7
           THEN json_build_object('node', $1::text::uuid, 'seq', logged.seq, 'message', logged.event)
           ELSE json_build_object('node', $1::text::uuid, 'seq', logged.seq)
       END::text))
  FROM (SELECT seq, event FROM inserted ORDER BY seq) AS logged";

/// An event as the log files it.
pub struct Entry {
    pub event_id: Uuid,
    pub tenant_id: Uuid,
    pub kind: &'static str,
    /// The relayed message's JSON.
    pub body: String,
}

/// Appends `entries` (in the order given; one already logged is skipped) and notifies
/// `channel` of each, with `node` as the sender, in one autocommit statement under the log's
/// lock ([`APPEND`], `prepared` by [`prepare_append`]): every node hears of an event when, and only when, its row is committed,
/// and in sequence order.
pub async fn append(
    client: &Client,
    prepared: &Statement,
    channel: &str,
    node: Uuid,
    entries: &[Entry],
) -> Result<(), tokio_postgres::Error> {
    let ids: Vec<String> = entries.iter().map(|e| e.event_id.to_string()).collect();
    let tenants: Vec<String> = entries.iter().map(|e| e.tenant_id.to_string()).collect();
    let kinds: Vec<&str> = entries.iter().map(|e| e.kind).collect();
    let bodies: Vec<&str> = entries.iter().map(|e| e.body.as_str()).collect();
    client
        .execute(
            prepared,
            &[
                &node.to_string(),
                &ids,
                &tenants,
                &kinds,
                &bodies,
                &channel,
                &MAX_NOTIFIED_EVENT,
            ],
        )
        .await?;
    Ok(())
}

/// The append, prepared once per relay connection (parsed and planned once, not per batch).
pub async fn prepare_append(client: &Client) -> Result<Statement, tokio_postgres::Error> {
    client.prepare(APPEND).await
}

/// The newest sequence number logged, or removed by the sweeper (0 for a log never written).
pub async fn newest(client: &Client) -> Result<i64, tokio_postgres::Error> {
    let row = client
        .query_one(
            "SELECT GREATEST(
                 (SELECT coalesce(max(seq), 0) FROM event_log),
                 (SELECT coalesce(max(position::bigint), 0) FROM maintenance_cursors
                   WHERE name = $1))",
            &[&PRUNED_THROUGH],
        )
        .await?;
    Ok(row.get(0))
}

/// Up to `limit` events after `after`, oldest first: `(seq, message JSON)`.
pub async fn after(
    client: &Client,
    after: i64,
    limit: i64,
) -> Result<Vec<(i64, String)>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT seq, event::text FROM event_log WHERE seq > $1 ORDER BY seq LIMIT $2",
            &[&after, &limit],
        )
        .await?;
    Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
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

/// Up to `limit` of a tenant's events of one kind after `after` (and published no earlier than
/// `not_before`), oldest first, decoded and numbered, and how many rows were read (rows this
/// version cannot read, written by a newer one, are skipped).
pub async fn replay(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    kind: &str,
    after: i64,
    not_before: Option<chrono::DateTime<chrono::Utc>>,
    limit: i64,
) -> AppResult<(Vec<Event>, usize)> {
    let mut query = event_log::table
        .filter(event_log::tenant_id.eq(tenant_id))
        .filter(event_log::kind.eq(kind))
        .filter(event_log::seq.gt(after))
        .into_boxed();
    if let Some(not_before) = not_before {
        // When it was published (it may have waited to be logged).
        query = query.filter(
            diesel::dsl::sql::<diesel::sql_types::Timestamptz>("(event ->> 'at')::timestamptz")
                .ge(not_before),
        );
    }
    let rows: Vec<(i64, serde_json::Value)> = query
        .order(event_log::seq.asc())
        .limit(limit)
        .select((event_log::seq, event_log::event))
        .load(conn)
        .await?;
    let read = rows.len();
    let events = rows
        .into_iter()
        .filter_map(|(seq, event)| decode(seq, serde_json::from_value(event)))
        .collect();
    Ok((events, read))
}

/// An event read back from the log (as the relayed message it was written as), numbered.
pub fn decode(seq: i64, message: serde_json::Result<BusMessage>) -> Option<Event> {
    match message {
        Ok(BusMessage::Event(event)) => {
            let mut event = std::sync::Arc::unwrap_or_clone(event);
            event.seq = seq;
            Some(event)
        }
        Ok(_) => None,
        Err(error) => {
            tracing::warn!(seq, %error, "skipped a logged event this version cannot read");
            None
        }
    }
}

/// Removes up to `batch` events logged more than `older_than_secs` ago, oldest first, and
/// raises the mark of the highest sequence removed in the same statement (a resume from below
/// it is refused: it could have lost events); how many.
pub async fn prune(
    conn: &mut AsyncPgConnection,
    older_than_secs: f64,
    batch: i64,
) -> AppResult<i64> {
    #[derive(QueryableByName)]
    struct Pruned {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        removed: i64,
    }
    let pruned: Pruned = diesel::sql_query(
        "WITH removed AS (
             DELETE FROM event_log WHERE seq IN (
                 SELECT seq FROM event_log
                  WHERE logged_at < now() - make_interval(secs => $1)
                  ORDER BY seq LIMIT $2)
             RETURNING seq
         ), marked AS (
             INSERT INTO maintenance_cursors (name, position)
             SELECT $3, max(seq)::text FROM removed HAVING count(*) > 0
             ON CONFLICT (name) DO UPDATE
                SET position = GREATEST(maintenance_cursors.position::bigint,
                                        excluded.position::bigint)::text,
                    updated_at = now()
         )
         SELECT count(*) AS removed FROM removed",
    )
    .bind::<diesel::sql_types::Double, _>(older_than_secs)
    .bind::<diesel::sql_types::BigInt, _>(batch)
    .bind::<diesel::sql_types::Text, _>(PRUNED_THROUGH)
    .get_result(conn)
    .await
    .map_err(AppError::from)?;
    Ok(pruned.removed)
}
