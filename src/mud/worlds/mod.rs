//! Worlds and their rooms: the places of the MUD, each with its axis policy.

pub mod api;
pub mod service;
pub mod store;
