//! GraphQL of the activity feed (`activity`, a Relay connection) and the dashboard
//! (`dashboardStatistics`).

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::model::{Activity, ActivityKey, ActivityKind, ActivityVerb};
use super::service::{self, FeedRequest};
use crate::accounts::api::User;
use crate::admin::api::EntityCount;
use crate::auth::Role;
use crate::context::ContextExt;
use crate::db::connection::{connection_type, items_select, page_of};
use crate::db::cursor::ConnectionArgs;
use crate::entities::api::EntityType;
use crate::error::AppResult;

pub struct ActivityItem(Activity);

/// One thing that happened in the tenant: who did what to what, and when.
#[Object]
impl ActivityItem {
    /// The item's id: its source and the source row's id (stable across pages and requests).
    async fn id(&self) -> ID {
        ID(format!("{}:{}", self.0.source.name(), self.0.id))
    }

    /// When it happened.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }

    /// What it happened to.
    async fn kind(&self) -> ActivityKind {
        self.0.kind()
    }

    /// What was done.
    async fn verb(&self) -> ActivityVerb {
        self.0.verb
    }

    /// Who did it; null when no one did (an allowance credited, an invite revoked: who
    /// revoked it is not recorded) or their account is gone.
    async fn actor(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        User::load(ctx, self.0.actor_id).await
    }

    /// ENTITY: the entity's type; null for other kinds.
    async fn entity_type(&self) -> Option<EntityType> {
        self.0.entity_type
    }

    /// ENTITY: the entity's id within its type after this write; null for other kinds.
    async fn entity_id(&self) -> Option<&str> {
        self.0.entity_id.as_deref()
    }

    /// The subject's own id: the asset's, note's, invite's or BrainBits ledger entry's; null
    /// for ENTITY, named by `entityType` and `entityId` instead.
    async fn subject_id(&self) -> Option<ID> {
        self.0.subject_id().map(ID)
    }

    /// The subject's name as it was then: the entity's name after the write, the asset's
    /// file name, the note's title, the invited address, the ledger entry's reason.
    async fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }

    /// INVITE: the role the invite grants; null for other kinds.
    async fn role(&self) -> Option<Role> {
        self.0.role
    }

    /// BILLING: the BrainBits the entry added (positive) or took (negative); null for other
    /// kinds.
    async fn amount(&self) -> Option<i64> {
        self.0.amount
    }
}

connection_type! {
    /// The tenant's activity, newest first, a page at a time by cursor.
    pub struct ActivityConnection;
    /// An activity item and its cursor.
    pub struct ActivityEdge(ActivityItem);
}

/// What the tenant's files take up.
#[derive(SimpleObject)]
pub struct StorageUsage {
    /// How many live assets there are.
    pub live_assets: i64,
    /// The live assets' sizes summed, in bytes (an image uploaded twice counts twice).
    pub live_asset_bytes: i64,
    /// How many assets are in the recycle bin.
    pub recycled_assets: i64,
    /// The recycled assets' sizes summed, in bytes.
    pub recycled_asset_bytes: i64,
    /// Distinct contents stored, live or recycled.
    pub stored_files: i64,
    /// What the storage holds, each distinct content once, in bytes.
    pub stored_bytes: i64,
}

/// The tenant's BrainBits in the current billing period.
#[derive(SimpleObject)]
pub struct BrainbitsThisPeriod {
    /// When the period began.
    pub period_start: DateTime<Utc>,
    /// When it ends.
    pub period_end: DateTime<Utc>,
    /// BrainBits the members consumed since the period began.
    pub used: i64,
    /// BrainBits the tenant holds now.
    pub balance: i64,
    /// What the tenant's tier credits each period.
    pub allowance: i64,
}

/// The tenant at a glance.
#[derive(SimpleObject)]
pub struct DashboardStatistics {
    /// Live entities, every type together.
    pub entities: i64,
    /// Entities in the recycle bin.
    pub recycled_entities: i64,
    /// Entities by type, every type (zeros included), as `entityCounts` answers.
    pub entities_by_type: Vec<EntityCount>,
    /// Live assets.
    pub assets: i64,
    /// Notes.
    pub notes: i64,
    /// Members of the tenant.
    pub members: i64,
    /// What the tenant's files take up.
    pub storage: StorageUsage,
    /// BrainBits this billing period.
    pub brainbits: BrainbitsThisPeriod,
    /// The latest changes to entities (at most 10), newest first.
    pub recent_changes: Vec<ActivityItem>,
}

#[derive(Default)]
pub struct ActivityQuery;

/// The activity feed and the dashboard of the viewer's tenant (WORLDBUILDER and above).
#[Object]
impl ActivityQuery {
    /// What happened in the tenant, newest first: entities written, assets uploaded and
    /// recycled, invites sent, accepted and revoked, BrainBits credited and spent, notes
    /// written. A WORLDBUILDER reads ENTITY, ASSET and NOTE; INVITE and BILLING are for
    /// ADMINs; a PLAYER is refused (FORBIDDEN).
    async fn activity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only what happened after this instant.")] since: Option<DateTime<Utc>>,
        #[graphql(
            desc = "Only these kinds; every kind the viewer may read when absent (FORBIDDEN \
                    when one is beyond the viewer's role)."
        )]
        kinds: Option<Vec<ActivityKind>>,
        #[graphql(desc = "How many items to return after `after`: 1 to 100, 50 when absent.")]
        first: Option<i32>,
        #[graphql(desc = "The cursor to go on after (an `endCursor`); the start when absent.")]
        after: Option<String>,
    ) -> AppResult<ActivityConnection> {
        let viewer = ctx.viewer()?;
        let kinds = service::kinds_for(viewer, kinds.as_deref())?;
        let first = service::page_size(first)?;
        // Cursors are bound to the filters, as every list's are.
        let kind_names: Vec<&str> = kinds.iter().map(|kind| kind.as_str()).collect();
        let cursors = ctx.cursors(format!(
            "activity/{}/{}",
            since.map(|at| at.to_rfc3339()).unwrap_or_default(),
            kind_names.join(",")
        ))?;
        let window = cursors.window::<ActivityKey>(ConnectionArgs {
            first: Some(first),
            after,
            last: None,
            before: None,
        })?;
        let request = FeedRequest {
            since,
            kinds,
            after: window.key.clone(),
            fetch: window.fetch(),
        };
        let mut conn = ctx.conn().await?;
        let items = service::feed(&mut conn, viewer, &request).await?;
        drop(conn);
        // Every actor of the page in one statement, when the page shows them.
        if items_select(&ctx.look_ahead(), "nodes", "actor") {
            let actors = items.iter().filter_map(|item| item.actor_id);
            User::prefetch(ctx, actors).await?;
        }
        Ok(page_of(items, &window, &cursors, Activity::key, ActivityItem).into())
    }

    /// The tenant at a glance (WORLDBUILDER and above): entities, assets, notes and members
    /// counted, the storage used, this period's BrainBits, and the latest entity changes.
    async fn dashboard_statistics(&self, ctx: &Context<'_>) -> AppResult<DashboardStatistics> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let mut conn = ctx.conn().await?;
        let dashboard = service::dashboard(&mut conn, viewer).await?;
        drop(conn);
        let look_ahead = ctx.look_ahead();
        if look_ahead.field("recentChanges").field("actor").exists() {
            let changes = &dashboard.recent_changes;
            let actors = changes.iter().filter_map(|item| item.actor_id);
            User::prefetch(ctx, actors).await?;
        }
        let count_of = |entity_type: EntityType| {
            dashboard
                .entity_counts
                .iter()
                .find(|(slug, _, _)| slug == entity_type.slug())
                .map_or((0, 0), |(_, live, recycled)| (*live, *recycled))
        };
        let entities_by_type: Vec<EntityCount> = EntityType::ALL
            .into_iter()
            .map(|entity_type| {
                let (live, recycled) = count_of(entity_type);
                EntityCount {
                    entity_type,
                    live,
                    recycled,
                }
            })
            .collect();
        let storage = dashboard.storage;
        let brainbits = dashboard.brainbits;
        Ok(DashboardStatistics {
            entities: entities_by_type.iter().map(|count| count.live).sum(),
            recycled_entities: entities_by_type.iter().map(|count| count.recycled).sum(),
            entities_by_type,
            assets: storage.live_assets,
            notes: dashboard.notes,
            members: dashboard.members,
            storage: StorageUsage {
                live_assets: storage.live_assets,
                live_asset_bytes: storage.live_bytes,
                recycled_assets: storage.recycled_assets,
                recycled_asset_bytes: storage.recycled_bytes,
                stored_files: storage.stored_files,
                stored_bytes: storage.stored_bytes,
            },
            brainbits: BrainbitsThisPeriod {
                period_start: brainbits.period_start,
                period_end: brainbits.period_end,
                used: brainbits.used,
                balance: brainbits.balance,
                allowance: brainbits.allowance,
            },
            recent_changes: dashboard
                .recent_changes
                .into_iter()
                .map(ActivityItem)
                .collect(),
        })
    }
}
