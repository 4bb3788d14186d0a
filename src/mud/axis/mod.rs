//! Character axis state: each world's policy, the events that move a character's scores, and
//! the views of them.

pub mod api;
pub mod policy;
pub mod service;
pub mod store;
