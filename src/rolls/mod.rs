//! Dice rolls (seed 000): rolling pools with a proper RNG or recording dice rolled at the table,
//! classifying them by the d10 rules of DOMAIN_NOTES, and RollStatistics over any scope.

pub mod api;
pub mod dice;
pub mod model;
pub mod service;
pub mod store;
