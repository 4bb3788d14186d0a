//! Paying through Stripe: the tenant's Stripe customer (made on first need), opening a Checkout
//! session for a tier or a block of BrainBits (one open at a time per purchase), and the
//! customer portal. What is bought takes effect when Stripe's webhook says it was paid.

use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::model::{BillingAccountRow, OpenedCheckout};
use super::store;
use super::stripe::{PriceInfo, StripeClient};
use super::tiers::Tier;
use crate::accounts::service as accounts;
use crate::auth::Viewer;
use crate::config::TokenBlock;
use crate::db::DbPool;
use crate::error::{AppError, AppResult};

/// Stripe subscription statuses in which the tenant is (still) subscribed: a second checkout
/// would start a second subscription, so changes go through the customer portal instead.
const SUBSCRIBED: [&str; 3] = ["active", "trialing", "past_due"];

/// Stripe's figures for a price id, when Stripe knows it.
pub fn price_of<'a>(prices: &'a [PriceInfo], price_id: &str) -> Option<&'a PriceInfo> {
    prices.iter().find(|price| price.price_id == price_id)
}

/// The tenant's Stripe customer: the account's, or one created now (named after the tenant,
/// with the viewer's email).
pub async fn customer_of(
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
pub fn not_subscribed(account: &BillingAccountRow, tier: Tier) -> AppResult<()> {
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
pub enum Purchase<'a> {
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
pub async fn one_open_checkout(
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
