//! Rows of the billing domain.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{billing_accounts, billing_invoices, brainbits_ledger};

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = billing_accounts, check_for_backend(diesel::pg::Pg))]
pub struct BillingAccountRow {
    pub tenant_id: Uuid,
    pub tier: String,
    pub stripe_customer_id: Option<String>,
    pub stripe_subscription_id: Option<String>,
    pub subscription_status: Option<String>,
    pub current_period_start: Option<DateTime<Utc>>,
    pub current_period_end: Option<DateTime<Utc>>,
    pub cancel_at_period_end: bool,
    pub subscription_event_at: Option<DateTime<Utc>>,
    pub subscription_event_rank: i16,
    pub team_quota: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One entry of the BrainBits ledger: a credit (positive) or a debit (negative).
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = brainbits_ledger, check_for_backend(diesel::pg::Pg))]
pub struct LedgerRow {
    pub id: i64,
    pub tenant_id: Uuid,
    pub amount: i64,
    pub kind: String,
    pub reason: String,
    pub user_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub operation: Option<String>,
    pub provider: Option<String>,
    pub period_key: Option<String>,
    pub stripe_ref: Option<String>,
    pub balance_after: i64,
    pub created_at: DateTime<Utc>,
}

/// An invoice as Stripe reported it.
// One shape for the webhook's writes, the table's rows and the GraphQL type.
#[derive(Queryable, Selectable, async_graphql::SimpleObject, Clone, Debug)]
#[diesel(table_name = billing_invoices, check_for_backend(diesel::pg::Pg))]
pub struct Invoice {
    /// Stripe's id of the invoice.
    pub id: String,
    /// Stripe's status of the invoice (draft, open, paid, void, uncollectible).
    pub status: String,
    /// The ISO 4217 currency code, lower-case (`usd`).
    pub currency: String,
    /// In the currency's smallest unit.
    pub amount_due: i64,
    /// What was paid, in the currency's smallest unit.
    pub amount_paid: i64,
    /// Stripe's page showing the invoice; null when Stripe gave none.
    pub hosted_invoice_url: Option<String>,
    /// When the period it bills began.
    pub period_start: Option<DateTime<Utc>>,
    /// When the period it bills ended.
    pub period_end: Option<DateTime<Utc>>,
    /// When Stripe created the invoice.
    pub created_at: DateTime<Utc>,
}

/// A Checkout session Stripe opened: where to send the browser, until when.
#[derive(Clone, Debug)]
pub struct OpenedCheckout {
    pub id: String,
    pub url: String,
    /// Unix seconds.
    pub expires_at: i64,
}
