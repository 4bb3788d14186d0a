//! The MUD's administration (seed 002): worlds, rooms and their characters, in-world sessions and
//! the operations views over them, kicks.

pub mod characters;
pub mod loaders;
pub mod model;
pub mod names;
pub mod operations;
pub mod operations_store;
pub mod players;
pub mod server;
pub mod store;
pub mod worlds;
