//! The beta program, run by the studio's operators (SUPERUSER): invite codes that put a
//! tenant in the beta with a tier's features for a while (`registerWithBetaCode` for a new
//! account, `redeemBetaCode` for an existing tenant), feedback from members, and a waitlist of
//! people without an account, each of whom can be promoted to a code of their own.

pub mod api;
pub mod codes;
pub mod feedback;
pub mod model;
pub mod service;
pub mod store;
pub mod waitlist;
