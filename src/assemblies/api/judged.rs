//! The GraphQL types of an assembly judged: its problems, and its zombie stages.

use async_graphql::{Enum, Object, SimpleObject};

use super::int;
use super::slots::{AssemblyLayer, AssemblySlot};
use crate::assemblies::chain::Effective;
use crate::assemblies::validation::Problem;
use crate::assemblies::zombie::Stage;
use crate::rules::service::RuleSeverity;

/// How serious a problem is.
#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum AssemblyProblemSeverity {
    /// The assembly is wrong.
    Error,
    /// The assembly is probably wrong.
    Warning,
    /// A suggestion.
    Info,
}

/// One thing wrong with an assembly.
#[derive(SimpleObject)]
pub struct AssemblyProblem {
    /// The rule it breaks (`asm_slot_002`), when a rule says it.
    pub rule: Option<String>,
    /// How serious it is (the rule's severity).
    pub severity: AssemblyProblemSeverity,
    /// The slot it is about (`group.slot`).
    pub slot: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// An assembly judged whole.
#[derive(SimpleObject)]
pub struct AssemblyValidation {
    /// True when nothing of severity ERROR is wrong.
    pub valid: bool,
    /// Everything wrong, errors first.
    pub problems: Vec<AssemblyProblem>,
}

impl From<Vec<Problem>> for AssemblyValidation {
    fn from(problems: Vec<Problem>) -> Self {
        let problems: Vec<AssemblyProblem> = problems
            .into_iter()
            .map(|p| AssemblyProblem {
                rule: p.rule,
                severity: match p.severity {
                    RuleSeverity::Error => AssemblyProblemSeverity::Error,
                    RuleSeverity::Warning => AssemblyProblemSeverity::Warning,
                    RuleSeverity::Info => AssemblyProblemSeverity::Info,
                },
                slot: p.path,
                message: p.message,
            })
            .collect();
        Self {
            valid: !problems
                .iter()
                .any(|p| p.severity == AssemblyProblemSeverity::Error),
            problems,
        }
    }
}

/// A stage of an assembly's zombie progression.
pub struct ZombieStage {
    pub stage: Stage,
    pub layers: Vec<AssemblyLayer>,
    pub defined_by: Option<String>,
}

/// A stage of an assembly's zombie progression.
#[Object]
impl ZombieStage {
    /// Its number: 0 (clean) to 4 (zombie).
    async fn stage(&self) -> i32 {
        int(Some(self.stage.number)).unwrap_or_default()
    }
    /// Its name.
    async fn name(&self) -> &str {
        &self.stage.name
    }
    /// What it looks like.
    async fn description(&self) -> Option<&str> {
        self.stage.description.as_deref()
    }
    /// The opacity of its overlays.
    async fn overlay_opacity(&self) -> Option<f64> {
        self.stage.overlay_opacity
    }
    /// The overlay slots it turns on, by the names it gives them.
    async fn active_overlays(&self) -> Vec<ZombieOverlay> {
        self.stage
            .active
            .iter()
            .map(|overlay| ZombieOverlay {
                name: overlay.name.clone(),
                slot: overlay.slot.clone(),
            })
            .collect()
    }
    /// Whether it needs a zombie_variant assembly (a new sprite or mesh set).
    async fn requires_full_variant(&self) -> bool {
        self.stage.requires_full_variant
    }
    /// full_replace or overlay_only.
    async fn zombie_mode(&self) -> Option<&str> {
        self.stage.zombie_mode.as_deref()
    }
    /// Notes for artists.
    async fn notes(&self) -> Option<&str> {
        self.stage.notes.as_deref()
    }
    /// The assembly whose stages these are (null: the assembly template's).
    async fn defined_by(&self) -> Option<&str> {
        self.defined_by.as_deref()
    }
    /// The assembly as drawn at this stage: its base layers, and the stage's overlays at its
    /// opacity.
    async fn layers(&self) -> &[AssemblyLayer] {
        &self.layers
    }
}

/// An overlay a zombie stage turns on.
pub struct ZombieOverlay {
    name: String,
    slot: Option<Effective>,
}

/// An overlay a zombie stage turns on.
#[Object]
impl ZombieOverlay {
    /// The name the stage gives it.
    async fn name(&self) -> &str {
        &self.name
    }
    /// The assembly's slot of that name (null when it has none).
    async fn slot(&self) -> Option<AssemblySlot> {
        self.slot.clone().map(AssemblySlot)
    }
}
