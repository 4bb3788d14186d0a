//! GraphQL: assemblies. Any member reads them; WORLDBUILDER and above (with the team
//! permission to edit assemblies) fill, place and lock their slots and set their parents; the
//! package's export profiles are reloaded by the SUPERUSER.

mod detail;
mod exports;
mod judged;
mod mutations;
mod slots;

use std::sync::Arc;

use async_graphql::{Context, ID, Object};

pub use detail::AssemblyDetail;
pub use exports::*;
pub use judged::*;
pub use mutations::AssemblyMutation;
pub use slots::*;

use super::definitions::{ASSEMBLY_TYPES, Definitions};
use super::profiles::ProfileBook;
use super::service::{self, Setting};
use super::{detect, export, validation, zombie};
use crate::assets::service as assets;
use crate::auth::Viewer;
use crate::context::{ContextExt, Platform};
use crate::db::Conn;
use crate::db::parse_id;
use crate::entities::service::{TemplateBook, TemplateCatalog};
use crate::error::{AppError, AppResult};
use crate::rules::service::{ACCEPTED_TYPES, INHERITANCE_MODES, OVERLAY_MODES, RuleBook};

pub(crate) fn int(n: Option<i64>) -> Option<i32> {
    n.and_then(|n| i32::try_from(n).ok())
}

/// What every resolver here starts from: the viewer, a connection, the tenant's catalog and
/// what its rules and template say about assemblies.
struct Scope<'a> {
    viewer: &'a Viewer,
    platform: &'a Platform,
    conn: Conn,
    catalog: Arc<TemplateCatalog>,
    setting: Setting,
}

async fn scope<'a>(ctx: &'a Context<'_>) -> AppResult<Scope<'a>> {
    let viewer = ctx.viewer()?;
    let platform = ctx.platform();
    let catalog = ctx
        .part::<Arc<TemplateBook>>()?
        .for_tenant(&platform.pool, viewer.tenant_id)
        .await?;
    let mut conn = ctx.conn().await?;
    let rules = ctx.part::<Arc<RuleBook>>()?;
    let setting = service::setting(&mut conn, rules, &catalog, viewer.tenant_id).await?;
    Ok(Scope {
        viewer,
        platform,
        conn,
        catalog,
        setting,
    })
}

impl Scope<'_> {
    /// The viewer as an editor of the hierarchy (its catalog and setting), and the connection.
    fn editor(&mut self) -> (service::Editor<'_>, &mut Conn) {
        let editor = service::Editor {
            platform: self.platform,
            catalog: &self.catalog,
            viewer: self.viewer,
            setting: &self.setting,
        };
        (editor, &mut self.conn)
    }

    async fn detail(&mut self, assembly_id: &str) -> AppResult<AssemblyDetail> {
        let resolved =
            service::read(&mut self.conn, self.viewer, &self.setting, assembly_id).await?;
        Ok(AssemblyDetail(resolved))
    }
}

#[derive(Default)]
pub struct AssemblyQuery;

#[Object]
impl AssemblyQuery {
    /// An assembly with its slots resolved down its chain of parents (its inheritance, locks,
    /// completeness and preview layers); NOT_FOUND when the tenant has no such live assembly.
    async fn assembly(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The assembly's entity id.")] id: String,
    ) -> AppResult<AssemblyDetail> {
        scope(ctx).await?.detail(&id).await
    }

    /// The assembly judged whole: its frontmatter by the tenant's rules, its slots by the
    /// assembly rules (required slots, locks, file types, modes, z-indexes, sizes, variants).
    async fn assembly_validation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The assembly's entity id.")] id: String,
    ) -> AppResult<AssemblyValidation> {
        let mut scope = scope(ctx).await?;
        let resolved = service::read(&mut scope.conn, scope.viewer, &scope.setting, &id).await?;
        let rules = ctx.part::<Arc<RuleBook>>()?;
        let problems = validation::validate(
            &mut scope.conn,
            rules,
            scope.viewer,
            &scope.setting,
            &resolved,
        )
        .await?;
        Ok(problems.into())
    }

    /// One stage of the assembly's zombie progression (0 clean to 4 zombie): what it turns on
    /// and the assembly as drawn at that stage; NOT_FOUND for a stage it does not define.
    async fn assembly_zombie_stage(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The assembly's entity id.")] id: String,
        #[graphql(desc = "The stage: 0 to 4.")] stage: i32,
    ) -> AppResult<ZombieStage> {
        let mut scope = scope(ctx).await?;
        let resolved = service::read(&mut scope.conn, scope.viewer, &scope.setting, &id).await?;
        let progression = zombie::progression(&resolved, &scope.setting);
        let found = progression
            .stages
            .into_iter()
            .find(|s| s.number == i64::from(stage))
            .ok_or_else(|| AppError::not_found(format!("{id} has no zombie stage {stage}")))?;
        let active: Vec<String> = found
            .active
            .iter()
            .filter_map(|overlay| overlay.slot.as_ref().map(|slot| slot.path()))
            .collect();
        let slots: Vec<_> = resolved.slots.iter().collect();
        let layers = layers(
            &slots,
            Some((found.overlay_opacity.unwrap_or(1.0), &active)),
        );
        Ok(ZombieStage {
            stage: found,
            layers,
            defined_by: progression.defined_by,
        })
    }

    /// What keeps the assembly's zombie progression from working: stages missing, overlays
    /// that are not the assembly's overlay slots or are empty, a full replacement without a
    /// zombie variant.
    async fn assembly_zombie_validation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The assembly's entity id.")] id: String,
    ) -> AppResult<AssemblyValidation> {
        let mut scope = scope(ctx).await?;
        let resolved = service::read(&mut scope.conn, scope.viewer, &scope.setting, &id).await?;
        Ok(zombie::validate(&mut scope.conn, &scope.setting, &resolved)
            .await?
            .into())
    }

    /// The export profiles in force (the package's pipelines).
    async fn assembly_export_profiles(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Vec<AssemblyExportProfile>> {
        ctx.viewer()?;
        let profiles = ctx.part::<Arc<ProfileBook>>()?.current();
        Ok(profiles
            .profiles
            .iter()
            .cloned()
            .map(AssemblyExportProfile)
            .collect())
    }

    /// What exporting the assembly through a profile gives: its files, what is missing, what
    /// the pipeline would warn about, and where its ZIP is downloaded.
    async fn assembly_export_manifest(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The assembly's entity id.")] id: String,
        #[graphql(desc = "The export profile's id.")] profile: String,
    ) -> AppResult<AssemblyManifest> {
        let mut scope = scope(ctx).await?;
        let profiles = ctx.part::<Arc<ProfileBook>>()?.current();
        let profile = export::profile(&scope.setting, &profiles, &profile)?;
        let resolved = service::read(&mut scope.conn, scope.viewer, &scope.setting, &id).await?;
        let assets =
            validation::assets_in(&mut scope.conn, scope.viewer.tenant_id, &resolved).await?;
        let download_path = format!("/api/assembly/{id}/export/{}", profile.id);
        Ok(AssemblyManifest {
            manifest: export::manifest(&resolved, profile, &assets)?,
            download_path,
        })
    }

    /// The tenant's live assemblies whose own slots hold the asset (at most 500 places).
    async fn assemblies_using_asset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The asset's id.")] asset_id: ID,
    ) -> AppResult<Vec<AssemblyUse>> {
        let viewer = ctx.viewer()?;
        let asset_id = parse_id("assetId", &asset_id)?;
        let mut conn = ctx.conn().await?;
        let uses = service::using_asset(&mut conn, viewer, asset_id).await?;
        Ok(uses
            .into_iter()
            .map(|(row, places)| AssemblyUse {
                assembly: row.into(),
                slots: places
                    .into_iter()
                    .map(|p| match p.variant_key.as_str() {
                        "" => format!("{}.{}", p.slot_group, p.slot_name),
                        key => format!("{}.{}[{key}]", p.slot_group, p.slot_name),
                    })
                    .collect(),
            })
            .collect())
    }

    /// Which slot an asset is for, by its file name, type and size: among an assembly's slots
    /// when one is given, else the assembly template's.
    async fn auto_detect_slot(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The asset's id.")] asset_id: ID,
        #[graphql(desc = "The assembly whose slots to choose from.")] assembly_id: Option<String>,
    ) -> AppResult<SlotDetection> {
        let mut scope = scope(ctx).await?;
        let asset_id = parse_id("assetId", &asset_id)?;
        let asset = assets::find_live(&mut scope.conn, scope.viewer.tenant_id, asset_id).await?;
        let definitions = match &assembly_id {
            Some(id) => {
                service::read(&mut scope.conn, scope.viewer, &scope.setting, id)
                    .await?
                    .definitions
            }
            None => scope.setting.template.clone(),
        };
        Ok(SlotDetection {
            candidates: detect::candidates(&definitions, &asset),
            threshold: scope.setting.rules.detection_threshold,
        })
    }

    /// The assembly template's slot groups (of one kind of assembly when given).
    async fn assembly_slot_definitions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "character, prop or building.")] assembly_type: Option<String>,
    ) -> AppResult<Vec<AssemblySlotGroup>> {
        let scope = scope(ctx).await?;
        let definitions: Definitions = scope
            .setting
            .template
            .clone()
            .for_type(assembly_type.as_deref());
        Ok(groups_of(&definitions.groups, None))
    }

    /// The vocabulary of assemblies: their kinds with the template's groups, tiers,
    /// inheritance modes, overlay modes and file types.
    async fn assembly_template_types(&self, ctx: &Context<'_>) -> AppResult<AssemblyTemplateTypes> {
        let scope = scope(ctx).await?;
        Ok(AssemblyTemplateTypes {
            types: ASSEMBLY_TYPES
                .iter()
                .map(|name| AssemblyTemplateType {
                    name: (*name).to_owned(),
                    groups: scope
                        .setting
                        .template
                        .clone()
                        .for_type(Some(name))
                        .groups
                        .into_iter()
                        .map(|g| g.name)
                        .collect(),
                })
                .collect(),
            hierarchy_levels: scope.setting.rules.tiers(),
            inheritance_modes: INHERITANCE_MODES.map(str::to_owned).to_vec(),
            overlay_modes: OVERLAY_MODES.map(str::to_owned).to_vec(),
            accepted_types: ACCEPTED_TYPES.map(str::to_owned).to_vec(),
        })
    }
}
