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

/// A tenant's BrainBits in its current billing period, as a summary shows them.
#[derive(Clone, Debug)]
pub struct PeriodUsage {
    pub period_start: chrono::DateTime<chrono::Utc>,
    pub period_end: chrono::DateTime<chrono::Utc>,
    /// BrainBits every member consumed since the period began.
    pub used: i64,
    /// The balance now.
    pub balance: i64,
    /// What the tenant's tier credits each period.
    pub allowance: i64,
}

/// The tenant's BrainBits this period. The account is settled first (the period's allowance
/// credited when it begins), as every read of the balance does.
pub async fn period_usage(
    conn: &mut diesel_async::AsyncPgConnection,
    tenant_id: uuid::Uuid,
) -> crate::error::AppResult<PeriodUsage> {
    let (account, balance, period) = super::ledger::settle(conn, tenant_id).await?;
    let used = super::ledger::consumed_since(conn, tenant_id, None, period.start).await?;
    Ok(PeriodUsage {
        period_start: period.start,
        period_end: period.end,
        used,
        balance,
        allowance: super::store::tier_of_row(&account).monthly_brainbits(),
    })
}
