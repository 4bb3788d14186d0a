//! What other domains may ask of billing: the one way in from outside it (ARCHITECTURE.md).

/// Forgets Stripe event ids past their retention (the retention sweeper).
pub use super::store::prune_stripe_events;

/// What a tenant's tier allows, and the check that refuses the rest (FORBIDDEN, naming the
/// cheapest tier that has it).
pub use super::tiers::{Feature, require_feature};

/// Paying for an AI operation in BrainBits (exemptions, the debit against the quotas, its
/// event): the way another domain charges for the AI work it does.
pub use super::consumption::{
    Charge, Consumption, KeySource, Take, consume, ensure_can_consume, is_metered,
};
