//! Notes (seed 000): markdown notes of a tenant, optionally attached to an entity.

pub mod api;
pub mod model;
pub mod service;
pub mod store;
