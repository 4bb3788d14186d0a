//! API keys: long-lived credentials for scripts and services, acting as the user who made them
//! in one tenant. Stored hashed; the key is shown once.

pub mod api;
pub mod service;
pub mod store;
