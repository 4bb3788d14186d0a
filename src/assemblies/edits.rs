//! Changes to what an assembly's slots hold: filling and emptying them, their order and
//! placement. Each runs in one transaction holding the assembly's row, so two changes to one
//! assembly are judged one after the other; each breach of an assembly rule is refused naming
//! the rule. (Locks and the parent are in `hierarchy`.)

use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use uuid::Uuid;

use super::chain::{self, Resolved};
use super::model::{SlotAssetRow, Transform};
use super::service::Setting;
use super::store;
use crate::assets::service as assets;
use crate::auth::{Role, Viewer};
use crate::entities::service::{self as entities, Bin, EntityType};
use crate::error::{AppError, AppResult};
use crate::rules::service::OVERLAY_MODES;
use crate::teams::service::{self as teams, Permission};

/// Most assets one assembly's own slots may hold (variants counted).
const MAX_FILLS: i64 = 2_000;
/// Bounds of a slot's placement.
const MAX_OFFSET: f64 = 100_000.0;
const MAX_SCALE: f64 = 100.0;
/// The z-indexes a slot may have at all (the table's bounds; the rules may narrow them).
const Z_INDEX_BOUNDS: (i32, i32) = (1, 999);

/// An asset to put in a slot.
pub struct SlotFill {
    pub group: String,
    pub name: String,
    /// One of the slot's variants (its `variant_keys`); None for its default image.
    pub variant_key: Option<String>,
    pub asset_id: Uuid,
}

pub(super) async fn may_edit(conn: &mut AsyncPgConnection, viewer: &Viewer) -> AppResult<()> {
    viewer.require_role(Role::Worldbuilder)?;
    teams::ensure_allowed(
        conn,
        viewer,
        Permission::EditEntities,
        Some(EntityType::Assembly.slug()),
    )
    .await
}

/// The assembly's row, locked, with its chain and slots.
pub(super) async fn locked(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    setting: &Setting,
    assembly_id: &str,
) -> AppResult<Resolved> {
    let row = lock_row(conn, viewer, assembly_id).await?;
    let chain = chain::load(conn, row).await?;
    chain::resolved(conn, chain, &setting.template).await
}

/// The assembly's row, locked until the transaction ends.
async fn lock_row(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    assembly_id: &str,
) -> AppResult<entities::EntityRow> {
    entities::lock(
        conn,
        viewer.tenant_id,
        EntityType::Assembly,
        assembly_id,
        Bin::Live,
    )
    .await
}

fn checked_key(key: &str, field: &'static str) -> AppResult<String> {
    let key = key.trim();
    if key.is_empty()
        || key.len() > 100
        || !key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
    {
        return Err(AppError::bad_field(
            field,
            format!("{key:?} is not a slot name: 1 to 100 letters, digits, _ or -"),
        ));
    }
    Ok(key.to_owned())
}

/// Puts an asset in one of the assembly's slots (WORLDBUILDER).
pub async fn assign(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    setting: &Setting,
    assembly_id: &str,
    fill: SlotFill,
) -> AppResult<()> {
    may_edit(conn, viewer).await?;
    let group = checked_key(&fill.group, "group")?;
    let name = checked_key(&fill.name, "name")?;
    let variant_key = match fill.variant_key.as_deref() {
        None | Some("") => String::new(),
        Some(key) => checked_key(key, "variantKey")?,
    };
    let rules = &setting.rules;
    conn.transaction::<_, AppError, _>(async |conn| {
        store::lock_hierarchy(conn, viewer.tenant_id, false).await?;
        let resolved = locked(conn, viewer, setting, assembly_id).await?;
        let definition = resolved
            .definitions
            .resolve(&group, &name)
            .map_err(|why| match &rules.slots_in_groups {
                Some(rule) => rule.refuse(why),
                None => AppError::bad_field("name", why),
            })?;
        let path = definition.path();
        if let (Some(rule), Some((_, by))) = (
            &rules.ancestor_locks,
            resolved
                .chain
                .ancestor_locks()
                .into_iter()
                .find(|(p, _)| *p == path),
        ) {
            return Err(rule.refuse(format!("{path} is locked by the ancestor {by}")));
        }
        if !variant_key.is_empty()
            && !definition.variant_keys.is_empty()
            && !definition.variant_keys.contains(&variant_key)
        {
            return Err(AppError::bad_field(
                "variantKey",
                format!(
                    "{path} has no variant {variant_key:?} (its variants: {})",
                    definition.variant_keys.join(", ")
                ),
            ));
        }
        let asset = assets::find_live(conn, viewer.tenant_id, fill.asset_id).await?;
        let file_type = assets::file_extension(&asset);
        if let Some(rule) = &rules.accepted_types
            && !definition.accepted_types.contains(&file_type)
        {
            return Err(rule.refuse(format!(
                "{path} accepts {}, and the asset is a {file_type} file",
                definition.accepted_types.join(", ")
            )));
        }
        let assembly_row_id = resolved.chain.subject().row.id;
        if store::count_filled(conn, viewer.tenant_id, assembly_row_id).await? >= MAX_FILLS {
            return Err(AppError::bad_input(format!(
                "an assembly holds at most {MAX_FILLS} assets in its slots"
            )));
        }
        let row = SlotAssetRow {
            tenant_id: viewer.tenant_id,
            assembly_row_id,
            slot_group: group.clone(),
            slot_name: name.clone(),
            variant_key,
            asset_id: asset.id,
        };
        store::put_asset(conn, &row, viewer.user_id).await
    })
    .await
}

/// Empties one of the assembly's own slots, or one variant of it (WORLDBUILDER); NOT_FOUND
/// when the assembly itself does not fill it.
pub async fn remove(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    assembly_id: &str,
    group: &str,
    name: &str,
    variant_key: Option<&str>,
) -> AppResult<()> {
    may_edit(conn, viewer).await?;
    conn.transaction::<_, AppError, _>(async |conn| {
        let row = lock_row(conn, viewer, assembly_id).await?;
        let removed = match variant_key {
            None => store::remove_slot(conn, viewer.tenant_id, row.id, group, name).await?,
            Some(key) => {
                store::remove_variant(conn, viewer.tenant_id, row.id, group, name, key).await?
            }
        };
        if removed {
            Ok(())
        } else {
            Err(AppError::not_found(format!(
                "{assembly_id} does not itself fill {group}.{name}{}",
                variant_key.map(|k| format!(" [{k}]")).unwrap_or_default()
            )))
        }
    })
    .await
}

/// Orders the slots the assembly fills in a group: those named first, in the order given, the
/// others after them as they were (WORLDBUILDER).
pub async fn reorder(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    setting: &Setting,
    assembly_id: &str,
    group: &str,
    names: Vec<String>,
) -> AppResult<()> {
    may_edit(conn, viewer).await?;
    conn.transaction::<_, AppError, _>(async |conn| {
        let resolved = locked(conn, viewer, setting, assembly_id).await?;
        let subject = resolved.chain.subject();
        let own: Vec<String> = resolved
            .filled()
            .filter(|slot| slot.definition.group == group)
            .filter(|slot| slot.filled.as_ref().is_some_and(|f| f.from == subject.id()))
            .map(|slot| slot.definition.name.clone())
            .collect();
        let mut order: Vec<String> = Vec::with_capacity(own.len());
        for name in names {
            if !own.contains(&name) {
                return Err(AppError::bad_field(
                    "names",
                    format!("{assembly_id} does not itself fill {group}.{name}"),
                ));
            }
            if order.contains(&name) {
                return Err(AppError::bad_field(
                    "names",
                    format!("{name} is named twice"),
                ));
            }
            order.push(name);
        }
        let rest: Vec<String> = own.into_iter().filter(|n| !order.contains(n)).collect();
        order.extend(rest);
        store::set_positions(conn, viewer.tenant_id, subject.row.id, group, &order).await
    })
    .await
}

fn bounded(value: Option<f64>, field: &'static str, range: (f64, f64)) -> AppResult<()> {
    match value {
        Some(v) if !v.is_finite() || v < range.0 || v > range.1 => Err(AppError::bad_field(
            field,
            format!("{field} is {} to {}", range.0, range.1),
        )),
        _ => Ok(()),
    }
}

/// Places one of the assembly's own slots (WORLDBUILDER): offsets, scale, rotation, its
/// z-index and overlay mode, each held to the assembly rules.
pub async fn transform(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    setting: &Setting,
    assembly_id: &str,
    group: &str,
    name: &str,
    change: Transform,
) -> AppResult<()> {
    may_edit(conn, viewer).await?;
    bounded(change.offset_x, "offsetX", (-MAX_OFFSET, MAX_OFFSET))?;
    bounded(change.offset_y, "offsetY", (-MAX_OFFSET, MAX_OFFSET))?;
    bounded(change.scale, "scale", (f64::MIN_POSITIVE, MAX_SCALE))?;
    bounded(change.rotation, "rotation", (-360.0, 360.0))?;
    let rules = &setting.rules;
    conn.transaction::<_, AppError, _>(async |conn| {
        let resolved = locked(conn, viewer, setting, assembly_id).await?;
        let path = format!("{group}.{name}");
        let subject_id = resolved.chain.subject().id().to_owned();
        let slot = resolved
            .slot(&path)
            .filter(|slot| slot.filled.as_ref().is_some_and(|f| f.from == subject_id))
            .ok_or_else(|| {
                AppError::not_found(format!(
                    "{assembly_id} does not itself fill {path}: fill it first"
                ))
            })?;
        let mut row = slot
            .filled
            .as_ref()
            .map(|f| f.slot.clone())
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("a filled slot without its row")))?;
        row.offset_x = change.offset_x.unwrap_or(row.offset_x);
        row.offset_y = change.offset_y.unwrap_or(row.offset_y);
        row.scale = change.scale.unwrap_or(row.scale);
        row.rotation = change.rotation.unwrap_or(row.rotation);
        if let Some(z) = change.z_index {
            row.z_index = z;
        }
        if let Some(mode) = &change.overlay_mode {
            row.overlay_mode = mode.clone();
        }
        if let Some(Some(mode)) = &change.overlay_mode {
            if !OVERLAY_MODES.contains(&mode.as_str()) {
                return Err(AppError::bad_field(
                    "overlayMode",
                    format!("{mode} is not one of {}", OVERLAY_MODES.join(", ")),
                ));
            }
            if let Some(rule) = &rules.overlay_modes
                && !slot.definition.overlay_modes.contains(mode)
            {
                return Err(rule.refuse(format!(
                    "{path} is drawn in {}, not {mode}",
                    slot.definition.overlay_modes.join(", ")
                )));
            }
        }
        let z = row.z_index.map(i64::from).or(slot.definition.z_index);
        if let Some(Some(given)) = change.z_index
            && !(Z_INDEX_BOUNDS.0..=Z_INDEX_BOUNDS.1).contains(&given)
        {
            // What the table keeps, whatever the tenant's rules say.
            let why = format!(
                "z_index {given} is outside {} to {}",
                Z_INDEX_BOUNDS.0, Z_INDEX_BOUNDS.1
            );
            return Err(match &rules.z_range {
                Some((rule, ..)) => rule.refuse(why),
                None => AppError::bad_field("zIndex", why),
            });
        }
        if let (Some(Some(given)), Some((rule, min, max))) = (change.z_index, &rules.z_range) {
            let given = i64::from(given);
            if given < *min || given > *max {
                return Err(rule.refuse(format!("z_index {given} is outside {min} to {max}")));
            }
        }
        if change.z_index.is_some() || change.overlay_mode.is_some() {
            if let (Some(z), Some(rule)) = (z, &rules.unique_z)
                && let Some(other) = resolved
                    .filled()
                    .find(|other| other.path() != path && other.z_index() == Some(z))
            {
                return Err(rule.refuse(format!(
                    "{path} and {} would share z_index {z}",
                    other.path()
                )));
            }
            let mode = row
                .overlay_mode
                .clone()
                .or_else(|| slot.definition.overlay_modes.first().cloned());
            let overlay = mode
                .is_some_and(|m| crate::rules::service::OVERLAY_LIKE_MODES.contains(&m.as_str()));
            if let (true, Some(z), Some((rule, min))) = (overlay, z, &rules.overlay_z)
                && z < *min
            {
                return Err(rule.refuse(format!(
                    "{path} is drawn as an overlay at z_index {z}, below {min}"
                )));
            }
        }
        store::save_transform(conn, &row, viewer.user_id).await?;
        Ok(())
    })
    .await
}
