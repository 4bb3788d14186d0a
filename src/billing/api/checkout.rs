//! GraphQL: what Stripe sells (`billingPrices` and `tokenBlockPrices`, public) and the ways to
//! pay for it (`createCheckoutSession`, `purchaseTokens`, `createPortalSession`, ADMIN), each
//! answering a Stripe-hosted page to send the browser to. What is bought takes effect when
//! Stripe's webhook says it was paid, not here. Without billing configured each of these says so.

use std::sync::Arc;

use async_graphql::{Context, Object, SimpleObject};

use crate::auth::Role;
use crate::billing::checkout::{
    Purchase, customer_of, not_subscribed, one_open_checkout, portal_url, price_of,
};
use crate::billing::not_configured;
use crate::billing::store;
use crate::billing::stripe::StripeClient;
use crate::billing::tiers::{Feature, Tier, require_feature};
use crate::context::ContextExt;
use crate::error::{AppError, AppResult};

/// The subscription price of a paid tier, as Stripe charges it.
#[derive(SimpleObject, Clone, Debug)]
pub struct BillingPrice {
    /// The tier this price subscribes to.
    pub tier: Tier,
    /// Stripe's id of the price; `createCheckoutSession` takes it.
    pub price_id: String,
    /// What one interval costs, in the currency's smallest unit (cents for USD); null when
    /// Stripe does not know the price.
    pub unit_amount: Option<i64>,
    /// The ISO 4217 currency code, lower-case (`usd`).
    pub currency: Option<String>,
    /// How often it is charged: `day`, `week`, `month` or `year`.
    pub interval: Option<String>,
}

/// A block of BrainBits for sale, as Stripe charges it.
#[derive(SimpleObject, Clone, Debug)]
pub struct TokenBlockPrice {
    /// The block's id; `purchaseTokens` takes it.
    pub block_id: String,
    /// The BrainBits credited once the payment succeeds.
    pub brainbits: i64,
    /// Stripe's id of the block's price.
    pub price_id: String,
    /// What the block costs, in the currency's smallest unit (cents for USD); null when
    /// Stripe does not know the price.
    pub unit_amount: Option<i64>,
    /// The ISO 4217 currency code, lower-case (`usd`).
    pub currency: Option<String>,
}

/// A Stripe Checkout page for the browser to visit.
#[derive(SimpleObject, Clone, Debug)]
pub struct CheckoutSessionPayload {
    /// Stripe's hosted checkout page. After paying (or giving up) the browser comes back to
    /// the configured return URL with `?checkout=success&session_id=…` (or
    /// `?checkout=cancelled`).
    pub url: String,
}

/// A Stripe customer-portal page for the browser to visit.
#[derive(SimpleObject, Clone, Debug)]
pub struct PortalSessionPayload {
    /// Stripe's hosted portal, where the tenant's subscription, payment methods and invoices
    /// are managed. It is good for one visit, which ends at the configured return URL.
    pub url: String,
}

/// The Stripe client the server gave the schema, or the error saying billing is not
/// configured.
fn stripe_client<'a>(ctx: &Context<'a>) -> AppResult<&'a StripeClient> {
    ctx.data_opt::<Arc<StripeClient>>()
        .map(|stripe| &**stripe)
        .ok_or_else(not_configured)
}

#[derive(Default)]
pub struct CheckoutQuery;

#[Object]
impl CheckoutQuery {
    /// The subscription price of each paid tier, as Stripe has it (anyone may ask; amounts
    /// are refreshed from Stripe every ten minutes).
    async fn billing_prices(&self, ctx: &Context<'_>) -> AppResult<Vec<BillingPrice>> {
        let stripe = stripe_client(ctx)?;
        let prices = stripe.prices().await?;
        Ok(ctx
            .platform()
            .config
            .billing
            .prices
            .iter()
            .map(|(tier, price_id)| {
                let info = price_of(&prices, price_id);
                BillingPrice {
                    tier: *tier,
                    price_id: price_id.clone(),
                    unit_amount: info.and_then(|p| p.unit_amount),
                    currency: info.and_then(|p| p.currency.clone()),
                    interval: info.and_then(|p| p.interval.clone()),
                }
            })
            .collect())
    }

    /// The blocks of BrainBits for sale and their prices, as Stripe has them (anyone may ask;
    /// `purchaseTokens` buys one).
    async fn token_block_prices(&self, ctx: &Context<'_>) -> AppResult<Vec<TokenBlockPrice>> {
        let stripe = stripe_client(ctx)?;
        let prices = stripe.prices().await?;
        Ok(ctx
            .platform()
            .config
            .billing
            .token_blocks
            .iter()
            .map(|block| {
                let info = price_of(&prices, &block.price_id);
                TokenBlockPrice {
                    block_id: block.id.clone(),
                    brainbits: block.brainbits,
                    price_id: block.price_id.clone(),
                    unit_amount: info.and_then(|p| p.unit_amount),
                    currency: info.and_then(|p| p.currency.clone()),
                }
            })
            .collect())
    }
}

#[derive(Default)]
pub struct CheckoutMutation;

#[Object]
impl CheckoutMutation {
    /// Starts subscribing the tenant to a paid tier (ADMIN): a Stripe Checkout page for the
    /// tier's price (one of `billingPrices`; anything else is BAD_USER_INPUT on `priceId`).
    /// The tier changes when Stripe reports the payment. A tenant that is already subscribed
    /// changes its plan in the customer portal instead (CONFLICT).
    async fn create_checkout_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Stripe's id of a tier's price, as `billingPrices` lists it.")]
        price_id: String,
    ) -> AppResult<CheckoutSessionPayload> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let stripe = stripe_client(ctx)?;
        let Some(tier) = ctx.platform().config.billing.tier_of_price(&price_id) else {
            return Err(AppError::bad_field(
                "priceId",
                "priceId is not the price of a tier (billingPrices lists them)",
            ));
        };
        let mut conn = ctx.conn().await?;
        let customer = {
            let account = store::account(&mut conn, viewer.tenant_id).await?;
            not_subscribed(&account, tier)?;
            customer_of(&mut conn, stripe, viewer, &account).await?
        };
        let purchase = Purchase::Subscription {
            price_id: &price_id,
            tier,
        };
        let url = one_open_checkout(&mut conn, stripe, viewer, &customer, purchase).await?;
        Ok(CheckoutSessionPayload { url })
    }

    /// Starts buying a block of BrainBits (ADMIN, on a tier with TOKEN_PURCHASES): a Stripe
    /// Checkout page for the block (one of `tokenBlockPrices`; anything else is
    /// BAD_USER_INPUT on `blockId`). The BrainBits are credited when Stripe reports the payment.
    async fn purchase_tokens(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The block's id, as `tokenBlockPrices` lists it.")] block_id: String,
    ) -> AppResult<CheckoutSessionPayload> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let stripe = stripe_client(ctx)?;
        require_feature(
            ctx.platform(),
            ctx.viewer()?.tenant_id,
            Feature::TokenPurchases,
        )
        .await?;
        let Some(block) = ctx.platform().config.billing.block(&block_id) else {
            return Err(AppError::bad_field(
                "blockId",
                "blockId is not a block of BrainBits for sale (tokenBlockPrices lists them)",
            ));
        };
        let mut conn = ctx.conn().await?;
        let account = store::account(&mut conn, viewer.tenant_id).await?;
        let customer = customer_of(&mut conn, stripe, viewer, &account).await?;
        let url = one_open_checkout(
            &mut conn,
            stripe,
            viewer,
            &customer,
            Purchase::Tokens(block),
        )
        .await?;
        Ok(CheckoutSessionPayload { url })
    }

    /// A Stripe customer-portal page for the tenant (ADMIN): its subscription, payment
    /// methods and invoices. `GET /api/billing/portal` redirects there directly.
    async fn create_portal_session(&self, ctx: &Context<'_>) -> AppResult<PortalSessionPayload> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let url = portal_url(&ctx.platform().pool, stripe_client(ctx)?, viewer).await?;
        Ok(PortalSessionPayload { url })
    }
}
