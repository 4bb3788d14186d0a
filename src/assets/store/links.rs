//! Links between assets and entities (one primary asset per entity).

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::assets::model::AssetRow;
use crate::db::schema::{asset_links, assets, entities};
use crate::error::{AppError, AppResult};

/// Links an asset to an entity; as the primary asset, it replaces the entity's previous one
/// (both statements in one transaction, so an entity never has two primaries or none midway).
pub async fn link(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    asset_id: Uuid,
    entity_row_id: Uuid,
    primary: bool,
) -> AppResult<()> {
    conn.transaction::<_, AppError, _>(async |conn| {
        if primary {
            diesel::update(
                asset_links::table
                    .filter(asset_links::tenant_id.eq(tenant_id))
                    .filter(asset_links::entity_row_id.eq(entity_row_id))
                    .filter(asset_links::is_primary),
            )
            .set(asset_links::is_primary.eq(false))
            .execute(conn)
            .await?;
        }
        diesel::insert_into(asset_links::table)
            .values((
                asset_links::tenant_id.eq(tenant_id),
                asset_links::asset_id.eq(asset_id),
                asset_links::entity_row_id.eq(entity_row_id),
                asset_links::is_primary.eq(primary),
            ))
            .on_conflict((
                asset_links::tenant_id,
                asset_links::asset_id,
                asset_links::entity_row_id,
            ))
            .do_update()
            // Linking again never demotes a primary asset.
            .set(
                asset_links::is_primary
                    .eq(sql::<Bool>("asset_links.is_primary OR excluded.is_primary")),
            )
            .execute(conn)
            .await?;
        Ok(())
    })
    .await
}

/// True when there was a link to remove.
pub async fn unlink(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    asset_id: Uuid,
    entity_row_id: Uuid,
) -> AppResult<bool> {
    let removed = diesel::delete(
        asset_links::table
            .filter(asset_links::tenant_id.eq(tenant_id))
            .filter(asset_links::asset_id.eq(asset_id))
            .filter(asset_links::entity_row_id.eq(entity_row_id)),
    )
    .execute(conn)
    .await?;
    Ok(removed > 0)
}

/// The live assets linked to each of `entity_row_ids`, primary first, then oldest link first:
/// (entity row id, is primary, asset).
pub async fn assets_of_entities(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    entity_row_ids: &[Uuid],
) -> AppResult<Vec<(Uuid, bool, AssetRow)>> {
    Ok(asset_links::table
        .inner_join(
            assets::table.on(assets::tenant_id
                .eq(asset_links::tenant_id)
                .and(assets::id.eq(asset_links::asset_id))),
        )
        .filter(asset_links::tenant_id.eq(tenant_id))
        .filter(asset_links::entity_row_id.eq_any(entity_row_ids))
        .filter(assets::tenant_id.eq(tenant_id))
        .filter(assets::deleted_at.is_null())
        .order((
            asset_links::entity_row_id,
            asset_links::is_primary.desc(),
            asset_links::created_at,
        ))
        .select((
            asset_links::entity_row_id,
            asset_links::is_primary,
            AssetRow::as_select(),
        ))
        .load(conn)
        .await?)
}

/// The live entities each of `asset_ids` is linked to: (asset id, entity row id).
pub async fn entities_of_assets(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    asset_ids: &[Uuid],
) -> AppResult<Vec<(Uuid, Uuid)>> {
    Ok(asset_links::table
        .inner_join(
            entities::table.on(entities::tenant_id
                .eq(asset_links::tenant_id)
                .and(entities::id.eq(asset_links::entity_row_id))),
        )
        .filter(asset_links::tenant_id.eq(tenant_id))
        .filter(asset_links::asset_id.eq_any(asset_ids))
        .filter(entities::tenant_id.eq(tenant_id))
        .filter(entities::deleted_at.is_null())
        .order((asset_links::asset_id, asset_links::created_at))
        .select((asset_links::asset_id, asset_links::entity_row_id))
        .load(conn)
        .await?)
}
