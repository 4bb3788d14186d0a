//! Checkout sessions: opening one for a tier's subscription or a block of BrainBits, with what
//! the webhook reads back from it, and closing one that a newer one replaces.

use stripe::StripeError;
use stripe_checkout::CheckoutSessionMode;
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionPaymentIntentData,
    CreateCheckoutSessionSubscriptionData, ExpireCheckoutSession, RetrieveCheckoutSession,
};
use stripe_shared::CheckoutSessionStatus;
use uuid::Uuid;

use super::{StripeClient, customer_id, metadata, upstream};
use crate::billing::model::OpenedCheckout;
use crate::config::TokenBlock;
use crate::error::{AppError, AppResult};

impl StripeClient {
    /// A Checkout session subscribing `customer` to `price_id` (one seat).
    pub async fn checkout_subscription(
        &self,
        customer: &str,
        tenant_id: Uuid,
        price_id: &str,
    ) -> AppResult<OpenedCheckout> {
        let tenant = tenant_id.to_string();
        let mut subscription = CreateCheckoutSessionSubscriptionData::new();
        subscription.metadata = Some(metadata([("tenant_id", tenant.clone())]));
        let params = self
            .checkout_params(customer, &tenant, price_id)?
            .mode(CheckoutSessionMode::Subscription)
            .metadata(metadata([
                ("tenant_id", tenant.clone()),
                ("kind", "subscription".to_owned()),
                // The webhook activates the tier from the completed session with it.
                ("price_id", price_id.to_owned()),
            ]))
            .subscription_data(subscription);
        self.checkout(params).await
    }

    /// A Checkout session paying once for a block of BrainBits, bought by `user_id`.
    pub async fn checkout_tokens(
        &self,
        customer: &str,
        tenant_id: Uuid,
        user_id: Uuid,
        block: &TokenBlock,
    ) -> AppResult<OpenedCheckout> {
        let tenant = tenant_id.to_string();
        let purchase = metadata([
            ("tenant_id", tenant.clone()),
            ("kind", "tokens".to_owned()),
            ("block_id", block.id.clone()),
            ("brainbits", block.brainbits.to_string()),
            ("user_id", user_id.to_string()),
        ]);
        let mut payment = CreateCheckoutSessionPaymentIntentData::new();
        payment.metadata = Some(purchase.clone());
        let params = self
            .checkout_params(customer, &tenant, &block.price_id)?
            .mode(CheckoutSessionMode::Payment)
            .metadata(purchase)
            .payment_intent_data(payment);
        self.checkout(params).await
    }

    /// What every Checkout session carries: the customer, the tenant as the client reference,
    /// where the browser returns, and one of `price_id`.
    fn checkout_params(
        &self,
        customer: &str,
        tenant: &str,
        price_id: &str,
    ) -> AppResult<CreateCheckoutSession> {
        Ok(CreateCheckoutSession::new()
            .customer(customer_id(customer)?)
            .client_reference_id(tenant)
            .success_url(self.success_url())
            .cancel_url(self.cancel_url())
            .line_items(vec![line_item(price_id)]))
    }

    async fn checkout(&self, params: CreateCheckoutSession) -> AppResult<OpenedCheckout> {
        let session = self
            .send("create a checkout session", params.send(&self.client))
            .await?;
        let Some(url) = session.url else {
            tracing::warn!(session = %session.id, "Stripe created a checkout session without a URL");
            return Err(upstream(
                "Stripe created a checkout session without a URL to send the browser to",
            ));
        };
        Ok(OpenedCheckout {
            id: session.id.to_string(),
            url,
            expires_at: session.expires_at,
        })
    }

    /// Closes an open Checkout session that a newer one replaces. One that expired already is
    /// fine; one that was paid meanwhile (its webhook not in yet) is a CONFLICT: opening
    /// another could make a second subscription.
    pub async fn expire_checkout(&self, session_id: &str) -> AppResult<()> {
        match ExpireCheckoutSession::new(session_id)
            .send(&self.client)
            .await
        {
            Ok(_) | Err(StripeError::Stripe(_, 404)) => Ok(()),
            // Stripe refuses to expire a session that is not open: find out which it is.
            Err(StripeError::Stripe(_, 400)) => {
                let session = self
                    .send(
                        "read a checkout session",
                        RetrieveCheckoutSession::new(session_id).send(&self.client),
                    )
                    .await?;
                match session.status {
                    Some(CheckoutSessionStatus::Complete) => Err(AppError::conflict(
                        "a checkout of this tenant was just paid; it applies in a moment",
                    )),
                    _ => Ok(()),
                }
            }
            Err(error) => Err(self.failure("expire a checkout session", error)),
        }
    }

    fn success_url(&self) -> String {
        with_query(
            &self.return_url,
            "checkout=success&session_id={CHECKOUT_SESSION_ID}",
        )
    }

    fn cancel_url(&self) -> String {
        with_query(&self.return_url, "checkout=cancelled")
    }
}

fn line_item(price_id: &str) -> CreateCheckoutSessionLineItems {
    let mut item = CreateCheckoutSessionLineItems::new();
    item.price = Some(price_id.to_owned());
    item.quantity = Some(1);
    item
}

/// `base` with `query` appended after `?`, or after `&` when it already has a query.
fn with_query(base: &str, query: &str) -> String {
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}{query}")
}

#[cfg(test)]
mod tests {
    use super::with_query;

    #[test]
    fn return_urls_get_their_query_appended() {
        assert_eq!(
            with_query("https://app.example/billing", "checkout=cancelled"),
            "https://app.example/billing?checkout=cancelled"
        );
        assert_eq!(
            with_query("https://app.example/billing?tab=plan", "checkout=cancelled"),
            "https://app.example/billing?tab=plan&checkout=cancelled"
        );
    }
}
