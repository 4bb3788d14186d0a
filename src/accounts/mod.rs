//! Accounts: users, their memberships in tenants, sessions and sign-in.

pub mod api;
pub mod loaders;
pub mod members;
pub mod model;
pub mod passwords;
pub mod service;
pub mod sessions;
pub mod store;
pub mod superuser;
pub mod usernames;
