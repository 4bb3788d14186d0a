//! The rules of image presets: any member reads them; WORLDBUILDER and above create, change
//! and delete them. A preset that becomes its type's default takes the default from the other.

use chrono::Utc;
use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use uuid::Uuid;

use super::store::{self, PresetRow};
use crate::auth::{Role, Viewer};
use crate::entities::service::EntityType;
use crate::error::{AppError, AppResult};

/// Most presets a tenant keeps.
pub const MAX_PRESETS: i64 = 200;
const MAX_TEXT: usize = 4_000;
const SIDES: std::ops::RangeInclusive<i32> = 64..=4096;

/// A preset as a write gives it.
pub struct PresetDraft {
    pub name: String,
    pub entity_type: Option<EntityType>,
    pub style: String,
    pub negative_prompt: String,
    pub width: i32,
    pub height: i32,
    pub is_default: bool,
}

fn checked(draft: &PresetDraft) -> AppResult<()> {
    let name = draft.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(AppError::bad_field(
            "name",
            "a preset's name is 1 to 100 characters",
        ));
    }
    for (field, text) in [
        ("style", &draft.style),
        ("negativePrompt", &draft.negative_prompt),
    ] {
        if text.chars().count() > MAX_TEXT {
            return Err(AppError::bad_field(
                field,
                format!("at most {MAX_TEXT} characters"),
            ));
        }
    }
    for (field, side) in [("width", draft.width), ("height", draft.height)] {
        if !SIDES.contains(&side) {
            return Err(AppError::bad_field(field, "a side is 64 to 4096 pixels"));
        }
    }
    Ok(())
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    entity_type: Option<EntityType>,
) -> AppResult<Vec<PresetRow>> {
    store::list(
        conn,
        viewer.tenant_id,
        entity_type.map(EntityType::slug),
        MAX_PRESETS,
    )
    .await
}

pub async fn find(conn: &mut AsyncPgConnection, viewer: &Viewer, id: Uuid) -> AppResult<PresetRow> {
    store::find(conn, viewer.tenant_id, id)
        .await?
        .ok_or_else(|| AppError::not_found("no such image preset"))
}

/// Creates a preset (`id` None) or changes one.
pub async fn save(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: Option<Uuid>,
    draft: PresetDraft,
) -> AppResult<PresetRow> {
    viewer.require_role(Role::Worldbuilder)?;
    checked(&draft)?;
    conn.transaction::<_, AppError, _>(async |conn| {
        let now = Utc::now();
        let (id, created_by, created_at) = match id {
            Some(id) => {
                let current = find(conn, viewer, id).await?;
                (current.id, current.created_by, current.created_at)
            }
            None => {
                if store::count(conn, viewer.tenant_id).await? >= MAX_PRESETS {
                    return Err(AppError::bad_input(format!(
                        "a tenant keeps at most {MAX_PRESETS} image presets"
                    )));
                }
                (Uuid::new_v4(), Some(viewer.user_id), now)
            }
        };
        let entity_type = draft.entity_type.map(|t| t.slug().to_owned());
        if draft.is_default {
            store::clear_default(conn, viewer.tenant_id, entity_type.as_deref(), id).await?;
        }
        let row = PresetRow {
            tenant_id: viewer.tenant_id,
            id,
            name: draft.name.trim().to_owned(),
            entity_type,
            style: draft.style,
            negative_prompt: draft.negative_prompt,
            width: draft.width,
            height: draft.height,
            is_default: draft.is_default,
            created_by,
            created_at,
            updated_at: now,
        };
        store::save(conn, &row).await.map_err(|error| match error {
            AppError::Conflict(_) => AppError::conflict(format!(
                "an image preset named {:?} already exists",
                row.name
            )),
            other => other,
        })
    })
    .await
}

pub async fn delete(conn: &mut AsyncPgConnection, viewer: &Viewer, id: Uuid) -> AppResult<()> {
    viewer.require_role(Role::Worldbuilder)?;
    if store::delete(conn, viewer.tenant_id, id).await? {
        Ok(())
    } else {
        Err(AppError::not_found("no such image preset"))
    }
}
