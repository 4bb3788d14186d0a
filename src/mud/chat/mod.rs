//! Chat in a world's rooms: speaking, hearing live, moderation.

pub mod api;
pub mod service;
pub mod store;
