//! REST shims for what cannot speak GraphQL: health probes, the cookie-based web login, uploads
//! and file serving.

pub mod assets;
pub mod billing_portal;
pub mod health;
pub mod web_auth;
