//! SQL of cloud sync: the change feed (revisions and tombstones in the order their
//! transactions are known to have finished), push receipts, and conflicts.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Jsonb, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use uuid::Uuid;

use crate::db::pagination::{PageDsl, PageRequest, load_page};
use crate::db::schema::{sync_conflicts, sync_push_receipts};
use crate::error::AppResult;

/// Where a client is in the feed: the transaction id of the last change it has, and that
/// change's id (a transaction may write several).
pub type FeedKey = (i64, Uuid);

/// One change of the feed: a revision, or a purge's tombstone (`action` `purged`, no content).
#[derive(QueryableByName, Debug)]
pub struct FeedRow {
    #[diesel(sql_type = BigInt)]
    pub xid: i64,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub row_id: Uuid,
    #[diesel(sql_type = Text)]
    pub entity_type: String,
    #[diesel(sql_type = Text)]
    pub entity_id: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub previous_entity_id: Option<String>,
    #[diesel(sql_type = Text)]
    pub action: String,
    #[diesel(sql_type = Nullable<Integer>)]
    pub version: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    pub name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub status: Option<String>,
    #[diesel(sql_type = Nullable<Jsonb>)]
    pub fields: Option<Value>,
    #[diesel(sql_type = Nullable<Text>)]
    pub markdown_body: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub entity_created_at: Option<DateTime<Utc>>,
}

/// The tenant's changes after `after`, oldest first, at most `limit`. Only changes of
/// transactions below the horizon are read: the oldest transaction of this database still
/// running when the statement began (one still running may yet commit with a smaller id, and
/// a cursor handed out must never have a change appear behind it). Transactions of other
/// databases of the cluster do not hold the horizon back: those seen in `pg_stat_activity` as
/// another database's are passed over (one that ends meanwhile only holds it back, never
/// lets it run ahead).
pub async fn feed(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    after: FeedKey,
    limit: i64,
) -> AppResult<Vec<FeedRow>> {
    Ok(diesel::sql_query(
        "WITH snapshot AS (SELECT pg_current_snapshot() AS s),
         elsewhere AS (
            SELECT backend_xid::text::bigint AS xid FROM pg_stat_activity
             WHERE backend_xid IS NOT NULL AND datname IS DISTINCT FROM current_database()),
         horizon AS (
            SELECT LEAST(
                (SELECT min(x::text::bigint) FROM snapshot, pg_snapshot_xip(snapshot.s) AS x
                  WHERE (x::text::bigint & 4294967295) NOT IN (SELECT xid FROM elsewhere)),
                (SELECT pg_snapshot_xmax(s)::text::bigint FROM snapshot)
            )::text::xid8 AS xid)
         SELECT * FROM ((
            SELECT r.written_xid::text::bigint AS xid, r.id, r.entity_row_id AS row_id,
                   e.entity_type, r.entity_id,
                   (SELECT p.entity_id FROM entity_revisions p
                     WHERE p.tenant_id = r.tenant_id AND p.entity_row_id = r.entity_row_id
                       AND p.version < r.version
                     ORDER BY p.version DESC LIMIT 1) AS previous_entity_id,
                   r.action, r.version, r.name, r.status, r.fields, r.markdown_body,
                   r.created_at AS at, e.created_at AS entity_created_at
              FROM entity_revisions r
              JOIN entities e ON e.tenant_id = r.tenant_id AND e.id = r.entity_row_id
             WHERE r.tenant_id = $1
               AND (r.written_xid, r.id) > ($2::text::xid8, $3)
               AND r.written_xid < (SELECT xid FROM horizon)
             ORDER BY r.written_xid, r.id
             LIMIT $4
          ) UNION ALL (
            SELECT t.written_xid::text::bigint, t.id, t.row_id, t.entity_type, t.entity_id,
                   NULL, 'purged', NULL, NULL, NULL, NULL, NULL, t.purged_at, NULL
              FROM entity_tombstones t
             WHERE t.tenant_id = $1
               AND (t.written_xid, t.id) > ($2::text::xid8, $3)
               AND t.written_xid < (SELECT xid FROM horizon)
             ORDER BY t.written_xid, t.id
             LIMIT $4
          )) feed
         ORDER BY xid, id
         LIMIT $4",
    )
    .bind::<diesel::sql_types::Uuid, _>(tenant_id)
    .bind::<Text, _>(after.0.to_string())
    .bind::<diesel::sql_types::Uuid, _>(after.1)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?)
}

/// What a pushed change did, if the client pushed it before.
pub async fn receipt(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    change_id: &str,
) -> AppResult<Option<Value>> {
    Ok(sync_push_receipts::table
        .filter(sync_push_receipts::tenant_id.eq(tenant_id))
        .filter(sync_push_receipts::user_id.eq(user_id))
        .filter(sync_push_receipts::change_id.eq(change_id))
        .select(sync_push_receipts::result)
        .first(conn)
        .await
        .optional()?)
}

/// Records what a pushed change did (in the transaction that did it). A concurrent retry of
/// the same change fails here on the key, and its transaction rolls back.
pub async fn record_receipt(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    change_id: &str,
    result: &Value,
) -> AppResult<()> {
    diesel::insert_into(sync_push_receipts::table)
        .values((
            sync_push_receipts::tenant_id.eq(tenant_id),
            sync_push_receipts::user_id.eq(user_id),
            sync_push_receipts::change_id.eq(change_id),
            sync_push_receipts::result.eq(result),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = sync_conflicts, check_for_backend(diesel::pg::Pg))]
pub struct ConflictRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub entity_type: String,
    pub entity_id: String,
    pub base_version: Option<i32>,
    pub base_content: Option<String>,
    pub theirs_version: Option<i32>,
    pub theirs_content: Option<String>,
    pub ours_content: Option<String>,
    pub pushed_by: Option<Uuid>,
    pub client_id: String,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<Uuid>,
    pub resolution: Option<String>,
}

pub async fn insert_conflict(conn: &mut AsyncPgConnection, row: &ConflictRow) -> AppResult<()> {
    diesel::insert_into(sync_conflicts::table)
        .values(row)
        .execute(conn)
        .await?;
    Ok(())
}

/// The tenant's conflicts, oldest first (only the open ones unless `include_resolved`): a
/// page and how many there are.
pub async fn conflicts(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    include_resolved: bool,
    page: PageRequest,
) -> AppResult<(i64, Vec<ConflictRow>)> {
    let filtered = || {
        let mut query = sync_conflicts::table
            .filter(sync_conflicts::tenant_id.eq(tenant_id))
            .into_boxed();
        if !include_resolved {
            query = query.filter(sync_conflicts::resolved_at.is_null());
        }
        query
    };
    load_page(
        conn,
        filtered()
            .order((sync_conflicts::created_at.asc(), sync_conflicts::id.asc()))
            .page(page)
            .select(ConflictRow::as_select()),
        filtered().count(),
    )
    .await
}

/// A conflict of the tenant, locked (inside a transaction).
pub async fn lock_conflict(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> AppResult<Option<ConflictRow>> {
    Ok(sync_conflicts::table
        .filter(sync_conflicts::tenant_id.eq(tenant_id))
        .filter(sync_conflicts::id.eq(id))
        .select(ConflictRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?)
}

pub async fn mark_resolved(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: Uuid,
    user_id: Uuid,
    resolution: &str,
) -> AppResult<ConflictRow> {
    Ok(diesel::update(
        sync_conflicts::table
            .filter(sync_conflicts::tenant_id.eq(tenant_id))
            .filter(sync_conflicts::id.eq(id)),
    )
    .set((
        sync_conflicts::resolved_at.eq(Utc::now()),
        sync_conflicts::resolved_by.eq(user_id),
        sync_conflicts::resolution.eq(resolution),
    ))
    .returning(ConflictRow::as_returning())
    .get_result(conn)
    .await?)
}
