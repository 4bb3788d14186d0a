//! Stored bytes no asset uses (a deleted tenant's, or left by an upload whose transaction
//! failed): found by walking the blob store a batch at a time and removed once old enough.

use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::storage::{BlobStore, StoredObject};
use super::store;
use crate::error::{AppError, AppResult};

/// Where the asset store's listing goes on from, in `maintenance_cursors`.
const ASSET_CURSOR: &str = "asset-store";

/// Goes through the next batch of the asset store's objects (in name order, from where the
/// last run stopped; from the start again after the end), removing the bytes of content no
/// blob row records once they are older than the grace period (an upload writes its bytes
/// just before its row).
pub async fn sweep_unused_bytes(
    blobs: &BlobStore,
    conn: &mut AsyncPgConnection,
    batch: i64,
    grace: Duration,
) -> AppResult<i64> {
    let limit = usize::try_from(batch.max(1)).unwrap_or(1_000);
    let cursor = read_cursor(conn).await?;
    let objects = blobs
        .list_after(&cursor, limit)
        .await
        .map_err(AppError::internal)?;
    let next_cursor = match objects.last() {
        Some(last) if objects.len() == limit => last.location.clone(),
        _ => String::new(),
    };
    let old_enough = chrono::Duration::from_std(grace)
        .ok()
        .and_then(|grace| chrono::Utc::now().checked_sub_signed(grace))
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
    let mut contents: Vec<(uuid::Uuid, String)> = objects
        .iter()
        .filter(|object| object.modified < old_enough)
        .map(|object: &StoredObject| (object.tenant_id, object.sha256.clone()))
        .collect();
    contents.sort();
    contents.dedup();
    let recorded = store::recorded_blobs(conn, &contents).await?;
    let mut removed = 0;
    for (tenant_id, sha256) in contents.into_iter().filter(|c| !recorded.contains(c)) {
        // Under the claim, an upload of the same content waits, then finds its bytes gone
        // and stores them again. An object that cannot be removed now is passed over (the
        // walk goes on, and meets it again next time round).
        let gone = conn
            .transaction::<_, AppError, _>(async |conn| {
                if !store::claim_unrecorded_blob(conn, tenant_id, &sha256).await? {
                    return Ok(false);
                }
                blobs
                    .remove(tenant_id, &sha256)
                    .await
                    .map_err(AppError::internal)?;
                store::release_claimed_blob(conn, tenant_id, &sha256).await?;
                Ok(true)
            })
            .await;
        match gone {
            Ok(gone) => removed += i64::from(gone),
            Err(error) => tracing::warn!(
                %tenant_id,
                sha256,
                error = ?error,
                "could not remove unused stored bytes"
            ),
        }
    }
    write_cursor(conn, &next_cursor).await?;
    Ok(removed)
}

async fn read_cursor(conn: &mut AsyncPgConnection) -> AppResult<String> {
    use crate::db::schema::maintenance_cursors;
    use diesel::{OptionalExtension, QueryDsl};
    Ok(maintenance_cursors::table
        .find(ASSET_CURSOR)
        .select(maintenance_cursors::position)
        .first::<String>(conn)
        .await
        .optional()?
        .unwrap_or_default())
}

async fn write_cursor(conn: &mut AsyncPgConnection, position: &str) -> AppResult<()> {
    use crate::db::schema::maintenance_cursors;
    use diesel::ExpressionMethods;
    diesel::insert_into(maintenance_cursors::table)
        .values((
            maintenance_cursors::name.eq(ASSET_CURSOR),
            maintenance_cursors::position.eq(position),
        ))
        .on_conflict(maintenance_cursors::name)
        .do_update()
        .set((
            maintenance_cursors::position.eq(position),
            maintenance_cursors::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}
