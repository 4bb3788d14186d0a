//! Changing what is said about an asset (its tags, status and display name) and which
//! entities it illustrates, for a WORLDBUILDER of its tenant.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::model::AssetRow;
use super::store::{self, AssetChanges};
use crate::auth::{Role, Viewer};
use crate::entities::service::{self as entities, EntityType};
use crate::error::{AppError, AppResult};
use crate::teams::service::{self as teams, Permission};

const MAX_TAGS: usize = 50;
const MAX_TAG_CHARS: usize = 50;
const MAX_NAME_CHARS: usize = 255;

/// A change to an asset's metadata; what is `None` stays as it is.
#[derive(Default)]
pub struct AssetUpdate<'a> {
    /// Replaces the tags (1 to 50 characters each, at most 50; duplicates are dropped).
    pub tags: Option<Vec<String>>,
    /// draft, active, approved or archived.
    pub status: Option<&'static str>,
    /// A new display name (1 to 255 characters).
    pub original_filename: Option<&'a str>,
}

/// Changes a live asset of the viewer's tenant; an empty change returns it as it is.
pub async fn update(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: Uuid,
    update: AssetUpdate<'_>,
) -> AppResult<AssetRow> {
    viewer.require_role(Role::Worldbuilder)?;
    teams::ensure_allowed(conn, viewer, Permission::ManageAssets, None).await?;
    let changes = AssetChanges {
        tags: update.tags.map(clean_tags).transpose()?,
        status: update.status.map(str::to_owned),
        original_filename: update.original_filename.map(clean_name).transpose()?,
    };
    let asset = live(conn, viewer, id).await?;
    if changes.tags.is_none() && changes.status.is_none() && changes.original_filename.is_none() {
        return Ok(asset);
    }
    store::update(conn, &asset, &changes).await
}

/// Removes the link between a live asset and a live entity; false when there was none.
pub async fn unlink(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: Uuid,
    entity_type: EntityType,
    entity_id: &str,
) -> AppResult<bool> {
    viewer.require_role(Role::Worldbuilder)?;
    teams::ensure_allowed(conn, viewer, Permission::ManageAssets, None).await?;
    let asset = live(conn, viewer, id).await?;
    let entity_row_id =
        entities::live_row_id(conn, viewer.tenant_id, entity_type, entity_id).await?;
    store::unlink(conn, viewer.tenant_id, asset.id, entity_row_id).await
}

/// The viewer's tenant's live asset with this id, or NOT_FOUND.
async fn live(conn: &mut AsyncPgConnection, viewer: &Viewer, id: Uuid) -> AppResult<AssetRow> {
    store::find(conn, viewer.tenant_id, id)
        .await?
        .filter(|row| !row.is_deleted())
        .ok_or_else(|| AppError::not_found(format!("Asset not found: {id}")))
}

pub(super) fn clean_tags(tags: Vec<String>) -> AppResult<Vec<String>> {
    let mut cleaned: Vec<String> = Vec::new();
    for tag in tags {
        let tag = tag.trim().to_owned();
        let length = tag.chars().count();
        if length == 0 || length > MAX_TAG_CHARS || tag.chars().any(char::is_control) {
            return Err(AppError::bad_field(
                "tags",
                format!("a tag must have 1 to {MAX_TAG_CHARS} printable characters"),
            ));
        }
        if !cleaned.contains(&tag) {
            cleaned.push(tag);
        }
    }
    if cleaned.len() > MAX_TAGS {
        return Err(AppError::bad_field(
            "tags",
            format!("at most {MAX_TAGS} tags"),
        ));
    }
    Ok(cleaned)
}

fn clean_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    let length = name.chars().count();
    if length == 0 || length > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(AppError::bad_field(
            "originalFilename",
            "a file name must have 1 to 255 printable characters",
        ));
    }
    Ok(name.to_owned())
}
