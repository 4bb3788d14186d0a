//! GraphQL: what Stripe sells (`billingPrices` and `tokenBlockPrices`, public) and the ways to
//! pay for it (`createCheckoutSession`, `purchaseTokens`, `createPortalSession`, ADMIN), each
//! answering a Stripe-hosted page to send the browser to. What is bought takes effect when
//! Stripe's webhook says it was paid, not here. Without billing configured each of these says so.

use std::sync::Arc;

use async_graphql::{Context, Object, SimpleObject};
use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::model::{BillingAccountRow, OpenedCheckout};
use super::not_configured;
use super::store;
use super::stripe::{PriceInfo, StripeClient};
use super::tiers::{Feature, Tier, require_feature};
use crate::accounts::service as accounts;
use crate::auth::{Role, Viewer};
use crate::config::TokenBlock;
use crate::context::ContextExt;
use crate::db::DbPool;
use crate::error::{AppError, AppResult};

/// Stripe subscription statuses in which the tenant is (still) subscribed: a second checkout
/// would start a second subscription, so changes go through the customer portal instead.
const SUBSCRIBED: [&str; 3] = ["active", "trialing", "past_due"];

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

fn price_of<'a>(prices: &'a [PriceInfo], price_id: &str) -> Option<&'a PriceInfo> {
    prices.iter().find(|price| price.price_id == price_id)
}

/// The tenant's Stripe customer: the account's, or one created now (named after the tenant,
/// with the viewer's email).
async fn customer_of(
    conn: &mut AsyncPgConnection,
    stripe: &StripeClient,
    viewer: &Viewer,
    account: &BillingAccountRow,
) -> AppResult<String> {
    if let Some(customer) = &account.stripe_customer_id {
        return Ok(customer.clone());
    }
    let tenant = crate::tenants::service::find_tenant(conn, viewer.tenant_id)
        .await?
        .ok_or_else(|| AppError::not_found("tenant not found"))?;
    let user = accounts::find_user(conn, viewer.user_id)
        .await?
        .ok_or_else(|| AppError::unauthenticated("the account no longer exists"))?;
    stripe
        .ensure_customer(conn, tenant.id, &tenant.name, &user.email)
        .await
}

/// CONFLICT when the tenant is subscribed already: it changes its plan in the portal.
fn not_subscribed(account: &BillingAccountRow, tier: Tier) -> AppResult<()> {
    let subscribed = account.stripe_subscription_id.is_some()
        && account
            .subscription_status
            .as_deref()
            .is_some_and(|status| SUBSCRIBED.contains(&status));
    if subscribed {
        return Err(AppError::conflict(format!(
            "this tenant already has a subscription (on {}); change it to {} in the customer portal (createPortalSession)",
            store::tier_of_row(account).as_str().to_uppercase(),
            tier.as_str().to_uppercase()
        )));
    }
    Ok(())
}

/// What a Checkout page is for.
#[derive(Clone, Copy)]
enum Purchase<'a> {
    Subscription {
        price_id: &'a str,
        tier: Tier,
    },
    /// A block of BrainBits, for the viewer.
    Tokens(&'a TokenBlock),
}

impl Purchase<'_> {
    /// What one open page serves: the tenant's subscription, or one member's block.
    fn purpose(&self, viewer: &Viewer) -> String {
        match self {
            Self::Subscription { .. } => "subscription".to_owned(),
            Self::Tokens(block) => format!("tokens:{}:{}", block.id, viewer.user_id),
        }
    }

    fn price_id(&self) -> &str {
        match self {
            Self::Subscription { price_id, .. } => price_id,
            Self::Tokens(block) => &block.price_id,
        }
    }

    async fn open(
        &self,
        stripe: &StripeClient,
        viewer: &Viewer,
        customer: &str,
    ) -> AppResult<OpenedCheckout> {
        match self {
            Self::Subscription { price_id, .. } => {
                stripe
                    .checkout_subscription(customer, viewer.tenant_id, price_id)
                    .await
            }
            Self::Tokens(block) => {
                stripe
                    .checkout_tokens(customer, viewer.tenant_id, viewer.user_id, block)
                    .await
            }
        }
    }
}

/// The tenant's open Checkout page for the purchase if it has one for its price and time
/// enough to pay, else a new one (expiring the old one at Stripe first, so no two can be
/// paid). One at a time per tenant and purpose, under a lock held while Stripe answers: two
/// clicks on "subscribe", or two admins at once, get one page, and so at most one
/// subscription. A subscription's checkout checks again under the lock that the tenant has
/// none (one may have started while this waited).
async fn one_open_checkout(
    conn: &mut AsyncPgConnection,
    stripe: &StripeClient,
    viewer: &Viewer,
    customer: &str,
    purchase: Purchase<'_>,
) -> AppResult<String> {
    let purpose = purchase.purpose(viewer);
    let tenant_id = viewer.tenant_id;
    let price_id = purchase.price_id();
    // The inner result is the caller's; the transaction commits either way, so an old page
    // expired at Stripe is forgotten even when opening its replacement failed.
    conn.transaction::<_, AppError, _>(async |conn| {
        store::lock_checkout(conn, tenant_id, &purpose).await?;
        if let Purchase::Subscription { tier, .. } = purchase {
            not_subscribed(&store::account(conn, tenant_id).await?, tier)?;
        }
        if let Some(open) = store::open_checkout(conn, tenant_id, &purpose).await? {
            if open.reusable_for(price_id) {
                return Ok(Ok(open.url));
            }
            stripe.expire_checkout(&open.stripe_session_id).await?;
            store::forget_checkout(conn, tenant_id, &purpose).await?;
        }
        let opened = match purchase.open(stripe, viewer, customer).await {
            Ok(opened) => opened,
            Err(error) => return Ok(Err(error)),
        };
        store::record_checkout(conn, tenant_id, &purpose, price_id, &opened).await?;
        Ok(Ok(opened.url))
    })
    .await?
}

/// A customer-portal URL for the viewer's tenant (whose role the caller has checked),
/// creating its Stripe customer first if it has none. `createPortalSession` and
/// `GET /api/billing/portal` both answer with it.
pub async fn portal_url(
    pool: &DbPool,
    stripe: &StripeClient,
    viewer: &Viewer,
) -> AppResult<String> {
    let customer = {
        let mut conn = pool.get().await?;
        let account = store::account(&mut conn, viewer.tenant_id).await?;
        customer_of(&mut conn, stripe, viewer, &account).await?
    };
    stripe.portal(&customer).await
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
        block_id: String,
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
