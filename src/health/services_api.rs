//! GraphQL: the state of the services the server depends on (seed "Services and Health").

use async_graphql::{Context, Object};

use super::services::{self, ServiceStatus};
use crate::auth::Role;
use crate::context::ContextExt;
use crate::error::AppResult;

#[derive(Default)]
pub struct ServicesQuery;

/// The operators' view of the services behind the server: the database, the asset queue, the
/// event relay and the outside services, each checked when asked.
#[Object]
impl ServicesQuery {
    /// Every service the server depends on, checked now (SUPERUSER): the database, the asset
    /// queue, this node's event relay, each configured Ollama server, Stripe, Google Drive and
    /// the studio's LLM provider, each with its state and how long its check took. The checks
    /// run at once, each for at most 2 s; a service that is not configured is not asked.
    async fn services_status(&self, ctx: &Context<'_>) -> AppResult<Vec<ServiceStatus>> {
        // The answer names hosts, pool sizes and queue depths across every tenant.
        ctx.viewer_with(Role::Superuser)?;
        Ok(services::status(ctx.platform()).await)
    }
}
