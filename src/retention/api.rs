//! GraphQL: running the retention sweep now, and cleaning up a tenant's recycle bin.

use async_graphql::{Context, Object, SimpleObject};

use super::RetentionReport;
use crate::assets::service::{self as assets, AssetRuntime};
use crate::auth::Role;
use crate::context::ContextExt;
use crate::entities::service::{self as entities, RecycleExpiry};
use crate::error::{AppError, AppResult};

/// Purged per statement; a cleanup repeats until a round finds fewer.
const CLEANUP_BATCH: i64 = 500;
/// A cleanup stops after this many rounds (the sweeper takes what is left on its next turns).
const CLEANUP_ROUNDS: usize = 40;

/// What a recycle-bin cleanup purged.
#[derive(SimpleObject, Clone, Copy, Debug, Default)]
pub struct RecycleCleanup {
    /// Entities purged (a tombstone of each stays for sync clients).
    pub entities: i64,
    /// Assets purged (their bytes too, when nothing else uses them).
    pub assets: i64,
}

#[derive(Default)]
pub struct RetentionMutation;

#[Object]
impl RetentionMutation {
    /// Runs the retention sweep now, rather than at its next turn (SUPERUSER): one batch of
    /// each kind past its retention. `ran` is false when another node was sweeping.
    async fn run_retention_sweep(&self, ctx: &Context<'_>) -> AppResult<RetentionReport> {
        ctx.viewer_with(Role::Superuser)?;
        super::sweep(ctx.platform(), ctx.part::<AssetRuntime>()?).await
    }

    /// Purges what has been in the tenant's recycle bin longer than its retention
    /// (`recycleRetentionDays`), or than `olderThanDays` when given, now rather than at the
    /// sweeper's next turn (ADMIN). Entities leave tombstones and are announced as purged.
    async fn clean_up_recycle_bin(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Days in the bin after which things go (1 to 3,650); the tenant's \
                          retention when absent."
        )]
        older_than_days: Option<i32>,
    ) -> AppResult<RecycleCleanup> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        if older_than_days.is_some_and(|days| !(1..=3_650).contains(&days)) {
            return Err(AppError::bad_field(
                "olderThanDays",
                "olderThanDays must be 1 to 3,650",
            ));
        }
        let platform = ctx.platform();
        let runtime = ctx.part::<AssetRuntime>()?;
        let expiry = RecycleExpiry {
            tenant_id: Some(viewer.tenant_id),
            older_than_days,
            actor_id: Some(viewer.user_id),
        };
        let mut conn = ctx.conn().await?;
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
        let mut cleanup = RecycleCleanup::default();
        for _ in 0..CLEANUP_ROUNDS {
            let purged =
                entities::purge_expired(platform, &mut conn, expiry, CLEANUP_BATCH).await?;
            cleanup.entities += purged as i64;
            if (purged as i64) < CLEANUP_BATCH {
                break;
            }
        }
        for _ in 0..CLEANUP_ROUNDS {
            let purged = assets::purge_expired(runtime, &mut conn, expiry, CLEANUP_BATCH).await?;
            cleanup.assets += purged as i64;
            if (purged as i64) < CLEANUP_BATCH {
                break;
            }
        }
        Ok(cleanup)
    }
}
