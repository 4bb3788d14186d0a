//! Rules for entities (seed 001 "Templates and Rules"): the template package's rule sets
//! (`rules/**/*.yaml`, built in or from `LOREGRAPH_TEMPLATES_DIR`), each tenant's copies and
//! own sets, switched off or given AI system prompts per type, and entities judged by them.

pub mod api;
pub mod catalog;
pub mod checks;
pub mod edits;
pub mod model;
pub mod parse;
pub mod parse_checks;
pub mod service;
pub mod slot_checks;
pub mod store;
pub mod validate;
