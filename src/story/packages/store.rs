//! SQL of data package slots, within one tenant; a slot past its expiry is not found.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::story_package_slots as slots;
use crate::error::{AppError, AppResult};

/// Most slots a tenant may hold open at once (each may hold a 64 MiB archive).
const MAX_OPEN_SLOTS: i64 = 20;

/// A slot as it stands.
#[derive(Queryable, Selectable, Debug)]
#[diesel(table_name = slots, check_for_backend(diesel::pg::Pg))]
pub struct SlotRow {
    pub id: Uuid,
    pub direction: String,
    pub archive: Option<Vec<u8>>,
    pub committed_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
}

/// Opens a slot (and forgets the tenant's expired ones).
pub async fn open(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    created_by: Uuid,
    direction: &str,
    archive: Option<&[u8]>,
    expires_at: DateTime<Utc>,
) -> AppResult<Uuid> {
    diesel::delete(
        slots::table
            .filter(slots::tenant_id.eq(tenant_id))
            .filter(slots::expires_at.lt(Utc::now())),
    )
    .execute(conn)
    .await?;
    let open: i64 = slots::table
        .filter(slots::tenant_id.eq(tenant_id))
        .filter(slots::committed_at.is_null())
        .count()
        .get_result(conn)
        .await?;
    if open >= MAX_OPEN_SLOTS {
        return Err(AppError::conflict(format!(
            "the tenant has {open} package slots open: commit them or let them expire (30 \
             minutes) first"
        )));
    }
    let id = Uuid::now_v7();
    diesel::insert_into(slots::table)
        .values((
            slots::tenant_id.eq(tenant_id),
            slots::id.eq(id),
            slots::direction.eq(direction),
            slots::created_by.eq(created_by),
            slots::archive.eq(archive),
            slots::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await?;
    Ok(id)
}

/// A live slot of the tenant going `direction`, locked until the transaction ends when
/// `lock`.
pub async fn find(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: Uuid,
    direction: &str,
    lock: bool,
) -> AppResult<Option<SlotRow>> {
    let query = slots::table
        .filter(slots::tenant_id.eq(tenant_id))
        .filter(slots::id.eq(id))
        .filter(slots::direction.eq(direction))
        .filter(slots::expires_at.gt(Utc::now()))
        .select(SlotRow::as_select());
    Ok(if lock {
        query.for_update().first(conn).await.optional()?
    } else {
        query.first(conn).await.optional()?
    })
}

/// Keeps an upload in an import slot (replacing an earlier one).
pub async fn put_archive(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: Uuid,
    archive: &[u8],
) -> AppResult<()> {
    diesel::update(slots::table.find((tenant_id, id)))
        .set(slots::archive.eq(archive))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn mark_committed(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> AppResult<()> {
    diesel::update(slots::table.find((tenant_id, id)))
        .set((
            slots::committed_at.eq(Utc::now()),
            slots::archive.eq(None::<Vec<u8>>),
        ))
        .execute(conn)
        .await?;
    Ok(())
}
