//! The one HTTP client every model call goes through: it sends a provider's call
//! ([`super::providers`]), streams the answer's text to the caller as it arrives
//! ([`super::attempt`]), retries what failed before any of the answer arrived
//! ([`super::retry`]), bounds every wait, and stops the upstream request when the caller
//! cancels (the connection is closed, not left to run).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::attempt::{Failed, read_bounded};
use super::model::{ChatRequest, Completion, Endpoint, LlmError, ModelInfo};
use super::network::{PublicResolver, Reach, check_endpoint};
use super::providers;
use super::retry::RetryPolicy;

/// How long each part of a call may take.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// Opening the connection.
    pub connect: Duration,
    /// From sending the call to the answer's first text (a model loading, a long prompt);
    /// keep-alive comments and pings before it do not extend it.
    pub first_piece: Duration,
    /// Between two pieces of an answer that has begun.
    pub idle: Duration,
    /// The whole call, retries and their waits included.
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            first_piece: Duration::from_secs(120),
            idle: Duration::from_secs(60),
            total: Duration::from_secs(600),
        }
    }
}

/// Calls language models over HTTP.
#[derive(Clone)]
pub struct LlmClient {
    pub(super) http: reqwest::Client,
    policy: RetryPolicy,
    pub(super) timeouts: Timeouts,
    reach: Reach,
}

impl LlmClient {
    /// A client whose calls reach the addresses `reach` allows ([`super::network`]).
    pub fn new(policy: RetryPolicy, timeouts: Timeouts, reach: Reach) -> anyhow::Result<Self> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            // A provider's base URL is where calls go; a redirect elsewhere is not followed.
            .redirect(reqwest::redirect::Policy::none())
            // A proxy from the environment would resolve names where the check cannot see.
            .no_proxy()
            .user_agent(concat!("loregraph/", env!("CARGO_PKG_VERSION")));
        if reach == Reach::PublicOnly {
            builder = builder.dns_resolver(std::sync::Arc::new(PublicResolver));
        }
        Ok(Self {
            http: builder.build()?,
            policy,
            timeouts,
            reach,
        })
    }

    /// A chat call: `on_text` gets each piece of the answer as it arrives; the result is the
    /// whole answer with its usage. Retried (within the policy) only while nothing of the
    /// answer has reached `on_text`. Cancelling `cancel` drops the connection to the provider
    /// and ends the call with [`LlmError::Cancelled`]; no text reaches `on_text` after that.
    pub async fn chat(
        &self,
        endpoint: &Endpoint,
        request: &ChatRequest,
        cancel: &CancellationToken,
        mut on_text: impl FnMut(&str) + Send,
    ) -> Result<Completion, LlmError> {
        check_endpoint(endpoint, self.reach)?;
        let started = Instant::now();
        // Counted outside each attempt, so a call cut off by the total timeout still knows
        // whether the caller saw part of an answer.
        let delivered = AtomicUsize::new(0);
        let mut counted = |text: &str| {
            delivered.fetch_add(text.len(), Ordering::Relaxed);
            on_text(text);
        };
        let mut waited = Duration::ZERO;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let left = self.timeouts.total.saturating_sub(started.elapsed());
            let outcome = tokio::select! {
                _ = cancel.cancelled() => return Err(LlmError::Cancelled),
                outcome = tokio::time::timeout(
                    left,
                    self.attempt(endpoint, request, cancel, &mut counted),
                ) => outcome,
            };
            let failed = match outcome {
                Ok(Ok(mut completion)) => {
                    completion.attempts = attempt;
                    return Ok(completion);
                }
                Ok(Err(failed)) => failed,
                Err(_) => {
                    let received = delivered.load(Ordering::Relaxed);
                    return Err(if received > 0 {
                        LlmError::Interrupted {
                            received,
                            reason: format!("the call ran past {:?} in all", self.timeouts.total),
                        }
                    } else {
                        LlmError::Timeout(self.timeouts.total)
                    });
                }
            };
            if failed.delivered > 0 || !failed.error.is_transient() {
                return Err(failed.error);
            }
            let wait = self
                .policy
                .next_wait(attempt, failed.retry_after, waited)
                .filter(|wait| started.elapsed() + *wait < self.timeouts.total);
            let Some(wait) = wait else {
                return Err(match failed.error {
                    LlmError::RateLimited { message, .. } => LlmError::RateLimited {
                        attempts: attempt,
                        message,
                    },
                    other => other,
                });
            };
            tracing::info!(
                provider = ?endpoint.provider,
                attempt,
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                error = %failed.error,
                "retrying a model call"
            );
            tokio::select! {
                _ = cancel.cancelled() => return Err(LlmError::Cancelled),
                _ = tokio::time::sleep(wait) => {}
            }
            waited += wait;
        }
    }

    /// The models a connection offers (one attempt; a listing is cheap to ask for again).
    pub async fn list_models(
        &self,
        endpoint: &Endpoint,
        cancel: &CancellationToken,
    ) -> Result<Vec<ModelInfo>, LlmError> {
        check_endpoint(endpoint, self.reach)?;
        let (call, read) = providers::models_call(&self.http, endpoint);
        let deadline = tokio::time::Instant::now() + self.timeouts.first_piece;
        let fetch = async {
            let response = self
                .send(endpoint, call, deadline)
                .await
                .map_err(|failed: Failed| failed.error)?;
            let bytes = read_bounded(response).await?;
            read(&bytes)
        };
        tokio::select! {
            _ = cancel.cancelled() => Err(LlmError::Cancelled),
            listed = tokio::time::timeout_at(deadline, fetch) => {
                listed.unwrap_or(Err(LlmError::Timeout(self.timeouts.first_piece)))
            }
        }
    }
}
