//! Rule sets as read from their YAML: a set names the entity types it applies to and lists
//! rules; a rule is a sentence with a severity and, when it says something a machine can
//! check, the check. Stored parsed (JSON) beside the tenant's YAML source.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::entities::service::EntityType;

/// How important a rule or a set is (the package's `priority`).
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RulePriority {
    /// Must never be broken.
    Critical,
    /// Important.
    High,
    /// The default.
    Medium,
    /// Nice to have.
    Low,
}

impl RulePriority {
    pub fn from_slug(slug: &str) -> Option<Self> {
        match slug {
            "critical" => Some(Self::Critical),
            "high" => Some(Self::High),
            "medium" => Some(Self::Medium),
            "low" => Some(Self::Low),
            _ => None,
        }
    }

    pub fn slug(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::High => "high",
            Self::Medium => "medium",
            Self::Low => "low",
        }
    }
}

/// What breaking a rule means (the package's `validation_type`).
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleSeverity {
    /// The entity is wrong (`validation_type: error`).
    Error,
    /// The entity is probably wrong (`warning`).
    Warning,
    /// A suggestion (`suggestion` or `info`).
    Info,
}

impl RuleSeverity {
    pub fn from_slug(slug: &str) -> Option<Self> {
        match slug {
            "error" => Some(Self::Error),
            "warning" => Some(Self::Warning),
            "suggestion" | "info" => Some(Self::Info),
            _ => None,
        }
    }

    /// The spelling written into a rule set's YAML.
    pub fn slug(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Info => "suggestion",
        }
    }
}

/// A structural check on an assembly's slots and inheritance (seed "Assembly System",
/// `rules/Core/assembly_constraints.yaml`), named by a rule's `check:` key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum SlotCheck {
    /// Every slot sits in a named group of `slot_definitions`.
    SlotsInGroups,
    /// Every slot's `overlay_modes` is a non-empty list of the allowed modes.
    OverlayModes,
    /// Every slot's `accepted_types` is a non-empty list of the allowed file types.
    AcceptedTypes,
    /// A slot with `mirror_of` also has a `mirror_strategy` (flip_x, flip_y, rotate_180).
    MirrorStrategy,
    /// `inheritance_mode` is full, selective or none.
    InheritanceMode,
    /// A profile, variant or zombie variant names its parent.
    ParentRequired,
    /// No two slots share a `z_index`.
    UniqueZIndex,
    /// `locked_slots` entries are `group.slot` paths of the assembly's own definitions.
    LockedSlotPaths,
    /// Every slot's `z_index` lies within the bounds.
    ZIndexRange { min: i64, max: i64 },
    /// Overlay slots (overlay, multiply or blend) have a `z_index` of at least `min`.
    OverlayZIndex { min: i64 },
    /// Each tier's parent is of the tier before it in `chain`.
    HierarchyChain { chain: Vec<String> },
    /// The chain of parents is at most `max` deep.
    MaxDepth { max: i64 },
}

/// What a machine checks of a rule, if anything.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Check {
    /// Each field is present and not empty (`required_fields: [age, gender]`).
    RequiredFields { fields: Vec<String> },
    /// A number between bounds (`field`, `min`, `max`).
    Range {
        field: String,
        min: Option<f64>,
        max: Option<f64>,
    },
    /// A text's characters or a list's items between bounds (`field`, `min_length`,
    /// `max_length`).
    Length {
        field: String,
        min: Option<u64>,
        max: Option<u64>,
    },
    /// A text (or each text of a list) matches a regular expression whole (`field`,
    /// `pattern`).
    Pattern { field: String, pattern: String },
    /// One of the listed values (`field`, `allowed_values`).
    AllowedValues { field: String, values: Vec<Value> },
    /// None of the phrases appear, as whole words in any case, in the fields named (all the
    /// entity's text, its markdown body included, when `fields` is absent).
    ForbiddenPhrases {
        phrases: Vec<String>,
        fields: Vec<String>,
    },
    /// An assembly's slots or inheritance.
    Slots(SlotCheck),
}

/// One rule of a set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub id: String,
    pub category: String,
    pub priority: RulePriority,
    /// The rule, as a sentence.
    pub text: String,
    pub severity: RuleSeverity,
    /// The types it applies to: the set's when the rule names none.
    pub applies_to: Vec<EntityType>,
    pub check: Option<Check>,
}

/// A rule set: one YAML file of the package, or a tenant's own.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleSet {
    pub id: String,
    pub name: String,
    pub description: String,
    pub version: String,
    pub scope: String,
    pub priority: RulePriority,
    pub applies_to: Vec<EntityType>,
    pub rules: Vec<Rule>,
    /// The set's `defaults` mapping, as written.
    pub defaults: Value,
    /// Questions for a reviewer (the set's `validation` list).
    pub review_questions: Vec<String>,
}

impl RuleSet {
    /// Whether any of its rules applies to the type.
    pub fn applies_to(&self, entity_type: EntityType) -> bool {
        self.rules
            .iter()
            .any(|rule| rule.applies_to.contains(&entity_type))
    }
}
