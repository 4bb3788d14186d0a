//! The stored contents assets share (one row per tenant and SHA-256), locked while an upload or
//! a purge of the same bytes runs.

use diesel::dsl::count_star;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::{asset_blobs, assets};
use crate::error::AppResult;

/// Registers (or finds) a tenant's stored content and locks its row until the transaction
/// ends: uploads and purges of the same bytes take turns.
pub async fn lock_blob(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    sha256: &str,
    size_bytes: i64,
) -> AppResult<()> {
    diesel::insert_into(asset_blobs::table)
        .values((
            asset_blobs::tenant_id.eq(tenant_id),
            asset_blobs::sha256.eq(sha256),
            asset_blobs::size_bytes.eq(size_bytes),
        ))
        .on_conflict((asset_blobs::tenant_id, asset_blobs::sha256))
        .do_update()
        .set(asset_blobs::size_bytes.eq(size_bytes))
        .execute(conn)
        .await?;
    Ok(())
}

/// Locks an existing blob row; false when there is none.
pub async fn lock_existing_blob(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    sha256: &str,
) -> AppResult<bool> {
    Ok(asset_blobs::table
        .find((tenant_id, sha256))
        .select(asset_blobs::sha256)
        .for_update()
        .first::<String>(conn)
        .await
        .optional()?
        .is_some())
}

/// Deletes the blob row once no asset (live or recycled) uses its bytes; true when it did.
pub async fn drop_blob_if_unused(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    sha256: &str,
) -> AppResult<bool> {
    let users: i64 = assets::table
        .filter(assets::tenant_id.eq(tenant_id))
        .filter(assets::sha256.eq(sha256))
        .select(count_star())
        .get_result(conn)
        .await?;
    if users > 0 {
        return Ok(false);
    }
    diesel::delete(asset_blobs::table.find((tenant_id, sha256)))
        .execute(conn)
        .await?;
    Ok(true)
}

/// Which of the contents `(tenant, sha256)` a blob row records.
pub async fn recorded_blobs(
    conn: &mut AsyncPgConnection,
    contents: &[(Uuid, String)],
) -> AppResult<std::collections::HashSet<(Uuid, String)>> {
    let (tenants, hashes): (Vec<Uuid>, Vec<String>) = contents.iter().cloned().unzip();
    #[derive(QueryableByName)]
    struct Recorded {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        tenant_id: Uuid,
        #[diesel(sql_type = diesel::sql_types::Text)]
        sha256: String,
    }
    let rows: Vec<Recorded> = diesel::sql_query(
        "SELECT b.tenant_id, b.sha256 FROM asset_blobs b \
         JOIN unnest($1::uuid[], $2::text[]) AS c(tenant_id, sha256) \
           ON b.tenant_id = c.tenant_id AND b.sha256 = c.sha256",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(tenants)
    .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(hashes)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.tenant_id, r.sha256)).collect())
}

/// Claims content no blob row records, to remove its bytes, until the caller's transaction
/// ends: a placeholder row that an upload of the same content waits behind (the caller deletes
/// it with the bytes). False when a row exists, or appears while this waits for its upload to
/// commit. A deleted tenant's content needs no claim: nothing can upload for it.
pub async fn claim_unrecorded_blob(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    sha256: &str,
) -> AppResult<bool> {
    let tenant_exists: bool = diesel::select(diesel::dsl::exists(
        crate::db::schema::tenants::table.find(tenant_id),
    ))
    .get_result(conn)
    .await?;
    if !tenant_exists {
        return Ok(true);
    }
    let claimed = diesel::insert_into(asset_blobs::table)
        .values((
            asset_blobs::tenant_id.eq(tenant_id),
            asset_blobs::sha256.eq(sha256),
            asset_blobs::size_bytes.eq(0),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(claimed > 0)
}

/// Drops the placeholder of [`claim_unrecorded_blob`].
pub async fn release_claimed_blob(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    sha256: &str,
) -> AppResult<()> {
    diesel::delete(asset_blobs::table.find((tenant_id, sha256)))
        .execute(conn)
        .await?;
    Ok(())
}
