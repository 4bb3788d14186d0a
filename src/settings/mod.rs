//! Each person's own settings (a document of known keys: theme, locale, time zone, default AI
//! provider...) and their own AI provider keys, sealed at rest and used for the calls they make
//! through a connection that has no key of its own (not metered: their key pays).

pub mod api;
pub mod keys;
pub mod service;
pub mod store;
