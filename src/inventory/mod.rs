//! The inventory (seed "Inventory"): ITEM entities seen as a game's items — by category, type
//! and rarity — and carried in and out as loregraph's JSON or as UEFN Verse item definitions.

pub mod api;
pub mod service;
pub mod verse;
