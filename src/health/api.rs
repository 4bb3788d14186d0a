use async_graphql::{Context, Object};

use super::SystemHealth;
use crate::context::ContextExt;

#[derive(Default)]
pub struct HealthQuery;

#[Object]
impl HealthQuery {
    /// The health of the server and its dependencies (public).
    async fn system_health(&self, ctx: &Context<'_>) -> SystemHealth {
        super::check(ctx.platform()).await
    }
}
