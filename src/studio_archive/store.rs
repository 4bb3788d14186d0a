//! Queries of the studio archive: the export rows.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::tenant_exports;
use crate::error::AppResult;

/// A running export not moved on for this long was interrupted (its node stopped).
pub const STALE_AFTER_SECS: i64 = 5 * 60;

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = tenant_exports, check_for_backend(diesel::pg::Pg))]
pub struct ExportRow {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub requested_by: Option<Uuid>,
    pub state: String,
    pub done: i32,
    pub total: i32,
    pub error: Option<String>,
    pub bytes: Option<i64>,
    pub sha256: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl ExportRow {
    /// Running, and heard of lately.
    pub fn is_running(&self) -> bool {
        self.state == "running" && (Utc::now() - self.updated_at).num_seconds() < STALE_AFTER_SECS
    }
}

/// Records a new running export, unless one of the tenant's is running (then None). The
/// tenant's row is locked for the check, so two requests cannot both start one.
pub async fn begin(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    requested_by: Uuid,
    expires_at: DateTime<Utc>,
) -> AppResult<Option<ExportRow>> {
    use diesel_async::AsyncConnection;
    conn.transaction::<_, crate::error::AppError, _>(async |conn| {
        diesel::sql_query("SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE")
            .bind::<diesel::sql_types::Uuid, _>(tenant_id)
            .execute(conn)
            .await?;
        let stale = Utc::now() - chrono::Duration::seconds(STALE_AFTER_SECS);
        let running: i64 = tenant_exports::table
            .filter(tenant_exports::tenant_id.eq(tenant_id))
            .filter(tenant_exports::state.eq("running"))
            .filter(tenant_exports::updated_at.gt(stale))
            .count()
            .get_result(conn)
            .await?;
        if running > 0 {
            return Ok(None);
        }
        Ok(Some(
            diesel::insert_into(tenant_exports::table)
                .values((
                    tenant_exports::tenant_id.eq(tenant_id),
                    tenant_exports::id.eq(Uuid::now_v7()),
                    tenant_exports::requested_by.eq(requested_by),
                    tenant_exports::expires_at.eq(expires_at),
                ))
                .returning(ExportRow::as_returning())
                .get_result(conn)
                .await?,
        ))
    })
    .await
}

/// Moves a running export's progress on.
pub async fn progress(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: Uuid,
    done: i32,
    total: i32,
) -> AppResult<()> {
    diesel::update(tenant_exports::table.find((tenant_id, id)))
        .set((
            tenant_exports::done.eq(done),
            tenant_exports::total.eq(total),
            tenant_exports::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends an export: complete with its size and checksum, or failed with why.
pub async fn finish(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: Uuid,
    outcome: Result<(i64, String), String>,
) -> AppResult<()> {
    let (state, bytes, sha256, error) = match outcome {
        Ok((bytes, sha256)) => ("complete", Some(bytes), Some(sha256), None),
        Err(error) => ("failed", None, None, Some(error)),
    };
    diesel::update(tenant_exports::table.find((tenant_id, id)))
        .set((
            tenant_exports::state.eq(state),
            tenant_exports::bytes.eq(bytes),
            tenant_exports::sha256.eq(sha256),
            tenant_exports::error.eq(error),
            tenant_exports::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn find(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> AppResult<Option<ExportRow>> {
    Ok(tenant_exports::table
        .find((tenant_id, id))
        .filter(tenant_exports::expires_at.gt(Utc::now()))
        .select(ExportRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// The tenant's exports not yet expired, newest first (at most `limit`).
pub async fn list(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    limit: i64,
) -> AppResult<Vec<ExportRow>> {
    Ok(tenant_exports::table
        .filter(tenant_exports::tenant_id.eq(tenant_id))
        .filter(tenant_exports::expires_at.gt(Utc::now()))
        .order(tenant_exports::created_at.desc())
        .limit(limit)
        .select(ExportRow::as_select())
        .load(conn)
        .await?)
}

/// Removes up to `limit` expired exports' rows; their tenants and ids (for their archives).
pub async fn remove_expired(
    conn: &mut AsyncPgConnection,
    limit: i64,
) -> AppResult<Vec<(Uuid, Uuid)>> {
    #[derive(QueryableByName)]
    struct Gone {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        tenant_id: Uuid,
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: Uuid,
    }
    let gone: Vec<Gone> = diesel::sql_query(
        "DELETE FROM tenant_exports WHERE (tenant_id, id) IN ( \
           SELECT tenant_id, id FROM tenant_exports WHERE expires_at <= now() \
           ORDER BY expires_at LIMIT $1) \
         RETURNING tenant_id, id",
    )
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .load(conn)
    .await?;
    Ok(gone.into_iter().map(|g| (g.tenant_id, g.id)).collect())
}
