//! Sessions and operations: who is online and playing where, each world's activity, kicks, the
//! players view, and stopping the server.

pub mod api;
pub mod kicks;
pub mod store;
