//! REST shims for what cannot speak GraphQL: health probes and the cookie-based web login.

pub mod health;
pub mod web_auth;
