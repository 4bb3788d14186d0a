//! REST shims for what cannot speak GraphQL: health probes, the cookie-based web login, uploads
//! and file serving, the billing portal, Stripe's webhook, and Prometheus' `/metrics`.

pub mod assets;
pub mod billing_portal;
pub mod health;
pub mod metrics;
pub mod stripe_webhook;
pub mod web_auth;
