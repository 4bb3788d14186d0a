//! The one HTTP client every model call goes through: it sends a provider's call
//! ([`super::providers`]), streams the answer's text to the caller as it arrives, retries what
//! failed before any of the answer arrived ([`super::retry`]), bounds every wait, and stops
//! the upstream request when the caller cancels (the connection is closed, not left to run).

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::model::{ChatRequest, Completion, Endpoint, LlmError, ModelInfo};
use super::providers::{self, PartialUsage, Piece};
use super::retry::{RetryPolicy, parse_retry_after};

/// The most of an error answer or a model list read from a provider.
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// How long each part of a call may take.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// Opening the connection.
    pub connect: Duration,
    /// From sending the call to the answer's first piece (a model loading, a long prompt).
    pub first_piece: Duration,
    /// Between two pieces of a streamed answer.
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
    http: reqwest::Client,
    policy: RetryPolicy,
    timeouts: Timeouts,
}

/// How one attempt failed, and what the provider said about trying again.
struct Failed {
    error: LlmError,
    retry_after: Option<Duration>,
    /// Characters of the answer the caller had already been given.
    delivered: usize,
}

impl From<LlmError> for Failed {
    fn from(error: LlmError) -> Self {
        Self {
            error,
            retry_after: None,
            delivered: 0,
        }
    }
}

impl LlmClient {
    pub fn new(policy: RetryPolicy, timeouts: Timeouts) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            // A provider's base URL is where calls go; a redirect elsewhere is not followed.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("loregraph/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            policy,
            timeouts,
        })
    }

    /// A chat call: `on_text` gets each piece of the answer as it arrives; the result is the
    /// whole answer with its usage. Retried (within the policy) only while nothing of the
    /// answer has reached `on_text`. Cancelling `cancel` drops the connection to the provider
    /// and ends the call with [`LlmError::Cancelled`].
    pub async fn chat(
        &self,
        endpoint: &Endpoint,
        request: &ChatRequest,
        cancel: &CancellationToken,
        mut on_text: impl FnMut(&str) + Send,
    ) -> Result<Completion, LlmError> {
        let started = Instant::now();
        let mut waited = Duration::ZERO;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let left = self.timeouts.total.saturating_sub(started.elapsed());
            let outcome = tokio::select! {
                _ = cancel.cancelled() => return Err(LlmError::Cancelled),
                outcome = tokio::time::timeout(left, self.attempt(endpoint, request, &mut on_text)) => outcome,
            };
            let failed = match outcome {
                Ok(Ok(mut completion)) => {
                    completion.attempts = attempt;
                    return Ok(completion);
                }
                Ok(Err(failed)) => failed,
                Err(_) => return Err(LlmError::Timeout(self.timeouts.total)),
            };
            if failed.delivered > 0 || !failed.error.is_transient() {
                return Err(failed.error);
            }
            let Some(wait) = self.policy.next_wait(attempt, failed.retry_after, waited) else {
                return Err(match failed.error {
                    LlmError::RateLimited { .. } => LlmError::RateLimited { attempts: attempt },
                    other => other,
                });
            };
            if started.elapsed() + wait >= self.timeouts.total {
                return Err(failed.error);
            }
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
        let (call, read) = providers::models_call(&self.http, endpoint);
        let fetch = async {
            let response = self.send(call).await.map_err(|f| f.error)?;
            let bytes = read_bounded(response).await?;
            read(&bytes)
        };
        tokio::select! {
            _ = cancel.cancelled() => Err(LlmError::Cancelled),
            listed = tokio::time::timeout(self.timeouts.first_piece, fetch) => {
                listed.unwrap_or(Err(LlmError::Timeout(self.timeouts.first_piece)))
            }
        }
    }

    async fn attempt(
        &self,
        endpoint: &Endpoint,
        request: &ChatRequest,
        on_text: &mut (impl FnMut(&str) + Send),
    ) -> Result<Completion, Failed> {
        let (call, mut reader) = providers::chat_call(&self.http, endpoint, request);
        let mut response = self.send(call).await?;
        let mut text = String::new();
        let mut usage = PartialUsage::default();
        let mut finish_reason = None;
        let mut done = false;
        let interrupted = |text: &String, reason: String| Failed {
            error: LlmError::Interrupted {
                received: text.chars().count(),
                reason,
            },
            retry_after: None,
            delivered: text.len(),
        };
        while !done {
            let wait = if text.is_empty() {
                self.timeouts.first_piece
            } else {
                self.timeouts.idle
            };
            let chunk = match tokio::time::timeout(wait, response.chunk()).await {
                Err(_) if text.is_empty() => return Err(LlmError::Timeout(wait).into()),
                Err(_) => return Err(interrupted(&text, format!("nothing came for {wait:?}"))),
                Ok(Err(error)) if text.is_empty() => return Err(unreachable(&error).into()),
                Ok(Err(error)) => return Err(interrupted(&text, error.to_string())),
                Ok(Ok(None)) => break,
                Ok(Ok(Some(chunk))) => chunk,
            };
            let pieces = reader.feed(&chunk).map_err(|error| Failed {
                error,
                retry_after: None,
                delivered: text.len(),
            })?;
            done = self.apply(pieces, &mut text, &mut usage, &mut finish_reason, on_text);
        }
        if !done {
            let pieces = reader.finish().map_err(|error| Failed {
                error,
                retry_after: None,
                delivered: text.len(),
            })?;
            done = self.apply(pieces, &mut text, &mut usage, &mut finish_reason, on_text);
        }
        // A server that closes the stream after its last piece without the end marker still
        // gave a whole answer if it said why it stopped.
        if !done && finish_reason.is_none() {
            if text.is_empty() {
                return Err(LlmError::Unreachable {
                    url: endpoint.base_url.clone(),
                    reason: "the stream ended before the answer began".into(),
                }
                .into());
            }
            return Err(interrupted(
                &text,
                "the stream ended before the answer was complete".into(),
            ));
        }
        Ok(Completion {
            text,
            usage: usage.complete(),
            finish_reason,
            attempts: 1,
        })
    }

    /// Hands each piece to the caller; whether the answer is complete.
    fn apply(
        &self,
        pieces: Vec<Piece>,
        text: &mut String,
        usage: &mut PartialUsage,
        finish_reason: &mut Option<String>,
        on_text: &mut (impl FnMut(&str) + Send),
    ) -> bool {
        let mut done = false;
        for piece in pieces {
            match piece {
                Piece::Text(more) => {
                    on_text(&more);
                    text.push_str(&more);
                }
                Piece::Usage(reported) => usage.merge(reported),
                Piece::Finish(reason) => *finish_reason = Some(reason),
                Piece::Done => done = true,
            }
        }
        done
    }

    /// Sends a call and checks its status: an answer that is not a success is read (bounded)
    /// for the provider's reason and `Retry-After`.
    async fn send(&self, call: reqwest::RequestBuilder) -> Result<reqwest::Response, Failed> {
        let response = tokio::time::timeout(
            self.timeouts.first_piece,
            call.headers(crate::telemetry::outgoing_headers()).send(),
        )
        .await
        .map_err(|_| LlmError::Timeout(self.timeouts.first_piece))?
        .map_err(|error| unreachable(&error))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(parse_retry_after);
        let body = read_bounded(response).await.unwrap_or_default();
        let error = if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            LlmError::RateLimited { attempts: 1 }
        } else {
            let mut message = providers::error_message(&body);
            if status.is_redirection() {
                message.push_str(" (redirects are not followed)");
            }
            LlmError::Refused {
                status: status.as_u16(),
                message,
            }
        };
        Err(Failed {
            error,
            retry_after,
            delivered: 0,
        })
    }
}

fn unreachable(error: &reqwest::Error) -> LlmError {
    LlmError::Unreachable {
        url: error
            .url()
            .map(|url| format!("{}://{}", url.scheme(), url.authority()))
            .unwrap_or_default(),
        reason: if error.is_connect() {
            "the connection failed".into()
        } else if error.is_timeout() {
            "the connection timed out".into()
        } else {
            "the connection broke".into()
        },
    }
}

async fn read_bounded(mut response: reqwest::Response) -> Result<Vec<u8>, LlmError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| unreachable(&error))?
    {
        if bytes.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(LlmError::Malformed(format!(
                "the answer is larger than {} MiB",
                MAX_BODY_BYTES / (1024 * 1024)
            )));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}
