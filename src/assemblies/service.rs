//! The rules of assemblies: what the tenant's rules and assembly template say (`Setting`),
//! an assembly read with its chain and slots, the assemblies an asset fills, and the
//! descendants of an assembly. Changes are in `edits`, judgements in `validation`, zombie
//! stages in `zombie`, exports in `export`.

use std::collections::HashSet;

use diesel_async::AsyncPgConnection;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::chain::{self, Node, Resolved};
use super::constraints::AssemblyRules;
use super::definitions::{Definitions, builtin_template};
use super::model::SlotAssetRow;
use super::profiles::ProfileBook;
use super::{export, store, validation};
use crate::assets::service::AssetRuntime;
use crate::auth::Viewer;
use crate::context::Platform;
use crate::entities::service::{self as entities, EntityRow, EntityType, TemplateCatalog};
use crate::error::{AppError, AppResult};
use crate::rules::service::{RuleBook, in_force};

pub use super::edits::{SlotFill, assign, remove, reorder, transform};
pub use super::hierarchy::{Editor, lock_slots, remove_parent, set_parent, unlock_slots};

/// Most places `assembliesUsingAsset` lists.
pub const MAX_USES_LISTED: i64 = 500;
/// Most descendants followed below an assembly (its depth, its zombie variants).
const MAX_DESCENDANTS: usize = 1_000;
/// Most references read per level of descendants.
const MAX_REFERRERS: i64 = 4 * MAX_DESCENDANTS as i64;

/// What the tenant's rules and assembly template say about assemblies.
pub struct Setting {
    pub rules: AssemblyRules,
    /// The assembly template's slot definitions (for a chain whose root defines none).
    pub template: Definitions,
    /// The template's frontmatter (its zombie stages, for assemblies that define none).
    pub template_fields: Map<String, Value>,
}

/// The tenant's assembly rules and template.
pub async fn setting(
    conn: &mut AsyncPgConnection,
    rule_book: &RuleBook,
    catalog: &TemplateCatalog,
    tenant_id: Uuid,
) -> AppResult<Setting> {
    let rules = AssemblyRules::of(&in_force(conn, rule_book, tenant_id).await?);
    let main = &catalog.type_template(EntityType::Assembly).main_template;
    let template_fields = catalog
        .template(main)
        .and_then(|template| template.frontmatter.as_object())
        .filter(|fields| fields.get("slot_definitions").is_some_and(Value::is_object))
        .cloned()
        .unwrap_or_else(|| builtin_template().clone());
    Ok(Setting {
        rules,
        template: Definitions::read(template_fields.get("slot_definitions"), None),
        template_fields,
    })
}

/// A live assembly of the viewer's tenant; NOT_FOUND otherwise.
pub async fn find(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    assembly_id: &str,
) -> AppResult<EntityRow> {
    entities::find_live(conn, viewer.tenant_id, EntityType::Assembly, assembly_id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("there is no assembly {assembly_id}")))
}

/// An assembly with its chain and slots resolved.
pub async fn read(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    setting: &Setting,
    assembly_id: &str,
) -> AppResult<Resolved> {
    let row = find(conn, viewer, assembly_id).await?;
    let chain = chain::load(conn, row).await?;
    chain::resolved(conn, chain, &setting.template).await
}

/// Where an asset fills slots: each live assembly with its places (`group.slot` or
/// `group.slot[variant]`), at most [`MAX_USES_LISTED`] places.
pub async fn using_asset(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    asset_id: Uuid,
) -> AppResult<Vec<(EntityRow, Vec<SlotAssetRow>)>> {
    let places = store::using_asset(conn, viewer.tenant_id, asset_id, MAX_USES_LISTED).await?;
    let mut row_ids: Vec<Uuid> = places.iter().map(|p| p.assembly_row_id).collect();
    row_ids.dedup();
    let rows = entities::entities_by_row_ids(conn, viewer.tenant_id, &row_ids).await?;
    let mut out: Vec<(EntityRow, Vec<SlotAssetRow>)> = rows
        .into_iter()
        .filter(|row| !row.is_deleted())
        .map(|row| (row, Vec::new()))
        .collect();
    for place in places {
        if let Some((_, list)) = out
            .iter_mut()
            .find(|(row, _)| row.id == place.assembly_row_id)
        {
            list.push(place);
        }
    }
    out.sort_by(|a, b| a.0.entity_id.cmp(&b.0.entity_id));
    Ok(out)
}

/// The live assemblies below one, level by level (children first): (the assembly, its depth
/// below, 1 for a child).
pub async fn descendants(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    assembly_id: &str,
) -> AppResult<Vec<(Node, usize)>> {
    let mut out: Vec<(Node, usize)> = Vec::new();
    let mut seen: HashSet<String> = HashSet::from([assembly_id.to_owned()]);
    let mut level = vec![assembly_id.to_owned()];
    let mut depth = 0;
    while !level.is_empty() && out.len() < MAX_DESCENDANTS {
        depth += 1;
        // Referrers come by type, assemblies first; others naming the same ids are few.
        let referrers =
            entities::incoming_references(conn, tenant_id, &level, Some(MAX_REFERRERS)).await?;
        let mut next = Vec::new();
        for (_, row) in referrers {
            if row.kind() != EntityType::Assembly {
                continue;
            }
            let node = Node::new(row);
            let parent = node.parent_id().map(str::to_owned);
            if parent.is_some_and(|p| level.contains(&p)) && seen.insert(node.id().to_owned()) {
                next.push(node.id().to_owned());
                out.push((node, depth));
            }
        }
        level = next;
    }
    out.truncate(MAX_DESCENDANTS);
    Ok(out)
}

/// An assembly's export through a profile, as a ZIP with its manifest; refused naming the rule
/// (asm_exp_002) while required slots are empty, unless `partial` (the manifest lists them).
#[allow(clippy::too_many_arguments)]
pub async fn export_zip(
    platform: &Platform,
    runtime: &AssetRuntime,
    rule_book: &RuleBook,
    profiles: &ProfileBook,
    catalog: &TemplateCatalog,
    viewer: &Viewer,
    assembly_id: &str,
    profile_id: &str,
    partial: bool,
) -> AppResult<Vec<u8>> {
    let mut conn = platform.pool.get().await?;
    let setting = setting(&mut conn, rule_book, catalog, viewer.tenant_id).await?;
    let profile = export::profile(&setting, &profiles.current(), profile_id)?;
    let resolved = read(&mut conn, viewer, &setting, assembly_id).await?;
    let assets = validation::assets_in(&mut conn, viewer.tenant_id, &resolved).await?;
    drop(conn);
    let manifest = export::manifest(&resolved, profile, &assets)?;
    let blocking = setting
        .rules
        .export_complete
        .as_ref()
        .or(setting.rules.required_filled.as_ref());
    if let (false, false, Some(rule)) = (partial, manifest.complete(), blocking) {
        return Err(rule.refuse(format!(
            "{assembly_id} cannot be exported through {profile_id} while {} {} empty",
            manifest.missing_required.join(", "),
            if manifest.missing_required.len() == 1 {
                "is"
            } else {
                "are"
            }
        )));
    }
    export::build(platform, runtime, &resolved, &manifest).await
}
