//! SQL of image presets.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::image_presets;
use crate::error::AppResult;

#[derive(Queryable, Selectable, Insertable, AsChangeset, Clone, Debug)]
#[diesel(table_name = image_presets, check_for_backend(diesel::pg::Pg))]
#[diesel(treat_none_as_null = true)]
pub struct PresetRow {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub name: String,
    pub entity_type: Option<String>,
    pub style: String,
    pub negative_prompt: String,
    pub width: i32,
    pub height: i32,
    pub is_default: bool,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The tenant's presets (of one type and those for every type, when `entity_type` is given),
/// defaults first, then by type (those for every type last) and name; at most `limit`.
pub async fn list(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    entity_type: Option<&str>,
    limit: i64,
) -> AppResult<Vec<PresetRow>> {
    let mut query = image_presets::table
        .filter(image_presets::tenant_id.eq(tenant_id))
        .into_boxed();
    if let Some(entity_type) = entity_type {
        query = query.filter(
            image_presets::entity_type
                .eq(entity_type)
                .or(image_presets::entity_type.is_null()),
        );
    }
    Ok(query
        .order((
            image_presets::is_default.desc(),
            image_presets::entity_type.asc().nulls_last(),
            image_presets::name.asc(),
        ))
        .limit(limit)
        .select(PresetRow::as_select())
        .load(conn)
        .await?)
}

pub async fn find(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> AppResult<Option<PresetRow>> {
    Ok(image_presets::table
        .filter(image_presets::tenant_id.eq(tenant_id))
        .filter(image_presets::id.eq(id))
        .select(PresetRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?)
}

pub async fn count(conn: &mut AsyncPgConnection, tenant_id: Uuid) -> AppResult<i64> {
    Ok(image_presets::table
        .filter(image_presets::tenant_id.eq(tenant_id))
        .count()
        .get_result(conn)
        .await?)
}

/// Takes the default away from the type's other presets (before one becomes its default).
pub async fn clear_default(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    entity_type: Option<&str>,
    except: Uuid,
) -> AppResult<()> {
    let query = image_presets::table
        .filter(image_presets::tenant_id.eq(tenant_id))
        .filter(image_presets::id.ne(except))
        .filter(image_presets::is_default)
        .into_boxed();
    let query = match entity_type {
        Some(t) => query.filter(image_presets::entity_type.eq(t)),
        None => query.filter(image_presets::entity_type.is_null()),
    };
    let ids: Vec<Uuid> = query.select(image_presets::id).load(conn).await?;
    diesel::update(
        image_presets::table
            .filter(image_presets::tenant_id.eq(tenant_id))
            .filter(image_presets::id.eq_any(ids)),
    )
    .set(image_presets::is_default.eq(false))
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes the preset whole (new or changed).
pub async fn save(conn: &mut AsyncPgConnection, row: &PresetRow) -> AppResult<PresetRow> {
    Ok(diesel::insert_into(image_presets::table)
        .values(row)
        .on_conflict((image_presets::tenant_id, image_presets::id))
        .do_update()
        .set(row)
        .returning(PresetRow::as_returning())
        .get_result(conn)
        .await?)
}

pub async fn delete(conn: &mut AsyncPgConnection, tenant_id: Uuid, id: Uuid) -> AppResult<bool> {
    Ok(diesel::delete(
        image_presets::table
            .filter(image_presets::tenant_id.eq(tenant_id))
            .filter(image_presets::id.eq(id)),
    )
    .execute(conn)
    .await?
        > 0)
}
