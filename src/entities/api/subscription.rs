//! GraphQL: live changes to the tenant's entities.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, Subscription};
use chrono::{DateTime, Utc};
use futures_util::Stream;

use super::object::Entity;
use crate::accounts::api::User;
use crate::context::ContextExt;
use crate::db::loading::load;
use crate::entities::loaders::EntityLoaders;
use crate::entities::types::EntityType;
use crate::error::{AppError, AppResult};
use crate::events::{EntityAction, EntityChange, Event, EventPayload, kinds};

pub struct EntityEvent {
    change: EntityChange,
    event: Arc<Event>,
}

/// Something happened to an entity.
#[Object]
impl EntityEvent {
    /// What happened to the entity.
    async fn action(&self) -> EntityAction {
        self.change.action
    }

    /// The entity's type.
    async fn entity_type(&self) -> AppResult<EntityType> {
        EntityType::from_slug(&self.change.entity_type).ok_or_else(|| {
            AppError::internal(anyhow::anyhow!(
                "an unknown entity type `{}` in an event",
                self.change.entity_type
            ))
        })
    }

    /// The entity's id (after a rename, the new one).
    async fn entity_id(&self) -> &str {
        &self.change.entity_id
    }

    /// The id before a rename.
    async fn previous_entity_id(&self) -> Option<&str> {
        self.change.previous_entity_id.as_deref()
    }

    /// The entity as it is now (null once purged).
    async fn entity(&self, ctx: &Context<'_>) -> AppResult<Option<Entity>> {
        if self.change.action == EntityAction::Purged {
            return Ok(None);
        }
        let row = self
            .event
            .loaded
            .get_or_try_init(async || {
                load(&ctx.loaders::<EntityLoaders>().by_row, self.change.row_id).await
            })
            .await?;
        Ok(row.map(Entity::from))
    }

    /// Who made the change.
    async fn actor(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        User::load(ctx, self.event.actor_id).await
    }

    /// When it happened.
    async fn at(&self) -> DateTime<Utc> {
        self.event.at
    }

    /// Where it stands among the tenant's events: pass the last one seen as `since` to resume
    /// there after a reconnect.
    async fn sequence(&self) -> ID {
        ID(self.event.seq.to_string())
    }
}

#[derive(Default)]
pub struct EntitySubscription;

#[Subscription]
impl EntitySubscription {
    /// Entities of the viewer's tenant being created, updated, deleted, restored, renamed or
    /// purged; only one type's, or one entity's, when given (an entity followed by its id is
    /// still followed after a rename, under its new id).
    async fn entity_updated(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this type's entities.")] r#type: Option<EntityType>,
        #[graphql(desc = "Only this entity, through its renames.")] entity_id: Option<String>,
        #[graphql(
            desc = "Resume after this `sequence` (the last one seen): what happened since \
                          is replayed first."
        )]
        since: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = EntityEvent> + use<>> {
        // The id being followed moves with the entity when it is renamed.
        let followed = std::sync::Mutex::new(entity_id);
        Ok(
            crate::context::subscriptions::tenant_events(ctx, since, kinds::ENTITY, move |event| {
                let EventPayload::Entity(change) = &event.payload else {
                    return None;
                };
                if r#type.is_some_and(|t| t.slug() != change.entity_type) {
                    return None;
                }
                let mut followed = followed.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(wanted) = followed.as_mut() {
                    if change.action == EntityAction::Renamed
                        && change.previous_entity_id.as_ref() == Some(wanted)
                    {
                        *wanted = change.entity_id.clone();
                    } else if *wanted != change.entity_id {
                        return None;
                    }
                }
                Some(EntityEvent {
                    change: change.clone(),
                    event: event.clone(),
                })
            })
            .await?,
        )
    }
}
