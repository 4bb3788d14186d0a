//! Billing queries: the plan, BrainBits, usage, history, purchases, invoices, quotas. Purchases
//! and invoices come as offset pages and by cursor (`…Connection`), from one loader each.

use async_graphql::{Context, Object};
use chrono::{Duration, Utc};

use super::types::{
    BillingStatus, BillingSubscription, BrainbitsBalance, BrainbitsUsage, EnabledFeatures,
    InvoiceConnection, InvoicePage, LedgerEntry, PurchaseConnection, PurchasePage,
    TeamMemberBilling, TeamMemberBillingPage, TokenBlockInfo, UsageBucket, tier_info, usage_of,
};
use crate::auth::Role;
use crate::billing::ledger;
use crate::billing::model::{Invoice, LedgerRow};
use crate::billing::store::{self, tier_of_row};
use crate::billing::tiers::{TIERS, Tier, TierInfo};
use crate::billing::usage::{self, UsageGrouping};
use crate::context::ContextExt;
use crate::db::connection::page_of;
use crate::db::cursor::ConnectionArgs;
use crate::db::keyset::Window;
use crate::db::pagination::PageRequest;
use crate::error::{AppError, AppResult};

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
        let settings = &ctx.platform().config.billing;
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
        let all_enabled = !ctx.platform().config.billing.configured();
        let features = if all_enabled {
            Tier::Studio.features().to_vec()
        } else {
            crate::billing::tiers::features_of(&mut conn, viewer.tenant_id, tier).await?
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
        #[graphql(desc = "How many invoices to skip: 0 to 10,000, 0 when absent.")] offset: Option<
            i32,
        >,
        #[graphql(desc = "How many invoices to return: 1 to 200, 50 when absent.")] limit: Option<
            i32,
        >,
    ) -> AppResult<InvoicePage> {
        ctx.viewer()?;
        let page = PageRequest::new(offset, limit)?;
        let (total, rows) = load_invoices(ctx, &Window::Offset(page)).await?;
        Ok(InvoicePage::new(total.unwrap_or_default(), page, rows))
    }

    /// The tenant's invoices by cursor, newest first.
    async fn invoices_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many invoices to return after `after`: 1 to 200, 50 when \
                          neither `first` nor `last` is given.")]
        first: Option<i32>,
        #[graphql(desc = "The cursor to go on after (an `endCursor`); the start when absent.")]
        after: Option<String>,
        #[graphql(desc = "How many invoices to return before `before`: 1 to 200.")] last: Option<
            i32,
        >,
        #[graphql(
            desc = "The cursor to go back from (a `startCursor`); the end when absent \
                          and `last` is given."
        )]
        before: Option<String>,
    ) -> AppResult<InvoiceConnection> {
        let cursors = ctx.cursors("invoices")?;
        let window = cursors.window(ConnectionArgs {
            first,
            after,
            last,
            before,
        })?;
        let (_, rows) = load_invoices(ctx, &Window::Keyset(window.clone())).await?;
        let key = |invoice: &Invoice| (invoice.created_at, invoice.id.clone());
        Ok(page_of(rows, &window, &cursors, key, |invoice| invoice).into())
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
        #[graphql(
            default_with = "UsageGrouping::Day",
            desc = "How to group the consumption (USER needs ADMIN)."
        )]
        group_by: UsageGrouping,
        #[graphql(default = 30, desc = "How many days back to look: 1 to 366.")] days: i32,
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
        let rows = usage::usage_history(&mut conn, viewer.tenant_id, since, group_by).await?;
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
            .platform()
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
        #[graphql(desc = "How many purchases to skip: 0 to 10,000, 0 when absent.")] offset: Option<
            i32,
        >,
        #[graphql(desc = "How many purchases to return: 1 to 200, 50 when absent.")] limit: Option<
            i32,
        >,
    ) -> AppResult<PurchasePage> {
        ctx.viewer()?;
        let page = PageRequest::new(offset, limit)?;
        let (total, rows) = load_purchases(ctx, &Window::Offset(page)).await?;
        Ok(PurchasePage::new(
            total.unwrap_or_default(),
            page,
            rows.into_iter().map(LedgerEntry::from).collect(),
        ))
    }

    /// BrainBits the tenant bought, by cursor, newest first.
    async fn purchase_history_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "How many purchases to return after `after`: 1 to 200, 50 when \
                          neither `first` nor `last` is given."
        )]
        first: Option<i32>,
        #[graphql(desc = "The cursor to go on after (an `endCursor`); the start when absent.")]
        after: Option<String>,
        #[graphql(desc = "How many purchases to return before `before`: 1 to 200.")] last: Option<
            i32,
        >,
        #[graphql(
            desc = "The cursor to go back from (a `startCursor`); the end when absent \
                          and `last` is given."
        )]
        before: Option<String>,
    ) -> AppResult<PurchaseConnection> {
        let cursors = ctx.cursors("purchases")?;
        let window = cursors.window(ConnectionArgs {
            first,
            after,
            last,
            before,
        })?;
        let (_, rows) = load_purchases(ctx, &Window::Keyset(window.clone())).await?;
        let key = |entry: &LedgerRow| (entry.created_at, entry.id);
        Ok(page_of(rows, &window, &cursors, key, LedgerEntry::from).into())
    }

    /// The members' consumption this period and their quotas, oldest members first (ADMIN).
    async fn team_members_billing(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many members to skip: 0 to 10,000, 0 when absent.")] offset: Option<
            i32,
        >,
        #[graphql(desc = "How many members to return: 1 to 200, 50 when absent.")] limit: Option<
            i32,
        >,
    ) -> AppResult<TeamMemberBillingPage> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let page = PageRequest::new(offset, limit)?;
        let mut conn = ctx.conn().await?;
        let (_, _, period) = ledger::settle(&mut conn, viewer.tenant_id).await?;
        let (total, rows) =
            usage::members_usage(&mut conn, viewer.tenant_id, period.start, page).await?;
        let members = rows
            .into_iter()
            .map(|(user_id, used, quota)| TeamMemberBilling {
                user_id,
                used,
                quota,
            })
            .collect();
        Ok(TeamMemberBillingPage::new(total, page, members))
    }
}

/// The viewer's tenant's invoices that `window` holds (with their total for an offset page).
async fn load_invoices(
    ctx: &Context<'_>,
    window: &Window<store::InvoiceKey>,
) -> AppResult<(Option<i64>, Vec<Invoice>)> {
    let viewer = ctx.viewer()?;
    let mut conn = ctx.conn().await?;
    store::invoices(&mut conn, viewer.tenant_id, window).await
}

/// The viewer's tenant's purchases that `window` holds (with their total for an offset page).
async fn load_purchases(
    ctx: &Context<'_>,
    window: &Window<usage::PurchaseKey>,
) -> AppResult<(Option<i64>, Vec<LedgerRow>)> {
    let viewer = ctx.viewer()?;
    let mut conn = ctx.conn().await?;
    usage::purchases(&mut conn, viewer.tenant_id, window).await
}
