//! The entities domain's part of the GraphQL schema.

pub mod connections;
pub mod crud;
pub mod graph;
pub mod history;
pub mod layouts;
pub mod object;
pub mod prefetch;
pub mod search;
pub mod subscription;
pub mod templates;
pub mod tenant_templates;

pub use super::types::{EntityStatus, EntityType};
pub use graph::EntityRefInput;
pub use object::Entity;
