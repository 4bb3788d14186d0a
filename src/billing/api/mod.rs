//! GraphQL: the plan (tiers, features, subscription, invoices), BrainBits (balance, usage,
//! history, purchases, consumption), quotas, the `brainbitsDeducted` stream, and paying through
//! Stripe (`checkout`).

mod checkout;
mod mutations;
mod queries;
mod subscription;
mod types;

pub use checkout::{CheckoutMutation, CheckoutQuery};
pub use mutations::BillingMutation;
pub use queries::BillingQuery;
pub use subscription::BillingSubscriptionRoot;
