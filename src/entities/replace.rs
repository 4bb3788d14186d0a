//! Writing an entity whole, as a markdown file gives it: created when new, its content
//! replaced (a new version with its revision) when it exists. Many of these go into one
//! transaction of the caller's (an import applies all its files or none), so nothing here is
//! announced: the caller announces what was written once it has committed.

use diesel_async::AsyncPgConnection;
use serde_json::Value;

use super::model::{EntityContent, EntityRow};
use super::store::{self, RevisionAction};
use super::templates::TemplateCatalog;
use super::types::EntityType;
use super::validation;
use super::writes::{self, check, content_of};
use crate::auth::Viewer;
use crate::context::Platform;
use crate::error::{AppError, AppResult};
use crate::events::{EntityAction, EntityChange};
use crate::teams::service::{self as teams, Permission};

/// What writing an entity whole did.
#[derive(Debug)]
pub enum Replaced {
    Created(EntityRow),
    Updated(EntityRow),
    /// The entity already had this content: nothing was written.
    Unchanged(EntityRow),
}

impl Replaced {
    pub fn row(&self) -> &EntityRow {
        match self {
            Self::Created(row) | Self::Updated(row) | Self::Unchanged(row) => row,
        }
    }

    /// What to announce once the write commits (nothing when nothing was written): small, so
    /// an import of thousands of files keeps only these until it commits.
    pub fn written(&self) -> Option<Written> {
        let (action, row) = match self {
            Self::Created(row) => (EntityAction::Created, row),
            Self::Updated(row) => (EntityAction::Updated, row),
            Self::Unchanged(_) => return None,
        };
        Some(Written(EntityChange {
            action,
            entity_type: row.entity_type.clone(),
            entity_id: row.entity_id.clone(),
            previous_entity_id: None,
            row_id: row.id,
        }))
    }
}

/// A write to announce after its transaction commits.
#[derive(Debug)]
pub struct Written(EntityChange);

/// Content checked as a write would check it (id, name, fields, body); the fields keep keys
/// with no value.
pub fn checked_content(content: EntityContent) -> AppResult<EntityContent> {
    validation::validate_markdown(&content.markdown_body)?;
    Ok(EntityContent {
        entity_id: validation::validate_entity_id("id", &content.entity_id)?,
        name: validation::validate_name(&content.name)?,
        status: content.status,
        fields: Value::Object(validation::validate_file_fields(content.fields)?),
        markdown_body: content.markdown_body,
    })
}

/// What the type's template says is wrong with this content (the entity's validation errors
/// had it been saved).
pub fn schema_errors(
    templates: &TemplateCatalog,
    entity_type: EntityType,
    content: &EntityContent,
    current: Option<&EntityRow>,
) -> Vec<String> {
    check(templates, entity_type, content, current).schema_errors
}

/// Creates the entity, or replaces the content of `current` (the live row of that type and id,
/// locked by the caller). A recycled `current` is CONFLICT: restore or purge it first.
pub async fn replace(
    conn: &mut AsyncPgConnection,
    templates: &TemplateCatalog,
    viewer: &Viewer,
    entity_type: EntityType,
    content: EntityContent,
    current: Option<EntityRow>,
) -> AppResult<Replaced> {
    let content = checked_content(content)?;
    writes::ensure_may(conn, viewer, Permission::EditEntities, entity_type).await?;
    match current {
        None => {
            let checked = check(templates, entity_type, &content, None);
            let row =
                store::insert(conn, writes::write(viewer, entity_type, &content, &checked)).await?;
            Ok(Replaced::Created(row))
        }
        Some(current) if current.is_deleted() => Err(writes::already_exists(&current)),
        Some(current) => {
            if content_of(&current) == content {
                return Ok(Replaced::Unchanged(current));
            }
            let checked = check(templates, entity_type, &content, Some(&current));
            let write = writes::write(viewer, entity_type, &content, &checked);
            let row = store::save(conn, &current, None, write, RevisionAction::Updated)
                .await?
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("a locked row moved")))?;
            Ok(Replaced::Updated(row))
        }
    }
}

/// Moves `current` (live, locked by the caller) to the recycle bin, in the caller's
/// transaction; announce it after the commit.
pub async fn recycle(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    current: &EntityRow,
) -> AppResult<Written> {
    teams::ensure_allowed(
        conn,
        viewer,
        Permission::DeleteEntities,
        Some(&current.entity_type),
    )
    .await?;
    let row = store::set_recycled(conn, current, viewer.user_id, true).await?;
    Ok(Written(EntityChange {
        action: EntityAction::Deleted,
        entity_type: row.entity_type.clone(),
        entity_id: row.entity_id.clone(),
        previous_entity_id: None,
        row_id: row.id,
    }))
}

/// Announces what [`replace`] wrote, once its transaction has committed.
pub fn announce(platform: &Platform, viewer: &Viewer, written: Written) {
    writes::announce(platform, viewer, written.0);
}
