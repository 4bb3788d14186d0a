//! The changes to assets that span the database and the blob store: uploading, moving through
//! the recycle bin, purging. Each runs in one transaction. An asset row is only written, and
//! bytes only removed, while the content's blob row is locked, so an upload and a purge of the
//! same image never leave a row without its bytes. (Bytes stored by an upload that then fails
//! are left behind unreferenced; they cost space, never correctness.)

use std::sync::Arc;

use axum::body::Bytes;
use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;
use uuid::Uuid;

use super::inspect::{ImageInfo, inspect};
use super::storage::BlobStore;
use super::{jobs, store};
use crate::auth::Viewer;
use crate::context::Platform;
use crate::db::DbPool;
use crate::entities::service::EntityType;
use crate::entities::service::{self as entities, Bin};
use crate::error::{AppError, AppResult};
use crate::teams::service::{self as teams, Permission};

// What the retention sweeper (another domain) and the /metrics edge ask of assets.
/// What an image is, by its magic bytes (for domains that take only some kinds).
pub use super::inspect::ImageKind;
pub use super::jobs::{QueueHealth, open_jobs, queue_health};
/// A whole tenant's export and import: live assets a page at a time with their links, and
/// an asset from an archive's bytes in the import's transaction.
pub use super::portable::{ImportedAsset, check_imported, import_asset, links_of, live_page};
/// Bytes as the store hands them out (an export's archive streamed to its downloader).
pub use super::storage::ByteStream;
pub use super::store::prune_finished_jobs;
/// Counts and bytes of a tenant's assets (the dashboard's storage used).
pub use super::store::{AssetTotals, totals};
pub use super::sweep::sweep_unused_bytes;

/// An asset's row, as other domains read it (an assembly's slot fills).
pub use super::model::AssetRow;

/// The tenant's assets with these ids, live or recycled (those of other tenants, or purged,
/// are not there).
pub async fn by_ids(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    ids: &[Uuid],
) -> AppResult<Vec<AssetRow>> {
    store::by_ids(conn, tenant_id, ids).await
}

/// One live asset of the tenant; NOT_FOUND otherwise (recycled, purged, or another tenant's).
pub async fn find_live(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> AppResult<AssetRow> {
    store::find(conn, tenant_id, id)
        .await?
        .filter(|asset| !asset.is_deleted())
        .ok_or_else(|| AppError::not_found(format!("there is no asset {id}")))
}

/// What an asset's file is, as slots' `accepted_types` name it (`png`, `jpg`, `webp`...): by
/// the type read from its bytes, else its name's extension.
pub fn file_extension(asset: &AssetRow) -> String {
    match asset.mime_type.as_str() {
        "image/png" => "png".to_owned(),
        "image/jpeg" => "jpg".to_owned(),
        "image/webp" => "webp".to_owned(),
        "image/gif" => "gif".to_owned(),
        "image/svg+xml" => "svg".to_owned(),
        _ => asset
            .original_filename
            .rsplit_once('.')
            .map(|(_, ext)| ext.to_ascii_lowercase())
            .unwrap_or_default(),
    }
}

/// An image's bytes as a PNG of the same size (decoded within the asset limits, off the async
/// workers); a PNG comes back as it is.
pub async fn as_png(platform: &Platform, bytes: Bytes) -> AppResult<Bytes> {
    let kind = ImageKind::sniff(&bytes)
        .ok_or_else(|| AppError::bad_input("the asset is not an image this server reads"))?;
    if kind == ImageKind::Png {
        return Ok(bytes);
    }
    let settings = platform.config.assets.clone();
    tokio::task::spawn_blocking(move || super::inspect::to_png(&bytes, kind, &settings))
        .await
        .map_err(AppError::internal)?
        .map(Bytes::from)
        .map_err(|error| AppError::bad_input(format!("the image could not be converted: {error}")))
}

/// What the assets domain keeps in the application platform.
#[derive(Clone, Debug)]
pub struct AssetRuntime {
    pub blobs: BlobStore,
    /// Wakes the processing worker when a job is queued.
    pub wake: Arc<Notify>,
}

/// A live image of the tenant as another domain shows it (a character's cover): its type and
/// bytes; None when the asset is gone, recycled or its bytes are missing.
pub async fn live_image(
    conn: &mut AsyncPgConnection,
    assets: &AssetRuntime,
    tenant_id: Uuid,
    asset_id: Uuid,
) -> AppResult<Option<(String, Bytes)>> {
    let Some(asset) = store::find(conn, tenant_id, asset_id).await? else {
        return Ok(None);
    };
    if asset.is_deleted() {
        return Ok(None);
    }
    match assets.blobs.read_original(tenant_id, &asset.sha256).await {
        Ok(bytes) => Ok(Some((asset.mime_type, bytes))),
        Err(error) => {
            tracing::warn!(%asset_id, error = %error, "an image's bytes could not be read");
            Ok(None)
        }
    }
}

/// Checks `bytes` as [`upload`] would (size, type, readable header, dimensions) without
/// storing anything: for a domain that must know every image of a batch will be taken before
/// it stores the first.
pub fn check_image(platform: &Platform, bytes: &[u8]) -> AppResult<()> {
    let settings = &platform.config.assets;
    if bytes.len() > settings.max_bytes {
        return Err(too_large(settings.max_bytes));
    }
    inspect(bytes, settings).map(drop)
}

/// An uploaded file, read whole (within the size limit) before it gets here.
pub struct Upload {
    pub filename: String,
    pub bytes: Bytes,
}

/// The entity an upload illustrates, and whether it becomes the entity's primary asset.
pub struct Attachment {
    pub entity_type: EntityType,
    pub entity_id: String,
    pub primary: bool,
}

/// The name a client gave a file, kept as data: control characters dropped, any directory
/// part cut (it is never used as a path, but downloads should not carry one), at most 255
/// characters; an unnamed file is called after its type.
pub fn clean_filename(given: &str, info: &ImageInfo) -> String {
    let base = given.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(255).collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        format!("upload.{}", info.kind.extension())
    } else {
        cleaned.to_owned()
    }
}

/// Stores an image for the viewer's tenant: checks what it is, keeps its bytes once per
/// content, records the asset (linked to an entity when asked) and queues its processing.
pub async fn upload(
    platform: &Platform,
    assets: &AssetRuntime,
    viewer: &Viewer,
    upload: Upload,
    attach: Option<Attachment>,
) -> AppResult<AssetRow> {
    let settings = &platform.config.assets;
    if upload.bytes.len() > settings.max_bytes {
        return Err(too_large(settings.max_bytes));
    }
    // Reading the header is quick; a bad file is refused before anything is stored.
    let info = inspect(&upload.bytes, settings)?;
    {
        let mut conn = platform.pool.get().await?;
        teams::ensure_allowed(&mut conn, viewer, Permission::ManageAssets, None).await?;
    }
    let sha256 = hex::encode(Sha256::digest(&upload.bytes));
    let filename = clean_filename(&upload.filename, &info);
    let size = i64::try_from(upload.bytes.len()).map_err(AppError::internal)?;
    let blobs = &assets.blobs;
    // The bytes go to the store first, holding no connection or lock during a possibly slow
    // write; storing them is idempotent (their name is their hash).
    blobs
        .put_original(viewer.tenant_id, &sha256, upload.bytes.clone())
        .await?;
    let mut conn = platform.pool.get().await?;
    let asset = conn
        .transaction::<_, AppError, _>(async |conn| {
            let entity = match &attach {
                Some(a) => Some(
                    entities::lock(
                        conn,
                        viewer.tenant_id,
                        a.entity_type,
                        &a.entity_id,
                        Bin::Live,
                    )
                    .await?,
                ),
                None => None,
            };
            store::lock_blob(conn, viewer.tenant_id, &sha256, size).await?;
            // Under the lock: a purge of the same content that ran since the write above may
            // have removed the bytes; this finds them there (one HEAD) or stores them again.
            blobs
                .put_original(viewer.tenant_id, &sha256, upload.bytes.clone())
                .await?;
            let asset = insert_row(conn, viewer, &sha256, size, &info, &filename).await?;
            if let (Some(entity), Some(a)) = (entity, &attach) {
                store::link(conn, viewer.tenant_id, asset.id, entity.id, a.primary).await?;
            }
            jobs::enqueue(conn, viewer.tenant_id, asset.id).await?;
            Ok(asset)
        })
        .await?;
    assets.wake.notify_one();
    Ok(asset)
}

/// Records a new asset of the viewer's tenant for stored content (its blob row locked by the
/// caller), with a fresh access key.
pub(super) async fn insert_row(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    sha256: &str,
    size: i64,
    info: &ImageInfo,
    filename: &str,
) -> AppResult<AssetRow> {
    let access_key = crate::auth::tokens::random_token(32);
    store::insert(
        conn,
        &store::NewAsset {
            id: Uuid::now_v7(),
            tenant_id: viewer.tenant_id,
            sha256,
            mime_type: info.kind.mime_type(),
            size_bytes: size,
            width: i32::try_from(info.width).ok(),
            height: i32::try_from(info.height).ok(),
            original_filename: filename,
            access_key: &access_key,
            uploaded_by: Some(viewer.user_id),
        },
    )
    .await
}

pub fn too_large(max_bytes: usize) -> AppError {
    AppError::PayloadTooLarge(format!("the file is larger than {max_bytes} bytes"))
}

/// An asset of the viewer's tenant, locked for a change; NOT_FOUND when it is not there or not
/// where `bin` says.
async fn lock(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: Uuid,
    bin: Bin,
) -> AppResult<AssetRow> {
    match store::lock(conn, tenant_id, id).await? {
        Some(row) if row.is_deleted() == (bin == Bin::Recycled) => Ok(row),
        _ => Err(AppError::not_found(match bin {
            Bin::Live => format!("Asset not found: {id}"),
            Bin::Recycled => format!("Asset not in the recycle bin: {id}"),
        })),
    }
}

/// Links a live asset to a live entity (as its primary asset when `primary`). Both rows are
/// locked, the entity first as uploads do, so concurrent links of one entity take turns.
pub async fn link(
    pool: &DbPool,
    viewer: &Viewer,
    asset_id: Uuid,
    entity_type: EntityType,
    entity_id: &str,
    primary: bool,
) -> AppResult<AssetRow> {
    let mut conn = pool.get().await?;
    teams::ensure_allowed(&mut conn, viewer, Permission::ManageAssets, None).await?;
    conn.transaction::<_, AppError, _>(async |conn| {
        let entity =
            entities::lock(conn, viewer.tenant_id, entity_type, entity_id, Bin::Live).await?;
        let asset = lock(conn, viewer.tenant_id, asset_id, Bin::Live).await?;
        store::link(conn, viewer.tenant_id, asset.id, entity.id, primary).await?;
        Ok(asset)
    })
    .await
}

/// Moves a live asset into the recycle bin (`recycle`) or a recycled one back.
pub async fn set_recycled(
    pool: &DbPool,
    viewer: &Viewer,
    id: Uuid,
    recycle: bool,
) -> AppResult<AssetRow> {
    let mut conn = pool.get().await?;
    teams::ensure_allowed(&mut conn, viewer, Permission::ManageAssets, None).await?;
    conn.transaction::<_, AppError, _>(async |conn| {
        let from = if recycle { Bin::Live } else { Bin::Recycled };
        let row = lock(conn, viewer.tenant_id, id, from).await?;
        let deleted_by = recycle.then_some(Some(viewer.user_id));
        store::set_recycled(conn, &row, deleted_by).await
    })
    .await
}

/// Removes a recycled asset for good; its bytes go too when no other asset shares them.
pub async fn purge(
    platform: &Platform,
    assets: &AssetRuntime,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<()> {
    let mut conn = platform.pool.get().await?;
    let row = store::find(&mut conn, viewer.tenant_id, id)
        .await?
        .filter(AssetRow::is_deleted)
        .ok_or_else(|| AppError::not_found(format!("Asset not in the recycle bin: {id}")))?;
    purge_rows(assets, &mut conn, viewer.tenant_id, &[row], None).await?;
    Ok(())
}

/// Purges everything in the tenant's recycle bin; returns how many assets went.
pub async fn empty_recycle_bin(
    platform: &Platform,
    assets: &AssetRuntime,
    viewer: &Viewer,
) -> AppResult<usize> {
    let mut conn = platform.pool.get().await?;
    let rows = store::recycled(&mut conn, viewer.tenant_id).await?;
    purge_rows(assets, &mut conn, viewer.tenant_id, &rows, None).await
}

/// Purges up to `limit` recycled assets that have been in the bin longer than their tenant's
/// retention (or `expiry.older_than_days`), oldest first; how many went.
pub async fn purge_expired(
    assets: &AssetRuntime,
    conn: &mut AsyncPgConnection,
    expiry: entities::RecycleExpiry,
    limit: i64,
) -> AppResult<usize> {
    let mut purged = 0;
    for (tenant_id, cutoff, rows) in store::expired_recycled(conn, expiry, limit).await? {
        purged += purge_rows(assets, conn, tenant_id, &rows, Some(cutoff)).await?;
    }
    Ok(purged)
}

/// Purges the rows still in the recycle bin (and recycled before `recycled_before`, when
/// given: one restored and recycled again meanwhile starts its time over).
async fn purge_rows(
    assets: &AssetRuntime,
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    rows: &[AssetRow],
    recycled_before: Option<chrono::DateTime<chrono::Utc>>,
) -> AppResult<usize> {
    let mut purged = 0;
    // One transaction per asset: each holds its content's lock only as long as it needs.
    for row in rows {
        let gone = conn
            .transaction::<_, AppError, _>(async |conn| {
                store::lock_existing_blob(conn, tenant_id, &row.sha256).await?;
                // Restored or purged by someone else meanwhile: leave it.
                let Some(current) = store::lock(conn, tenant_id, row.id).await? else {
                    return Ok(false);
                };
                let expired = match (current.deleted_at, recycled_before) {
                    (Some(at), Some(cutoff)) => at < cutoff,
                    (deleted_at, None) => deleted_at.is_some(),
                    (None, Some(_)) => false,
                };
                if !expired {
                    return Ok(false);
                }
                store::delete_row(conn, row).await?;
                if store::drop_blob_if_unused(conn, tenant_id, &row.sha256).await? {
                    // Removed before the commit, while the lock still keeps uploads of the same
                    // bytes waiting: they then store the bytes afresh.
                    assets.blobs.remove(tenant_id, &row.sha256).await?;
                }
                Ok(true)
            })
            .await?;
        purged += usize::from(gone);
    }
    Ok(purged)
}
