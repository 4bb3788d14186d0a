//! Prompt templates (seed "Prompt Templates"): text with `{{entity.field}}` variables filled
//! from the tenant's entities, one or a batch, with every variable that has no value reported;
//! and the variables each type offers.

pub mod api;
pub mod service;
pub mod template;
