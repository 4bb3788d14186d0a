//! Editing marks: a member says they have an entity open (WORLDBUILDER and up), renews the mark
//! by saying it again, and ends it; the tenant hears EDITING the first time and STOPPED_EDITING
//! at the end.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;

use super::{publish, publish_ended, store};
use crate::auth::{Role, Viewer};
use crate::entities::service::{self as entities, Bin, EntityType};
use crate::error::AppResult;
use crate::events::{EditedEntity, EventBus, PresenceKind};

/// A mark that was started or renewed.
pub struct Started {
    pub entity: EditedEntity,
    /// When the mark began (the first call, not this renewal).
    pub since: DateTime<Utc>,
}

/// Marks the live entity as open for editing by the viewer, or renews their mark.
pub async fn start(
    conn: &mut AsyncPgConnection,
    bus: &EventBus,
    viewer: &Viewer,
    entity_type: EntityType,
    entity_id: &str,
) -> AppResult<Started> {
    viewer.require_role(Role::Worldbuilder)?;
    let row = entities::find_live(conn, viewer.tenant_id, entity_type, entity_id)
        .await?
        .ok_or_else(|| entities::not_found(entity_type, entity_id, Bin::Live))?;
    let started = store::start_editing(conn, viewer.tenant_id, viewer.user_id, row.id).await?;
    let entity = EditedEntity {
        row_id: row.id,
        entity_type: entity_type.slug().to_owned(),
        entity_id: row.entity_id,
    };
    if started.inserted {
        publish(
            bus,
            (viewer.tenant_id, viewer.user_id),
            PresenceKind::Editing,
            Some(entity.clone()),
        );
    }
    Ok(Started {
        entity,
        since: started.since,
    })
}

/// Ends the viewer's marks: all of them, one type's, or one entity's; how many ended.
pub async fn stop(
    conn: &mut AsyncPgConnection,
    bus: &EventBus,
    viewer: &Viewer,
    entity_type: Option<EntityType>,
    entity_id: Option<&str>,
) -> AppResult<usize> {
    let ended = store::stop_editing(
        conn,
        viewer.tenant_id,
        viewer.user_id,
        entity_type,
        entity_id,
    )
    .await?;
    let count = ended.len();
    publish_ended(bus, ended);
    Ok(count)
}
