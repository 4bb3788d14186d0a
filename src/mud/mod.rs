//! The MUD's administration (seed 002): worlds, rooms and their characters, in-world sessions and
//! the operations views over them, kicks, chat, and character axis state.

pub mod axis;
pub mod axis_policy;
pub mod axis_store;
pub mod characters;
pub mod chat;
pub mod chat_store;
pub mod introspection;
pub mod loaders;
pub mod model;
pub mod names;
pub mod ollama;
pub mod operations;
pub mod operations_store;
pub mod players;
pub mod server;
pub mod service;
pub mod store;
pub mod worlds;
