//! Assets: uploaded images, stored once per content, served at unguessable URLs, processed
//! (dimensions, thumbnail) by a queue in PostgreSQL, and linked to the entities they illustrate.

pub mod api;
pub mod inspect;
pub mod jobs;
pub mod loaders;
pub mod metadata;
pub mod model;
pub mod portable;
pub mod service;
pub mod storage;
pub mod store;
mod sweep;
