//! GraphQL: the current tenant, switching tenants, every tenant (SUPERUSER: an offset page or by
//! cursor, from one loader), and the tenant's live member events.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Subscription};
use chrono::{DateTime, Utc};
use futures_util::Stream;
use uuid::Uuid;

use super::model::TenantRow;
use super::{service, store};
use crate::accounts::api::User;
use crate::auth::Role;
use crate::context::ContextExt;
use crate::db::connection::{connection_type, page_of};
use crate::db::cursor::ConnectionArgs;
use crate::db::keyset::Window;
use crate::db::loading::load;
use crate::db::pagination::{PageRequest, page_type};
use crate::error::{AppError, AppResult};
use crate::events::{EventPayload, MemberAction, kinds};
use crate::tenants::loaders::TenantLoaders;

#[derive(Clone)]
pub struct Tenant(pub TenantRow);

/// How other domains' GraphQL types show a tenant (a membership's).
impl Tenant {
    /// The tenant with this id, through the request's loader.
    pub async fn load(ctx: &Context<'_>, id: Uuid) -> AppResult<Option<Tenant>> {
        Ok(load(&ctx.loaders::<TenantLoaders>().tenants, id)
            .await?
            .map(Tenant))
    }
}

/// A studio: the owner of worlds, entities, assets and members.
#[Object]
impl Tenant {
    /// The tenant's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The tenant's display name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// A stable, URL-friendly name.
    async fn slug(&self) -> &str {
        &self.0.slug
    }

    /// When the tenant was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the tenant was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// Days a recycled entity or asset stays in the recycle bin before it is purged for good
    /// (1 to 3,650; 30 unless changed); null when recycled things stay until the bin is
    /// emptied by hand.
    async fn recycle_retention_days(&self) -> Option<i32> {
        self.0.recycle_retention_days
    }

    /// How many members the tenant has.
    async fn member_count(&self, ctx: &Context<'_>) -> AppResult<i64> {
        Ok(
            load(&ctx.loaders::<TenantLoaders>().member_counts, self.0.id)
                .await?
                .unwrap_or(0),
        )
    }
}

page_type! {
    /// A page of tenants.
    pub struct TenantPage {
        total,
        tenants: Vec<Tenant>,
    }
}

/// Changes to the current tenant.
#[derive(InputObject)]
pub struct UpdateTenantInput {
    /// A new display name: 1 to 100 characters.
    pub name: Option<String>,
    /// Days recycled entities and assets are kept before they are purged (1 to 3,650); null
    /// keeps them until the bin is emptied by hand.
    pub recycle_retention_days: MaybeUndefined<i32>,
}

#[derive(Default)]
pub struct TenantQuery;

#[Object]
impl TenantQuery {
    /// The tenant the viewer is acting in.
    async fn tenant(&self, ctx: &Context<'_>) -> AppResult<Tenant> {
        let viewer = ctx.viewer()?;
        load(&ctx.loaders::<TenantLoaders>().tenants, viewer.tenant_id)
            .await?
            .map(Tenant)
            .ok_or_else(|| AppError::not_found("tenant not found"))
    }

    /// Every tenant (SUPERUSER), newest first.
    async fn tenants(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many tenants to skip: 0 to 10,000, 0 when absent.")] offset: Option<
            i32,
        >,
        #[graphql(desc = "How many tenants to return: 1 to 200, 50 when absent.")] limit: Option<
            i32,
        >,
        #[graphql(desc = "Text to look for in the tenants' names and slugs.")] search: Option<
            String,
        >,
    ) -> AppResult<TenantPage> {
        ctx.viewer_with(Role::Superuser)?;
        let page = PageRequest::new(offset, limit)?;
        let (total, rows) = load_tenants(ctx, search.as_deref(), &Window::Offset(page)).await?;
        Ok(TenantPage::new(
            total.unwrap_or_default(),
            page,
            rows.into_iter().map(Tenant).collect(),
        ))
    }

    /// Every tenant by cursor (SUPERUSER), newest first, filtered as `tenants` is.
    async fn tenants_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Text to look for in the tenants' names and slugs.")] search: Option<
            String,
        >,
        #[graphql(desc = "How many tenants to return after `after`: 1 to 200, 50 when \
                          neither `first` nor `last` is given.")]
        first: Option<i32>,
        #[graphql(desc = "The cursor to go on after (an `endCursor`); the start when absent.")]
        after: Option<String>,
        #[graphql(desc = "How many tenants to return before `before`: 1 to 200.")] last: Option<
            i32,
        >,
        #[graphql(
            desc = "The cursor to go back from (a `startCursor`); the end when absent \
                          and `last` is given."
        )]
        before: Option<String>,
    ) -> AppResult<TenantConnection> {
        ctx.viewer_with(Role::Superuser)?;
        let search = search.as_deref();
        let cursors = ctx.cursors(format!("tenants/{}", search.unwrap_or_default()))?;
        let window = cursors.window(ConnectionArgs {
            first,
            after,
            last,
            before,
        })?;
        let (_, rows) = load_tenants(ctx, search, &Window::Keyset(window.clone())).await?;
        let key = |tenant: &TenantRow| (tenant.created_at, tenant.id);
        Ok(page_of(rows, &window, &cursors, key, Tenant).into())
    }
}

connection_type! {
    /// Tenants, a page at a time by cursor.
    pub struct TenantConnection;
    /// A tenant and its cursor.
    pub struct TenantEdge(Tenant);
}

/// The tenants that `search` and `window` choose (the caller has checked for SUPERUSER).
async fn load_tenants(
    ctx: &Context<'_>,
    search: Option<&str>,
    window: &Window<store::TenantKey>,
) -> AppResult<(Option<i64>, Vec<TenantRow>)> {
    let mut conn = ctx.conn().await?;
    store::list_tenants(&mut conn, search, window).await
}

#[derive(Default)]
pub struct TenantMutation;

#[Object]
impl TenantMutation {
    /// Renames the current tenant or sets how long its recycle bin keeps things (ADMIN).
    async fn update_tenant(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The changes; what is absent stays.")] input: UpdateTenantInput,
    ) -> AppResult<Tenant> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let mut conn = ctx.conn().await?;
        let retention = match input.recycle_retention_days {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(days) => Some(Some(days)),
        };
        service::update(&mut conn, viewer, input.name.as_deref(), retention)
            .await
            .map(Tenant)
    }
}

pub struct MemberEvent {
    action: MemberAction,
    user_id: Uuid,
    role: Option<Role>,
    actor_id: Option<Uuid>,
    at: DateTime<Utc>,
    seq: i64,
}

/// A change to the membership of the tenant.
#[Object]
impl MemberEvent {
    /// What happened to the membership.
    async fn action(&self) -> MemberAction {
        self.action
    }

    /// The id of the member concerned.
    async fn user_id(&self) -> ID {
        ID(self.user_id.to_string())
    }

    /// The member (null once the account is deleted).
    async fn user(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        User::load(ctx, Some(self.user_id)).await
    }

    /// The new role (null when the member was removed).
    async fn role(&self) -> Option<Role> {
        self.role
    }

    /// Who made the change.
    async fn actor(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        User::load(ctx, self.actor_id).await
    }

    /// When it happened.
    async fn at(&self) -> DateTime<Utc> {
        self.at
    }

    /// Where it stands among the tenant's events: pass the last one seen as `since` to resume
    /// there after a reconnect.
    async fn sequence(&self) -> ID {
        ID(self.seq.to_string())
    }
}

#[derive(Default)]
pub struct TenantSubscription;

#[Subscription]
impl TenantSubscription {
    /// Members joining, changing role or leaving the current tenant.
    async fn member_updated(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Resume after this `sequence` (the last one seen): what happened since \
                          is replayed first."
        )]
        since: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = MemberEvent> + use<>> {
        Ok(
            crate::context::subscriptions::tenant_events(ctx, since, kinds::MEMBER, |event| {
                match &event.payload {
                    EventPayload::Member {
                        action,
                        user_id,
                        role,
                    } => Some(MemberEvent {
                        action: *action,
                        user_id: *user_id,
                        role: *role,
                        actor_id: event.actor_id,
                        at: event.at,
                        seq: event.seq,
                    }),
                    _ => None,
                }
            })
            .await?,
        )
    }
}
