//! The processing queue, in PostgreSQL so it survives restarts and is shared by every node: a
//! worker claims a due job (FOR UPDATE SKIP LOCKED) under a lease, reads the image's
//! dimensions, renders its thumbnail, and records the outcome; failures are retried with
//! doubling waits, and a job whose worker died is taken over once its lease runs out.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::dsl::count_star;
use diesel::prelude::*;
use diesel::sql_types::Integer;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{AssetRow, JobRow};
use super::service::AssetRuntime;
use super::{inspect, store};
use crate::context::Platform;
use crate::db::schema::{asset_jobs, asset_queue_pauses, assets};
use crate::error::{AppError, AppResult};
use crate::events::EventPayload;

/// Queues an asset's processing, unless a job for it is already open.
pub async fn enqueue(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    asset_id: Uuid,
) -> AppResult<()> {
    diesel::insert_into(asset_jobs::table)
        .values((
            asset_jobs::id.eq(Uuid::now_v7()),
            asset_jobs::tenant_id.eq(tenant_id),
            asset_jobs::asset_id.eq(asset_id),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(())
}

/// Queues an asset again (ADMIN): a waiting job runs now, a finished or failed one is followed
/// by a fresh one, and the asset shows as pending.
pub async fn requeue(conn: &mut AsyncPgConnection, asset: &AssetRow) -> AppResult<()> {
    conn.transaction::<_, AppError, _>(async |conn| {
        diesel::update(
            asset_jobs::table
                .filter(asset_jobs::tenant_id.eq(asset.tenant_id))
                .filter(asset_jobs::asset_id.eq(asset.id))
                .filter(asset_jobs::state.eq("pending")),
        )
        .set((
            asset_jobs::run_after.eq(Utc::now()),
            asset_jobs::attempts.eq(0),
        ))
        .execute(conn)
        .await?;
        enqueue(conn, asset.tenant_id, asset.id).await?;
        diesel::update(store::one(asset.tenant_id, asset.id))
            .set((
                assets::processing.eq("pending"),
                assets::processing_error.eq(None::<String>),
            ))
            .execute(conn)
            .await?;
        Ok(())
    })
    .await
}

pub async fn set_paused(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    paused_by: Option<Uuid>,
    paused: bool,
) -> AppResult<()> {
    if paused {
        diesel::insert_into(asset_queue_pauses::table)
            .values((
                asset_queue_pauses::tenant_id.eq(tenant_id),
                asset_queue_pauses::paused_by.eq(paused_by),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
    } else {
        diesel::delete(asset_queue_pauses::table.find(tenant_id))
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// A tenant's queue: whether it is paused, and its jobs counted by platform.
pub struct QueueCounts {
    pub paused: bool,
    pub by_state: Vec<(String, i64)>,
}

pub async fn counts(conn: &mut AsyncPgConnection, tenant_id: Uuid) -> AppResult<QueueCounts> {
    let paused = asset_queue_pauses::table
        .find(tenant_id)
        .select(asset_queue_pauses::tenant_id)
        .first::<Uuid>(conn)
        .await
        .optional()?
        .is_some();
    let by_state = asset_jobs::table
        .filter(asset_jobs::tenant_id.eq(tenant_id))
        .group_by(asset_jobs::state)
        .select((asset_jobs::state, count_star()))
        .load(conn)
        .await?;
    Ok(QueueCounts { paused, by_state })
}

/// The whole queue's pending and running jobs (every tenant's), for the metrics: counted
/// through the index of open jobs, never over the finished ones.
pub async fn open_jobs(conn: &mut AsyncPgConnection) -> AppResult<(i64, i64)> {
    #[derive(QueryableByName)]
    struct Open {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        pending: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        running: i64,
    }
    let open: Open = diesel::sql_query(
        "SELECT count(*) FILTER (WHERE state = 'pending') AS pending,
                count(*) FILTER (WHERE state = 'running') AS running
         FROM asset_jobs WHERE state IN ('pending', 'running')",
    )
    .get_result(conn)
    .await?;
    Ok((open.pending, open.running))
}

/// The whole queue's state for an operator (every tenant's): counted through the index of
/// open jobs. A paused tenant's jobs wait by design, so only due jobs of unpaused tenants count
/// towards the longest wait.
#[derive(QueryableByName, Clone, Debug)]
pub struct QueueHealth {
    /// Jobs waiting to run (retries and paused tenants' jobs included).
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub queued: i64,
    /// Of those, the ones due now for unpaused tenants.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub due: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub running: i64,
    /// Running jobs whose worker's lease ran out (another worker takes them over).
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub lease_expired: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Double>)]
    pub oldest_wait_seconds: Option<f64>,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub paused_tenants: i64,
}

pub async fn queue_health(conn: &mut AsyncPgConnection) -> AppResult<QueueHealth> {
    Ok(diesel::sql_query(
        "SELECT count(*) FILTER (WHERE j.state = 'pending') AS queued,
                count(*) FILTER (WHERE j.state = 'pending' AND j.run_after <= now()
                                   AND p.tenant_id IS NULL) AS due,
                count(*) FILTER (WHERE j.state = 'running') AS running,
                count(*) FILTER (WHERE j.state = 'running' AND j.lease_until < now())
                    AS lease_expired,
                EXTRACT(EPOCH FROM now() - min(j.run_after) FILTER (
                    WHERE j.state = 'pending' AND j.run_after <= now() AND p.tenant_id IS NULL
                ))::float8 AS oldest_wait_seconds,
                (SELECT count(*) FROM asset_queue_pauses) AS paused_tenants
         FROM asset_jobs j
         LEFT JOIN asset_queue_pauses p ON p.tenant_id = j.tenant_id
         WHERE j.state IN ('pending', 'running')",
    )
    .get_result(conn)
    .await?)
}

/// Takes the next due job of an unpaused tenant, or a running one whose lease ran out (its
/// worker died) while it has attempts left. Each kind is found through its own partial index
/// (finished jobs stay in the table and must not be scanned).
async fn claim(
    conn: &mut AsyncPgConnection,
    lease: Duration,
    max_attempts: i32,
) -> AppResult<Option<JobRow>> {
    const DUE: &str = "j.state = 'pending' AND j.run_after <= now()";
    const ORPHANED: &str = "j.state = 'running' AND j.lease_until < now() AND j.attempts < $2";
    for (condition, order) in [(ORPHANED, "j.lease_until"), (DUE, "j.run_after")] {
        let lease_ms = i32::try_from(lease.as_millis()).unwrap_or(i32::MAX);
        let claimed = diesel::sql_query(format!(
            "UPDATE asset_jobs SET state = 'running', attempts = attempts + 1,
                    lease_until = now() + make_interval(secs => $1 / 1000.0), updated_at = now()
             WHERE (tenant_id, id) = (
                 SELECT j.tenant_id, j.id FROM asset_jobs j
                 WHERE {condition}
                   AND NOT EXISTS (SELECT 1 FROM asset_queue_pauses p WHERE p.tenant_id = j.tenant_id)
                 ORDER BY {order}
                 LIMIT 1
                 FOR UPDATE SKIP LOCKED)
             RETURNING *"
        ))
        .bind::<Integer, _>(lease_ms)
        .bind::<Integer, _>(max_attempts)
        .get_result::<JobRow>(conn)
        .await
        .optional()?;
        if claimed.is_some() {
            return Ok(claimed);
        }
    }
    Ok(None)
}

/// Jobs whose worker died on their last attempt (a crash or running out of memory while
/// decoding, say) fail for good instead of taking down worker after worker. Returns the
/// assets concerned, to be announced.
async fn fail_abandoned(
    conn: &mut AsyncPgConnection,
    max_attempts: i32,
) -> AppResult<Vec<(Uuid, Uuid, Option<Uuid>)>> {
    conn.transaction::<_, AppError, _>(async |conn| {
        let abandoned: Vec<(Uuid, Uuid)> = diesel::update(
            asset_jobs::table
                .filter(asset_jobs::state.eq("running"))
                .filter(asset_jobs::lease_until.lt(Utc::now()))
                .filter(asset_jobs::attempts.ge(max_attempts)),
        )
        .set((
            asset_jobs::state.eq("failed"),
            asset_jobs::last_error.eq(ABANDONED),
            asset_jobs::lease_until.eq(None::<DateTime<Utc>>),
            asset_jobs::updated_at.eq(Utc::now()),
        ))
        .returning((asset_jobs::tenant_id, asset_jobs::asset_id))
        .get_results(conn)
        .await?;
        let mut failed = Vec::new();
        for (tenant_id, asset_id) in abandoned {
            let uploader: Option<Option<Uuid>> = diesel::update(store::one(tenant_id, asset_id))
                .set((
                    assets::processing.eq("failed"),
                    assets::processing_error.eq(ABANDONED),
                ))
                .returning(assets::uploaded_by)
                .get_result(conn)
                .await
                .optional()?;
            if let Some(uploader) = uploader {
                failed.push((tenant_id, asset_id, uploader));
            }
        }
        Ok(failed)
    })
    .await
}

const ABANDONED: &str = "processing stopped without finishing on every attempt";

/// Why processing failed, in words fit for any member of the tenant: the causes (paths,
/// store addresses) go to the log only.
enum ProcessError {
    Unreadable(anyhow::Error),
    Storage(anyhow::Error),
}

impl ProcessError {
    fn public_message(&self) -> &'static str {
        match self {
            Self::Unreadable(_) => "the image could not be decoded",
            Self::Storage(_) => "the stored image could not be read or its thumbnail written",
        }
    }

    fn cause(&self) -> &anyhow::Error {
        match self {
            Self::Unreadable(e) | Self::Storage(e) => e,
        }
    }
}

/// What processing found.
struct Processed {
    width: i32,
    height: i32,
}

/// Reads the original, decodes it (off the async threads) and stores its thumbnail.
async fn process(
    platform: &Platform,
    assets: &AssetRuntime,
    asset: &AssetRow,
) -> Result<Processed, ProcessError> {
    let kind = inspect::ImageKind::from_mime_type(&asset.mime_type).ok_or_else(|| {
        ProcessError::Unreadable(anyhow::anyhow!(
            "{} is not an image type this server processes",
            asset.mime_type
        ))
    })?;
    let bytes = assets
        .blobs
        .read_original(asset.tenant_id, &asset.sha256)
        .await
        .map_err(ProcessError::Storage)?;
    let settings = platform.config.assets.clone();
    let decoded = tokio::task::spawn_blocking(move || {
        let info = inspect::inspect(&bytes, &settings).map_err(|e| anyhow::anyhow!(e.message()))?;
        let png = inspect::thumbnail(&bytes, kind, &settings)?;
        anyhow::Ok((png, i32::try_from(info.width)?, i32::try_from(info.height)?))
    })
    .await
    .map_err(|e| ProcessError::Unreadable(e.into()))?;
    let (png, width, height) = decoded.map_err(ProcessError::Unreadable)?;
    assets
        .blobs
        .put_thumbnail(asset.tenant_id, &asset.sha256, png)
        .await
        .map_err(ProcessError::Storage)?;
    Ok(Processed { width, height })
}

/// Runs one due job, if there is one; false when there was nothing to do.
async fn run_next(platform: &Platform, assets: &AssetRuntime) -> AppResult<bool> {
    let settings = &platform.config.assets;
    let mut conn = platform.pool.get().await?;
    for (tenant_id, asset_id, uploader) in fail_abandoned(&mut conn, settings.max_attempts).await? {
        crate::metrics::asset_job("abandoned");
        platform.events.publish(
            tenant_id,
            uploader,
            EventPayload::AssetProcessed { asset_id },
        );
    }
    let Some(job) = claim(&mut conn, settings.lease, settings.max_attempts).await? else {
        return Ok(false);
    };
    let Some(asset) = store::find(&mut conn, job.tenant_id, job.asset_id).await? else {
        // Purged meanwhile (the job would have gone with it; a race at most).
        return Ok(true);
    };
    // The connection goes back to the pool while the image is decoded.
    drop(conn);
    let outcome = process(platform, assets, &asset).await;
    let mut conn = platform.pool.get().await?;
    let recorded = match &outcome {
        Ok(found) => {
            conn.transaction::<_, AppError, _>(async |conn| {
                // The content first, as a purge locks it (then the asset, then its job, which
                // the asset's deletion takes): a purge and a finishing job wait for each other
                // in turn, never in a circle.
                let content_kept =
                    store::lock_existing_blob(conn, asset.tenant_id, &asset.sha256).await?;
                if !finish_job(conn, &job, "done", None, None).await? {
                    return Ok(false);
                }
                // Purged while the thumbnail was made: it must not outlive the original.
                if !content_kept {
                    assets.blobs.remove(asset.tenant_id, &asset.sha256).await?;
                    return Ok(false);
                }
                diesel::update(store::one(asset.tenant_id, asset.id))
                    .set((
                        assets::processing.eq("done"),
                        assets::processing_error.eq(None::<String>),
                        assets::has_thumbnail.eq(true),
                        assets::width.eq(found.width),
                        assets::height.eq(found.height),
                    ))
                    .execute(conn)
                    .await?;
                Ok(true)
            })
            .await?
        }
        Err(error) => {
            tracing::warn!(asset = %asset.id, attempt = job.attempts, error = format!("{:#}", error.cause()), "processing an asset failed");
            let message = error.public_message();
            let gave_up = job.attempts >= settings.max_attempts;
            let (job_state, asset_state, retry_in) = if gave_up {
                ("failed", "failed", None)
            } else {
                let doublings = u32::try_from(job.attempts - 1).unwrap_or(0).min(16);
                (
                    "pending",
                    "pending",
                    Some(settings.first_retry * 2u32.pow(doublings)),
                )
            };
            conn.transaction::<_, AppError, _>(async |conn| {
                // The content first, in the order a purge takes its locks (see above).
                store::lock_existing_blob(conn, asset.tenant_id, &asset.sha256).await?;
                if !finish_job(conn, &job, job_state, Some(message), retry_in).await? {
                    return Ok(false);
                }
                diesel::update(store::one(asset.tenant_id, asset.id))
                    .set((
                        assets::processing.eq(asset_state),
                        assets::processing_error.eq(Some(message)),
                    ))
                    .execute(conn)
                    .await?;
                Ok(gave_up)
            })
            .await?
        }
    };
    crate::metrics::asset_job(match &outcome {
        Ok(_) => "done",
        Err(_) if job.attempts >= settings.max_attempts => "failed",
        Err(_) => "retry",
    });
    if recorded {
        platform.events.publish(
            asset.tenant_id,
            asset.uploaded_by,
            EventPayload::AssetProcessed { asset_id: asset.id },
        );
    }
    Ok(true)
}

/// Records a job's outcome, if this worker still holds it: a worker that overran its lease
/// finds the job taken over (its attempt count moved on) and records nothing.
async fn finish_job(
    conn: &mut AsyncPgConnection,
    job: &JobRow,
    state: &str,
    error: Option<&str>,
    retry_in: Option<Duration>,
) -> AppResult<bool> {
    let run_after = Utc::now() + retry_in.unwrap_or_default();
    let updated = diesel::update(
        asset_jobs::table
            .find((job.tenant_id, job.id))
            .filter(asset_jobs::state.eq("running"))
            .filter(asset_jobs::attempts.eq(job.attempts)),
    )
    .set((
        asset_jobs::state.eq(state),
        asset_jobs::last_error.eq(error),
        asset_jobs::lease_until.eq(None::<DateTime<Utc>>),
        asset_jobs::run_after.eq(run_after),
        asset_jobs::updated_at.eq(Utc::now()),
    ))
    .execute(conn)
    .await?;
    Ok(updated == 1)
}

/// The worker: runs jobs while there are due ones, then sleeps until an upload wakes it, the
/// poll interval passes (retries and other nodes' jobs come due), or the server shuts down.
pub async fn work(platform: Platform, assets: AssetRuntime) {
    let shutdown = platform.shutdown.clone();
    loop {
        let idle = match run_next(&platform, &assets).await {
            Ok(true) => false,
            Ok(false) => true,
            Err(error) => {
                tracing::warn!(code = error.code(), message = %error.message(), "the asset queue could not run a job");
                true
            }
        };
        if shutdown.is_cancelled() {
            return;
        }
        if idle {
            tokio::select! {
                () = assets.wake.notified() => {}
                () = tokio::time::sleep(platform.config.assets.poll_interval) => {}
                () = shutdown.cancelled() => return,
            }
        }
    }
}
