//! Every change to an entity: checked, saved in one transaction with its revision and
//! references, then announced on the event bus once committed.

use chrono::Utc;
use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use serde_json::Value;
use uuid::Uuid;

use super::links::{self};
use super::model::{EntityContent, EntityRow, RelationshipRow};
use super::store::{self, Bin, RevisionAction, Write};
use super::templates::TemplateCatalog;
use super::types::{EntityStatus, EntityType};
use super::validation::{self, Checked};
use crate::auth::Viewer;
use crate::context::Platform;
use crate::error::{AppError, AppResult};
use crate::events::{EntityAction, EntityChange, EventPayload};
use crate::teams::service::{self as teams, Permission};

/// FORBIDDEN (reason `permission_denied`) unless the viewer's groups let them do `permission`
/// on entities of `entity_type` (their role is checked by the caller).
pub(super) async fn ensure_may(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    permission: Permission,
    entity_type: EntityType,
) -> AppResult<()> {
    teams::ensure_allowed(conn, viewer, permission, Some(entity_type.slug())).await
}

pub struct NewEntity {
    pub entity_id: String,
    pub name: String,
    pub status: Option<EntityStatus>,
    pub fields: Option<Value>,
    pub markdown_body: Option<String>,
}

#[derive(Default)]
pub struct EntityPatch {
    pub name: Option<String>,
    pub status: Option<EntityStatus>,
    pub fields: Option<Value>,
    pub markdown_body: Option<String>,
    pub expected_version: Option<i32>,
}

pub(super) fn check(
    templates: &TemplateCatalog,
    entity_type: EntityType,
    content: &EntityContent,
    row: Option<&EntityRow>,
) -> Checked {
    let template = templates.type_template(entity_type);
    let now = Utc::now();
    let created_at = row.map_or(now, |r| r.created_at);
    validation::check(entity_type, template, content, created_at, now)
}

pub fn content_of(row: &EntityRow) -> EntityContent {
    EntityContent {
        entity_id: row.entity_id.clone(),
        name: row.name.clone(),
        status: row.status(),
        fields: row.fields.value().clone(),
        markdown_body: row.markdown_body.clone(),
    }
}

pub(super) fn publish(
    platform: &Platform,
    viewer: &Viewer,
    action: EntityAction,
    row: &EntityRow,
    previous: Option<String>,
) {
    announce(
        platform,
        viewer,
        EntityChange {
            action,
            entity_type: row.kind().slug().to_owned(),
            entity_id: row.entity_id.clone(),
            previous_entity_id: previous,
            row_id: row.id,
        },
    );
}

pub(super) fn announce(platform: &Platform, viewer: &Viewer, change: EntityChange) {
    platform.events.publish(
        viewer.tenant_id,
        Some(viewer.user_id),
        EventPayload::Entity(change),
    );
}

pub async fn create(
    platform: &Platform,
    templates: &TemplateCatalog,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    entity_type: EntityType,
    input: NewEntity,
) -> AppResult<EntityRow> {
    let content = EntityContent {
        entity_id: validation::validate_entity_id("entityId", &input.entity_id)?,
        name: validation::validate_name(&input.name)?,
        status: input.status.unwrap_or_default(),
        fields: Value::Object(validation::validate_fields(
            input
                .fields
                .unwrap_or_else(|| Value::Object(Default::default())),
        )?),
        markdown_body: input.markdown_body.unwrap_or_default(),
    };
    validation::validate_markdown(&content.markdown_body)?;
    ensure_may(conn, viewer, Permission::EditEntities, entity_type).await?;
    let checked = check(templates, entity_type, &content, None);
    // One statement: the row, its references and its revision (no transaction needed).
    let row = match store::insert(conn, write(viewer, entity_type, &content, &checked)).await {
        Err(AppError::Conflict(message)) => {
            // Only now look for the holder of the id, to say where it is.
            return Err(
                match store::find_any(conn, viewer.tenant_id, entity_type, &content.entity_id)
                    .await?
                {
                    Some(existing) => already_exists(&existing),
                    None => AppError::Conflict(message),
                },
            );
        }
        other => other?,
    };
    publish(platform, viewer, EntityAction::Created, &row, None);
    Ok(row)
}

pub(super) fn already_exists(existing: &EntityRow) -> AppError {
    if existing.is_deleted() {
        AppError::conflict(format!(
            "Entity already exists: {}/{} is in the recycle bin; restore or purge it first",
            existing.entity_type, existing.entity_id
        ))
    } else {
        AppError::conflict(format!(
            "Entity already exists: {}/{}",
            existing.entity_type, existing.entity_id
        ))
    }
}

pub async fn update(
    platform: &Platform,
    templates: &TemplateCatalog,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    entity_type: EntityType,
    entity_id: &str,
    patch: EntityPatch,
) -> AppResult<EntityRow> {
    let name = patch
        .name
        .as_deref()
        .map(validation::validate_name)
        .transpose()?;
    let fields_patch = patch
        .fields
        .map(validation::validate_fields_patch)
        .transpose()?;
    if let Some(markdown) = &patch.markdown_body {
        validation::validate_markdown(markdown)?;
    }
    let change = Change {
        name,
        status: patch.status,
        fields_patch,
        markdown_body: patch.markdown_body,
        expected_version: patch.expected_version,
    };
    ensure_may(conn, viewer, Permission::EditEntities, entity_type).await?;
    // Optimistically: read the row, then write it on the condition that it is still at the
    // version read (two statements, no transaction). A writer that got in between makes the
    // write miss; then read and try again, and in the end take the row's lock.
    for _ in 0..OPTIMISTIC_ATTEMPTS {
        let (current, stamp) =
            store::find_live_stamped(conn, viewer.tenant_id, entity_type, entity_id)
                .await?
                .ok_or_else(|| store::not_found(entity_type, entity_id, Bin::Live))?;
        if let Some(outcome) = change
            .apply(templates, conn, viewer, current, Some(stamp))
            .await?
        {
            return Ok(announced(platform, viewer, outcome));
        }
        // Missed: another writer, or a re-validation that rewrote the row at the same version.
        // The next read says which: `apply` refuses a version other than the client's.
    }
    let outcome = conn
        .transaction::<_, AppError, _>(async |conn| {
            let current =
                store::lock(conn, viewer.tenant_id, entity_type, entity_id, Bin::Live).await?;
            change
                .apply(templates, conn, viewer, current, None)
                .await?
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("a locked row moved")))
        })
        .await?;
    Ok(announced(platform, viewer, outcome))
}

/// How many times an update reads and writes without a lock before it takes one.
const OPTIMISTIC_ATTEMPTS: usize = 3;

/// An update's changes, checked, to apply to whatever the row holds when it is read.
struct Change {
    name: Option<String>,
    status: Option<EntityStatus>,
    fields_patch: Option<serde_json::Map<String, Value>>,
    markdown_body: Option<String>,
    expected_version: Option<i32>,
}

impl Change {
    /// Applies the change to `current` and saves it on the condition that the row is still at
    /// `current`'s version: the row and whether it changed, or None when it moved meanwhile.
    async fn apply(
        &self,
        templates: &TemplateCatalog,
        conn: &mut AsyncPgConnection,
        viewer: &Viewer,
        current: EntityRow,
        stamp: Option<i64>,
    ) -> AppResult<Option<(EntityRow, bool)>> {
        let entity_type = current.kind();
        if let Some(expected) = self.expected_version
            && expected != current.version
        {
            return Err(AppError::conflict(format!(
                "{}/{} changed since version {expected}: it is at version {}; reload and retry",
                entity_type.slug(),
                current.entity_id,
                current.version
            )));
        }
        let mut content = content_of(&current);
        if let Some(name) = &self.name {
            content.name = name.clone();
        }
        if let Some(status) = self.status {
            content.status = status;
        }
        if let Some(fields_patch) = &self.fields_patch {
            content.fields = validation::merge_fields(&current.fields, fields_patch.clone())?;
        }
        if let Some(markdown_body) = &self.markdown_body {
            content.markdown_body = markdown_body.clone();
        }
        if same_content(&content, &current) {
            return Ok(Some((current, false)));
        }
        let checked = check(templates, entity_type, &content, Some(&current));
        let write = write(viewer, entity_type, &content, &checked);
        Ok(
            store::save(conn, &current, stamp, write, RevisionAction::Updated)
                .await?
                .map(|row| (row, true)),
        )
    }
}

/// The row an update ends with, announced when it changed.
fn announced(platform: &Platform, viewer: &Viewer, (row, changed): (EntityRow, bool)) -> EntityRow {
    if changed {
        publish(platform, viewer, EntityAction::Updated, &row, None);
    }
    row
}

fn same_content(content: &EntityContent, row: &EntityRow) -> bool {
    content.name == row.name
        && content.status == row.status()
        && content.fields == *row.fields
        && content.markdown_body == row.markdown_body
        && content.entity_id == row.entity_id
}

pub(super) fn write<'a>(
    viewer: &Viewer,
    entity_type: EntityType,
    content: &'a EntityContent,
    checked: &'a Checked,
) -> Write<'a> {
    Write {
        tenant_id: viewer.tenant_id,
        actor_id: viewer.user_id,
        entity_type,
        content,
        checked,
    }
}

/// Moves a live entity to the recycle bin, or a recycled one back.
pub async fn set_recycled(
    platform: &Platform,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    entity_type: EntityType,
    entity_id: &str,
    recycled: bool,
) -> AppResult<EntityRow> {
    let from = if recycled { Bin::Live } else { Bin::Recycled };
    let permission = if recycled {
        Permission::DeleteEntities
    } else {
        Permission::EditEntities
    };
    ensure_may(conn, viewer, permission, entity_type).await?;
    let row = conn
        .transaction::<_, AppError, _>(async |conn| {
            let current = store::lock(conn, viewer.tenant_id, entity_type, entity_id, from).await?;
            store::set_recycled(conn, &current, viewer.user_id, recycled).await
        })
        .await?;
    let action = if recycled {
        EntityAction::Deleted
    } else {
        EntityAction::Restored
    };
    publish(platform, viewer, action, &row, None);
    Ok(row)
}

/// Removes one recycled entity for good.
pub async fn purge(
    platform: &Platform,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    entity_type: EntityType,
    entity_id: &str,
) -> AppResult<()> {
    let row = conn
        .transaction::<_, AppError, _>(async |conn| {
            let current = match store::lock(
                conn,
                viewer.tenant_id,
                entity_type,
                entity_id,
                Bin::Recycled,
            )
            .await
            {
                Err(AppError::NotFound(_))
                    if store::find_live(conn, viewer.tenant_id, entity_type, entity_id)
                        .await?
                        .is_some() =>
                {
                    return Err(AppError::conflict(format!(
                        "{}/{entity_id} is not in the recycle bin: delete it first",
                        entity_type.slug()
                    )));
                }
                other => other?,
            };
            store::purge(conn, viewer.tenant_id, &[current.id]).await?;
            Ok(current)
        })
        .await?;
    publish(platform, viewer, EntityAction::Purged, &row, None);
    Ok(())
}

/// Purges everything in the recycle bin (of one type, if given); returns how many.
pub async fn empty_recycle_bin(
    platform: &Platform,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    entity_type: Option<EntityType>,
) -> AppResult<usize> {
    let purged = store::purge_recycled(conn, viewer.tenant_id, entity_type).await?;
    for (row_id, entity_type, entity_id) in &purged {
        if let Some(entity_type) = EntityType::from_slug(entity_type) {
            announce(
                platform,
                viewer,
                EntityChange {
                    action: EntityAction::Purged,
                    entity_type: entity_type.slug().to_owned(),
                    entity_id: entity_id.clone(),
                    previous_entity_id: None,
                    row_id: *row_id,
                },
            );
        }
    }
    Ok(purged.len())
}

/// Draws a relationship by hand between two live entities; both ends are announced as updated.
#[allow(clippy::too_many_arguments)]
pub async fn create_relationship(
    platform: &Platform,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    from: (EntityType, &str),
    to: (EntityType, &str),
    kind: &str,
    attributes: &Value,
) -> AppResult<(RelationshipRow, EntityRow)> {
    let find = async |conn: &mut AsyncPgConnection,
                      (entity_type, entity_id): (EntityType, &str)| {
        store::find_live(conn, viewer.tenant_id, entity_type, entity_id)
            .await?
            .ok_or_else(|| store::not_found(entity_type, entity_id, Bin::Live))
    };
    ensure_may(conn, viewer, Permission::EditEntities, from.0).await?;
    let source = find(conn, from).await?;
    let target = find(conn, to).await?;
    if source.id == target.id {
        return Err(AppError::bad_input(
            "an entity cannot have a relationship with itself",
        ));
    }
    let row = links::insert_relationship(
        conn,
        viewer.tenant_id,
        &source,
        &target,
        kind,
        attributes,
        viewer.user_id,
    )
    .await?;
    for end in [&source, &target] {
        publish(platform, viewer, EntityAction::Updated, end, None);
    }
    Ok((row, target))
}

/// Removes an explicit relationship; both ends are announced as updated.
pub async fn delete_relationship(
    platform: &Platform,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<()> {
    let grants = teams::grants_of(conn, viewer).await?;
    let ends = conn
        .transaction::<_, AppError, _>(async |conn| {
            let row = links::delete_relationship(conn, viewer.tenant_id, id)
                .await?
                .ok_or_else(|| AppError::not_found("relationship not found"))?;
            let ends =
                store::entities_by_row_ids(conn, viewer.tenant_id, &[row.source_id, row.target_id])
                    .await?;
            // Drawn from its source: whoever may edit the source may take it away.
            if let Some(source) = ends.iter().find(|end| end.id == row.source_id) {
                grants.ensure(Permission::EditEntities, Some(&source.entity_type))?;
            }
            Ok(ends)
        })
        .await?;
    for end in ends.iter().filter(|e| !e.is_deleted()) {
        publish(platform, viewer, EntityAction::Updated, end, None);
    }
    Ok(())
}
