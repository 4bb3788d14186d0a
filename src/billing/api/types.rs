//! The GraphQL types of billing and the small checks its resolvers share.

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::accounts::api::User;
use crate::billing::ledger;
use crate::billing::model::{Invoice, LedgerRow};
use crate::billing::store::tier_of_row;
use crate::billing::tiers::{Feature, Tier, TierInfo};
use crate::context::ContextExt;
use crate::db::connection::connection_type;
use crate::db::pagination::page_type;
use crate::error::AppResult;

/// The tenant's Stripe subscription.
#[derive(SimpleObject)]
pub struct BillingSubscription {
    /// The tenant's tier.
    pub tier: Tier,
    /// Stripe's status (active, trialing, past_due, canceled…); null without a subscription.
    pub status: Option<String>,
    /// Stripe's id of the subscription; null without one.
    pub subscription_id: Option<String>,
    /// When the period being paid for began; null without a subscription.
    pub current_period_start: Option<DateTime<Utc>>,
    /// When the period being paid for ends; null without a subscription.
    pub current_period_end: Option<DateTime<Utc>>,
    /// It ends with the current period.
    pub cancel_at_period_end: bool,
}

/// Whether billing works on this server, and the tenant's standing.
#[derive(SimpleObject)]
pub struct BillingStatus {
    /// A Stripe key is set.
    pub configured: bool,
    /// Stripe's webhook secret is set (without it no payment reaches the server).
    pub webhook_configured: bool,
    /// Whether billing and its webhook are configured, in words.
    pub message: String,
    /// The tenant's tier.
    pub tier: Tier,
    /// Stripe's status of the tenant's subscription; null without one.
    pub subscription_status: Option<String>,
    /// The tenant is a Stripe customer.
    pub has_customer: bool,
    /// The tenant's BrainBits.
    pub balance: i64,
}

/// The features the tenant may use.
#[derive(SimpleObject)]
pub struct EnabledFeatures {
    /// The tenant's tier.
    pub tier: Tier,
    /// The features the tenant may use.
    pub features: Vec<Feature>,
    /// Billing is not configured, so nothing is gated.
    pub all_enabled: bool,
}

/// The tenant's BrainBits.
#[derive(SimpleObject)]
pub struct BrainbitsBalance {
    /// The BrainBits the tenant has now.
    pub balance: i64,
    /// The tenant's tier.
    pub tier: Tier,
    /// What the tier credits every period.
    pub period_allowance: i64,
    /// When the current billing period began.
    pub period_start: DateTime<Utc>,
    /// When the current billing period ends.
    pub period_end: DateTime<Utc>,
}

/// Consumption in the current billing period.
#[derive(SimpleObject)]
pub struct BrainbitsUsage {
    /// When the current billing period began.
    pub period_start: DateTime<Utc>,
    /// When the current billing period ends.
    pub period_end: DateTime<Utc>,
    /// By the whole team.
    pub used: i64,
    /// The team's cap per period; null: no cap.
    pub team_quota: Option<i64>,
    /// By you.
    pub your_used: i64,
    /// Your own cap per period; null: only the team's cap applies.
    pub your_quota: Option<i64>,
    /// The BrainBits the tenant has now.
    pub balance: i64,
    /// What the tenant's tier credits every period.
    pub period_allowance: i64,
}

/// Consumption in one day, by one user, or of one operation.
#[derive(SimpleObject)]
pub struct UsageBucket {
    /// The day (YYYY-MM-DD, UTC), the user's id, or the operation.
    pub key: String,
    /// BrainBits consumed.
    pub amount: i64,
    /// How many operations consumed them.
    pub operations: i64,
}

/// A block of BrainBits for sale.
#[derive(SimpleObject)]
pub struct TokenBlockInfo {
    /// The block's id; `purchaseTokens` takes it.
    pub id: String,
    /// The BrainBits the block credits.
    pub brainbits: i64,
    /// Stripe's id of the block's price.
    pub price_id: String,
}

/// An entry of the BrainBits ledger.
#[derive(SimpleObject)]
pub struct LedgerEntry {
    /// The entry's id.
    pub id: ID,
    /// Positive for credits, negative for debits.
    pub amount: i64,
    /// ALLOWANCE, PURCHASE, CONSUMPTION or ADJUSTMENT, in lower case.
    pub kind: String,
    /// Why the entry was made, in words.
    pub reason: String,
    /// The AI operation paid for; null for other entries.
    pub operation: Option<String>,
    /// The provider that ran the operation; null for other entries.
    pub provider: Option<String>,
    /// The tenant's balance once the entry was applied.
    pub balance_after: i64,
    /// When the entry was made.
    pub at: DateTime<Utc>,
}

impl From<LedgerRow> for LedgerEntry {
    fn from(row: LedgerRow) -> Self {
        Self {
            id: ID(row.id.to_string()),
            amount: row.amount,
            kind: row.kind,
            reason: row.reason,
            operation: row.operation,
            provider: row.provider,
            balance_after: row.balance_after,
            at: row.created_at,
        }
    }
}

page_type! {
    /// A page of BrainBits purchases, newest first.
    pub struct PurchasePage {
        total,
        purchases: Vec<LedgerEntry>,
    }
}

page_type! {
    /// A page of invoices, newest first.
    pub struct InvoicePage {
        total,
        invoices: Vec<Invoice>,
    }
}

connection_type! {
    /// BrainBits purchases, newest first, a page at a time by cursor.
    pub struct PurchaseConnection;
    /// A purchase and its cursor.
    pub struct PurchaseEdge(LedgerEntry);
}

connection_type! {
    /// Invoices, newest first, a page at a time by cursor.
    pub struct InvoiceConnection;
    /// An invoice and its cursor.
    pub struct InvoiceEdge(Invoice);
}

pub struct TeamMemberBilling {
    pub(super) user_id: Uuid,
    pub(super) used: i64,
    pub(super) quota: Option<i64>,
}

/// A member's consumption this period and their quota.
#[Object]
impl TeamMemberBilling {
    /// The member.
    async fn user(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        User::load(ctx, Some(self.user_id)).await
    }

    /// BrainBits consumed this period.
    async fn used(&self) -> i64 {
        self.used
    }

    /// Their cap per period; null means only the team's cap applies.
    async fn quota(&self) -> Option<i64> {
        self.quota
    }
}

page_type! {
    /// A page of the members' consumption, oldest members first.
    pub struct TeamMemberBillingPage {
        total,
        members: Vec<TeamMemberBilling>,
    }
}

/// What `consumeBrainbits` did.
#[derive(SimpleObject)]
pub struct ConsumeBrainbitsPayload {
    /// BrainBits taken (0 when exempt).
    pub charged: i64,
    /// Not metered: the user's own key, or an on-device provider.
    pub exempt: bool,
    /// What was done, in words.
    pub message: String,
    /// The tenant's BrainBits after the call.
    pub balance: i64,
    /// The ledger entry, when something was taken.
    pub entry_id: Option<ID>,
}

/// A debit, as `brainbitsDeducted` streams it.
#[derive(SimpleObject)]
pub struct BrainbitsDeducted {
    /// The id of the ledger entry.
    pub entry_id: ID,
    /// The id of the user who consumed them.
    pub user_id: ID,
    /// The BrainBits taken.
    pub amount: i64,
    /// The tenant's BrainBits after the debit.
    pub balance: i64,
    /// The AI operation paid for.
    pub operation: String,
    /// The provider that ran it.
    pub provider: String,
    /// When the debit was made.
    pub at: DateTime<Utc>,
    /// Where it stands among the tenant's events: pass the last one seen as `since` to resume
    /// there after a reconnect.
    pub sequence: ID,
}

pub(super) fn tier_info(ctx: &Context<'_>, tier: Tier) -> TierInfo {
    TierInfo {
        tier,
        name: tier.display_name().to_owned(),
        monthly_brainbits: tier.monthly_brainbits(),
        features: tier.features().to_vec(),
        price_id: ctx
            .platform()
            .config
            .billing
            .price_of_tier(tier)
            .map(str::to_owned),
    }
}

/// This period's consumption for the viewer's tenant and the viewer.
pub(super) async fn usage_of(ctx: &Context<'_>) -> AppResult<BrainbitsUsage> {
    let viewer = ctx.viewer()?;
    let mut conn = ctx.conn().await?;
    let (account, balance, period) = ledger::settle(&mut conn, viewer.tenant_id).await?;
    let used = ledger::consumed_since(&mut conn, viewer.tenant_id, None, period.start).await?;
    let your_used = ledger::consumed_since(
        &mut conn,
        viewer.tenant_id,
        Some(viewer.user_id),
        period.start,
    )
    .await?;
    let your_quota = ledger::user_quota(&mut conn, viewer.tenant_id, viewer.user_id).await?;
    Ok(BrainbitsUsage {
        period_start: period.start,
        period_end: period.end,
        used,
        team_quota: account.team_quota,
        your_used,
        your_quota,
        balance,
        period_allowance: tier_of_row(&account).monthly_brainbits(),
    })
}
