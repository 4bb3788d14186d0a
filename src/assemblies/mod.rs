//! Assemblies (seed "Assembly System", `rules/Core/assembly_constraints.yaml`): an ASSEMBLY
//! entity's slots filled with assets and placed (transform, order, locks), resolved down its
//! chain of parents (Template → Profile → Variant → Zombie), judged by the tenant's assembly
//! rules, its zombie stages, and exported through a pipeline's profile as a ZIP with its
//! manifest. The slots are defined in the assembly's frontmatter (`slot_definitions`), or by
//! the assembly template when it defines none; what fills them is kept here.

pub mod api;
pub mod chain;
pub mod constraints;
pub mod definitions;
pub mod detect;
pub mod edits;
pub mod export;
pub mod hierarchy;
pub mod model;
pub mod profiles;
pub mod service;
pub mod store;
pub mod validation;
pub mod zombie;
