//! Tenants: the studios that own everything else.

pub mod api;
pub mod loaders;
pub mod model;
pub mod service;
pub mod store;
