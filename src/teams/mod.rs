//! Teams and groups of a tenant's members, and what they may do: teams are units of the
//! studio (BrainBits quotas and share links are kept per team), groups carry permissions (from
//! a preset, or edited), permission templates are named sets of permissions an ADMIN applies
//! to members or groups, and `service::ensure_allowed` is where every write asks.

pub mod api;
pub mod loaders;
pub mod model;
pub mod permissions;
pub mod service;
pub mod store;
pub mod templates;
