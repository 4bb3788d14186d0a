//! GraphQL: the plan (tiers, features, subscription, invoices), BrainBits (balance, usage,
//! history, purchases, consumption), quotas, the `brainbitsDeducted` stream, and paying through
//! Stripe (`checkout`).

mod checkout;
mod group_quotas;
mod mutations;
mod queries;
mod subscription;
mod types;

pub use checkout::{CheckoutMutation, CheckoutQuery};
pub use group_quotas::{QuotaGroupMutation, QuotaGroupQuery};
pub use mutations::BillingMutation;
pub use queries::BillingQuery;
pub use subscription::BillingSubscriptionRoot;
