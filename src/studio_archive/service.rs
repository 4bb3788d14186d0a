//! The rules of exports and imports (ADMIN), and what the edges and the sweeper call.

use std::sync::Arc;

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::export::{self, ExportJob};
use super::store::{self, ExportRow};
use crate::assets::service::AssetRuntime;
use crate::assets::service::ByteStream;
use crate::auth::{Role, Viewer};
use crate::context::Platform;
use crate::entities::service::TemplateCatalog;
use crate::error::{AppError, AppResult};

pub use super::format::MAX_ARCHIVE_BYTES;
pub use super::import::{ImportOutcome, import};

/// How long an export's archive may be downloaded.
const KEPT_FOR_HOURS: i64 = 24;
/// How many of its exports a tenant sees listed.
pub const LISTED: i64 = 20;

/// Begins building the tenant's archive in the background (ADMIN); CONFLICT while another
/// of the tenant's is being built.
pub async fn start_export(
    platform: &Platform,
    templates: &Arc<TemplateCatalog>,
    runtime: &AssetRuntime,
    viewer: &Viewer,
) -> AppResult<ExportRow> {
    viewer.require_role(Role::Admin)?;
    let expires_at = chrono::Utc::now() + chrono::Duration::hours(KEPT_FOR_HOURS);
    let mut conn = platform.pool.get().await?;
    let row = store::begin(&mut conn, viewer.tenant_id, viewer.user_id, expires_at)
        .await?
        .ok_or_else(|| {
            AppError::conflict("an export of this tenant is being built; wait for it to finish")
        })?;
    let (platform, templates, runtime) = (platform.clone(), templates.clone(), runtime.clone());
    let (tenant_id, export_id) = (row.tenant_id, row.id);
    tokio::spawn(async move {
        let job = ExportJob {
            platform: &platform,
            templates: &templates,
            runtime: &runtime,
            tenant_id,
            export_id,
        };
        let outcome = match export::build(&job).await {
            Ok(zip) => {
                let (bytes, sha256) = (zip.len() as i64, super::format::sha256(&zip));
                match runtime.blobs.put_export(tenant_id, export_id, zip).await {
                    Ok(()) => Ok((bytes, sha256)),
                    Err(error) => Err(format!("the archive could not be stored: {error}")),
                }
            }
            Err(error) => {
                // The cause is logged; the ADMIN reads what a client may.
                tracing::warn!(%tenant_id, %export_id, error = ?error, "a tenant export failed");
                Err(error.message())
            }
        };
        let finished = async {
            let mut conn = platform.pool.get().await?;
            store::finish(&mut conn, tenant_id, export_id, outcome).await
        };
        if let Err(error) = finished.await {
            tracing::error!(%export_id, error = ?error, "a tenant export's end was not recorded");
        }
    });
    Ok(row)
}

/// One of the tenant's exports not yet expired (ADMIN); NOT_FOUND otherwise.
pub async fn find(conn: &mut AsyncPgConnection, viewer: &Viewer, id: Uuid) -> AppResult<ExportRow> {
    viewer.require_role(Role::Admin)?;
    store::find(conn, viewer.tenant_id, id)
        .await?
        .ok_or_else(|| AppError::not_found("no such export"))
}

/// The tenant's latest exports not yet expired, newest first (ADMIN).
pub async fn list(conn: &mut AsyncPgConnection, viewer: &Viewer) -> AppResult<Vec<ExportRow>> {
    viewer.require_role(Role::Admin)?;
    store::list(conn, viewer.tenant_id, LISTED).await
}

/// A complete export's archive: its size and bytes (ADMIN); NOT_FOUND while it is not
/// complete, once it expired, or for another tenant's.
pub async fn download(
    platform: &Platform,
    runtime: &AssetRuntime,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<(u64, ByteStream)> {
    let mut conn = platform.pool.get().await?;
    let row = find(&mut conn, viewer, id).await?;
    drop(conn);
    if row.state != "complete" {
        return Err(AppError::not_found("the export is not complete"));
    }
    runtime
        .blobs
        .stream_export(viewer.tenant_id, id)
        .await?
        .ok_or_else(|| AppError::not_found("the export's archive is gone"))
}

/// Removes up to `limit` expired exports and their archives (the retention sweeper); how many.
pub async fn prune_expired(
    runtime: &AssetRuntime,
    conn: &mut AsyncPgConnection,
    limit: i64,
) -> AppResult<usize> {
    let gone = store::remove_expired(conn, limit).await?;
    for (tenant_id, id) in &gone {
        runtime.blobs.remove_export(*tenant_id, *id).await?;
    }
    Ok(gone.len())
}
