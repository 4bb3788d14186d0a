//! The GraphQL types of an assembly's slots: a slot, its group, the chain's tiers, locks,
//! completeness, the layers drawn, and the inputs that change slots.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};

use super::int;
use crate::assemblies::chain::{Effective, Resolved};
use crate::assemblies::definitions::{SlotDefinition, SlotGroup};
use crate::assemblies::validation::Completeness;
use crate::assets::api::Asset;
use crate::entities::api::Entity;
use crate::error::AppResult;
use crate::rules::service::OVERLAY_LIKE_MODES;

/// A slot as an assembly has it: its definition (its own, inherited, the template's, or made
/// up in a group that takes custom slots), what fills it and from where, and its locks.
pub struct AssemblySlot(pub Effective);

/// A slot as an assembly has it: its definition (its own, inherited, the template's, or made
/// up in a group that takes custom slots), what fills it and from where, and its locks.
#[Object]
impl AssemblySlot {
    /// `group.slot`, as locks and rules name it.
    async fn path(&self) -> String {
        self.0.path()
    }
    /// The slot's group (`slot_group`).
    async fn group(&self) -> &str {
        &self.0.definition.group
    }
    /// The slot's name within its group.
    async fn name(&self) -> &str {
        &self.0.definition.name
    }
    /// What the slot is for.
    async fn description(&self) -> Option<&str> {
        self.0.definition.description.as_deref()
    }
    /// Whether it must be filled before the assembly is complete or exported.
    async fn required(&self) -> bool {
        self.0.definition.required
    }
    /// Whether it is made up in a group that allows custom slots.
    async fn custom(&self) -> bool {
        self.0.definition.custom
    }
    /// False for a filled slot that no definition names (any more).
    async fn defined(&self) -> bool {
        self.0.defined
    }
    /// The assembly whose `slot_definitions` define it (null: the assembly template's).
    async fn defined_by(&self) -> Option<&str> {
        self.0.definition.defined_by.as_deref()
    }
    /// Its z-index: the fill's own, else the definition's.
    async fn z_index(&self) -> Option<i32> {
        int(self.0.z_index())
    }
    /// The definition's z-index.
    async fn defined_z_index(&self) -> Option<i32> {
        int(self.0.definition.z_index)
    }
    /// How it is drawn: the fill's mode, else the definition's first.
    async fn overlay_mode(&self) -> Option<String> {
        self.0.overlay_mode()
    }
    /// The modes it may be drawn in.
    async fn overlay_modes(&self) -> &[String] {
        &self.0.definition.overlay_modes
    }
    /// Whether it is an overlay (any of its modes is overlay, multiply or blend).
    async fn is_overlay(&self) -> bool {
        self.0.definition.is_overlay()
    }
    /// The file types it takes (png, webp, jpg...).
    async fn accepted_types(&self) -> &[String] {
        &self.0.definition.accepted_types
    }
    /// The variants it holds, by key (empty: one image).
    async fn variant_keys(&self) -> &[String] {
        &self.0.definition.variant_keys
    }
    /// How many variants it expects.
    async fn variants_expected(&self) -> Option<i32> {
        int(self.0.definition.variants_expected)
    }
    /// The width its images should have.
    async fn expected_width(&self) -> Option<i32> {
        int(self.0.definition.expected_dimensions.map(|(w, _)| w))
    }
    /// The height its images should have.
    async fn expected_height(&self) -> Option<i32> {
        int(self.0.definition.expected_dimensions.map(|(_, h)| h))
    }
    /// The slot (`group.slot`) it mirrors.
    async fn mirror_of(&self) -> Option<&str> {
        self.0.definition.mirror_of.as_deref()
    }
    /// How it mirrors that slot (flip_x, flip_y, rotate_180).
    async fn mirror_strategy(&self) -> Option<&str> {
        self.0.definition.mirror_strategy.as_deref()
    }
    /// Whether an asset fills it.
    async fn filled(&self) -> bool {
        self.0.is_filled()
    }
    /// The assembly whose fill it shows: the assembly itself, or the ancestor it inherits it
    /// from (null when empty).
    async fn filled_by(&self) -> Option<&str> {
        self.0.filled.as_ref().map(|f| f.from.as_str())
    }
    /// What fills it, variant by variant.
    async fn assets(&self) -> Vec<SlotAsset> {
        self.0
            .filled
            .iter()
            .flat_map(|f| f.assets.iter())
            .map(|a| SlotAsset {
                variant_key: (!a.variant_key.is_empty()).then(|| a.variant_key.clone()),
                asset_id: a.asset_id,
            })
            .collect()
    }
    /// Where and how its image is placed (null when empty).
    async fn transform(&self) -> Option<SlotTransform> {
        self.0.filled.as_ref().map(|f| SlotTransform {
            offset_x: f.slot.offset_x,
            offset_y: f.slot.offset_y,
            scale: f.slot.scale,
            rotation: f.slot.rotation,
            position: f.slot.position,
        })
    }
    /// The ancestor whose lock keeps this assembly from filling it.
    async fn locked_by(&self) -> Option<&str> {
        self.0.locked_by.as_deref()
    }
    /// Whether the assembly locks it for its descendants.
    async fn locked_here(&self) -> bool {
        self.0.locked_here
    }
}

/// An asset in a slot.
pub struct SlotAsset {
    variant_key: Option<String>,
    asset_id: uuid::Uuid,
}

/// An asset in a slot.
#[Object]
impl SlotAsset {
    /// The variant it is (null: the slot's default image).
    async fn variant_key(&self) -> Option<&str> {
        self.variant_key.as_deref()
    }
    /// The asset's id.
    async fn asset_id(&self) -> ID {
        ID(self.asset_id.to_string())
    }
    /// The asset (null once it is in the recycle bin).
    async fn asset(&self, ctx: &Context<'_>) -> AppResult<Option<Asset>> {
        Asset::live(ctx, self.asset_id).await
    }
}

/// Where a slot's image is placed.
#[derive(SimpleObject)]
pub struct SlotTransform {
    /// Horizontal offset, in pixels.
    pub offset_x: f64,
    /// Vertical offset, in pixels.
    pub offset_y: f64,
    /// Scale (1 = as is).
    pub scale: f64,
    /// Rotation, in degrees.
    pub rotation: f64,
    /// Its order among the assembly's slots of its group.
    pub position: i32,
}

/// A group of slots.
pub struct AssemblySlotGroup {
    pub group: SlotGroup,
    /// The assembly's slots of the group (the definitions alone for the template's).
    pub slots: Vec<Effective>,
}

/// A group of slots.
#[Object]
impl AssemblySlotGroup {
    /// The group's name (`slot_group`).
    async fn name(&self) -> &str {
        &self.group.name
    }
    /// What the group is for.
    async fn description(&self) -> Option<&str> {
        self.group.description.as_deref()
    }
    /// Whether slots not defined may be made up in it.
    async fn allow_custom_slots(&self) -> bool {
        self.group.allow_custom_slots
    }
    /// Its layer type (`overlay`...).
    async fn layer_type(&self) -> Option<&str> {
        self.group.layer_type.as_deref()
    }
    /// The blend mode of its custom slots.
    async fn default_blend_mode(&self) -> Option<&str> {
        self.group.default_blend_mode.as_deref()
    }
    /// Art rules for its images.
    async fn content_rules(&self) -> &[String] {
        &self.group.content_rules
    }
    /// Its slots.
    async fn slots(&self) -> Vec<AssemblySlot> {
        self.slots.iter().cloned().map(AssemblySlot).collect()
    }
}

/// The groups of `definitions`, each with its slots as `resolved` has them (or bare).
pub fn groups_of(groups: &[SlotGroup], resolved: Option<&Resolved>) -> Vec<AssemblySlotGroup> {
    groups
        .iter()
        .map(|group| AssemblySlotGroup {
            group: group.clone(),
            slots: match resolved {
                Some(resolved) => resolved
                    .slots
                    .iter()
                    .filter(|slot| slot.definition.group == group.name)
                    .cloned()
                    .collect(),
                None => group.slots.iter().cloned().map(bare).collect(),
            },
        })
        .collect()
}

pub fn bare(definition: SlotDefinition) -> Effective {
    Effective {
        definition,
        defined: true,
        filled: None,
        locked_by: None,
        locked_here: false,
    }
}

/// One assembly of a chain.
pub struct AssemblyTier {
    pub node: crate::assemblies::chain::Node,
}

/// One assembly of a chain.
#[Object]
impl AssemblyTier {
    /// The assembly.
    async fn assembly(&self) -> Entity {
        Entity::from(self.node.row.clone())
    }
    /// Its tier (`hierarchy_level`: template, profile, variant, zombie_variant).
    async fn hierarchy_level(&self) -> &str {
        self.node.level()
    }
    /// How much it inherits from its parent (full, selective, none).
    async fn inheritance_mode(&self) -> &str {
        self.node.mode()
    }
    /// The slots it locks for its descendants.
    async fn locked_slots(&self) -> Vec<String> {
        self.node.locks()
    }
}

/// A slot locked by an ancestor.
#[derive(SimpleObject)]
pub struct SlotLock {
    /// `group.slot`.
    pub path: String,
    /// The ancestor that locks it.
    pub locked_by: String,
}

/// How far an assembly is from complete.
pub struct AssemblyCompleteness(pub Completeness);

/// How far an assembly is from complete.
#[Object]
impl AssemblyCompleteness {
    /// Whether every required slot is filled.
    async fn complete(&self) -> bool {
        self.0.complete()
    }
    /// The required slots.
    async fn required(&self) -> &[String] {
        &self.0.required
    }
    /// How many required slots are filled.
    async fn filled_count(&self) -> i32 {
        i32::try_from(self.0.required.len() - self.0.missing.len()).unwrap_or(i32::MAX)
    }
    /// The required slots still empty.
    async fn missing(&self) -> &[String] {
        &self.0.missing
    }
    /// Filled slots that list variants, with the variants still empty.
    async fn missing_variants(&self) -> Vec<MissingVariants> {
        self.0
            .missing_variants
            .iter()
            .map(|(path, keys)| MissingVariants {
                path: path.clone(),
                variant_keys: keys.clone(),
            })
            .collect()
    }
}

/// Variants of a slot still empty.
#[derive(SimpleObject)]
pub struct MissingVariants {
    /// The slot (`group.slot`).
    pub path: String,
    /// Its empty variants.
    pub variant_keys: Vec<String>,
}

/// One image of an assembly as it is drawn, bottom first.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct AssemblyLayer {
    /// The slot (`group.slot`).
    pub path: String,
    /// The variant (null: the slot's default image).
    pub variant_key: Option<String>,
    #[graphql(skip)]
    pub asset_id: uuid::Uuid,
    /// Its z-index.
    pub z_index: Option<i32>,
    /// How it is drawn.
    pub overlay_mode: Option<String>,
    /// 1 for a base layer; an overlay's stage opacity in a zombie stage.
    pub opacity: f64,
    /// Where it is placed.
    pub transform: SlotTransform,
}

#[async_graphql::ComplexObject]
impl AssemblyLayer {
    /// The image (null once it is in the recycle bin).
    async fn asset(&self, ctx: &Context<'_>) -> AppResult<Option<Asset>> {
        Asset::live(ctx, self.asset_id).await
    }
}

/// The filled slots drawn, by z-index then path; `overlay_opacity` (a zombie stage's) keeps
/// only the overlays in `active` and draws them at that opacity.
pub fn layers(
    slots: &[&Effective],
    overlay_opacity: Option<(f64, &[String])>,
) -> Vec<AssemblyLayer> {
    let mut drawn: Vec<&Effective> = slots
        .iter()
        .copied()
        .filter(|slot| slot.is_filled())
        .filter(|slot| match overlay_opacity {
            Some((_, active)) if is_overlay_drawn(slot) => active.contains(&slot.path()),
            _ => true,
        })
        .collect();
    drawn.sort_by(|a, b| {
        a.z_index()
            .cmp(&b.z_index())
            .then_with(|| a.path().cmp(&b.path()))
    });
    drawn
        .into_iter()
        .flat_map(|slot| {
            let filled = slot.filled.as_ref();
            let opacity = match overlay_opacity {
                Some((opacity, _)) if is_overlay_drawn(slot) => opacity,
                _ => 1.0,
            };
            filled.into_iter().flat_map(move |f| {
                f.assets.iter().map(move |a| AssemblyLayer {
                    path: slot.path(),
                    variant_key: (!a.variant_key.is_empty()).then(|| a.variant_key.clone()),
                    asset_id: a.asset_id,
                    z_index: int(slot.z_index()),
                    overlay_mode: slot.overlay_mode(),
                    opacity,
                    transform: SlotTransform {
                        offset_x: f.slot.offset_x,
                        offset_y: f.slot.offset_y,
                        scale: f.slot.scale,
                        rotation: f.slot.rotation,
                        position: f.slot.position,
                    },
                })
            })
        })
        .collect()
}

fn is_overlay_drawn(slot: &Effective) -> bool {
    slot.overlay_mode()
        .is_some_and(|mode| OVERLAY_LIKE_MODES.contains(&mode.as_str()))
}

/// An asset to put in a slot.
#[derive(InputObject)]
pub struct AssemblySlotInput {
    /// The slot's group.
    pub group: String,
    /// The slot's name (a new one in a group that allows custom slots).
    pub name: String,
    /// One of the slot's variants (null: its default image).
    pub variant_key: Option<String>,
    /// The asset: a live one of the tenant, of a type the slot accepts.
    pub asset_id: ID,
}

/// Where and how a slot's image is placed: what is left out is kept.
#[derive(InputObject)]
pub struct SlotTransformInput {
    /// Horizontal offset in pixels (±100,000).
    pub offset_x: Option<f64>,
    /// Vertical offset in pixels (±100,000).
    pub offset_y: Option<f64>,
    /// Scale, above 0 and at most 100.
    pub scale: Option<f64>,
    /// Rotation in degrees, -360 to 360.
    pub rotation: Option<f64>,
    /// Its own z-index (within the rules' range, unique in the assembly, 80 or more for an
    /// overlay); null goes back to the definition's.
    pub z_index: MaybeUndefined<i32>,
    /// One of the slot's overlay modes; null goes back to the definition's first.
    pub overlay_mode: MaybeUndefined<String>,
}
