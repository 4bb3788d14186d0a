//! What other domains ask of the LLM layer: a model call that is paid for. A call on the
//! studio's provider is checked against the caller's quotas and balance before it starts and
//! debited in BrainBits by the tokens it used once it ends (as much as is left, should the
//! answer cost more than remained); calls on the tenant's own keys and on on-device providers
//! are not metered. The clients themselves are built once per server ([`LlmRuntime`]).

use tokio_util::sync::CancellationToken;

use super::model::{Completion, ModelInfo};
use crate::auth::Viewer;
use crate::billing::service::{Charge, KeySource, Take, consume, ensure_can_consume};
use crate::config::LlmSettings;
use crate::context::Platform;
use crate::error::{AppError, AppResult};

/// The client itself, for a domain that calls servers its operator configured (the Ollama
/// proxy), with its own retries and timeouts.
pub use super::client::{LlmClient, Timeouts};
pub use super::model::LlmError;
/// What a call is made of, for the domains that make one.
pub use super::model::{ChatRequest, Endpoint, Message, Provider, Role};
pub use super::network::Reach;
pub use super::retry::RetryPolicy;

/// The server's model clients: one for tenants' connections (reaching what the operator
/// allows), one for the studio's own provider (wherever the operator put it).
pub struct LlmRuntime {
    tenants: LlmClient,
    studio: LlmClient,
}

impl LlmRuntime {
    pub fn new(settings: &LlmSettings) -> anyhow::Result<Self> {
        let defaults = Timeouts::default();
        let timeouts = Timeouts {
            total: settings.timeout,
            first_piece: defaults.first_piece.min(settings.timeout),
            ..defaults
        };
        let reach = if settings.allow_private_networks {
            Reach::Anywhere
        } else {
            Reach::PublicOnly
        };
        Ok(Self {
            tenants: LlmClient::new(RetryPolicy::default(), timeouts, reach)?,
            studio: LlmClient::new(RetryPolicy::default(), timeouts, Reach::Anywhere)?,
        })
    }

    fn client(&self, key_source: KeySource) -> &LlmClient {
        match key_source {
            KeySource::Studio => &self.studio,
            KeySource::Byok => &self.tenants,
        }
    }
}

/// Where a call goes and whose key pays for it.
#[derive(Clone, Debug)]
pub struct Target {
    pub endpoint: Endpoint,
    pub key_source: KeySource,
}

impl Target {
    /// The provider's name in the ledger.
    pub fn provider_label(&self) -> &'static str {
        ledger_label(self.key_source, self.endpoint.provider)
    }
}

/// A provider's name in the ledger. The studio's own Ollama is named apart: it runs on the
/// studio's machines, not the user's, so it is not the on-device exemption.
pub fn ledger_label(key_source: KeySource, provider: Provider) -> &'static str {
    match (key_source, provider) {
        (_, Provider::OpenAiCompatible) => "openai_compatible",
        (_, Provider::Anthropic) => "anthropic",
        (KeySource::Byok, Provider::Ollama) => "ollama",
        (KeySource::Studio, Provider::Ollama) => "studio_ollama",
    }
}

/// A finished call and what it cost.
#[derive(Clone, Debug)]
pub struct Metered {
    pub completion: Completion,
    /// BrainBits taken (0 when not metered).
    pub charged: i64,
    /// Whether the call was metered at all.
    pub metered: bool,
    /// The tenant's balance afterwards.
    pub balance: i64,
}

/// The provider named the way configuration and the API name it.
pub fn provider_named(name: &str) -> Option<Provider> {
    match name {
        "OPENAI_COMPATIBLE" => Some(Provider::OpenAiCompatible),
        "ANTHROPIC" => Some(Provider::Anthropic),
        "OLLAMA" => Some(Provider::Ollama),
        _ => None,
    }
}

/// BrainBits a call that used `tokens` costs: one per `tokens_per_brainbit` begun, at least 1.
fn cost(tokens: u64, tokens_per_brainbit: u32) -> i32 {
    let bits = tokens
        .div_ceil(u64::from(tokens_per_brainbit.max(1)))
        .max(1);
    i32::try_from(bits).unwrap_or(i32::MAX).min(1_000_000)
}

/// Tokens a call used: as the provider reported them, else estimated from the text (about four
/// characters a token), so an unreported usage is never free.
fn tokens_used(request: &ChatRequest, completion: &Completion) -> u64 {
    match completion.usage {
        Some(usage) => u64::from(usage.prompt_tokens) + u64::from(usage.completion_tokens),
        None => estimated_tokens(request, completion.text.len()),
    }
}

/// Tokens of a call estimated from its text: about four bytes a token.
fn estimated_tokens(request: &ChatRequest, answer_bytes: usize) -> u64 {
    let prompt: usize = request.messages.iter().map(|m| m.content.len()).sum();
    ((prompt + answer_bytes) as u64).div_ceil(4)
}

/// Calls the model as the viewer and pays for it (`operation` names it in the ledger).
/// Refused before the call (FORBIDDEN) when a metered call finds no BrainBits left. No
/// database connection is held while the model answers.
#[allow(clippy::too_many_arguments)]
pub async fn chat(
    runtime: &LlmRuntime,
    platform: &Platform,
    viewer: &Viewer,
    target: &Target,
    request: &ChatRequest,
    operation: &str,
    cancel: &CancellationToken,
    on_text: impl FnMut(&str) + Send,
) -> AppResult<Metered> {
    let provider = target.provider_label();
    {
        let mut conn = platform.pool.get().await?;
        ensure_can_consume(platform, &mut conn, viewer, target.key_source, provider).await?;
    }
    // What reached the caller before a call was cut off is paid for all the same (the
    // provider produced it): a client may not read an answer and cancel before its end.
    let mut delivered = 0usize;
    let mut on_text = on_text;
    let answered = runtime
        .client(target.key_source)
        .chat(&target.endpoint, request, cancel, |piece| {
            delivered += piece.len();
            on_text(piece);
        })
        .await;
    let completion = match answered {
        Ok(completion) => completion,
        Err(error) => {
            if delivered > 0 {
                let tokens = estimated_tokens(request, delivered);
                let mut conn = platform.pool.get().await?;
                let charge = Charge {
                    amount: cost(tokens, platform.config.llm.tokens_per_brainbit),
                    operation,
                    provider,
                    key_source: target.key_source,
                    take: Take::UpTo,
                };
                if consume(platform, &mut conn, viewer, charge).await.is_err() {
                    tracing::warn!(
                        operation,
                        "the part of a cut-off answer could not be charged"
                    );
                }
            }
            return Err(failure(error));
        }
    };
    let tokens = tokens_used(request, &completion);
    let mut conn = platform.pool.get().await?;
    let paid = consume(
        platform,
        &mut conn,
        viewer,
        Charge {
            amount: cost(tokens, platform.config.llm.tokens_per_brainbit),
            operation,
            provider,
            key_source: target.key_source,
            take: Take::UpTo,
        },
    )
    .await;
    match paid {
        Ok(paid) => Ok(Metered {
            completion,
            charged: paid.charged,
            metered: !paid.exempt,
            balance: paid.balance,
        }),
        // Calls running side by side spent the last BrainBits while this one ran: the answer
        // the caller waited for is theirs all the same (the balance stays at zero; the next
        // call is refused before it starts).
        Err(AppError::Forbidden { .. }) => {
            tracing::warn!(
                operation,
                tokens,
                "a model call's answer outran its BrainBits"
            );
            Ok(Metered {
                completion,
                charged: 0,
                metered: true,
                balance: 0,
            })
        }
        Err(other) => Err(other),
    }
}

/// The models a target offers (not metered: listing costs the provider nothing).
pub async fn list_models(runtime: &LlmRuntime, target: &Target) -> AppResult<Vec<ModelInfo>> {
    runtime
        .client(target.key_source)
        .list_models(&target.endpoint, &CancellationToken::new())
        .await
        .map_err(failure)
}

/// A failed call as the client sees it: the provider's fault (retryable or not), or the
/// connection's settings.
fn failure(error: LlmError) -> AppError {
    match error {
        LlmError::Misconfigured(message) => {
            AppError::bad_input(format!("the connection is misconfigured: {message}"))
        }
        LlmError::Cancelled => AppError::bad_input("the call was cancelled"),
        other => AppError::Upstream(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_costs_a_brainbit_per_thousand_tokens_begun() {
        assert_eq!(cost(0, 1_000), 1);
        assert_eq!(cost(1, 1_000), 1);
        assert_eq!(cost(1_000, 1_000), 1);
        assert_eq!(cost(1_001, 1_000), 2);
        assert_eq!(cost(u64::MAX, 1), 1_000_000);
    }

    #[test]
    fn the_studios_own_ollama_is_not_on_device() {
        assert_eq!(ledger_label(KeySource::Byok, Provider::Ollama), "ollama");
        assert_eq!(
            ledger_label(KeySource::Studio, Provider::Ollama),
            "studio_ollama"
        );
    }
}
