//! The characters of worlds (not the CHARACTER entity type): created, provisioned, played by a
//! session, removed.

pub mod api;
pub mod service;
pub mod store;
