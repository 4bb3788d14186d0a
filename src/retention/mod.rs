//! The retention sweeper: removes what the server keeps only for a while (finished asset jobs,
//! stored bytes no asset uses, idle Ollama conversations, old Stripe event ids, old entity
//! revisions, ended sign-in windows, the event log, expired tenant exports) as long as
//! `RetentionSettings` says, and recycled entities and assets as long as each tenant's
//! recycle-bin retention says, a bounded batch of each kind per run. Every node runs it on a
//! timer; one run at a time across the nodes of a database (a transaction-scoped advisory
//! lock: a node that dies mid-run lets go of it).

pub mod api;

use std::time::Duration;

use async_graphql::SimpleObject;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::assets::service::AssetRuntime;
use crate::auth::{Role, Viewer};
use crate::context::Platform;
use crate::entities::service::RecycleExpiry;
use crate::error::{AppError, AppResult};

/// What one run removed.
#[derive(SimpleObject, Clone, Debug, Default)]
pub struct RetentionReport {
    /// False when another node was sweeping (this run did nothing).
    pub ran: bool,
    /// Asset jobs that finished before their retention.
    pub asset_jobs: i64,
    /// Stored originals and thumbnails of content no asset uses (a deleted tenant's, or left
    /// by an upload that failed), past their grace period.
    pub asset_objects: i64,
    /// Ollama conversations left idle, or whose session or key ended.
    pub ollama_conversations: i64,
    /// Stripe event ids past their retention.
    pub stripe_events: i64,
    /// Entity revisions past their retention (each entity keeps its newest).
    pub revisions: i64,
    /// Sign-in throttle windows that ended.
    pub sign_in_windows: i64,
    /// Sign-in leftovers: provider round trips never finished, password-reset links expired a
    /// day ago, request-rate windows that ended.
    pub sign_in_leftovers: i64,
    /// Events past the event log's retention.
    pub logged_events: i64,
    /// Recycled entities past their tenant's recycle-bin retention (tombstones stay).
    pub recycled_entities: i64,
    /// Recycled assets past their tenant's recycle-bin retention.
    pub recycled_assets: i64,
    /// Whole-tenant exports past their 24 hours, with their archives.
    pub tenant_exports: i64,
}

/// Sweeps every `interval` until the server shuts down. The first run comes after a random
/// part of the interval, so nodes started together do not all knock at once.
pub async fn run(platform: Platform, assets: AssetRuntime) {
    let interval = platform
        .config
        .retention
        .interval
        .max(Duration::from_secs(1));
    let first = interval.mul_f64(rand::random::<f64>());
    let mut next = tokio::time::Instant::now() + first;
    loop {
        tokio::select! {
            () = platform.shutdown.cancelled() => return,
            () = tokio::time::sleep_until(next) => {}
        }
        match sweep(&platform, &assets).await {
            Ok(report) if report.ran => tracing::debug!(?report, "retention sweep"),
            Ok(_) => {}
            Err(error) => tracing::warn!(error = ?error, "the retention sweep failed"),
        }
        next = tokio::time::Instant::now() + interval;
    }
}

/// One run, unless another node is running one (then `ran` is false).
pub async fn sweep(platform: &Platform, assets: &AssetRuntime) -> AppResult<RetentionReport> {
    let mut lock_holder = platform.pool.get().await?;
    lock_holder
        .transaction::<_, AppError, _>(async |lock_holder| {
            if !take_lock(lock_holder).await? {
                return Ok(RetentionReport::default());
            }
            let mut conn = platform.pool.get().await?;
            sweep_all(platform, assets, &mut conn).await
        })
        .await
}

async fn take_lock(conn: &mut AsyncPgConnection) -> AppResult<bool> {
    #[derive(diesel::QueryableByName)]
    struct Taken {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        taken: bool,
    }
    let taken: Taken = diesel::sql_query(
        "SELECT pg_try_advisory_xact_lock(hashtextextended('loregraph-retention', 0)) AS taken",
    )
    .get_result(conn)
    .await?;
    Ok(taken.taken)
}

async fn sweep_all(
    platform: &Platform,
    assets: &AssetRuntime,
    conn: &mut AsyncPgConnection,
) -> AppResult<RetentionReport> {
    let settings = &platform.config.retention;
    let batch = settings.batch.max(1);
    let secs = |d: Duration| d.as_secs_f64();
    let mut report = RetentionReport {
        ran: true,
        ..RetentionReport::default()
    };
    // Each kind on its own: one that fails (and says so) does not hold up the others.
    report.asset_jobs = step(
        "asset jobs",
        crate::assets::service::prune_finished_jobs(conn, secs(settings.asset_jobs), batch).await,
    );
    report.asset_objects = step(
        "stored asset bytes",
        crate::assets::service::sweep_unused_bytes(
            &assets.blobs,
            conn,
            settings.batch,
            settings.orphaned_bytes,
        )
        .await,
    );
    report.ollama_conversations = step(
        "Ollama conversations",
        crate::mud::service::prune_conversations(conn, secs(settings.ollama_conversations), batch)
            .await,
    );
    report.stripe_events = step(
        "Stripe event ids",
        crate::billing::service::prune_stripe_events(conn, secs(settings.stripe_events), batch)
            .await,
    );
    if !settings.revisions.is_zero() {
        report.revisions = step(
            "entity revisions",
            crate::entities::service::prune_revisions(
                conn,
                secs(settings.revisions),
                settings.revisions_kept.max(1),
                batch,
            )
            .await,
        );
    }
    report.sign_in_windows = step(
        "sign-in windows",
        platform.auth.throttle.forget_ended(conn, batch).await,
    );
    report.sign_in_leftovers = step(
        "sign-in leftovers",
        crate::accounts::service::prune_sign_in_leftovers(conn, batch).await,
    );
    report.logged_events = step(
        "logged events",
        prune_event_log(conn, secs(settings.event_log), batch).await,
    );
    let every_tenant = RecycleExpiry {
        tenant_id: None,
        older_than_days: None,
        actor_id: None,
    };
    report.recycled_entities = step(
        "recycled entities",
        crate::entities::service::purge_expired(platform, conn, every_tenant, batch).await,
    );
    report.recycled_assets = step(
        "recycled assets",
        crate::assets::service::purge_expired(assets, conn, every_tenant, batch).await,
    );
    report.tenant_exports = step(
        "tenant exports",
        crate::studio_archive::service::prune_expired(assets, conn, batch).await,
    );
    Ok(report)
}

/// Purged per statement by a cleanup an ADMIN asks for; it repeats until a round finds fewer.
const CLEANUP_BATCH: i64 = 500;
/// A cleanup stops after this many rounds of each kind (the rest waits for the sweeper or the
/// next call): 5,000 purge events at most, well within the event outbox.
const CLEANUP_ROUNDS: usize = 10;

/// What a recycle-bin cleanup purged.
#[derive(SimpleObject, Clone, Copy, Debug, Default)]
pub struct RecycleCleanup {
    /// Entities purged (a tombstone of each stays for sync clients).
    pub entities: i64,
    /// Assets purged (their bytes too, when nothing else uses them).
    pub assets: i64,
    /// Whether more were past the age than one call purges (call again).
    pub more: bool,
}

/// Purges what has been in the viewer's tenant's recycle bin longer than its retention, or
/// than `older_than_days` (ADMIN). A tenant that keeps recycled things must say an age.
pub async fn clean_up_recycle_bin(
    platform: &Platform,
    assets: &AssetRuntime,
    viewer: &Viewer,
    older_than_days: Option<i32>,
) -> AppResult<RecycleCleanup> {
    viewer.require_role(Role::Admin)?;
    if older_than_days.is_some_and(|days| !(1..=3_650).contains(&days)) {
        return Err(AppError::bad_field(
            "olderThanDays",
            "olderThanDays must be 1 to 3,650",
        ));
    }
    let mut conn = platform.pool.get().await?;
    if older_than_days.is_none()
        && crate::tenants::service::find_tenant(&mut conn, viewer.tenant_id)
            .await?
            .is_some_and(|tenant| tenant.recycle_retention_days.is_none())
    {
        return Err(AppError::bad_field(
            "olderThanDays",
            "the tenant keeps recycled things until the bin is emptied (its \
             recycleRetentionDays is null): say olderThanDays",
        ));
    }
    let expiry = RecycleExpiry {
        tenant_id: Some(viewer.tenant_id),
        older_than_days,
        actor_id: Some(viewer.user_id),
    };
    let (entities, more_entities) =
        in_rounds(platform, assets, &mut conn, expiry, Binned::Entities).await?;
    let (assets, more_assets) =
        in_rounds(platform, assets, &mut conn, expiry, Binned::Assets).await?;
    Ok(RecycleCleanup {
        entities,
        assets,
        more: more_entities || more_assets,
    })
}

/// What a recycle bin holds.
#[derive(Clone, Copy)]
enum Binned {
    Entities,
    Assets,
}

/// Purges `binned` things past the expiry until a round purges less than a full batch,
/// [`CLEANUP_ROUNDS`] at most: how many went, and whether every round was full (more may be
/// left).
async fn in_rounds(
    platform: &Platform,
    assets: &AssetRuntime,
    conn: &mut AsyncPgConnection,
    expiry: RecycleExpiry,
    binned: Binned,
) -> AppResult<(i64, bool)> {
    let mut purged = 0;
    for _ in 0..CLEANUP_ROUNDS {
        let this_round = match binned {
            Binned::Entities => {
                crate::entities::service::purge_expired(platform, conn, expiry, CLEANUP_BATCH)
                    .await?
            }
            Binned::Assets => {
                crate::assets::service::purge_expired(assets, conn, expiry, CLEANUP_BATCH).await?
            }
        };
        let this_round = i64::try_from(this_round).unwrap_or(i64::MAX);
        purged += this_round;
        if this_round < CLEANUP_BATCH {
            return Ok((purged, false));
        }
    }
    Ok((purged, true))
}

/// How many a step removed; none when it failed (logged).
fn step(kind: &str, removed: AppResult<impl TryInto<i64>>) -> i64 {
    match removed {
        Ok(count) => count.try_into().unwrap_or(i64::MAX),
        Err(error) => {
            tracing::warn!(kind, error = ?error, "a retention step failed; the next run tries again");
            0
        }
    }
}

/// Events outnumber every other kind by far (each write is one), so the log is pruned in up to
/// `EVENT_LOG_ROUNDS` batches of ten times the usual size per run, stopping at the first short
/// one.
const EVENT_LOG_ROUNDS: usize = 50;

async fn prune_event_log(
    conn: &mut AsyncPgConnection,
    older_than_secs: f64,
    batch: i64,
) -> AppResult<i64> {
    let batch = batch.saturating_mul(10);
    let mut removed = 0;
    for _ in 0..EVENT_LOG_ROUNDS {
        let round = crate::events::log::prune(conn, older_than_secs, batch).await?;
        removed += round;
        if round < batch {
            break;
        }
    }
    Ok(removed)
}
