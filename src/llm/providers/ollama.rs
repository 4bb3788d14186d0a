//! Ollama's native chat: `POST {base}/api/chat` with `stream: true` answers in
//! newline-delimited JSON, each line `{"message": {"content": …}, "done": false}`, the last
//! one `done: true` with `done_reason` and the token counts (`prompt_eval_count`,
//! `eval_count`); a failure is a line `{"error": …}`. `format: "json"` is its JSON mode;
//! sampling settings go in `options` (`num_predict` is the answer's length).

use serde::Deserialize;
use serde_json::{Value, json};

use super::{PartialUsage, Piece, StreamReader, answer, frame, messages_json};
use crate::llm::framing::Lines;
use crate::llm::model::{ChatRequest, Endpoint, LlmError, ModelInfo};

pub fn chat(
    http: &reqwest::Client,
    endpoint: &Endpoint,
    request: &ChatRequest,
) -> reqwest::RequestBuilder {
    let mut options = serde_json::Map::new();
    if let Some(temperature) = request.temperature {
        options.insert("temperature".into(), json!(temperature));
    }
    if let Some(max_tokens) = request.max_tokens {
        options.insert("num_predict".into(), json!(max_tokens));
    }
    let mut body = json!({
        "model": endpoint.model,
        "messages": messages_json(&request.messages),
        "stream": true,
    });
    if !options.is_empty() {
        body["options"] = Value::Object(options);
    }
    if request.json {
        body["format"] = json!("json");
    }
    authorized(http.post(endpoint.url("/api/chat")), endpoint).json(&body)
}

pub fn models(http: &reqwest::Client, endpoint: &Endpoint) -> reqwest::RequestBuilder {
    authorized(http.get(endpoint.url("/api/tags")), endpoint)
}

/// Ollama itself wants no key; a proxy in front of it may.
fn authorized(request: reqwest::RequestBuilder, endpoint: &Endpoint) -> reqwest::RequestBuilder {
    match &endpoint.api_key {
        Some(key) => request.bearer_auth(key),
        None => request,
    }
}

pub fn read_models(bytes: &[u8]) -> Result<Vec<ModelInfo>, LlmError> {
    #[derive(Deserialize)]
    struct List {
        models: Vec<Model>,
    }
    #[derive(Deserialize)]
    struct Model {
        name: String,
    }
    let list: List = answer(bytes)?;
    Ok(list
        .models
        .into_iter()
        .map(|model| ModelInfo {
            id: model.name,
            display_name: None,
        })
        .collect())
}

#[derive(Deserialize)]
struct Line {
    #[serde(default)]
    message: Option<LineMessage>,
    #[serde(default)]
    done: bool,
    #[serde(default)]
    done_reason: Option<String>,
    #[serde(default)]
    prompt_eval_count: Option<u32>,
    #[serde(default)]
    eval_count: Option<u32>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct LineMessage {
    #[serde(default)]
    content: String,
}

#[derive(Default)]
pub struct Reader {
    lines: Lines,
}

impl Reader {
    fn line(line: &str) -> Result<Vec<Piece>, LlmError> {
        if line.trim().is_empty() {
            return Ok(Vec::new());
        }
        let line: Line = frame(line)?;
        if let Some(error) = line.error {
            return Err(super::reported(error));
        }
        let mut pieces = Vec::new();
        if let Some(message) = line.message
            && !message.content.is_empty()
        {
            pieces.push(Piece::Text(message.content));
        }
        if line.done {
            if let Some(reason) = line.done_reason {
                pieces.push(Piece::Finish(reason));
            }
            pieces.push(Piece::Usage(PartialUsage {
                prompt_tokens: line.prompt_eval_count,
                completion_tokens: line.eval_count,
            }));
            pieces.push(Piece::Done);
        }
        Ok(pieces)
    }
}

impl StreamReader for Reader {
    fn feed(&mut self, chunk: &[u8]) -> Result<Vec<Piece>, LlmError> {
        let mut pieces = Vec::new();
        for line in self.lines.feed(chunk)? {
            pieces.extend(Self::line(&line)?);
        }
        Ok(pieces)
    }

    /// A last line without its newline counts if it is whole; one the connection cut off is
    /// dropped, so the answer reads as interrupted rather than malformed.
    fn finish(&mut self) -> Result<Vec<Piece>, LlmError> {
        match self.lines.finish() {
            Ok(Some(line)) => match Self::line(&line) {
                Err(LlmError::Malformed(_)) => Ok(Vec::new()),
                read => read,
            },
            Ok(None) | Err(_) => Ok(Vec::new()),
        }
    }
}
