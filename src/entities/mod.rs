//! Worldbuilding entities: sixteen types with templates, CRUD with validation, references and
//! relationships, search, the recycle bin and history.

pub mod api;
pub mod comparisons;
pub mod graph;
pub mod history;
pub mod id_check;
pub mod layouts;
pub mod links;
pub mod loaders;
pub mod model;
pub mod portable;
pub mod references;
pub mod renames;
pub mod replace;
pub mod retention;
pub mod revalidation;
pub mod service;
pub mod store;
pub mod templates;
pub mod tenant_templates;
pub mod types;
pub mod validation;
pub mod writes;
