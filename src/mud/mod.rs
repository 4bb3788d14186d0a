//! The MUD's administration (seed 002), one folder per sub-domain: worlds and rooms,
//! characters, sessions and operations, chat, axis state, the database browser
//! (`introspection`) and the Ollama proxy. What they share: the rows (`model`), their loaders
//! and the name generator.

pub mod axis;
pub mod characters;
pub mod chat;
pub mod introspection;
pub mod loaders;
pub mod model;
pub mod names;
pub mod ollama;
pub mod service;
pub mod sessions;
pub mod worlds;
