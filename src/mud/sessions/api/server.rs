//! GraphQL: stopping the server (seed 002's ServerStopRequest). SUPERUSER only: on a server
//! shared by many tenants, one tenant's ADMIN must not stop it for all.

use std::time::Duration;

use async_graphql::{Context, Object, SimpleObject};

use crate::auth::Role;
use crate::context::ContextExt;
use crate::error::AppResult;

/// How long the server waits after answering, so the answer reaches its caller.
const STOP_DELAY: Duration = Duration::from_millis(500);

/// What `stopServer` did (seed 002's ServerStopResponse).
#[derive(SimpleObject)]
pub struct ServerStopPayload {
    /// True: the server is stopping.
    pub success: bool,
    /// Who initiated the shutdown.
    pub message: String,
}

#[derive(Default)]
pub struct ServerMutation;

#[Object]
impl ServerMutation {
    /// Stops this server gracefully half a second after answering: in-flight requests finish,
    /// live sockets get a close frame (SUPERUSER).
    async fn stop_server(&self, ctx: &Context<'_>) -> AppResult<ServerStopPayload> {
        let viewer = ctx.viewer_with(Role::Superuser)?;
        let shutdown = ctx.platform().shutdown.clone();
        tracing::warn!(actor = %viewer.user_id, "stopServer: shutting down shortly");
        tokio::spawn(async move {
            tokio::time::sleep(STOP_DELAY).await;
            shutdown.cancel();
        });
        Ok(ServerStopPayload {
            success: true,
            message: format!("server stopping, initiated by user {}", viewer.user_id),
        })
    }
}
