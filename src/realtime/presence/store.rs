//! Presence rows: live nodes, who is online on which, and editing marks.
//!
//! Every change to one user's presence in one tenant takes a transaction-scoped advisory lock on
//! that pair first, so two nodes never both decide they saw the user's first or last
//! connection.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Double, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::pagination::PageRequest;
use crate::entities::service::EntityType;
use crate::error::{AppError, AppResult};
use crate::events::EditedEntity;

/// A user in a tenant.
pub type Member = (Uuid, Uuid);

/// An editing mark that ended.
#[derive(Clone, Debug)]
pub struct EndedMark {
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub entity: EditedEntity,
}

#[derive(QueryableByName)]
struct MemberRow {
    #[diesel(sql_type = SqlUuid)]
    tenant_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    user_id: Uuid,
}

#[derive(QueryableByName)]
struct MarkRow {
    #[diesel(sql_type = SqlUuid)]
    tenant_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    user_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    entity_row_id: Uuid,
    #[diesel(sql_type = Text)]
    entity_type: String,
    #[diesel(sql_type = Text)]
    entity_id: String,
}

impl MarkRow {
    fn into_ended(self) -> Option<EndedMark> {
        Some(EndedMark {
            tenant_id: self.tenant_id,
            user_id: self.user_id,
            entity: EditedEntity {
                row_id: self.entity_row_id,
                entity_type: self.entity_type,
                entity_id: self.entity_id,
            },
        })
    }
}

fn split(members: &[Member]) -> (Vec<Uuid>, Vec<Uuid>) {
    members.iter().copied().unzip()
}

fn joined(rows: Vec<MemberRow>) -> Vec<Member> {
    rows.into_iter().map(|r| (r.tenant_id, r.user_id)).collect()
}

fn seconds(duration: Duration) -> f64 {
    duration.as_secs_f64()
}

/// Records the node as alive (inserting it if it was swept as dead meanwhile). Returns false
/// when it had been swept, so the caller knows its presence rows are gone too.
pub async fn beat(conn: &mut AsyncPgConnection, node_id: Uuid) -> AppResult<bool> {
    #[derive(QueryableByName)]
    struct Beat {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        existed: bool,
    }
    let beat: Beat = diesel::sql_query(
        "INSERT INTO server_nodes (id) VALUES ($1) \
         ON CONFLICT (id) DO UPDATE SET seen_at = now() \
         RETURNING (xmax <> 0) AS existed",
    )
    .bind::<SqlUuid, _>(node_id)
    .get_result(conn)
    .await?;
    Ok(beat.existed)
}

async fn lock_members(conn: &mut AsyncPgConnection, members: &[Member]) -> AppResult<()> {
    let (tenants, users) = split(members);
    // In key order, so two nodes locking overlapping sets cannot deadlock.
    diesel::sql_query(
        "SELECT pg_advisory_xact_lock(key) FROM ( \
           SELECT DISTINCT hashtextextended(t::text || u::text, 0) AS key \
           FROM unnest($1::uuid[], $2::uuid[]) AS k(t, u) ORDER BY key) AS keys",
    )
    .bind::<Array<SqlUuid>, _>(tenants)
    .bind::<Array<SqlUuid>, _>(users)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records that `members` have a live socket on `node_id` (whose row must exist: `beat` first);
/// returns those who had none on any node before (now online).
pub async fn arrive(
    conn: &mut AsyncPgConnection,
    node_id: Uuid,
    members: &[Member],
) -> AppResult<Vec<Member>> {
    if members.is_empty() {
        return Ok(Vec::new());
    }
    conn.transaction::<_, AppError, _>(async |conn| {
        lock_members(conn, members).await?;
        let (tenants, users) = split(members);
        let rows: Vec<MemberRow> = diesel::sql_query(
            "WITH arrived AS ( \
               INSERT INTO presence (tenant_id, user_id, node_id) \
               SELECT k.t, k.u, $3 FROM unnest($1::uuid[], $2::uuid[]) AS k(t, u) \
               WHERE EXISTS (SELECT 1 FROM users WHERE id = k.u) \
                 AND EXISTS (SELECT 1 FROM tenants WHERE id = k.t) \
               ON CONFLICT DO NOTHING \
               RETURNING tenant_id, user_id) \
             SELECT a.tenant_id, a.user_id FROM arrived a \
             WHERE NOT EXISTS (SELECT 1 FROM presence p \
               WHERE p.tenant_id = a.tenant_id AND p.user_id = a.user_id AND p.node_id <> $3)",
        )
        .bind::<Array<SqlUuid>, _>(tenants)
        .bind::<Array<SqlUuid>, _>(users)
        .bind::<SqlUuid, _>(node_id)
        .load(conn)
        .await?;
        Ok(joined(rows))
    })
    .await
}

/// Removes the presence of `members` on `nodes`; returns those left without any (now offline)
/// and the editing marks that ended with them.
pub async fn depart(
    conn: &mut AsyncPgConnection,
    nodes: &[Uuid],
    members: &[Member],
) -> AppResult<(Vec<Member>, Vec<EndedMark>)> {
    if members.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    conn.transaction::<_, AppError, _>(async |conn| {
        lock_members(conn, members).await?;
        let (tenants, users) = split(members);
        let rows: Vec<MemberRow> = diesel::sql_query(
            "WITH departed AS ( \
               DELETE FROM presence p USING unnest($1::uuid[], $2::uuid[]) AS k(t, u) \
               WHERE p.tenant_id = k.t AND p.user_id = k.u AND p.node_id = ANY($3) \
               RETURNING p.tenant_id, p.user_id) \
             SELECT DISTINCT d.tenant_id, d.user_id FROM departed d \
             WHERE NOT EXISTS (SELECT 1 FROM presence p \
               WHERE p.tenant_id = d.tenant_id AND p.user_id = d.user_id \
                 AND p.node_id <> ALL($3))",
        )
        .bind::<Array<SqlUuid>, _>(tenants)
        .bind::<Array<SqlUuid>, _>(users)
        .bind::<Array<SqlUuid>, _>(nodes)
        .load(conn)
        .await?;
        let offline = joined(rows);
        let ended = end_marks_of(conn, &offline).await?;
        Ok((offline, ended))
    })
    .await
}

async fn end_marks_of(
    conn: &mut AsyncPgConnection,
    members: &[Member],
) -> AppResult<Vec<EndedMark>> {
    if members.is_empty() {
        return Ok(Vec::new());
    }
    let (tenants, users) = split(members);
    let rows: Vec<MarkRow> = diesel::sql_query(
        "DELETE FROM presence_editing m \
         USING unnest($1::uuid[], $2::uuid[]) AS k(t, u), entities e \
         WHERE m.tenant_id = k.t AND m.user_id = k.u \
           AND e.tenant_id = m.tenant_id AND e.id = m.entity_row_id \
         RETURNING m.tenant_id, m.user_id, m.entity_row_id, e.entity_type, e.entity_id",
    )
    .bind::<Array<SqlUuid>, _>(tenants)
    .bind::<Array<SqlUuid>, _>(users)
    .load(conn)
    .await?;
    Ok(rows.into_iter().filter_map(MarkRow::into_ended).collect())
}

/// Nodes other than `node_id` silent for longer than `timeout`, claimed for sweeping (each by
/// one sweeper), with the members present on them.
pub async fn sweep_dead_nodes(
    conn: &mut AsyncPgConnection,
    node_id: Uuid,
    timeout: Duration,
) -> AppResult<(Vec<Member>, Vec<EndedMark>)> {
    conn.transaction::<_, AppError, _>(async |conn| {
        #[derive(QueryableByName)]
        struct Node {
            #[diesel(sql_type = SqlUuid)]
            id: Uuid,
        }
        let dead: Vec<Uuid> = diesel::sql_query(
            "SELECT id FROM server_nodes \
             WHERE seen_at < now() - make_interval(secs => $2) AND id <> $1 \
             FOR UPDATE SKIP LOCKED",
        )
        .bind::<SqlUuid, _>(node_id)
        .bind::<Double, _>(seconds(timeout))
        .load::<Node>(conn)
        .await?
        .into_iter()
        .map(|n| n.id)
        .collect();
        if dead.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let members = members_on(conn, &dead).await?;
        let outcome = depart(conn, &dead, &members).await?;
        diesel::sql_query("DELETE FROM server_nodes WHERE id = ANY($1)")
            .bind::<Array<SqlUuid>, _>(&dead)
            .execute(conn)
            .await?;
        Ok(outcome)
    })
    .await
}

/// Everyone present on `nodes`.
pub async fn members_on(conn: &mut AsyncPgConnection, nodes: &[Uuid]) -> AppResult<Vec<Member>> {
    let rows: Vec<MemberRow> = diesel::sql_query(
        "SELECT DISTINCT tenant_id, user_id FROM presence WHERE node_id = ANY($1)",
    )
    .bind::<Array<SqlUuid>, _>(nodes)
    .load(conn)
    .await?;
    Ok(joined(rows))
}

/// A node leaving for good (shutdown): its row goes, after its presence did.
pub async fn remove_node(conn: &mut AsyncPgConnection, node_id: Uuid) -> AppResult<()> {
    diesel::sql_query("DELETE FROM server_nodes WHERE id = $1")
        .bind::<SqlUuid, _>(node_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends the marks of users with no live socket that were not renewed within `timeout`.
pub async fn lapse_marks(
    conn: &mut AsyncPgConnection,
    timeout: Duration,
) -> AppResult<Vec<EndedMark>> {
    let rows: Vec<MarkRow> = diesel::sql_query(
        "DELETE FROM presence_editing m USING entities e \
         WHERE e.tenant_id = m.tenant_id AND e.id = m.entity_row_id AND m.renewed_at < now() - make_interval(secs => $1) \
           AND NOT EXISTS (SELECT 1 FROM presence p \
             WHERE p.tenant_id = m.tenant_id AND p.user_id = m.user_id) \
         RETURNING m.tenant_id, m.user_id, m.entity_row_id, e.entity_type, e.entity_id",
    )
    .bind::<Double, _>(seconds(timeout))
    .load(conn)
    .await?;
    Ok(rows.into_iter().filter_map(MarkRow::into_ended).collect())
}

/// A mark just started or renewed.
#[derive(QueryableByName)]
pub struct StartedMark {
    /// False when an existing mark was renewed.
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub inserted: bool,
    /// Since when (a renewal keeps the first time).
    #[diesel(sql_type = Timestamptz)]
    pub since: DateTime<Utc>,
}

/// Marks (or renews) the user as editing an entity.
pub async fn start_editing(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    entity_row_id: Uuid,
) -> AppResult<StartedMark> {
    Ok(diesel::sql_query(
        "INSERT INTO presence_editing (tenant_id, user_id, entity_row_id) VALUES ($1, $2, $3) \
         ON CONFLICT (tenant_id, user_id, entity_row_id) DO UPDATE SET renewed_at = now() \
         RETURNING (xmax = 0) AS inserted, since",
    )
    .bind::<SqlUuid, _>(tenant_id)
    .bind::<SqlUuid, _>(user_id)
    .bind::<SqlUuid, _>(entity_row_id)
    .get_result(conn)
    .await?)
}

/// Ends the user's marks: all of them, one type's, or one entity's.
pub async fn stop_editing(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    entity_type: Option<EntityType>,
    entity_id: Option<&str>,
) -> AppResult<Vec<EndedMark>> {
    let rows: Vec<MarkRow> = diesel::sql_query(
        "DELETE FROM presence_editing m USING entities e \
         WHERE e.tenant_id = m.tenant_id AND e.id = m.entity_row_id AND m.tenant_id = $1 AND m.user_id = $2 \
           AND ($3::text IS NULL OR e.entity_type = $3) \
           AND ($4::text IS NULL OR e.entity_id = $4) \
         RETURNING m.tenant_id, m.user_id, m.entity_row_id, e.entity_type, e.entity_id",
    )
    .bind::<SqlUuid, _>(tenant_id)
    .bind::<SqlUuid, _>(user_id)
    .bind::<Nullable<Text>, _>(entity_type.map(EntityType::slug))
    .bind::<Nullable<Text>, _>(entity_id)
    .load(conn)
    .await?;
    Ok(rows.into_iter().filter_map(MarkRow::into_ended).collect())
}

/// One online user of a tenant.
#[derive(QueryableByName, Clone, Debug)]
pub struct OnlineRow {
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    /// Online since (their longest-lived connection on any node).
    #[diesel(sql_type = Timestamptz)]
    pub since: DateTime<Utc>,
    #[diesel(sql_type = BigInt)]
    pub total: i64,
}

/// The tenant's online users on live nodes, longest online first.
pub async fn online_users(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    timeout: Duration,
    page: PageRequest,
) -> AppResult<Vec<OnlineRow>> {
    Ok(diesel::sql_query(
        "SELECT p.user_id, min(p.since) AS since, count(*) OVER () AS total \
         FROM presence p JOIN server_nodes n ON n.id = p.node_id \
         WHERE p.tenant_id = $1 AND n.seen_at > now() - make_interval(secs => $2) \
         GROUP BY p.user_id ORDER BY since, p.user_id LIMIT $3 OFFSET $4",
    )
    .bind::<SqlUuid, _>(tenant_id)
    .bind::<Double, _>(seconds(timeout))
    .bind::<BigInt, _>(page.limit)
    .bind::<BigInt, _>(page.offset)
    .load(conn)
    .await?)
}

/// One editing mark.
#[derive(QueryableByName, Clone, Debug)]
pub struct EditingRow {
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub entity_row_id: Uuid,
    #[diesel(sql_type = Text)]
    pub entity_type: String,
    #[diesel(sql_type = Text)]
    pub entity_id: String,
    #[diesel(sql_type = Timestamptz)]
    pub since: DateTime<Utc>,
}

/// Who edits what in the tenant (optionally one type, one entity, or one user), oldest first.
/// Lapsed marks not yet swept are left out.
pub async fn editing(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    filter: EditingFilter<'_>,
    timeout: Duration,
    page: PageRequest,
) -> AppResult<Vec<EditingRow>> {
    Ok(diesel::sql_query(
        "SELECT m.user_id, m.entity_row_id, e.entity_type, e.entity_id, m.since \
         FROM presence_editing m JOIN entities e ON e.tenant_id = m.tenant_id AND e.id = m.entity_row_id \
         WHERE m.tenant_id = $1 AND e.deleted_at IS NULL \
           AND ($2::text IS NULL OR e.entity_type = $2) \
           AND ($3::text IS NULL OR e.entity_id = $3) \
           AND ($4::uuid IS NULL OR m.user_id = $4) \
           AND (m.renewed_at > now() - make_interval(secs => $5) \
             OR EXISTS (SELECT 1 FROM presence p JOIN server_nodes n ON n.id = p.node_id \
               WHERE p.tenant_id = m.tenant_id AND p.user_id = m.user_id \
                 AND n.seen_at > now() - make_interval(secs => $5))) \
         ORDER BY m.since, m.user_id, e.entity_type, e.entity_id LIMIT $6 OFFSET $7",
    )
    .bind::<SqlUuid, _>(tenant_id)
    .bind::<Nullable<Text>, _>(filter.entity_type.map(EntityType::slug))
    .bind::<Nullable<Text>, _>(filter.entity_id)
    .bind::<Nullable<SqlUuid>, _>(filter.user_id)
    .bind::<Double, _>(seconds(timeout))
    .bind::<BigInt, _>(page.limit)
    .bind::<BigInt, _>(page.offset)
    .load(conn)
    .await?)
}

#[derive(Clone, Copy, Debug, Default)]
pub struct EditingFilter<'a> {
    pub entity_type: Option<EntityType>,
    pub entity_id: Option<&'a str>,
    pub user_id: Option<Uuid>,
}
