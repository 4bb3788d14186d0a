//! GraphQL: running the retention sweep now, and cleaning up a tenant's recycle bin.

use async_graphql::{Context, Object};

use super::{RecycleCleanup, RetentionReport};
use crate::assets::service::AssetRuntime;
use crate::auth::Role;
use crate::context::ContextExt;
use crate::error::AppResult;

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
    /// sweeper's next turn (ADMIN): up to 5,000 entities and 5,000 assets per call (`more`
    /// says whether some are left). Entities leave tombstones and are announced as purged.
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
        let runtime = ctx.part::<AssetRuntime>()?;
        super::clean_up_recycle_bin(ctx.platform(), runtime, viewer, older_than_days).await
    }
}
