//! SQL of the assemblies domain: the slots assemblies fill and the assets in them.

use diesel::prelude::*;
use diesel::sql_types::{Array, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{SlotAssetRow, SlotRow};
use crate::db::schema::{assembly_slot_assets, assembly_slots};
use crate::error::AppResult;

/// The slots these assemblies (by row id) fill, by group, position and name.
pub async fn slots_of(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    assembly_rows: &[Uuid],
) -> AppResult<Vec<SlotRow>> {
    Ok(assembly_slots::table
        .filter(assembly_slots::tenant_id.eq(tenant_id))
        .filter(assembly_slots::assembly_row_id.eq_any(assembly_rows))
        .order((
            assembly_slots::slot_group,
            assembly_slots::position,
            assembly_slots::slot_name,
        ))
        .select(SlotRow::as_select())
        .load(conn)
        .await?)
}

/// The assets in the slots of these assemblies, by slot and variant key.
pub async fn assets_of(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    assembly_rows: &[Uuid],
) -> AppResult<Vec<SlotAssetRow>> {
    Ok(assembly_slot_assets::table
        .filter(assembly_slot_assets::tenant_id.eq(tenant_id))
        .filter(assembly_slot_assets::assembly_row_id.eq_any(assembly_rows))
        .order((
            assembly_slot_assets::slot_group,
            assembly_slot_assets::slot_name,
            assembly_slot_assets::variant_key,
        ))
        .select(SlotAssetRow::as_select())
        .load(conn)
        .await?)
}

/// Puts an asset in a slot (the slot's row made when it is the first, last in its group), in
/// the caller's transaction.
pub async fn put_asset(
    conn: &mut AsyncPgConnection,
    row: &SlotAssetRow,
    user_id: Uuid,
) -> AppResult<()> {
    diesel::sql_query(
        "INSERT INTO assembly_slots (tenant_id, assembly_row_id, slot_group, slot_name, \
           position, updated_by) \
         SELECT $1, $2, $3, $4, coalesce(max(position) + 1, 0), $5 FROM assembly_slots \
         WHERE tenant_id = $1 AND assembly_row_id = $2 AND slot_group = $3 \
         ON CONFLICT (tenant_id, assembly_row_id, slot_group, slot_name) \
         DO UPDATE SET updated_by = $5, updated_at = now()",
    )
    .bind::<SqlUuid, _>(row.tenant_id)
    .bind::<SqlUuid, _>(row.assembly_row_id)
    .bind::<Text, _>(&row.slot_group)
    .bind::<Text, _>(&row.slot_name)
    .bind::<SqlUuid, _>(user_id)
    .execute(conn)
    .await?;
    diesel::insert_into(assembly_slot_assets::table)
        .values(row)
        .on_conflict((
            assembly_slot_assets::tenant_id,
            assembly_slot_assets::assembly_row_id,
            assembly_slot_assets::slot_group,
            assembly_slot_assets::slot_name,
            assembly_slot_assets::variant_key,
        ))
        .do_update()
        .set(assembly_slot_assets::asset_id.eq(row.asset_id))
        .execute(conn)
        .await?;
    Ok(())
}

/// Empties a slot whole; whether it was filled.
pub async fn remove_slot(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    assembly_row_id: Uuid,
    group: &str,
    name: &str,
) -> AppResult<bool> {
    let removed = diesel::delete(
        assembly_slots::table
            .filter(assembly_slots::tenant_id.eq(tenant_id))
            .filter(assembly_slots::assembly_row_id.eq(assembly_row_id))
            .filter(assembly_slots::slot_group.eq(group))
            .filter(assembly_slots::slot_name.eq(name)),
    )
    .execute(conn)
    .await?;
    Ok(removed > 0)
}

/// Takes one variant's asset out of a slot (the slot emptied whole when it was its last);
/// whether it was there.
pub async fn remove_variant(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    assembly_row_id: Uuid,
    group: &str,
    name: &str,
    variant_key: &str,
) -> AppResult<bool> {
    let removed = diesel::delete(
        assembly_slot_assets::table
            .filter(assembly_slot_assets::tenant_id.eq(tenant_id))
            .filter(assembly_slot_assets::assembly_row_id.eq(assembly_row_id))
            .filter(assembly_slot_assets::slot_group.eq(group))
            .filter(assembly_slot_assets::slot_name.eq(name))
            .filter(assembly_slot_assets::variant_key.eq(variant_key)),
    )
    .execute(conn)
    .await?;
    // A slot row stands only for a filled slot.
    diesel::sql_query(
        "DELETE FROM assembly_slots s WHERE tenant_id = $1 AND assembly_row_id = $2 \
           AND slot_group = $3 AND slot_name = $4 AND NOT EXISTS (\
             SELECT 1 FROM assembly_slot_assets a WHERE a.tenant_id = s.tenant_id \
               AND a.assembly_row_id = s.assembly_row_id AND a.slot_group = s.slot_group \
               AND a.slot_name = s.slot_name)",
    )
    .bind::<SqlUuid, _>(tenant_id)
    .bind::<SqlUuid, _>(assembly_row_id)
    .bind::<Text, _>(group)
    .bind::<Text, _>(name)
    .execute(conn)
    .await?;
    Ok(removed > 0)
}

/// Numbers a group's slots in the order given (0, 1, ...).
pub async fn set_positions(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    assembly_row_id: Uuid,
    group: &str,
    names: &[String],
) -> AppResult<()> {
    diesel::sql_query(
        "UPDATE assembly_slots s SET position = o.position - 1, updated_at = now() \
         FROM unnest($4::text[]) WITH ORDINALITY AS o(slot_name, position) \
         WHERE s.tenant_id = $1 AND s.assembly_row_id = $2 AND s.slot_group = $3 \
           AND s.slot_name = o.slot_name",
    )
    .bind::<SqlUuid, _>(tenant_id)
    .bind::<SqlUuid, _>(assembly_row_id)
    .bind::<Text, _>(group)
    .bind::<Array<Text>, _>(names)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes a slot's placement as `slot` holds it.
pub async fn save_transform(
    conn: &mut AsyncPgConnection,
    slot: &SlotRow,
    user_id: Uuid,
) -> AppResult<SlotRow> {
    Ok(diesel::update(
        assembly_slots::table
            .filter(assembly_slots::tenant_id.eq(slot.tenant_id))
            .filter(assembly_slots::assembly_row_id.eq(slot.assembly_row_id))
            .filter(assembly_slots::slot_group.eq(&slot.slot_group))
            .filter(assembly_slots::slot_name.eq(&slot.slot_name)),
    )
    .set((
        assembly_slots::offset_x.eq(slot.offset_x),
        assembly_slots::offset_y.eq(slot.offset_y),
        assembly_slots::scale.eq(slot.scale),
        assembly_slots::rotation.eq(slot.rotation),
        assembly_slots::z_index.eq(slot.z_index),
        assembly_slots::overlay_mode.eq(&slot.overlay_mode),
        assembly_slots::updated_by.eq(Some(user_id)),
        assembly_slots::updated_at.eq(diesel::dsl::now),
    ))
    .returning(SlotRow::as_returning())
    .get_result(conn)
    .await?)
}

/// Where an asset fills slots of the tenant's assemblies (at most `limit` places).
pub async fn using_asset(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    asset_id: Uuid,
    limit: i64,
) -> AppResult<Vec<SlotAssetRow>> {
    Ok(assembly_slot_assets::table
        .filter(assembly_slot_assets::tenant_id.eq(tenant_id))
        .filter(assembly_slot_assets::asset_id.eq(asset_id))
        .order((
            assembly_slot_assets::assembly_row_id,
            assembly_slot_assets::slot_group,
            assembly_slot_assets::slot_name,
            assembly_slot_assets::variant_key,
        ))
        .select(SlotAssetRow::as_select())
        .limit(limit)
        .load(conn)
        .await?)
}

/// Serialises the changes to a tenant's assembly hierarchy until the transaction ends:
/// `exclusive` for what changes parents or locks, shared for fills (which a lock judges). Two
/// such changes judged at once could each miss what the other makes (a loop, a fill under a
/// new lock).
pub async fn lock_hierarchy(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    exclusive: bool,
) -> AppResult<()> {
    let sql = if exclusive {
        "SELECT pg_advisory_xact_lock(hashtextextended('assembly_hierarchy:' || $1::text, 0))"
    } else {
        "SELECT pg_advisory_xact_lock_shared(hashtextextended('assembly_hierarchy:' || $1::text, 0))"
    };
    diesel::sql_query(sql)
        .bind::<SqlUuid, _>(tenant_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// How many assets an assembly's own slots hold, variants counted (a bound on what one may
/// hold).
pub async fn count_filled(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    assembly_row_id: Uuid,
) -> AppResult<i64> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let count: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM assembly_slot_assets WHERE tenant_id = $1 \
           AND assembly_row_id = $2",
    )
    .bind::<SqlUuid, _>(tenant_id)
    .bind::<SqlUuid, _>(assembly_row_id)
    .get_result(conn)
    .await?;
    Ok(count.n)
}
