//! What other domains may ask of billing: the one way in from outside it (ARCHITECTURE.md).

/// Forgets Stripe event ids past their retention (the retention sweeper).
pub use super::store::prune_stripe_events;
