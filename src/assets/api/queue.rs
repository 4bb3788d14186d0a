//! GraphQL: the processing queue (seed 001's Asset Queue) and its live events.

use async_graphql::{Context, ID, Object, SimpleObject, Subscription};
use futures_util::Stream;

use super::object::Asset;
use crate::assets::jobs;
use crate::assets::loaders::AssetLoaders;
use crate::assets::service::AssetRuntime;
use crate::auth::Role;
use crate::context::ContextExt;
use crate::db::loading::load;
use crate::db::parse_id;
use crate::error::{AppError, AppResult};
use crate::events::{EventPayload, kinds};

/// The tenant's processing queue.
#[derive(SimpleObject)]
pub struct AssetQueueStatus {
    /// While paused, the tenant's jobs wait; uploads still queue them.
    pub paused: bool,
    /// Waiting to run, retries included.
    pub pending: i64,
    /// Being processed now.
    pub running: i64,
    /// Gave up after every attempt.
    pub failed: i64,
    /// Finished.
    pub done: i64,
}

async fn status(ctx: &Context<'_>) -> AppResult<AssetQueueStatus> {
    let viewer = ctx.viewer()?;
    let mut conn = ctx.conn().await?;
    let counts = jobs::counts(&mut conn, viewer.tenant_id).await?;
    let count = |state: &str| {
        counts
            .by_state
            .iter()
            .find(|(s, _)| s == state)
            .map_or(0, |(_, n)| *n)
    };
    Ok(AssetQueueStatus {
        paused: counts.paused,
        pending: count("pending"),
        running: count("running"),
        failed: count("failed"),
        done: count("done"),
    })
}

async fn set_paused(ctx: &Context<'_>, paused: bool) -> AppResult<AssetQueueStatus> {
    let viewer = ctx.viewer_with(Role::Admin)?;
    let mut conn = ctx.conn().await?;
    jobs::set_paused(&mut conn, viewer.tenant_id, Some(viewer.user_id), paused).await?;
    drop(conn);
    if !paused {
        ctx.part::<AssetRuntime>()?.wake.notify_one();
    }
    status(ctx).await
}

#[derive(Default)]
pub struct AssetQueueQuery;

#[Object]
impl AssetQueueQuery {
    /// How many of the tenant's processing jobs wait, run, failed or finished.
    async fn asset_queue_status(&self, ctx: &Context<'_>) -> AppResult<AssetQueueStatus> {
        status(ctx).await
    }
}

#[derive(Default)]
pub struct AssetQueueMutation;

#[Object]
impl AssetQueueMutation {
    /// Holds the tenant's processing jobs until resumed (on every server node). ADMIN.
    async fn pause_asset_queue(&self, ctx: &Context<'_>) -> AppResult<AssetQueueStatus> {
        set_paused(ctx, true).await
    }

    /// Lets the tenant's processing jobs run again. ADMIN.
    async fn resume_asset_queue(&self, ctx: &Context<'_>) -> AppResult<AssetQueueStatus> {
        set_paused(ctx, false).await
    }

    /// Processes a live asset again (after a failure, say): its attempts start over. ADMIN.
    async fn requeue_asset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The live asset's id.")] id: ID,
    ) -> AppResult<Asset> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let id = parse_id("id", &id)?;
        let mut conn = ctx.conn().await?;
        let asset = crate::assets::store::find(&mut conn, viewer.tenant_id, id)
            .await?
            .filter(|row| !row.is_deleted())
            .ok_or_else(|| AppError::not_found(format!("Asset not found: {id}")))?;
        jobs::requeue(&mut conn, &asset).await?;
        drop(conn);
        ctx.part::<AssetRuntime>()?.wake.notify_one();
        ctx.loaders::<AssetLoaders>().forget();
        Ok(load(&ctx.loaders::<AssetLoaders>().by_id, id)
            .await?
            .map(Asset::from)
            .ok_or_else(|| AppError::not_found(format!("Asset not found: {id}")))?)
    }
}

#[derive(Default)]
pub struct AssetSubscription;

#[Subscription]
impl AssetSubscription {
    /// The tenant's assets as their processing finishes: thumbnail made, or failed for good
    /// (see `processing`).
    async fn asset_processed(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Resume after this `sequence` (the last one seen): what happened since \
                          is replayed first."
        )]
        since: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = AssetProcessedEvent> + use<>> {
        Ok(crate::context::subscriptions::tenant_events(
            ctx,
            since,
            kinds::ASSET_PROCESSED,
            |event| match &event.payload {
                EventPayload::AssetProcessed { asset_id } => Some(AssetProcessedEvent {
                    asset_id: *asset_id,
                    at: event.at,
                    seq: event.seq,
                }),
                _ => None,
            },
        )
        .await?)
    }
}

pub struct AssetProcessedEvent {
    asset_id: uuid::Uuid,
    at: chrono::DateTime<chrono::Utc>,
    seq: i64,
}

/// An asset's processing finished.
#[Object]
impl AssetProcessedEvent {
    /// The id of the asset processed.
    async fn asset_id(&self) -> ID {
        ID(self.asset_id.to_string())
    }

    /// The asset as it is now (null once purged).
    async fn asset(&self, ctx: &Context<'_>) -> AppResult<Option<Asset>> {
        Ok(load(&ctx.loaders::<AssetLoaders>().by_id, self.asset_id)
            .await?
            .map(Asset::from))
    }

    /// When its processing finished.
    async fn at(&self) -> chrono::DateTime<chrono::Utc> {
        self.at
    }

    /// Where it stands among the tenant's events: pass the last one seen as `since` to resume
    /// there after a reconnect.
    async fn sequence(&self) -> ID {
        ID(self.seq.to_string())
    }
}
