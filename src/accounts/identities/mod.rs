//! Accounts' identities at OpenID providers (Google, Microsoft): signing in with one, the
//! browser's round trip to the provider, and linking and unlinking them. An identity is keyed
//! by the provider's stable subject, never by the email it reports; an email only ever joins
//! an identity to an existing account when the account's owner, signed in, asks for it.

pub mod flow;
pub mod service;
pub mod store;
