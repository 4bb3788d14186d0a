//! GraphQL: the changes to assemblies (WORLDBUILDER and above, with the team permission to
//! edit assemblies), and the SUPERUSER's reload of the export profiles.

use std::sync::Arc;

use async_graphql::{Context, MaybeUndefined, Object};

use super::{AssemblyDetail, AssemblyExportProfile, AssemblySlotInput, SlotTransformInput, scope};
use crate::assemblies::model::Transform;
use crate::assemblies::profiles::ProfileBook;
use crate::assemblies::service::{self, SlotFill};
use crate::auth::Role;
use crate::context::ContextExt;
use crate::db::parse_id;
use crate::error::{AppError, AppResult};

#[derive(Default)]
pub struct AssemblyMutation;

#[Object]
impl AssemblyMutation {
    /// Puts an asset in one of the assembly's slots (replacing what its variant held); refused
    /// naming the rule when the slot is not in a group of its definitions, an ancestor locks
    /// it, or it does not accept the asset's file type.
    async fn assign_assembly_slot(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The assembly's entity id.")] assembly_id: String,
        #[graphql(desc = "The slot and the asset.")] input: AssemblySlotInput,
    ) -> AppResult<AssemblyDetail> {
        let mut scope = scope(ctx).await?;
        let fill = SlotFill {
            group: input.group,
            name: input.name,
            variant_key: input.variant_key,
            asset_id: parse_id("assetId", &input.asset_id)?,
        };
        service::assign(
            &mut scope.conn,
            scope.viewer,
            &scope.setting,
            &assembly_id,
            fill,
        )
        .await?;
        scope.detail(&assembly_id).await
    }

    /// Empties one of the assembly's own slots, or one variant of it.
    async fn remove_assembly_slot(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The assembly's entity id.")] assembly_id: String,
        #[graphql(desc = "The slot's group.")] group: String,
        #[graphql(desc = "The slot's name.")] name: String,
        #[graphql(desc = "Only this variant (the whole slot when left out).")] variant_key: Option<
            String,
        >,
    ) -> AppResult<AssemblyDetail> {
        let mut scope = scope(ctx).await?;
        service::remove(
            &mut scope.conn,
            scope.viewer,
            &assembly_id,
            &group,
            &name,
            variant_key.as_deref(),
        )
        .await?;
        scope.detail(&assembly_id).await
    }

    /// Orders the assembly's own slots of a group: those named first, in that order.
    async fn reorder_assembly_slots(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The assembly's entity id.")] assembly_id: String,
        #[graphql(desc = "The group.")] group: String,
        #[graphql(desc = "Slot names of the group, in their new order.")] names: Vec<String>,
    ) -> AppResult<AssemblyDetail> {
        let mut scope = scope(ctx).await?;
        service::reorder(
            &mut scope.conn,
            scope.viewer,
            &scope.setting,
            &assembly_id,
            &group,
            names,
        )
        .await?;
        scope.detail(&assembly_id).await
    }

    /// Places one of the assembly's own filled slots; refused naming the rule for a z-index
    /// out of range (asm_zidx_001), shared with another filled slot (asm_zidx_002), an
    /// overlay below the overlay floor (asm_zidx_003) or a mode the slot does not allow
    /// (asm_slot_003).
    async fn transform_assembly_slot(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The assembly's entity id.")] assembly_id: String,
        #[graphql(desc = "The slot's group.")] group: String,
        #[graphql(desc = "The slot's name.")] name: String,
        #[graphql(desc = "What changes.")] input: SlotTransformInput,
    ) -> AppResult<AssemblyDetail> {
        let mut scope = scope(ctx).await?;
        let change = Transform {
            offset_x: input.offset_x,
            offset_y: input.offset_y,
            scale: input.scale,
            rotation: input.rotation,
            z_index: match input.z_index {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(z) => Some(Some(z)),
            },
            overlay_mode: match input.overlay_mode {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(mode) => Some(Some(mode)),
            },
        };
        service::transform(
            &mut scope.conn,
            scope.viewer,
            &scope.setting,
            &assembly_id,
            &group,
            &name,
            change,
        )
        .await?;
        scope.detail(&assembly_id).await
    }

    /// Locks slots (`group.slot` paths of the assembly's definitions) for its descendants.
    async fn lock_assembly_slots(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The assembly's entity id.")] assembly_id: String,
        #[graphql(desc = "`group.slot` paths.")] paths: Vec<String>,
    ) -> AppResult<AssemblyDetail> {
        let mut scope = scope(ctx).await?;
        let (editor, conn) = scope.editor();
        service::lock_slots(&editor, conn, &assembly_id, paths).await?;
        scope.detail(&assembly_id).await
    }

    /// Lifts the assembly's own locks; an ancestor's cannot be lifted here (asm_lock_003).
    async fn unlock_assembly_slots(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The assembly's entity id.")] assembly_id: String,
        #[graphql(desc = "`group.slot` paths.")] paths: Vec<String>,
    ) -> AppResult<AssemblyDetail> {
        let mut scope = scope(ctx).await?;
        let (editor, conn) = scope.editor();
        service::unlock_slots(&editor, conn, &assembly_id, paths).await?;
        scope.detail(&assembly_id).await
    }

    /// Makes another assembly the parent: of the tier just above (asm_inh_001), the chain at
    /// most as deep as allowed and without loops (asm_inh_002), and not locking a slot the
    /// assembly fills (asm_lock_002).
    async fn set_assembly_parent(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The assembly's entity id.")] assembly_id: String,
        #[graphql(desc = "The parent's entity id.")] parent_id: String,
    ) -> AppResult<AssemblyDetail> {
        let mut scope = scope(ctx).await?;
        let (editor, conn) = scope.editor();
        service::set_parent(&editor, conn, &assembly_id, &parent_id).await?;
        scope.detail(&assembly_id).await
    }

    /// Takes the parent away: only a template stands alone (asm_inh_003).
    async fn remove_assembly_parent(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The assembly's entity id.")] assembly_id: String,
    ) -> AppResult<AssemblyDetail> {
        let mut scope = scope(ctx).await?;
        let (editor, conn) = scope.editor();
        service::remove_parent(&editor, conn, &assembly_id).await?;
        scope.detail(&assembly_id).await
    }

    /// Reads the package's export profiles again (SUPERUSER: the package is the server's). A
    /// profile that does not read changes nothing, and every problem is listed.
    async fn reload_export_profiles(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Vec<AssemblyExportProfile>> {
        ctx.viewer()?.require_role(Role::Superuser)?;
        let profiles = ctx
            .part::<Arc<ProfileBook>>()?
            .reload()
            .await
            .map_err(|problems| {
                AppError::bad_input(format!(
                    "the export profiles were not reloaded: {}",
                    problems.join("; ")
                ))
            })?;
        Ok(profiles
            .profiles
            .iter()
            .cloned()
            .map(AssemblyExportProfile)
            .collect())
    }
}
