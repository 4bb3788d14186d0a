//! The assembly rules in force for a tenant (its `assembly_constraints` set, or the package's),
//! as the assembly operations enforce them: each constraint with the rule that says it, its
//! numbers from the rule (the z-index range, the overlay floor, the deepest chain, the tiers),
//! and absent when the tenant switched the rule off or removed it.

use crate::entities::service::EntityType;
use crate::error::AppError;
use crate::rules::service::{Check, Rule, RuleSeverity, SlotCheck, TenantRules};

/// The confidence a detected slot needs when the rules give none
/// (`slot_detection_confidence_threshold`).
const DETECTION_THRESHOLD: f64 = 0.75;

/// A rule an assembly is held to.
#[derive(Clone, Debug)]
pub struct RuleRef {
    pub id: String,
    pub text: String,
    pub severity: RuleSeverity,
}

impl RuleRef {
    fn of(rule: &Rule) -> Self {
        Self {
            id: rule.id.clone(),
            text: rule.text.clone(),
            severity: rule.severity,
        }
    }

    /// The refusal of a write that breaks the rule, naming it.
    pub fn refuse(&self, what: impl std::fmt::Display) -> AppError {
        AppError::RuleBroken {
            rule: self.id.clone(),
            message: format!("{what} ({}: {})", self.id, self.text),
        }
    }
}

/// The constraints, each with its rule (None: not in force for the tenant).
#[derive(Clone, Debug, Default)]
pub struct AssemblyRules {
    /// asm_slot_001: a slot belongs to a named group.
    pub slots_in_groups: Option<RuleRef>,
    /// asm_slot_002: required slots are filled before export or completion.
    pub required_filled: Option<RuleRef>,
    /// asm_slot_003: a slot is drawn only in one of its overlay modes.
    pub overlay_modes: Option<RuleRef>,
    /// asm_slot_004: a slot takes only its accepted file types.
    pub accepted_types: Option<RuleRef>,
    /// asm_inh_001: each tier's parent is of the tier before it.
    pub hierarchy: Option<(RuleRef, Vec<String>)>,
    /// asm_inh_002: the chain is at most this deep.
    pub max_depth: Option<(RuleRef, i64)>,
    /// asm_inh_003: non-templates have a parent.
    pub parent_required: Option<RuleRef>,
    /// asm_zidx_001: z-indexes within bounds.
    pub z_range: Option<(RuleRef, i64, i64)>,
    /// asm_zidx_002: no two slots share a z-index.
    pub unique_z: Option<RuleRef>,
    /// asm_zidx_003: overlays at or above this z-index.
    pub overlay_z: Option<(RuleRef, i64)>,
    /// asm_lock_001: locks name slots of the assembly.
    pub lock_paths: Option<RuleRef>,
    /// asm_lock_002: a child fills no slot an ancestor locked.
    pub ancestor_locks: Option<RuleRef>,
    /// asm_lock_003: locks are inherited (a child cannot lift its ancestors').
    pub additive_locks: Option<RuleRef>,
    /// asm_exp_001: an export names a profile that exists.
    pub known_profiles: Option<RuleRef>,
    /// asm_exp_002: an export waits for the required slots.
    pub export_complete: Option<RuleRef>,
    pub detection_threshold: f64,
}

impl AssemblyRules {
    /// The assembly rules among the tenant's rules in force.
    pub fn of(rules: &TenantRules) -> Self {
        let mut out = Self {
            detection_threshold: DETECTION_THRESHOLD,
            ..Self::default()
        };
        for (entry, rule) in rules.rules_for(EntityType::Assembly) {
            if !rules.enabled(&entry.set, rule) {
                continue;
            }
            let r = RuleRef::of(rule);
            match &rule.check {
                Some(Check::Slots(check)) => match check {
                    SlotCheck::SlotsInGroups => out.slots_in_groups = Some(r),
                    SlotCheck::OverlayModes => out.overlay_modes = Some(r),
                    SlotCheck::AcceptedTypes => out.accepted_types = Some(r),
                    SlotCheck::ParentRequired => out.parent_required = Some(r),
                    SlotCheck::UniqueZIndex => out.unique_z = Some(r),
                    SlotCheck::LockedSlotPaths => out.lock_paths = Some(r),
                    SlotCheck::ZIndexRange { min, max } => out.z_range = Some((r, *min, *max)),
                    SlotCheck::OverlayZIndex { min } => out.overlay_z = Some((r, *min)),
                    SlotCheck::HierarchyChain { chain } => out.hierarchy = Some((r, chain.clone())),
                    SlotCheck::MaxDepth { max } => out.max_depth = Some((r, *max)),
                    SlotCheck::MirrorStrategy | SlotCheck::InheritanceMode => {}
                },
                // The rules a machine judges only with the slots' contents, by the package's ids.
                _ => match rule.id.as_str() {
                    "asm_slot_002" => out.required_filled = Some(r),
                    "asm_lock_002" => out.ancestor_locks = Some(r),
                    "asm_lock_003" => out.additive_locks = Some(r),
                    "asm_exp_001" => out.known_profiles = Some(r),
                    "asm_exp_002" => out.export_complete = Some(r),
                    _ => {}
                },
            }
            if let Some(threshold) = entry
                .set
                .defaults
                .get("slot_detection_confidence_threshold")
                .and_then(serde_json::Value::as_f64)
                .filter(|t| (0.0..=1.0).contains(t))
            {
                out.detection_threshold = threshold;
            }
        }
        out
    }

    /// The tiers, from the template down (the package's when the rule is off).
    pub fn tiers(&self) -> Vec<String> {
        match &self.hierarchy {
            Some((_, chain)) => chain.clone(),
            None => ["template", "profile", "variant", "zombie_variant"]
                .map(str::to_owned)
                .to_vec(),
        }
    }
}
