//! GraphQL: the plan (tiers, features, subscription, invoices), BrainBits (balance, usage,
//! history, purchases, consumption), quotas, and the `brainbitsDeducted` stream.

use async_graphql::{Context, Enum, ID, Object, SimpleObject, Subscription};
use chrono::{DateTime, Duration, Utc};
use futures_util::Stream;
use uuid::Uuid;

use super::ledger::{self, Debit, UsageGrouping};
use super::model::{Invoice, LedgerRow};
use super::store::{self, tier_of_row};
use super::tiers::{Feature, TIERS, Tier, TierInfo, require_feature};
use crate::accounts::api::{User, load_user};
use crate::accounts::store as accounts;
use crate::auth::Role;
use crate::db::pagination::PageRequest;
use crate::db::parse_id;
use crate::error::{AppError, AppResult};
use crate::events::{BrainbitsDebit, EventPayload, kinds};
use crate::graphql::context::ContextExt;
use crate::graphql::subscriptions::tenant_events;

/// Providers that run on the user's own device: never debited.
const ON_DEVICE_PROVIDERS: &[&str] = &[
    "on-device",
    "local",
    "ollama",
    "llamacpp",
    "llama.cpp",
    "lmstudio",
    "webllm",
    "mlx",
    "gpt4all",
];
const MAX_DEBIT: i32 = 1_000_000;
const MAX_LABEL_CHARS: usize = 64;

/// Whose key pays for an AI call.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// The studio's key: metered in BrainBits.
    Studio,
    /// The user's own provider key ("bring your own key"): never debited.
    Byok,
}

/// The tenant's Stripe subscription.
#[derive(SimpleObject)]
pub struct BillingSubscription {
    pub tier: Tier,
    /// Stripe's status (active, trialing, past_due, canceled…); null without a subscription.
    pub status: Option<String>,
    pub subscription_id: Option<String>,
    pub current_period_start: Option<DateTime<Utc>>,
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
    pub message: String,
    pub tier: Tier,
    pub subscription_status: Option<String>,
    /// The tenant is a Stripe customer.
    pub has_customer: bool,
    pub balance: i64,
}

/// The features the tenant may use.
#[derive(SimpleObject)]
pub struct EnabledFeatures {
    pub tier: Tier,
    pub features: Vec<Feature>,
    /// Billing is not configured, so nothing is gated.
    pub all_enabled: bool,
}

/// The tenant's BrainBits.
#[derive(SimpleObject)]
pub struct BrainbitsBalance {
    pub balance: i64,
    pub tier: Tier,
    /// What the tier credits every period.
    pub period_allowance: i64,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
}

/// Consumption in the current billing period.
#[derive(SimpleObject)]
pub struct BrainbitsUsage {
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    /// By the whole team.
    pub used: i64,
    pub team_quota: Option<i64>,
    /// By you.
    pub your_used: i64,
    pub your_quota: Option<i64>,
    pub balance: i64,
    pub period_allowance: i64,
}

/// Consumption in one day, by one user, or of one operation.
#[derive(SimpleObject)]
pub struct UsageBucket {
    /// The day (YYYY-MM-DD, UTC), the user's id, or the operation.
    pub key: String,
    pub amount: i64,
    pub operations: i64,
}

/// A block of BrainBits for sale.
#[derive(SimpleObject)]
pub struct TokenBlockInfo {
    pub id: String,
    pub brainbits: i64,
    pub price_id: String,
}

/// An entry of the BrainBits ledger.
#[derive(SimpleObject)]
pub struct LedgerEntry {
    pub id: ID,
    /// Positive for credits, negative for debits.
    pub amount: i64,
    /// ALLOWANCE, PURCHASE, CONSUMPTION or ADJUSTMENT, in lower case.
    pub kind: String,
    pub reason: String,
    pub operation: Option<String>,
    pub provider: Option<String>,
    pub balance_after: i64,
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

#[derive(SimpleObject)]
pub struct PurchasePage {
    pub total: i64,
    pub offset: i64,
    pub limit: i64,
    pub purchases: Vec<LedgerEntry>,
}

#[derive(SimpleObject)]
pub struct InvoicePage {
    pub total: i64,
    pub offset: i64,
    pub limit: i64,
    pub invoices: Vec<Invoice>,
}

/// A member's consumption this period and their quota.
pub struct TeamMemberBilling {
    user_id: Uuid,
    used: i64,
    quota: Option<i64>,
}

#[Object]
impl TeamMemberBilling {
    async fn user(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        load_user(ctx, Some(self.user_id)).await
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

#[derive(SimpleObject)]
pub struct TeamMemberBillingPage {
    pub total: i64,
    pub offset: i64,
    pub limit: i64,
    pub members: Vec<TeamMemberBilling>,
}

/// What `consumeBrainbits` did.
#[derive(SimpleObject)]
pub struct ConsumeBrainbitsPayload {
    /// BrainBits taken (0 when exempt).
    pub charged: i64,
    /// Not metered: the user's own key, or an on-device provider.
    pub exempt: bool,
    pub message: String,
    pub balance: i64,
    /// The ledger entry, when something was taken.
    pub entry_id: Option<ID>,
}

/// A debit, as `brainbitsDeducted` streams it.
#[derive(SimpleObject)]
pub struct BrainbitsDeducted {
    pub entry_id: ID,
    pub user_id: ID,
    pub amount: i64,
    pub balance: i64,
    pub operation: String,
    pub provider: String,
    pub at: DateTime<Utc>,
    /// Where it stands among the tenant's events: pass the last one seen as `since` to resume
    /// there after a reconnect.
    pub sequence: ID,
}

fn validate_label(field: &'static str, value: &str) -> AppResult<String> {
    let value = value.trim();
    if value.is_empty()
        || value.chars().count() > MAX_LABEL_CHARS
        || value.chars().any(char::is_control)
    {
        return Err(AppError::bad_field(
            field,
            "use 1 to 64 printable characters",
        ));
    }
    Ok(value.to_owned())
}

fn validate_quota(field: &'static str, quota: Option<i64>) -> AppResult<Option<i64>> {
    match quota {
        Some(q) if q < 0 => Err(AppError::bad_field(field, "a quota is at least 0")),
        other => Ok(other),
    }
}

fn is_on_device(provider: &str) -> bool {
    ON_DEVICE_PROVIDERS.contains(&provider.to_ascii_lowercase().as_str())
}

fn tier_info(ctx: &Context<'_>, tier: Tier) -> TierInfo {
    TierInfo {
        tier,
        name: tier.display_name().to_owned(),
        monthly_brainbits: tier.monthly_brainbits(),
        features: tier.features().to_vec(),
        price_id: ctx
            .app()
            .config
            .billing
            .price_of_tier(tier)
            .map(str::to_owned),
    }
}

/// This period's consumption for the viewer's tenant and the viewer.
async fn usage_of(ctx: &Context<'_>) -> AppResult<BrainbitsUsage> {
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

#[derive(Default)]
pub struct BillingQuery;

#[Object]
impl BillingQuery {
    /// Every tier with its allowance, features and price (public).
    async fn tiers(&self, ctx: &Context<'_>) -> Vec<TierInfo> {
        TIERS.into_iter().map(|tier| tier_info(ctx, tier)).collect()
    }

    /// The tenant's subscription.
    async fn subscription(&self, ctx: &Context<'_>) -> AppResult<BillingSubscription> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        let account = store::account(&mut conn, viewer.tenant_id).await?;
        Ok(BillingSubscription {
            tier: tier_of_row(&account),
            status: account.subscription_status,
            subscription_id: account.stripe_subscription_id,
            current_period_start: account.current_period_start,
            current_period_end: account.current_period_end,
            cancel_at_period_end: account.cancel_at_period_end,
        })
    }

    /// Whether billing works here, and the tenant's standing.
    async fn billing_status(&self, ctx: &Context<'_>) -> AppResult<BillingStatus> {
        let viewer = ctx.viewer()?;
        let settings = &ctx.app().config.billing;
        let mut conn = ctx.conn().await?;
        let (account, balance, _) = ledger::settle(&mut conn, viewer.tenant_id).await?;
        let message = match (settings.configured(), settings.webhook_secret.is_some()) {
            (false, _) => "billing is not configured on this server; every feature is enabled",
            (true, false) => "billing is configured, but no webhook secret is set",
            (true, true) => "billing is configured",
        };
        Ok(BillingStatus {
            configured: settings.configured(),
            webhook_configured: settings.webhook_secret.is_some(),
            message: message.to_owned(),
            tier: tier_of_row(&account),
            subscription_status: account.subscription_status,
            has_customer: account.stripe_customer_id.is_some(),
            balance,
        })
    }

    /// The features the tenant's tier enables (all of them when billing is not configured).
    async fn features(&self, ctx: &Context<'_>) -> AppResult<EnabledFeatures> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        let tier = store::tier_of(&mut conn, viewer.tenant_id).await?;
        let all_enabled = !ctx.app().config.billing.configured();
        let features = if all_enabled {
            Tier::Studio.features().to_vec()
        } else {
            tier.features().to_vec()
        };
        Ok(EnabledFeatures {
            tier,
            features,
            all_enabled,
        })
    }

    /// The tenant's invoices, newest first.
    async fn invoices(
        &self,
        ctx: &Context<'_>,
        offset: Option<i32>,
        limit: Option<i32>,
    ) -> AppResult<InvoicePage> {
        let viewer = ctx.viewer()?;
        let page = PageRequest::new(offset, limit)?;
        let mut conn = ctx.conn().await?;
        let (total, rows) = store::invoices(&mut conn, viewer.tenant_id, page).await?;
        Ok(InvoicePage {
            total,
            offset: page.offset,
            limit: page.limit,
            invoices: rows,
        })
    }

    /// The tenant's BrainBits (this period's allowance is credited when the period begins).
    async fn brainbits_balance(&self, ctx: &Context<'_>) -> AppResult<BrainbitsBalance> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        let (account, balance, period) = ledger::settle(&mut conn, viewer.tenant_id).await?;
        let tier = tier_of_row(&account);
        Ok(BrainbitsBalance {
            balance,
            tier,
            period_allowance: tier.monthly_brainbits(),
            period_start: period.start,
            period_end: period.end,
        })
    }

    /// This period's consumption: the team's and yours, with the quotas.
    async fn usage(&self, ctx: &Context<'_>) -> AppResult<BrainbitsUsage> {
        usage_of(ctx).await
    }

    /// Consumption over the last `days` (1 to 366, 30 by default), by day, by operation, or
    /// (ADMIN) by user.
    async fn usage_history(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "UsageGrouping::Day")] group_by: UsageGrouping,
        #[graphql(default = 30)] days: i32,
    ) -> AppResult<Vec<UsageBucket>> {
        let viewer = ctx.viewer()?;
        if group_by == UsageGrouping::User {
            viewer.require_role(Role::Admin)?;
        }
        if !(1..=366).contains(&days) {
            return Err(AppError::bad_field("days", "between 1 and 366 days"));
        }
        let since = Utc::now() - Duration::days(i64::from(days));
        let mut conn = ctx.conn().await?;
        let rows = ledger::usage_history(&mut conn, viewer.tenant_id, since, group_by).await?;
        Ok(rows
            .into_iter()
            .map(|(key, amount, operations)| UsageBucket {
                key,
                amount,
                operations,
            })
            .collect())
    }

    /// The blocks of BrainBits for sale.
    async fn token_blocks(&self, ctx: &Context<'_>) -> AppResult<Vec<TokenBlockInfo>> {
        ctx.viewer()?;
        Ok(ctx
            .app()
            .config
            .billing
            .token_blocks
            .iter()
            .map(|block| TokenBlockInfo {
                id: block.id.clone(),
                brainbits: block.brainbits,
                price_id: block.price_id.clone(),
            })
            .collect())
    }

    /// BrainBits the tenant bought, newest first.
    async fn purchase_history(
        &self,
        ctx: &Context<'_>,
        offset: Option<i32>,
        limit: Option<i32>,
    ) -> AppResult<PurchasePage> {
        let viewer = ctx.viewer()?;
        let page = PageRequest::new(offset, limit)?;
        let mut conn = ctx.conn().await?;
        let (total, rows) = ledger::purchases(&mut conn, viewer.tenant_id, page).await?;
        Ok(PurchasePage {
            total,
            offset: page.offset,
            limit: page.limit,
            purchases: rows.into_iter().map(LedgerEntry::from).collect(),
        })
    }

    /// The members' consumption this period and their quotas, oldest members first (ADMIN).
    async fn team_members_billing(
        &self,
        ctx: &Context<'_>,
        offset: Option<i32>,
        limit: Option<i32>,
    ) -> AppResult<TeamMemberBillingPage> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let page = PageRequest::new(offset, limit)?;
        let mut conn = ctx.conn().await?;
        let (_, _, period) = ledger::settle(&mut conn, viewer.tenant_id).await?;
        let (total, rows) =
            ledger::members_usage(&mut conn, viewer.tenant_id, period.start, page).await?;
        Ok(TeamMemberBillingPage {
            total,
            offset: page.offset,
            limit: page.limit,
            members: rows
                .into_iter()
                .map(|(user_id, used, quota)| TeamMemberBilling {
                    user_id,
                    used,
                    quota,
                })
                .collect(),
        })
    }
}

#[derive(Default)]
pub struct BillingMutation;

#[Object]
impl BillingMutation {
    /// Pays for an AI operation in BrainBits (1 to 1,000,000). Calls on the user's own key
    /// (BYOK) or an on-device provider are not metered. Refused with FORBIDDEN
    /// (`reason`: quota_exceeded or insufficient_brainbits) when a quota or the balance would
    /// not cover it; the balance never goes below 0.
    async fn consume_brainbits(
        &self,
        ctx: &Context<'_>,
        amount: i32,
        operation: String,
        provider: String,
        #[graphql(default_with = "KeySource::Studio")] key_source: KeySource,
    ) -> AppResult<ConsumeBrainbitsPayload> {
        let viewer = ctx.viewer()?;
        if !(1..=MAX_DEBIT).contains(&amount) {
            return Err(AppError::bad_field(
                "amount",
                "consume 1 to 1,000,000 BrainBits",
            ));
        }
        let operation = validate_label("operation", &operation)?;
        let provider = validate_label("provider", &provider)?;
        let mut conn = ctx.conn().await?;
        let exemption = match key_source {
            _ if !ctx.app().config.billing.configured() => {
                Some("billing is not configured on this server: not metered")
            }
            KeySource::Byok => Some("your own key: not metered"),
            KeySource::Studio if is_on_device(&provider) => Some("on-device: not metered"),
            KeySource::Studio => None,
        };
        if let Some(message) = exemption {
            let (_, balance, _) = ledger::settle(&mut conn, viewer.tenant_id).await?;
            return Ok(ConsumeBrainbitsPayload {
                charged: 0,
                exempt: true,
                message: message.to_owned(),
                balance,
                entry_id: None,
            });
        }
        let debit = Debit {
            tenant_id: viewer.tenant_id,
            user_id: viewer.user_id,
            amount: i64::from(amount),
            operation: &operation,
            provider: &provider,
        };
        let entry = ledger::debit(&mut conn, &debit).await?;
        ctx.app().events.publish(
            viewer.tenant_id,
            Some(viewer.user_id),
            EventPayload::BrainbitsDeducted(BrainbitsDebit {
                entry_id: entry.id,
                user_id: viewer.user_id,
                amount: -entry.amount,
                balance: entry.balance_after,
                operation,
                provider,
            }),
        );
        Ok(ConsumeBrainbitsPayload {
            charged: -entry.amount,
            exempt: false,
            message: format!("{} BrainBits taken", -entry.amount),
            balance: entry.balance_after,
            entry_id: Some(ID(entry.id.to_string())),
        })
    }

    /// Caps the BrainBits the whole team may consume per period; null removes the cap
    /// (ADMIN, TEAM_QUOTAS).
    async fn update_team_quota(
        &self,
        ctx: &Context<'_>,
        quota: Option<i64>,
    ) -> AppResult<BrainbitsUsage> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let quota = validate_quota("quota", quota)?;
        require_feature(ctx, Feature::TeamQuotas).await?;
        let mut conn = ctx.conn().await?;
        store::set_team_quota(&mut conn, viewer.tenant_id, quota).await?;
        drop(conn);
        usage_of(ctx).await
    }

    /// Caps the BrainBits one member may consume per period; null removes the cap (ADMIN,
    /// TEAM_QUOTAS).
    async fn update_user_quota(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        quota: Option<i64>,
    ) -> AppResult<TeamMemberBilling> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let quota = validate_quota("quota", quota)?;
        let user_id = parse_id("userId", &user_id)?;
        require_feature(ctx, Feature::TeamQuotas).await?;
        let mut conn = ctx.conn().await?;
        if accounts::membership(&mut conn, viewer.tenant_id, user_id)
            .await?
            .is_none()
        {
            return Err(AppError::not_found("there is no such member here"));
        }
        ledger::set_user_quota(&mut conn, viewer.tenant_id, user_id, quota).await?;
        let (_, _, period) = ledger::settle(&mut conn, viewer.tenant_id).await?;
        let used = ledger::consumed_since(&mut conn, viewer.tenant_id, Some(user_id), period.start)
            .await?;
        Ok(TeamMemberBilling {
            user_id,
            used,
            quota,
        })
    }
}

#[derive(Default)]
pub struct BillingSubscriptionRoot;

#[Subscription]
impl BillingSubscriptionRoot {
    /// Every BrainBits debit in the tenant, as it happens.
    async fn brainbits_deducted(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Resume after this `sequence` (the last one seen): what happened since \
                          is replayed first."
        )]
        since: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = BrainbitsDeducted> + use<>> {
        Ok(tenant_events(
            ctx,
            since,
            kinds::BRAINBITS_DEDUCTED,
            |event| match &event.payload {
                EventPayload::BrainbitsDeducted(debit) => Some(BrainbitsDeducted {
                    entry_id: ID(debit.entry_id.to_string()),
                    user_id: ID(debit.user_id.to_string()),
                    amount: debit.amount,
                    balance: debit.balance,
                    operation: debit.operation.clone(),
                    provider: debit.provider.clone(),
                    at: event.at,
                    sequence: ID(event.seq.to_string()),
                }),
                _ => None,
            },
        )
        .await?)
    }
}
