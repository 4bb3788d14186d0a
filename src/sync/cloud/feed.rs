//! The change feed of cloud sync: every change to a tenant's entities after a cursor, in the
//! order the transactions that made them are known to have finished, each with the entity's
//! file after it.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::store::{self, FeedKey, FeedRow};
use crate::auth::Viewer;
use crate::entities::service::{EntityContent, EntityStatus, EntityType, TemplateCatalog};
use crate::error::{AppError, AppResult};
use crate::sync::entity_file;

/// What happened to an entity: the feed speaks as the entity events do.
pub use crate::events::EntityAction as ChangeAction;

/// One change of the feed.
pub struct Change {
    pub key: FeedKey,
    /// The entity's row id: stable across renames, the key a client should keep.
    pub row_id: Uuid,
    pub entity_type: EntityType,
    pub entity_id: String,
    pub previous_entity_id: Option<String>,
    pub action: ChangeAction,
    pub version: Option<i32>,
    /// The entity's file after the change; none when it is deleted or purged.
    pub content: Option<String>,
    pub at: DateTime<Utc>,
}

/// Most changes one pull returns.
pub const MAX_PULL: i64 = 500;

/// The tenant's changes after `after` (from the start without it), oldest first.
pub async fn pull(
    templates: &TemplateCatalog,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    after: Option<FeedKey>,
    limit: i64,
) -> AppResult<(Vec<Change>, bool)> {
    if !(1..=MAX_PULL).contains(&limit) {
        return Err(AppError::bad_field(
            "limit",
            format!("pull 1 to {MAX_PULL} changes at a time"),
        ));
    }
    let rows = store::feed(
        conn,
        viewer.tenant_id,
        after.unwrap_or((0, Uuid::nil())),
        limit,
    )
    .await?;
    let more = rows.len() as i64 == limit;
    Ok((
        rows.into_iter()
            .filter_map(|row| change(templates, row))
            .collect(),
        more,
    ))
}

fn change(templates: &TemplateCatalog, row: FeedRow) -> Option<Change> {
    let entity_type = EntityType::from_slug(&row.entity_type)?;
    let action = match row.action.as_str() {
        "created" => ChangeAction::Created,
        "deleted" => ChangeAction::Deleted,
        "restored" => ChangeAction::Restored,
        "renamed" => ChangeAction::Renamed,
        "purged" => ChangeAction::Purged,
        _ => ChangeAction::Updated,
    };
    let content = match (action, row.name, row.status, row.fields, row.markdown_body) {
        (ChangeAction::Deleted | ChangeAction::Purged, ..) => None,
        (_, Some(name), Some(status), Some(fields), Some(markdown_body)) => {
            let content = EntityContent {
                entity_id: row.entity_id.clone(),
                name,
                status: EntityStatus::from_slug(&status).unwrap_or_default(),
                fields,
                markdown_body,
            };
            Some(entity_file::render(
                templates.type_template(entity_type),
                entity_type,
                &content,
                row.entity_created_at.unwrap_or(row.at),
                row.at,
            ))
        }
        _ => None,
    };
    Some(Change {
        key: (row.xid, row.id),
        row_id: row.row_id,
        entity_type,
        entity_id: row.entity_id,
        previous_entity_id: row
            .previous_entity_id
            .filter(|_| action == ChangeAction::Renamed),
        action,
        version: row.version,
        content,
        at: row.at,
    })
}
