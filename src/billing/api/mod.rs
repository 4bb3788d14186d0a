//! GraphQL: the plan (tiers, features, subscription, invoices), BrainBits (balance, usage,
//! history, purchases, consumption), quotas, and the `brainbitsDeducted` stream.

mod mutations;
mod queries;
mod subscription;
mod types;

pub use mutations::BillingMutation;
pub use queries::BillingQuery;
pub use subscription::BillingSubscriptionRoot;
