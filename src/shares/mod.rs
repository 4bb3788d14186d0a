//! Share links: read-only views of an entity, a set of entities or a whole type, opened
//! without an account (`GET /api/share/{code}`, `sharedWith(code)`), optionally expiring and
//! password-protected, revocable, kept per creator and per team.

pub mod api;
pub mod model;
pub mod service;
pub mod store;
