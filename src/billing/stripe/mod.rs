//! The calls loregraph makes to Stripe's API, through async-stripe: customers (one per tenant,
//! created on first need), Checkout sessions for a tier's subscription or a block of BrainBits,
//! customer-portal sessions, and the configured prices (read from Stripe, cached for ten
//! minutes).
//!
//! Every call has a time limit. What Stripe refuses becomes a CONFLICT carrying Stripe's own
//! sentence; what cannot reach Stripe becomes an error saying so. The secret key is never put
//! in a message or a log line.
//!
//! What a Checkout session carries for the webhook (`checkout.session.completed`):
//! `client_reference_id` is the tenant id; `metadata` has `tenant_id` and `kind`
//! (`subscription`, or `tokens` with `block_id`, `brainbits` and `user_id`); a subscription's
//! own `metadata` has `tenant_id`, and so does a token purchase's PaymentIntent.

mod checkout_sessions;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection};
use stripe::StripeError;
use stripe_billing::billing_portal_session::CreateBillingPortalSession;
use stripe_core::customer::CreateCustomer;
use stripe_product::price::RetrievePrice;
use uuid::Uuid;

use super::store;
use super::stripe_http::PooledStripeClient;
use crate::config::BillingSettings;
use crate::error::{AppError, AppResult};

/// The longest one call to Stripe may take (async-stripe enforces it on each attempt; it makes
/// one attempt per call).
const TIMEOUT: Duration = Duration::from_secs(30);
/// How long prices read from Stripe are reused.
const PRICES_TTL: Duration = Duration::from_secs(10 * 60);

/// A configured price as Stripe describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriceInfo {
    pub price_id: String,
    /// In the currency's smallest unit (cents); None when Stripe does not know the price or it
    /// has no fixed amount.
    pub unit_amount: Option<i64>,
    /// ISO 4217, lower-case (`usd`).
    pub currency: Option<String>,
    /// `day`, `week`, `month` or `year` for a recurring price; None for a one-time price.
    pub interval: Option<String>,
}

impl PriceInfo {
    fn unknown(price_id: &str) -> Self {
        Self {
            price_id: price_id.to_owned(),
            unit_amount: None,
            currency: None,
            interval: None,
        }
    }
}

/// Stripe, as configured: the API client and what is sold.
pub struct StripeClient {
    client: PooledStripeClient,
    /// Kept only to scrub it from anything Stripe or the network says back.
    secret_key: String,
    return_url: String,
    /// Every configured price id (tiers first, then token blocks), each once.
    price_ids: Vec<String>,
    prices: moka::future::Cache<(), Arc<Vec<PriceInfo>>>,
}

impl StripeClient {
    /// None when no secret key is configured. Fails on an API base or return URL that is not
    /// an absolute http(s) URL, and on a secret key that cannot be sent as a header.
    ///
    /// Requests go to the API base with `v1/...` appended, so a base with a path (a proxy in
    /// front of Stripe, say) keeps it; a missing final `/` is added.
    pub fn new(settings: &BillingSettings) -> anyhow::Result<Option<Self>> {
        let Some(secret_key) = settings.stripe_secret_key.clone() else {
            return Ok(None);
        };
        if secret_key.trim().is_empty() {
            anyhow::bail!("the Stripe secret key is empty");
        }
        let mut base = reqwest::Url::parse(settings.api_base.trim()).map_err(|e| {
            anyhow::anyhow!(
                "the Stripe API base `{}` is not a URL ({e})",
                settings.api_base
            )
        })?;
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            anyhow::bail!(
                "the Stripe API base `{}` must be an http or https URL",
                settings.api_base
            );
        }
        if !base.username().is_empty() || base.password().is_some() {
            anyhow::bail!("the Stripe API base must not carry a user name or password");
        }
        if base.query().is_some() || base.fragment().is_some() {
            anyhow::bail!(
                "the Stripe API base `{}` must have no query or fragment (like https://api.stripe.com/)",
                settings.api_base
            );
        }
        if !base.path().ends_with('/') {
            // async-stripe appends `v1/...` to the base as written.
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let return_url = settings.return_url.trim();
        if !reqwest::Url::parse(return_url)
            .is_ok_and(|url| matches!(url.scheme(), "http" | "https"))
        {
            anyhow::bail!(
                "the billing return URL `{}` must be an absolute http or https URL",
                settings.return_url
            );
        }
        let client =
            PooledStripeClient::new(base.as_str(), &secret_key, TIMEOUT).map_err(|error| {
                anyhow::anyhow!(
                    "could not set up the Stripe client: {}",
                    redact(&error.to_string(), &secret_key)
                )
            })?;
        let mut price_ids: Vec<String> = Vec::new();
        let configured = settings
            .prices
            .iter()
            .map(|(_, price)| price)
            .chain(settings.token_blocks.iter().map(|block| &block.price_id));
        for price in configured {
            if !price_ids.contains(price) {
                price_ids.push(price.clone());
            }
        }
        Ok(Some(Self {
            client,
            secret_key,
            return_url: return_url.to_owned(),
            price_ids,
            prices: moka::future::Cache::builder()
                .max_capacity(1)
                .time_to_live(PRICES_TTL)
                .build(),
        }))
    }

    /// The tenant's Stripe customer: the one stored, or a new one (named after the tenant,
    /// with `email`, and `metadata[tenant_id]`) stored before this returns. The account row is
    /// locked while the customer is created, so two admins at once still make one customer.
    pub async fn ensure_customer(
        &self,
        conn: &mut AsyncPgConnection,
        tenant_id: Uuid,
        tenant_name: &str,
        email: &str,
    ) -> AppResult<String> {
        if let Some(customer) = store::account(conn, tenant_id).await?.stripe_customer_id {
            return Ok(customer);
        }
        // One creation per tenant at a time, under a lock of its own: the account row stays
        // free for debits and webhooks while Stripe answers.
        conn.transaction::<_, AppError, _>(async |conn| {
            store::lock_customer_creation(conn, tenant_id).await?;
            let account = store::account(conn, tenant_id).await?;
            if let Some(customer) = account.stripe_customer_id {
                return Ok(customer);
            }
            let customer = self.create_customer(tenant_id, tenant_name, email).await?;
            store::set_customer(conn, tenant_id, &customer).await?;
            Ok(customer)
        })
        .await
    }

    async fn create_customer(
        &self,
        tenant_id: Uuid,
        tenant_name: &str,
        email: &str,
    ) -> AppResult<String> {
        let params = CreateCustomer::new()
            .name(tenant_name)
            .email(email)
            .metadata(metadata([("tenant_id", tenant_id.to_string())]));
        let customer = self
            .send("create a customer", params.send(&self.client))
            .await?;
        tracing::info!(%tenant_id, customer = %customer.id, "created a Stripe customer");
        Ok(customer.id.to_string())
    }

    /// A customer-portal session for `customer`, returning to the configured URL; its URL.
    pub async fn portal(&self, customer: &str) -> AppResult<String> {
        let params = CreateBillingPortalSession::new()
            .customer(customer_id(customer)?)
            .return_url(self.return_url.as_str());
        let session = self
            .send(
                "create a customer portal session",
                params.send(&self.client),
            )
            .await?;
        Ok(session.url)
    }

    /// Every configured price (tiers first, then token blocks), reused for ten minutes.
    pub async fn prices(&self) -> AppResult<Vec<PriceInfo>> {
        let prices = self
            .prices
            .try_get_with((), async {
                let fetched = futures_util::future::try_join_all(
                    self.price_ids
                        .iter()
                        .map(|price_id| self.fetch_price(price_id)),
                )
                .await?;
                Ok::<_, AppError>(Arc::new(fetched))
            })
            .await
            .map_err(|error| AppError::from_shared(&error))?;
        Ok(prices.as_ref().clone())
    }

    /// Retrieves one price (`GET /v1/prices/{id}`). A price Stripe does not know (a 4xx other
    /// than 401, 403 and 429) is still listed, without an amount, and logged; any other failure
    /// is an error.
    async fn fetch_price(&self, price_id: &str) -> AppResult<PriceInfo> {
        match RetrievePrice::new(price_id).send(&self.client).await {
            Ok(price) => Ok(PriceInfo {
                price_id: price_id.to_owned(),
                unit_amount: price.unit_amount,
                currency: Some(price.currency.to_string()),
                interval: price.recurring.map(|r| r.interval.as_str().to_owned()),
            }),
            Err(StripeError::Stripe(refusal, status))
                if (400..500).contains(&status) && !matches!(status, 401 | 403 | 429) =>
            {
                tracing::warn!(
                    price = price_id,
                    status,
                    said = ?refusal.message.as_deref().map(|m| self.redact(m)),
                    "Stripe does not know a configured price"
                );
                Ok(PriceInfo::unknown(price_id))
            }
            Err(error) => Err(self.failure("retrieve a price", error)),
        }
    }

    /// One request to Stripe (async-stripe holds it to [`TIMEOUT`]), its failure told as an
    /// [`AppError`].
    async fn send<T>(
        &self,
        action: &'static str,
        request: impl Future<Output = Result<T, StripeError>>,
    ) -> AppResult<T> {
        request.await.map_err(|error| self.failure(action, error))
    }

    /// Logs what went wrong and says it in a sentence for the caller.
    fn failure(&self, action: &'static str, error: StripeError) -> AppError {
        match error {
            StripeError::Stripe(refusal, status) => {
                let message = refusal
                    .message
                    .as_deref()
                    .map(|m| self.redact(m))
                    .unwrap_or_default();
                tracing::warn!(
                    action,
                    status,
                    kind = %refusal.type_,
                    code = ?refusal.code.as_ref().map(|code| code.as_str()),
                    said = %message,
                    "Stripe refused a request"
                );
                match status {
                    // Not retryable: the operator must change the configuration.
                    401 | 403 => AppError::conflict(
                        "Stripe did not accept this server's API key; the operator must fix the billing configuration",
                    ),
                    429 => AppError::RateLimited {
                        message: "Stripe is limiting requests; try again in a moment".into(),
                        retry_after_secs: 2,
                    },
                    status if status >= 500 => {
                        upstream("Stripe could not complete the request; try again shortly")
                    }
                    _ if message.is_empty() => AppError::conflict(format!(
                        "Stripe refused the request ({})",
                        refusal.type_
                    )),
                    _ => AppError::conflict(format!("Stripe refused the request: {message}")),
                }
            }
            StripeError::Timeout => {
                tracing::warn!(action, "Stripe did not answer in time");
                upstream(format!(
                    "Stripe did not answer within {} seconds; try again shortly",
                    TIMEOUT.as_secs()
                ))
            }
            StripeError::ClientError(reason) => {
                tracing::warn!(action, reason = %self.redact(&reason), "could not reach Stripe");
                upstream("Stripe could not be reached; try again shortly")
            }
            StripeError::JSONDeserialize(reason) => {
                // Also what an error status with a body that is not Stripe's error becomes
                // (a proxy's page, say).
                tracing::warn!(action, reason = %self.redact(&reason), "Stripe's answer could not be read");
                upstream("Stripe's answer could not be read; try again shortly")
            }
            StripeError::ConfigError(reason) => AppError::internal(anyhow::anyhow!(
                "could not {action}: the Stripe client is misconfigured ({})",
                self.redact(&reason)
            )),
        }
    }

    /// `text` with the secret key blanked out, wherever it appears.
    fn redact(&self, text: &str) -> String {
        redact(text, &self.secret_key)
    }
}

/// `text` with `secret` blanked out, wherever it appears.
fn redact(text: &str, secret: &str) -> String {
    text.replace(secret, "sk_…")
}

/// Stripe did not do what was asked, through no fault of the caller's request: a retryable
/// INTERNAL error (503 on REST) with the reason.
fn upstream(message: impl Into<String>) -> AppError {
    AppError::Upstream(message.into())
}

/// The stored customer id, checked to look like one (async-stripe 1.0 takes any string).
fn customer_id(customer: &str) -> AppResult<&str> {
    if customer.len() > "cus_".len()
        && customer.starts_with("cus_")
        && customer
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        Ok(customer)
    } else {
        Err(AppError::internal(anyhow::anyhow!(
            "the stored Stripe customer id `{customer}` is not one"
        )))
    }
}

/// Stripe metadata from key and value pairs.
fn metadata<const N: usize>(pairs: [(&str, String); N]) -> HashMap<String, String> {
    pairs
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect()
}
