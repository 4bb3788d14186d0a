//! OpenAI's chat completions, as every OpenAI-compatible server speaks them: `POST
//! {base}/chat/completions` with `stream: true` answers in server-sent events, each a JSON
//! chunk with `choices[0].delta.content`, ended by `data: [DONE]`; `stream_options.include_usage`
//! asks for a last chunk with the usage (servers that ignore it report none).

use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    JSON_INSTRUCTION, PartialUsage, Piece, StreamReader, frame, messages_json, read_events,
};
use crate::llm::framing::SseDecoder;
use crate::llm::model::{ChatRequest, Endpoint, LlmError};

pub fn chat(
    http: &reqwest::Client,
    endpoint: &Endpoint,
    request: &ChatRequest,
) -> reqwest::RequestBuilder {
    let mut messages = messages_json(&request.messages);
    if request.json && !super::mentions_json(request) {
        messages.insert(0, json!({ "role": "system", "content": JSON_INSTRUCTION }));
    }
    let mut body = json!({
        "model": endpoint.model,
        "messages": messages,
        "stream": true,
        "stream_options": { "include_usage": true },
    });
    if let Some(temperature) = request.temperature {
        body["temperature"] = json!(temperature);
    }
    if let Some(max_tokens) = request.max_tokens {
        body["max_tokens"] = json!(max_tokens);
    }
    if request.json {
        body["response_format"] = json!({ "type": "json_object" });
    }
    authorized(http.post(endpoint.url("/chat/completions")), endpoint)
        .header(reqwest::header::ACCEPT, "text/event-stream")
        .json(&body)
}

pub fn models(http: &reqwest::Client, endpoint: &Endpoint) -> reqwest::RequestBuilder {
    authorized(http.get(endpoint.url("/models")), endpoint)
}

fn authorized(request: reqwest::RequestBuilder, endpoint: &Endpoint) -> reqwest::RequestBuilder {
    match &endpoint.api_key {
        Some(key) => request.bearer_auth(key),
        None => request,
    }
}

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<ChunkUsage>,
    /// Some servers (OpenRouter) report a failure mid-stream as a chunk.
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    delta: Option<Delta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize)]
struct ChunkUsage {
    #[serde(default)]
    prompt_tokens: Option<u32>,
    #[serde(default)]
    completion_tokens: Option<u32>,
}

#[derive(Default)]
pub struct Reader {
    events: SseDecoder,
}

impl Reader {
    fn event(data: &str) -> Result<Vec<Piece>, LlmError> {
        if data.trim() == "[DONE]" {
            return Ok(vec![Piece::Done]);
        }
        let chunk: Chunk = frame(data)?;
        if let Some(error) = chunk.error {
            return Err(super::reported(error));
        }
        let mut pieces = Vec::new();
        if let Some(choice) = chunk.choices.into_iter().next() {
            if let Some(text) = choice.delta.and_then(|d| d.content)
                && !text.is_empty()
            {
                pieces.push(Piece::Text(text));
            }
            // Some servers send an empty reason on every chunk until the last.
            if let Some(reason) = choice.finish_reason.filter(|reason| !reason.is_empty()) {
                pieces.push(Piece::Finish(reason));
            }
        }
        if let Some(usage) = chunk.usage {
            pieces.push(Piece::Usage(PartialUsage {
                prompt_tokens: usage.prompt_tokens,
                completion_tokens: usage.completion_tokens,
            }));
        }
        Ok(pieces)
    }
}

impl StreamReader for Reader {
    fn feed(&mut self, chunk: &[u8]) -> Result<Vec<Piece>, LlmError> {
        read_events(&mut self.events, chunk, Self::event)
    }

    fn finish(&mut self) -> Result<Vec<Piece>, LlmError> {
        self.events.finish();
        Ok(Vec::new())
    }
}
