//! What a whole-tenant export reads of assets (the live ones a page at a time, with the
//! entities each illustrates) and what its import writes: an asset from bytes the archive
//! carries, inside the import's transaction.

use axum::body::Bytes;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::inspect::inspect;
use super::model::AssetRow;
use super::service::{AssetRuntime, clean_filename, insert_row, too_large};
use super::store::{self, AssetChanges};
use super::{jobs, metadata};
use crate::auth::Viewer;
use crate::config::AssetSettings;
use crate::db::schema::{asset_links, assets};
use crate::error::{AppError, AppResult};

/// The statuses an asset may have.
const STATUSES: [&str; 4] = ["draft", "active", "approved", "archived"];

/// The tenant's live assets after the asset `after` (in id order), `limit` at most.
pub async fn live_page(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> AppResult<Vec<AssetRow>> {
    let mut query = assets::table
        .filter(assets::tenant_id.eq(tenant_id))
        .filter(assets::deleted_at.is_null())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(assets::id.gt(after));
    }
    Ok(query
        .order(assets::id)
        .limit(limit)
        .select(AssetRow::as_select())
        .load(conn)
        .await?)
}

/// The entity rows each of `asset_ids` is linked to, and whether as its primary asset:
/// (asset id, entity row id, primary).
pub async fn links_of(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    asset_ids: &[Uuid],
) -> AppResult<Vec<(Uuid, Uuid, bool)>> {
    Ok(asset_links::table
        .filter(asset_links::tenant_id.eq(tenant_id))
        .filter(asset_links::asset_id.eq_any(asset_ids))
        .order((asset_links::asset_id, asset_links::created_at))
        .select((
            asset_links::asset_id,
            asset_links::entity_row_id,
            asset_links::is_primary,
        ))
        .load(conn)
        .await?)
}

/// An asset as an archive describes it.
pub struct ImportedAsset {
    pub bytes: Bytes,
    pub filename: String,
    pub tags: Vec<String>,
    pub status: String,
}

/// Checks an imported asset as an upload and a metadata change would (size, type, tags,
/// status), before anything is written.
pub fn check_imported(settings: &AssetSettings, asset: &ImportedAsset) -> AppResult<()> {
    if asset.bytes.len() > settings.max_bytes {
        return Err(too_large(settings.max_bytes));
    }
    inspect(&asset.bytes, settings)?;
    metadata::clean_tags(asset.tags.clone())?;
    if !STATUSES.contains(&asset.status.as_str()) {
        return Err(AppError::bad_field(
            "status",
            format!("`{}` is not an asset status", asset.status),
        ));
    }
    Ok(())
}

/// Records an imported asset for the viewer's tenant in the caller's transaction, linked to
/// the given entity rows (primary or not), and queues its processing; the caller wakes the
/// worker once it committed. Its bytes are stored before the blob row is written, under the
/// blob's lock as an upload does.
pub async fn import_asset(
    conn: &mut AsyncPgConnection,
    runtime: &AssetRuntime,
    settings: &AssetSettings,
    viewer: &Viewer,
    asset: &ImportedAsset,
    links: &[(Uuid, bool)],
) -> AppResult<AssetRow> {
    let info = inspect(&asset.bytes, settings)?;
    let sha256 = hex::encode(Sha256::digest(&asset.bytes));
    let size = i64::try_from(asset.bytes.len()).map_err(AppError::internal)?;
    store::lock_blob(conn, viewer.tenant_id, &sha256, size).await?;
    runtime
        .blobs
        .put_original(viewer.tenant_id, &sha256, asset.bytes.clone())
        .await?;
    let filename = clean_filename(&asset.filename, &info);
    let row = insert_row(conn, viewer, &sha256, size, &info, &filename).await?;
    let changes = AssetChanges {
        original_filename: None,
        tags: Some(metadata::clean_tags(asset.tags.clone())?),
        status: Some(asset.status.clone()),
    };
    let row = store::update(conn, &row, &changes).await?;
    for (entity_row_id, primary) in links {
        store::link(conn, viewer.tenant_id, row.id, *entity_row_id, *primary).await?;
    }
    jobs::enqueue(conn, viewer.tenant_id, row.id).await?;
    Ok(row)
}
