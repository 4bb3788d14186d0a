//! GraphQL: who is online, who edits what, and the presence stream.

use async_graphql::{Context, ID, Object, Subscription};
use chrono::{DateTime, Utc};
use futures_util::Stream;
use uuid::Uuid;

use super::editing;
use super::store::{self, EditingFilter, EditingRow, OnlineRow};
use crate::accounts::api::User;
use crate::auth::Role;
use crate::context::ContextExt;
use crate::context::subscriptions::tenant_events;
use crate::db::pagination::{PageRequest, page_type};
use crate::db::parse_id;
use crate::entities::api::Entity;
use crate::entities::service::EntityType;
use crate::error::{AppError, AppResult};
use crate::events::{EditedEntity, EventPayload, PresenceChange, PresenceKind, kinds};

pub struct OnlineUser(OnlineRow);

/// A user with at least one live connection (on any server node).
#[Object]
impl OnlineUser {
    /// The user online.
    async fn user(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        User::load(ctx, Some(self.0.user_id)).await
    }

    /// Online since: when their longest-lived connection opened.
    async fn since(&self) -> DateTime<Utc> {
        self.0.since
    }
}

page_type! {
    /// A page of online users, longest online first.
    pub struct OnlineUserPage {
        total,
        users: Vec<OnlineUser>,
    }
}

pub struct EditingMark {
    user_id: Uuid,
    entity: EditedEntity,
    since: DateTime<Utc>,
}

impl EditingMark {
    fn from_row(row: EditingRow) -> Option<Self> {
        Some(Self {
            user_id: row.user_id,
            entity: EditedEntity {
                row_id: row.entity_row_id,
                entity_type: row.entity_type,
                entity_id: row.entity_id,
            },
            since: row.since,
        })
    }
}

/// Someone has an entity open for editing.
#[Object]
impl EditingMark {
    /// Who is editing.
    async fn user(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        User::load(ctx, Some(self.user_id)).await
    }

    /// The edited entity's type.
    async fn entity_type(&self) -> AppResult<EntityType> {
        entity_type_of(&self.entity)
    }

    /// The edited entity's id within its type.
    async fn entity_id(&self) -> &str {
        &self.entity.entity_id
    }

    /// The edited entity, while it is live.
    async fn entity(&self, ctx: &Context<'_>) -> AppResult<Option<Entity>> {
        load_entity(ctx, self.entity.row_id).await
    }

    /// Since when (renewing a mark keeps this).
    async fn since(&self) -> DateTime<Utc> {
        self.since
    }
}

async fn load_entity(ctx: &Context<'_>, row_id: Uuid) -> AppResult<Option<Entity>> {
    Entity::live(ctx, Some(row_id)).await
}

#[derive(Default)]
pub struct PresenceQuery;

#[Object]
impl PresenceQuery {
    /// Users of the viewer's tenant with a live connection, on any server node.
    async fn online_users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many users to skip: 0 to 10,000, 0 when absent.")] offset: Option<
            i32,
        >,
        #[graphql(desc = "How many users to return: 1 to 200, 50 when absent.")] limit: Option<i32>,
    ) -> AppResult<OnlineUserPage> {
        let viewer = ctx.viewer()?;
        let page = PageRequest::new(offset, limit)?;
        let mut conn = ctx.conn().await?;
        let rows = store::online_users(
            &mut conn,
            viewer.tenant_id,
            ctx.platform().config.realtime.heartbeat_timeout,
            page,
        )
        .await?;
        let total = rows.first().map_or(0, |r| r.total);
        Ok(OnlineUserPage::new(
            total,
            page,
            rows.into_iter().map(OnlineUser).collect(),
        ))
    }

    /// Who edits what in the viewer's tenant, oldest mark first: everything, or one type's,
    /// one entity's (type and id), or one user's marks.
    async fn editing(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only marks on entities of this type.")] r#type: Option<EntityType>,
        #[graphql(desc = "Only marks on entities with this id (give `type` too for one entity).")]
        entity_id: Option<String>,
        #[graphql(desc = "Only this user's marks.")] user_id: Option<ID>,
        #[graphql(desc = "How many marks to skip: 0 to 10,000, 0 when absent.")] offset: Option<
            i32,
        >,
        #[graphql(desc = "How many marks to return: 1 to 200, 50 when absent.")] limit: Option<i32>,
    ) -> AppResult<Vec<EditingMark>> {
        let viewer = ctx.viewer()?;
        let page = PageRequest::new(offset, limit)?;
        let user_id = user_id.map(|id| parse_id("userId", &id)).transpose()?;
        let filter = EditingFilter {
            entity_type: r#type,
            entity_id: entity_id.as_deref(),
            user_id,
        };
        let mut conn = ctx.conn().await?;
        let rows = store::editing(
            &mut conn,
            viewer.tenant_id,
            filter,
            ctx.platform().config.realtime.heartbeat_timeout,
            page,
        )
        .await?;
        Ok(rows.into_iter().filter_map(EditingMark::from_row).collect())
    }
}

#[derive(Default)]
pub struct PresenceMutation;

#[Object]
impl PresenceMutation {
    /// Tells the tenant you have an entity open for editing (WORLDBUILDER and up). The mark
    /// lasts while you are online; without a live connection, call again within the heartbeat
    /// timeout (30 s by default) to keep it. Calling again for the same entity renews it.
    async fn start_editing(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity's type.")] r#type: EntityType,
        #[graphql(desc = "The entity's id within its type.")] entity_id: String,
    ) -> AppResult<EditingMark> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let mut conn = ctx.conn().await?;
        let bus = &ctx.platform().events;
        let started = editing::start(&mut conn, bus, viewer, r#type, &entity_id).await?;
        Ok(EditingMark {
            user_id: viewer.user_id,
            entity: started.entity,
            since: started.since,
        })
    }

    /// Ends your editing marks: all of them, one type's, or one entity's. Returns how many
    /// ended.
    async fn stop_editing(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only your marks on entities of this type.")] r#type: Option<EntityType>,
        #[graphql(desc = "Only your marks on entities with this id (give `type` too).")]
        entity_id: Option<String>,
    ) -> AppResult<i32> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        let bus = &ctx.platform().events;
        let count = editing::stop(&mut conn, bus, viewer, r#type, entity_id.as_deref()).await?;
        Ok(i32::try_from(count).unwrap_or(i32::MAX))
    }
}

pub struct PresenceEvent {
    change: PresenceChange,
    at: DateTime<Utc>,
    seq: i64,
}

/// A user of the tenant came online, went offline, or started or stopped editing.
#[Object]
impl PresenceEvent {
    /// What happened.
    async fn kind(&self) -> PresenceKind {
        self.change.kind
    }

    /// The user it happened to.
    async fn user(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        User::load(ctx, Some(self.change.user_id)).await
    }

    /// For EDITING and STOPPED_EDITING.
    async fn entity_type(&self) -> AppResult<Option<EntityType>> {
        self.change.entity.as_ref().map(entity_type_of).transpose()
    }

    /// For EDITING and STOPPED_EDITING.
    async fn entity_id(&self) -> Option<&str> {
        self.change.entity.as_ref().map(|e| e.entity_id.as_str())
    }

    /// For EDITING and STOPPED_EDITING, while the entity is live.
    async fn entity(&self, ctx: &Context<'_>) -> AppResult<Option<Entity>> {
        match &self.change.entity {
            Some(entity) => load_entity(ctx, entity.row_id).await,
            None => Ok(None),
        }
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
pub struct PresenceSubscription;

#[Subscription]
impl PresenceSubscription {
    /// Users of the viewer's tenant coming online, going offline (their last connection closed
    /// or stopped answering heartbeats), and starting or stopping editing, on every node.
    async fn presence(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Resume after this `sequence` (the last one seen): what happened since \
                          is replayed first."
        )]
        since: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = PresenceEvent> + use<>> {
        Ok(
            tenant_events(ctx, since, kinds::PRESENCE, |event| match &event.payload {
                EventPayload::Presence(change) => Some(PresenceEvent {
                    change: change.clone(),
                    at: event.at,
                    seq: event.seq,
                }),
                _ => None,
            })
            .await?,
        )
    }
}

/// The type of an entity an event or a mark names (stored as its slug).
fn entity_type_of(entity: &EditedEntity) -> AppResult<EntityType> {
    EntityType::from_slug(&entity.entity_type).ok_or_else(|| {
        AppError::internal(anyhow::anyhow!(
            "an unknown entity type `{}` in presence",
            entity.entity_type
        ))
    })
}
