//! GraphQL: running the retention sweep now.

use async_graphql::{Context, Object};

use super::RetentionReport;
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
}
