//! What a call to a language model takes and gives, the same for every provider.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The wire protocol an API connection speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Provider {
    /// OpenAI's chat completions (`POST {base}/chat/completions`, `GET {base}/models`), as
    /// OpenAI, OpenRouter, vLLM, llama.cpp and LM Studio serve them; the base URL ends where
    /// those paths begin (`https://api.openai.com/v1`).
    OpenAiCompatible,
    /// Anthropic's Messages API (`POST {base}/v1/messages`, `GET {base}/v1/models`).
    Anthropic,
    /// Ollama's native API (`POST {base}/api/chat`, `GET {base}/api/tags`).
    Ollama,
}

/// Where a call goes: a provider's base URL, the key it wants (none for a local server) and
/// the model to ask.
#[derive(Clone)]
pub struct Endpoint {
    pub provider: Provider,
    /// A trailing slash is ignored.
    pub base_url: String,
    pub api_key: Option<String>,
    pub model: String,
}

impl Endpoint {
    /// `path` under the base URL.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url.trim_end_matches('/'))
    }

    /// The base URL's scheme, host and port: what errors and logs may show of it (a base URL
    /// can carry credentials in its user info or query).
    pub fn origin(&self) -> String {
        reqwest::Url::parse(&self.base_url)
            .ok()
            .map(|url| url.origin().ascii_serialization())
            .unwrap_or_else(|| "an unreadable base URL".into())
    }
}

/// The key stays out of logs and error reports.
impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("provider", &self.provider)
            .field("origin", &self.origin())
            .field("has_api_key", &self.api_key.is_some())
            .field("model", &self.model)
            .finish()
    }
}

/// Who said a message of a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One message of the conversation sent to a model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

impl Message {
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
        }
    }
}

/// A chat call: the conversation and how to sample the answer.
#[derive(Clone, Debug, Default)]
pub struct ChatRequest {
    pub messages: Vec<Message>,
    /// Sent as written (an f32 would reach the provider as 0.800000011920929).
    pub temperature: Option<f64>,
    /// The most tokens the answer may take (Anthropic requires one: [`DEFAULT_MAX_TOKENS`]).
    pub max_tokens: Option<u32>,
    /// The answer must be one JSON object.
    pub json: bool,
}

/// The answer's length when a call to a provider that requires one names none.
pub const DEFAULT_MAX_TOKENS: u32 = 1024;

/// Tokens a call used, as the provider counted them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
}

/// A finished answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    pub text: String,
    /// None when the provider did not report it.
    pub usage: Option<Usage>,
    /// Why the model stopped (`stop`, `length`, `end_turn`...), as the provider said it.
    pub finish_reason: Option<String>,
    /// How many attempts the call took (1 when the first one answered).
    pub attempts: u32,
}

/// A model a connection offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ModelInfo {
    pub id: String,
    /// The provider's own name for it, when it has one besides the id.
    pub display_name: Option<String>,
}

/// Why a call gave no (whole) answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    /// No connection, or it broke before an answer began.
    #[error("could not reach the provider at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// Nothing came back in time.
    #[error("the provider did not answer within {0:?}")]
    Timeout(Duration),
    /// The provider refused the call (4xx other than 429, or 5xx after the last retry).
    #[error("the provider answered {status}: {message}")]
    Refused { status: u16, message: String },
    /// Still rate-limited after the last retry (a spent quota, which waiting does not help, is
    /// [`LlmError::Refused`] instead).
    #[error("the provider is rate-limiting these calls (429) after {attempts} attempts: {message}")]
    RateLimited { attempts: u32, message: String },
    /// The answer broke off after part of it had arrived (not retried: the caller has seen
    /// that part).
    #[error("the answer broke off after {received} characters: {reason}")]
    Interrupted { received: usize, reason: String },
    /// The provider's answer was not in its documented format, or too large.
    #[error("the provider's answer could not be read: {0}")]
    Malformed(String),
    /// The provider ended its stream with an error of its own: `transient` when it says it is
    /// overloaded or failed inside (worth another attempt while nothing has been delivered), not
    /// for a content filter or a bad request.
    #[error("the provider stopped with an error: {message}")]
    Upstream { message: String, transient: bool },
    /// The endpoint cannot be called as configured (a base URL that is not one).
    #[error("the connection is misconfigured: {0}")]
    Misconfigured(String),
    /// The caller stopped the call.
    #[error("the call was cancelled")]
    Cancelled,
}

impl LlmError {
    /// Whether trying again may help (before any of the answer reached the caller).
    pub fn is_transient(&self) -> bool {
        match self {
            LlmError::Unreachable { .. } | LlmError::Timeout(_) | LlmError::RateLimited { .. } => {
                true
            }
            LlmError::Refused { status, .. } => *status >= 500 || *status == 408 || *status == 409,
            LlmError::Upstream { transient, .. } => *transient,
            _ => false,
        }
    }
}
