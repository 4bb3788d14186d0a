//! The HTTP client that carries async-stripe's requests to Stripe. async-stripe 1.0's own client
//! keeps no idle connections (`pool_max_idle_per_host(0)`), so every call paid a TCP and TLS
//! handshake; this one is a `reqwest` client with its connection pool, speaking the same wire
//! format: form-encoded bodies, `Bearer` key, `Stripe-Version`, idempotency keys, and Stripe's
//! error objects read back into [`StripeError::Stripe`].

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, USER_AGENT};
use stripe::{CustomizedStripeRequest, RequestStrategy, StripeError};
use stripe_client_core::{Outcome, StripeClient, StripeMethod};

/// A pooled client for one API base and secret key.
#[derive(Clone)]
pub struct PooledStripeClient {
    http: reqwest::Client,
    /// Ends with `/`; requests go to `{base}v1{path}`.
    base: String,
    timeout: Duration,
}

impl PooledStripeClient {
    /// Fails on a secret key or application name that cannot be sent as a header.
    pub fn new(base: &str, secret_key: &str, timeout: Duration) -> anyhow::Result<Self> {
        let mut headers = HeaderMap::new();
        let mut authorization = HeaderValue::from_str(&format!("Bearer {secret_key}"))
            .map_err(|_| anyhow::anyhow!("the Stripe secret key cannot be sent as a header"))?;
        authorization.set_sensitive(true);
        headers.insert(AUTHORIZATION, authorization);
        headers.insert(
            "stripe-version",
            HeaderValue::from_str(stripe_shared::version::VERSION.as_str())?,
        );
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("loregraph/", env!("CARGO_PKG_VERSION"))),
        );
        // Stripe's certificate chains to a public root: the built-in roots count besides the
        // system's, so a container without a CA bundle still reaches it.
        let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .filter_map(|der| reqwest::Certificate::from_der(der).ok());
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .tls_certs_merge(roots)
            // A redirect would turn a POST into a GET: a base that answers one is misconfigured.
            .redirect(reqwest::redirect::Policy::none())
            // Idle connections are kept a while and reused by the next call.
            .pool_idle_timeout(Duration::from_secs(90))
            .connect_timeout(timeout)
            .build()?;
        Ok(Self {
            http,
            base: base.to_owned(),
            timeout,
        })
    }

    async fn attempt(
        &self,
        method: StripeMethod,
        url: &str,
        body: Option<&str>,
        idempotency_key: Option<&str>,
        timeout: Duration,
    ) -> Result<(u16, Option<bool>, Bytes), StripeError> {
        let method = match method {
            StripeMethod::Get => reqwest::Method::GET,
            StripeMethod::Post => reqwest::Method::POST,
            StripeMethod::Delete => reqwest::Method::DELETE,
        };
        let mut request = self
            .http
            .request(method, url)
            .timeout(timeout)
            .headers(crate::telemetry::outgoing_headers());
        if let Some(body) = body {
            request = request
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body.to_owned());
        }
        if let Some(key) = idempotency_key {
            request = request.header("idempotency-key", key);
        }
        let response = request.send().await.map_err(transport_error)?;
        let status = response.status().as_u16();
        let should_retry = response
            .headers()
            .get("stripe-should-retry")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let bytes = response.bytes().await.map_err(transport_error)?;
        Ok((status, should_retry, bytes))
    }
}

fn transport_error(error: reqwest::Error) -> StripeError {
    if error.is_timeout() {
        StripeError::Timeout
    } else {
        // Without the URL: it is ours, and says nothing the caller needs.
        StripeError::ClientError(error.without_url().to_string())
    }
}

/// Stripe's error object in a failed answer, or a note that the answer was not one.
fn refusal(status: u16, bytes: &[u8]) -> StripeError {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|text| miniserde::json::from_str::<stripe_shared::Error>(text).ok())
        .map_or_else(
            || {
                StripeError::JSONDeserialize(format!(
                    "an answer with status {status} that is not Stripe's error"
                ))
            },
            |error| StripeError::Stripe(error.error, status),
        )
}

impl StripeClient for PooledStripeClient {
    type Err = StripeError;

    async fn execute(&self, request: CustomizedStripeRequest) -> Result<Bytes, StripeError> {
        let (request, config) = request.into_pieces();
        let mut url = format!("{}v1{}", self.base, request.path);
        if let Some(query) = &request.query {
            url.push('?');
            url.push_str(query);
        }
        let timeout = config.timeout.unwrap_or(self.timeout);
        let strategy = config.request_strategy.unwrap_or(RequestStrategy::Once);
        // One key for every attempt, so a retried request is applied once.
        let key = strategy.get_key();
        let mut tries = 0;
        let mut last: Option<(u16, Option<bool>)> = None;
        let mut last_error = StripeError::ClientError("no attempt was made".into());
        loop {
            match strategy.test(
                last.map(|(status, _)| status),
                last.and_then(|(_, retry)| retry),
                tries,
            ) {
                Outcome::Stop => return Err(last_error),
                Outcome::Continue(pause) => {
                    if let Some(pause) = pause {
                        tokio::time::sleep(pause).await;
                    }
                }
            }
            tries += 1;
            let attempt = self
                .attempt(
                    request.method,
                    &url,
                    request.body.as_deref(),
                    key.as_ref().map(|key| key.as_str()),
                    timeout,
                )
                .await;
            match attempt {
                Ok((status, _, bytes)) if (200..300).contains(&status) => return Ok(bytes),
                Ok((status, should_retry, bytes)) => {
                    last = Some((status, should_retry));
                    last_error = refusal(status, &bytes);
                }
                Err(error) => last_error = error,
            }
        }
    }
}
