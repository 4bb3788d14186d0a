//! Each provider's wire format: how a chat call and a model list are asked for, and how the
//! streamed answer reads. The client ([`super::client`]) does the HTTP, the retries and the
//! cancellation, the same for all three.

pub mod anthropic;
pub mod ollama;
pub mod openai;

use serde::Deserialize;
use serde_json::{Value, json};

use super::framing::SseDecoder;
use super::model::{ChatRequest, Endpoint, LlmError, Message, ModelInfo, Provider, Usage};

/// What a piece of a streamed answer says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// More of the answer's text.
    Text(String),
    /// Tokens counted so far (a later report replaces the parts it names).
    Usage(PartialUsage),
    /// Why the model stopped.
    Finish(String),
    /// The answer is complete.
    Done,
}

/// Usage as providers report it: Anthropic gives the prompt's count at the start and the
/// answer's at the end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PartialUsage {
    pub prompt_tokens: Option<u32>,
    pub completion_tokens: Option<u32>,
}

impl PartialUsage {
    pub fn merge(&mut self, other: PartialUsage) {
        self.prompt_tokens = other.prompt_tokens.or(self.prompt_tokens);
        self.completion_tokens = other.completion_tokens.or(self.completion_tokens);
    }

    pub fn complete(self) -> Option<Usage> {
        match (self.prompt_tokens, self.completion_tokens) {
            (None, None) => None,
            (prompt, completion) => Some(Usage {
                prompt_tokens: prompt.unwrap_or(0),
                completion_tokens: completion.unwrap_or(0),
            }),
        }
    }
}

/// Reads one provider's streamed answer, chunk by chunk.
pub trait StreamReader: Send {
    fn feed(&mut self, chunk: &[u8]) -> Result<Vec<Piece>, LlmError>;
    /// The stream ended (whatever it still held).
    fn finish(&mut self) -> Result<Vec<Piece>, LlmError>;
}

/// The streamed chat call for `endpoint`'s provider, and the reader of its answer.
pub fn chat_call(
    http: &reqwest::Client,
    endpoint: &Endpoint,
    request: &ChatRequest,
) -> (reqwest::RequestBuilder, Box<dyn StreamReader>) {
    let call = match endpoint.provider {
        Provider::OpenAiCompatible => openai::chat(http, endpoint, request),
        Provider::Anthropic => anthropic::chat(http, endpoint, request),
        Provider::Ollama => ollama::chat(http, endpoint, request),
    };
    let reader: Box<dyn StreamReader> = match endpoint.provider {
        Provider::OpenAiCompatible => Box::new(openai::Reader::default()),
        Provider::Anthropic => Box::new(anthropic::Reader::default()),
        Provider::Ollama => Box::new(ollama::Reader::default()),
    };
    (call, reader)
}

/// Reads a provider's model list.
pub type ReadModels = fn(&[u8]) -> Result<Vec<ModelInfo>, LlmError>;

/// The model-list call for `endpoint`'s provider, and how its answer reads.
pub fn models_call(
    http: &reqwest::Client,
    endpoint: &Endpoint,
) -> (reqwest::RequestBuilder, ReadModels) {
    match endpoint.provider {
        Provider::OpenAiCompatible => (
            openai::models(http, endpoint),
            read_data_models as ReadModels,
        ),
        Provider::Anthropic => (
            anthropic::models(http, endpoint),
            read_data_models as ReadModels,
        ),
        Provider::Ollama => (
            ollama::models(http, endpoint),
            ollama::read_models as ReadModels,
        ),
    }
}

/// The message a provider's error body carries (`{"error": {"message": …}}`, `{"error": "…"}`
/// or `{"message": …}`), or the start of the body itself.
pub fn error_message(body: &[u8]) -> String {
    const MAX_CHARS: usize = 300;
    let said = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|value| {
            let error = value.get("error").unwrap_or(&value);
            error
                .get("message")
                .and_then(Value::as_str)
                .or_else(|| error.as_str())
                .map(str::to_owned)
        });
    let text = said.unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    let text = text.trim();
    if text.is_empty() {
        "no reason given".into()
    } else {
        text.chars().take(MAX_CHARS).collect()
    }
}

/// Messages as OpenAI and Ollama take them (and Anthropic, its system prompt set apart).
fn messages_json<'a>(messages: impl IntoIterator<Item = &'a Message>) -> Vec<Value> {
    messages
        .into_iter()
        .map(|m| json!({ "role": m.role.as_str(), "content": m.content }))
        .collect()
}

/// A model list shaped `{"data": [{"id", "name" | "display_name"}]}` (OpenAI and the servers
/// that copy it, Anthropic).
fn read_data_models(bytes: &[u8]) -> Result<Vec<ModelInfo>, LlmError> {
    #[derive(Deserialize)]
    struct List {
        data: Vec<Model>,
    }
    #[derive(Deserialize)]
    struct Model {
        id: String,
        #[serde(default, alias = "display_name")]
        name: Option<String>,
    }
    let list: List = answer(bytes)?;
    Ok(list
        .data
        .into_iter()
        .map(|model| ModelInfo {
            display_name: model.name.filter(|name| *name != model.id),
            id: model.id,
        })
        .collect())
}

/// Reads the server-sent events `chunk` completes, each through `event` (its data).
fn read_events(
    events: &mut SseDecoder,
    chunk: &[u8],
    mut event: impl FnMut(&str) -> Result<Vec<Piece>, LlmError>,
) -> Result<Vec<Piece>, LlmError> {
    let mut pieces = Vec::new();
    for complete in events.feed(chunk)? {
        pieces.extend(event(&complete.data)?);
    }
    Ok(pieces)
}

/// The instruction a JSON call adds to the system prompt: Anthropic has no JSON switch for
/// every model, and OpenAI refuses `json_object` unless a message says "JSON".
pub const JSON_INSTRUCTION: &str = "Answer with one JSON object and nothing else.";

/// Whether a conversation already asks for JSON in so many words.
fn mentions_json(request: &ChatRequest) -> bool {
    request
        .messages
        .iter()
        .any(|m| m.content.to_ascii_lowercase().contains("json"))
}

/// An error a provider sent inside its stream (`{"type", "message"}` or `{"code",
/// "message"}`): transient when its type or code says overloaded, rate-limited or failed on
/// the provider's side.
fn reported(error: Value) -> LlmError {
    let bytes = serde_json::to_vec(&json!({ "error": error })).unwrap_or_default();
    let kind = error
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let code = error.get("code").and_then(|code| {
        code.as_u64()
            .or_else(|| code.as_str().and_then(|c| c.parse().ok()))
    });
    let transient = matches!(kind, "overloaded_error" | "api_error" | "rate_limit_error")
        || code.is_some_and(|code| code == 429 || code >= 500);
    LlmError::Upstream {
        message: error_message(&bytes),
        transient,
    }
}

/// Parses one JSON frame of a stream.
fn frame<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, LlmError> {
    serde_json::from_str(text).map_err(|error| {
        LlmError::Malformed(format!("a piece of the stream is not valid: {error}"))
    })
}

/// Parses a whole JSON answer.
fn answer<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, LlmError> {
    serde_json::from_slice(bytes)
        .map_err(|error| LlmError::Malformed(format!("the answer is not valid: {error}")))
}
