//! REST shims for what cannot speak GraphQL: health probes, the cookie-based web login, uploads
//! and file serving, the billing portal and Stripe's webhook.

pub mod assets;
pub mod billing_portal;
pub mod health;
pub mod stripe_webhook;
pub mod web_auth;
