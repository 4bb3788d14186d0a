//! One attempt at a chat call: send it, check the answer is the stream it should be, and read
//! the stream piece by piece into the caller's hands, every wait bounded.

use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::client::LlmClient;
use super::model::{ChatRequest, Completion, Endpoint, LlmError, Provider};
use super::network::PrivateAddress;
use super::providers::{self, PartialUsage, Piece};
use super::retry::parse_retry_after;

/// The most of an error answer or a model list read from a provider.
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// The longest answer accepted (a provider streaming forever is cut off here).
const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;
/// How long an error answer's body is waited for once its status is known.
const ERROR_BODY_WAIT: Duration = Duration::from_secs(10);
/// How long the rest of a finished stream (its end marker's trailing bytes) is read after the
/// call returned, so the connection goes back to the pool instead of being closed.
const DRAIN_WAIT: Duration = Duration::from_secs(1);

/// How one attempt failed, and what the provider said about trying again.
pub(super) struct Failed {
    pub error: LlmError,
    pub retry_after: Option<Duration>,
    /// Bytes of the answer the caller had already been given.
    pub delivered: usize,
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

/// The answer as it builds up.
#[derive(Default)]
struct Answer {
    text: String,
    usage: PartialUsage,
    finish_reason: Option<String>,
    done: bool,
}

impl Answer {
    /// Hands each piece of text to the caller (none once the call is cancelled).
    fn apply(
        &mut self,
        pieces: Vec<Piece>,
        cancel: &CancellationToken,
        on_text: &mut (impl FnMut(&str) + Send),
    ) -> Result<(), LlmError> {
        for piece in pieces {
            match piece {
                Piece::Text(more) => {
                    if cancel.is_cancelled() {
                        return Err(LlmError::Cancelled);
                    }
                    if self.text.len() + more.len() > MAX_ANSWER_BYTES {
                        return Err(self.interrupted(format!(
                            "the answer passed {} MiB",
                            MAX_ANSWER_BYTES / (1024 * 1024)
                        )));
                    }
                    on_text(&more);
                    self.text.push_str(&more);
                }
                Piece::Usage(reported) => self.usage.merge(reported),
                Piece::Finish(reason) => self.finish_reason = Some(reason),
                Piece::Done => self.done = true,
            }
        }
        Ok(())
    }

    fn interrupted(&self, reason: String) -> LlmError {
        LlmError::Interrupted {
            received: self.text.chars().count(),
            reason,
        }
    }

    /// A failure at this point: the caller has `delivered` bytes of it.
    fn failed(&self, error: LlmError) -> Failed {
        Failed {
            error,
            retry_after: None,
            delivered: self.text.len(),
        }
    }

    /// Whether the model said the answer is over (a server that closes the stream after its
    /// last piece without the end marker still gave a whole answer if it said why it stopped).
    fn complete(&self) -> bool {
        self.done || self.finish_reason.is_some()
    }
}

impl LlmClient {
    pub(super) async fn attempt(
        &self,
        endpoint: &Endpoint,
        request: &ChatRequest,
        cancel: &CancellationToken,
        on_text: &mut (impl FnMut(&str) + Send),
    ) -> Result<Completion, Failed> {
        let first_deadline = Instant::now() + self.timeouts.first_piece;
        let (call, mut reader) = providers::chat_call(&self.http, endpoint, request);
        let mut response = self.send(endpoint, call, first_deadline).await?;
        expect_stream(endpoint, &mut response).await?;
        let mut answer = Answer::default();
        while !answer.done {
            let began = !answer.text.is_empty();
            let deadline = if began {
                Instant::now() + self.timeouts.idle
            } else {
                first_deadline
            };
            let chunk = match tokio::time::timeout_at(deadline, response.chunk()).await {
                Ok(Ok(Some(chunk))) => chunk,
                Ok(Ok(None)) => break,
                // Past the model's last word, a broken or silent end is still an end.
                _ if answer.complete() => break,
                Err(_) if began => {
                    let wait = self.timeouts.idle;
                    return Err(
                        answer.failed(answer.interrupted(format!("nothing came for {wait:?}")))
                    );
                }
                Err(_) => return Err(LlmError::Timeout(self.timeouts.first_piece).into()),
                Ok(Err(_)) if began => {
                    return Err(answer.failed(answer.interrupted("the connection broke".into())));
                }
                Ok(Err(error)) => return Err(unreachable(endpoint, &error).into()),
            };
            let pieces = reader.feed(&chunk).map_err(|error| answer.failed(error))?;
            answer
                .apply(pieces, cancel, on_text)
                .map_err(|error| answer.failed(error))?;
        }
        if answer.done {
            drain(response);
        } else {
            let pieces = reader.finish().map_err(|error| answer.failed(error))?;
            answer
                .apply(pieces, cancel, on_text)
                .map_err(|error| answer.failed(error))?;
        }
        if !answer.complete() {
            if answer.text.is_empty() {
                return Err(LlmError::Unreachable {
                    url: endpoint.origin(),
                    reason: "the stream ended before the answer began".into(),
                }
                .into());
            }
            return Err(answer.failed(
                answer.interrupted("the stream ended before the answer was complete".into()),
            ));
        }
        Ok(Completion {
            text: answer.text,
            usage: answer.usage.complete(),
            finish_reason: answer.finish_reason,
            attempts: 1,
        })
    }

    /// Sends a call and checks its status: an answer that is not a success is read (bounded in
    /// size and time) for the provider's reason and its `Retry-After`.
    pub(super) async fn send(
        &self,
        endpoint: &Endpoint,
        call: reqwest::RequestBuilder,
        deadline: Instant,
    ) -> Result<reqwest::Response, Failed> {
        let response = tokio::time::timeout_at(
            deadline,
            call.headers(crate::telemetry::outgoing_headers()).send(),
        )
        .await
        .map_err(|_| LlmError::Timeout(self.timeouts.first_piece))?
        .map_err(|error| unreachable(endpoint, &error))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let retry_after = retry_after(response.headers());
        let body = tokio::time::timeout(ERROR_BODY_WAIT, read_bounded(response))
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        let mut message = providers::error_message(&body);
        let error = if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            // A spent quota is a 429 too, and no wait ends it.
            if String::from_utf8_lossy(&body).contains("insufficient_quota") {
                LlmError::Refused {
                    status: status.as_u16(),
                    message,
                }
            } else {
                LlmError::RateLimited {
                    attempts: 1,
                    message,
                }
            }
        } else {
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

/// The wait a provider asks for: `retry-after-ms` (OpenAI, Azure), else `Retry-After`.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let text = |name| headers.get(name).and_then(|value| value.to_str().ok());
    text("retry-after-ms")
        .and_then(|ms| ms.trim().parse::<f64>().ok())
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
        .map(|ms| Duration::from_secs_f64(ms / 1000.0))
        .or_else(|| text("retry-after").and_then(parse_retry_after))
}

/// A streaming provider that answers 200 with something else than an event stream (a
/// gateway's JSON error, a web page at a wrong base URL) is reported as what it sent, not
/// read as an empty stream.
async fn expect_stream(
    endpoint: &Endpoint,
    response: &mut reqwest::Response,
) -> Result<(), Failed> {
    if endpoint.provider == Provider::Ollama {
        return Ok(());
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("text/event-stream") {
        return Ok(());
    }
    let mut body = Vec::new();
    let _ = tokio::time::timeout(ERROR_BODY_WAIT, async {
        while let Ok(Some(chunk)) = response.chunk().await {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                break;
            }
            body.extend_from_slice(&chunk);
        }
    })
    .await;
    let error = if content_type.contains("json") {
        LlmError::Upstream {
            message: providers::error_message(&body),
            transient: false,
        }
    } else {
        LlmError::Malformed(format!(
            "expected an event stream from {}, got {}",
            endpoint.origin(),
            if content_type.is_empty() {
                "no content type"
            } else {
                &content_type
            }
        ))
    };
    Err(error.into())
}

/// Reads what is left of a finished stream in the background, briefly, so the connection can
/// be used again (HTTP/1 closes a connection whose body was not read to its end).
fn drain(mut response: reqwest::Response) {
    tokio::spawn(async move {
        let _ = tokio::time::timeout(DRAIN_WAIT, async {
            let mut left = MAX_BODY_BYTES;
            while let Ok(Some(chunk)) = response.chunk().await {
                left = left.saturating_sub(chunk.len());
                if left == 0 {
                    break;
                }
            }
        })
        .await;
    });
}

/// A transport failure: transient, except a call that could not even be built (a base URL
/// that is not one).
pub(super) fn unreachable(endpoint: &Endpoint, error: &reqwest::Error) -> LlmError {
    if error.is_builder() {
        return LlmError::Misconfigured(format!(
            "the base URL {} cannot be called",
            endpoint.origin()
        ));
    }
    let mut reason = if error.is_connect() {
        "the connection failed".to_owned()
    } else if error.is_timeout() {
        "the connection timed out".to_owned()
    } else {
        "the connection broke".to_owned()
    };
    // The causes (DNS, TLS, refused) say more than reqwest's summary; none of them carries
    // the URL's credentials.
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        // A name that resolved only to private addresses: not a failure another try mends.
        if let Some(private) = cause.downcast_ref::<PrivateAddress>() {
            return LlmError::Misconfigured(private.to_string());
        }
        reason.push_str(": ");
        reason.push_str(&cause.to_string());
        source = cause.source();
    }
    LlmError::Unreachable {
        url: endpoint.origin(),
        reason,
    }
}

pub(super) async fn read_bounded(mut response: reqwest::Response) -> Result<Vec<u8>, LlmError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|_| LlmError::Unreachable {
        url: String::new(),
        reason: "the connection broke while the answer was read".into(),
    })? {
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
