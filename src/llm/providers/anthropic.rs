//! Anthropic's Messages API: `POST {base}/v1/messages` with `x-api-key` and
//! `anthropic-version`; system messages go in the top-level `system`, and `max_tokens` is
//! required. Streamed, the answer is a sequence of named events: `message_start` (the prompt's
//! token count), `content_block_delta` (`text_delta` pieces), `message_delta` (the stop reason
//! and the answer's token count), `message_stop`; `ping` keeps the connection alive and `error`
//! ends it. A JSON answer is asked for in the system prompt: structured outputs are not on every
//! model, and the older trick of starting the answer with `{` (a "prefill") is refused by the
//! newest ones.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    JSON_INSTRUCTION, PartialUsage, Piece, StreamReader, frame, messages_json, read_events,
};
use crate::llm::framing::SseDecoder;
use crate::llm::model::{ChatRequest, DEFAULT_MAX_TOKENS, Endpoint, LlmError, Role};

/// The API version every call names (the Messages API's current one).
pub const API_VERSION: &str = "2023-06-01";

pub fn chat(
    http: &reqwest::Client,
    endpoint: &Endpoint,
    request: &ChatRequest,
) -> reqwest::RequestBuilder {
    let mut system: Vec<&str> = request
        .messages
        .iter()
        .filter(|m| m.role == Role::System)
        .map(|m| m.content.as_str())
        .collect();
    if request.json {
        system.push(JSON_INSTRUCTION);
    }
    let messages = messages_json(request.messages.iter().filter(|m| m.role != Role::System));
    let mut body = json!({
        "model": endpoint.model,
        "messages": messages,
        "max_tokens": request.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
        "stream": true,
    });
    if !system.is_empty() {
        body["system"] = json!(system.join("\n\n"));
    }
    if let Some(temperature) = request.temperature {
        body["temperature"] = json!(temperature);
    }
    authorized(http.post(endpoint.url("/v1/messages")), endpoint)
        .header(reqwest::header::ACCEPT, "text/event-stream")
        .json(&body)
}

pub fn models(http: &reqwest::Client, endpoint: &Endpoint) -> reqwest::RequestBuilder {
    authorized(http.get(endpoint.url("/v1/models?limit=1000")), endpoint)
}

fn authorized(request: reqwest::RequestBuilder, endpoint: &Endpoint) -> reqwest::RequestBuilder {
    let request = request.header("anthropic-version", API_VERSION);
    match &endpoint.api_key {
        Some(key) => request.header("x-api-key", key),
        None => request,
    }
}

#[derive(Deserialize)]
struct Tokens {
    #[serde(default)]
    input_tokens: Option<u32>,
    #[serde(default)]
    output_tokens: Option<u32>,
}

impl Tokens {
    fn usage(&self) -> PartialUsage {
        PartialUsage {
            prompt_tokens: self.input_tokens,
            completion_tokens: self.output_tokens,
        }
    }
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Streamed {
    MessageStart {
        message: StartedMessage,
    },
    ContentBlockDelta {
        delta: BlockDelta,
    },
    MessageDelta {
        #[serde(default)]
        delta: Option<MessageDelta>,
        #[serde(default)]
        usage: Option<Tokens>,
    },
    MessageStop,
    Error {
        error: Value,
    },
    /// `ping`, `content_block_start`, `content_block_stop` and any event added later.
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct StartedMessage {
    #[serde(default)]
    usage: Option<Tokens>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum BlockDelta {
    TextDelta {
        text: String,
    },
    /// Tool input and thinking deltas carry no answer text.
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct MessageDelta {
    #[serde(default)]
    stop_reason: Option<String>,
}

#[derive(Default)]
pub struct Reader {
    events: SseDecoder,
}

/// One event of the stream.
fn event(data: &str) -> Result<Vec<Piece>, LlmError> {
    let event: Streamed = frame(data)?;
    Ok(match event {
        Streamed::MessageStart { message } => message
            .usage
            .map(|tokens| vec![Piece::Usage(tokens.usage())])
            .unwrap_or_default(),
        Streamed::ContentBlockDelta {
            delta: BlockDelta::TextDelta { text },
        } if !text.is_empty() => vec![Piece::Text(text)],
        Streamed::ContentBlockDelta { .. } | Streamed::Other => Vec::new(),
        Streamed::MessageDelta { delta, usage } => {
            let mut pieces = Vec::new();
            if let Some(reason) = delta.and_then(|d| d.stop_reason) {
                pieces.push(Piece::Finish(reason));
            }
            if let Some(tokens) = usage {
                pieces.push(Piece::Usage(tokens.usage()));
            }
            pieces
        }
        Streamed::MessageStop => vec![Piece::Done],
        Streamed::Error { error } => {
            return Err(super::reported(error));
        }
    })
}

impl StreamReader for Reader {
    fn feed(&mut self, chunk: &[u8]) -> Result<Vec<Piece>, LlmError> {
        read_events(&mut self.events, chunk, event)
    }

    fn finish(&mut self) -> Result<Vec<Piece>, LlmError> {
        self.events.finish();
        Ok(Vec::new())
    }
}
