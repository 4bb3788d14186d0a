//! Invitations: an ADMIN invites an email into the tenant with a role; the invitee registers
//! (or, with an account already, accepts) with the token.

pub mod api;
pub mod service;
pub mod store;
