//! Billing (seed 001): subscription tiers and their feature gates, Stripe checkout, portal and
//! webhooks, and the BrainBits ledger with its quotas.
//!
//! - `tiers`: the tiers, what each includes, and `require_feature`;
//! - `ledger`: credits and debits, periods and allowances, quotas;
//! - `consumption`: paying for an AI operation (exemptions, the debit, its event);
//! - `quotas`: the team's and each member's cap per period;
//! - `usage`: what the ledger says about consumption, read back (history, purchases, members);
//! - `store`: billing accounts, subscriptions, invoices, applied Stripe events;
//! - `api`: the GraphQL queries, mutations and stream of the ledger and the plan;
//! - `service`: what other domains may ask of billing;
//! - `stripe` and `checkout`: the calls to Stripe and the mutations that make them;
//! - `webhook`: Stripe's events, verified and applied once.

pub mod api;
pub mod checkout;
pub mod consumption;
pub mod group_quotas;
pub mod ledger;
pub mod model;
pub mod quotas;
pub mod service;
pub mod store;
pub mod stripe;
mod stripe_http;
pub mod tiers;
pub mod usage;
pub mod webhook;

use crate::error::AppError;

/// What billing operations answer on a server without a Stripe key.
pub fn not_configured() -> AppError {
    AppError::conflict("billing is not configured on this server (no Stripe key is set)")
}
