//! Accounts: users, their memberships in tenants, sessions and sign-in.

pub mod api;
pub mod identities;
pub mod loaders;
pub mod members;
pub mod model;
pub mod own_tenants;
pub mod passwords;
pub mod resets;
pub mod service;
pub mod sessions;
pub mod store;
pub mod superuser;
pub mod usernames;
