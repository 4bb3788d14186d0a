//! Image presets (seed "Image Presets"): a studio's ways of generating images — a style, a
//! negative prompt, a size — for one entity type or every type, one of them each type's default.

pub mod api;
pub mod service;
pub mod store;
