//! The calls to Ollama's HTTP API (`/api/tags`, `/api/ps`, `/api/show`, `/api/chat`), only ever
//! to a configured server and never following a redirect. A call that fails upstream is a
//! [`Failure`]: a sentence for the caller, never a GraphQL error.

use std::fmt::Write as _;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use tokio_util::sync::CancellationToken;

use super::answers::{ModelList, ShowResponse, format_list, format_ps, format_show};
use super::{OllamaSettings, normalize_server_url};
use crate::error::{AppError, AppResult};
use crate::llm::service::{
    ChatRequest, Endpoint, LlmClient, LlmError, Message, Provider, Reach, RetryPolicy, Role,
    Timeouts,
};

/// The largest answer read from Ollama; `show` of a big model is well below this.
const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;
/// How much of an error Ollama sends is shown.
const MAX_ERROR_CHARS: usize = 500;

/// Why a call to Ollama did not give an answer, in a sentence for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure(pub String);

/// One message of a conversation, as `/api/chat` takes and gives it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ChatMessage {
    pub role: String,
    pub content: String,
}

impl ChatMessage {
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: "user".into(),
            content: content.into(),
        }
    }
}

/// The configured Ollama servers and the HTTP clients that talk to them: the LLM layer's for
/// conversations (streamed, bounded), a plain one for the admin commands.
pub struct Ollama {
    /// `servers` in their normal spelling ([`normalize_server_url`]).
    settings: OllamaSettings,
    client: reqwest::Client,
    models: LlmClient,
}

impl Ollama {
    /// Fails when a configured server is not a valid base URL.
    pub fn new(settings: OllamaSettings) -> anyhow::Result<Self> {
        let mut servers = Vec::with_capacity(settings.servers.len());
        for server in &settings.servers {
            let normal = normalize_server_url(server).map_err(|reason| {
                anyhow::anyhow!("the Ollama server `{server}` is not a valid base URL: {reason}")
            })?;
            if !servers.contains(&normal) {
                servers.push(normal);
            }
        }
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(std::time::Duration::from_secs(10)))
            // A configured server must not bounce us to an address nobody configured.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("loregraph/", env!("CARGO_PKG_VERSION")))
            .build()?;
        // An admin's console: each prompt is sent once (a crashed runner is reported, not
        // asked again), within the configured time; the servers are the operator's own.
        let once = RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        };
        let timeouts = Timeouts {
            connect: settings.timeout.min(std::time::Duration::from_secs(10)),
            first_piece: settings.timeout,
            idle: settings.timeout,
            total: settings.timeout,
        };
        let models = LlmClient::new(once, timeouts, Reach::Anywhere)?;
        Ok(Self {
            settings: OllamaSettings {
                servers,
                timeout: settings.timeout,
            },
            client,
            models,
        })
    }

    /// The configured servers, in their normal spelling.
    pub fn servers(&self) -> &[String] {
        &self.settings.servers
    }

    /// The configured server `url` names (in any spelling of it), or BAD_USER_INPUT on
    /// `serverUrl`. Nothing is sent anywhere before this succeeds.
    pub fn configured_server(&self, url: &str) -> AppResult<&str> {
        if self.settings.servers.is_empty() {
            return Err(AppError::bad_field(
                "serverUrl",
                "Ollama is not configured on this server",
            ));
        }
        normalize_server_url(url)
            .ok()
            .and_then(|normal| self.settings.servers.iter().find(|s| **s == normal))
            .map(String::as_str)
            .ok_or_else(|| {
                AppError::bad_field(
                    "serverUrl",
                    "serverUrl is not a configured Ollama server (ollamaServers lists them)",
                )
            })
    }

    /// `ollama list`: the server's models.
    pub async fn list(&self, server: &str) -> Result<String, Failure> {
        let models: ModelList = self.call(server, "/api/tags", None).await?;
        Ok(format_list(&models.models))
    }

    /// `ollama ps`: the models loaded in memory.
    pub async fn ps(&self, server: &str) -> Result<String, Failure> {
        let models: ModelList = self.call(server, "/api/ps", None).await?;
        Ok(format_ps(&models.models))
    }

    /// `ollama show <model>`: what the model is and how it is prompted.
    pub async fn show(&self, server: &str, model: &str) -> Result<String, Failure> {
        let shown: ShowResponse = self
            .call(server, "/api/show", Some(json!({ "model": model })))
            .await?;
        Ok(format_show(model, &shown))
    }

    /// One turn of `ollama run <model>`: the conversation so far ends with the new user
    /// message; the answer is the assistant's reply.
    pub async fn chat(
        &self,
        server: &str,
        model: &str,
        messages: &[ChatMessage],
    ) -> Result<ChatMessage, Failure> {
        let endpoint = Endpoint {
            provider: Provider::Ollama,
            base_url: server.to_owned(),
            api_key: None,
            model: model.to_owned(),
        };
        let request = ChatRequest {
            messages: messages
                .iter()
                .map(|message| {
                    let role = match message.role.as_str() {
                        "system" => Role::System,
                        "assistant" => Role::Assistant,
                        _ => Role::User,
                    };
                    Message::new(role, message.content.clone())
                })
                .collect(),
            ..ChatRequest::default()
        };
        let completion = self
            .models
            .chat(&endpoint, &request, &CancellationToken::new(), |_| {})
            .await
            .map_err(|error| self.chat_failure(server, error))?;
        Ok(ChatMessage {
            role: "assistant".into(),
            content: completion.text,
        })
    }

    /// A failed conversation turn, in the sentences the other commands use.
    fn chat_failure(&self, server: &str, error: LlmError) -> Failure {
        tracing::warn!(server, error = %error, "an Ollama conversation failed");
        Failure(match error {
            LlmError::Unreachable { .. } => {
                format!("could not connect to the Ollama server at {server}; is it running?")
            }
            LlmError::Timeout(_) => format!(
                "the Ollama server at {server} did not answer within {} seconds",
                self.settings.timeout.as_secs_f64()
            ),
            LlmError::Refused { status, message } => {
                let said: String = message.chars().take(MAX_ERROR_CHARS).collect();
                format!("the Ollama server at {server} answered {status}: {said}")
            }
            LlmError::Upstream { message, .. } => {
                let said: String = message.chars().take(MAX_ERROR_CHARS).collect();
                format!("the Ollama server at {server} stopped with an error: {said}")
            }
            _ => format!("the Ollama server at {server} sent an answer that could not be read"),
        })
    }

    /// GET `path` (no body) or POST the body there, and parse the JSON answer.
    async fn call<T: DeserializeOwned>(
        &self,
        server: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<T, Failure> {
        let url = format!("{server}{path}");
        let request = match &body {
            Some(body) => self.client.post(&url).json(body),
            None => self.client.get(&url),
        }
        .headers(crate::telemetry::outgoing_headers());
        let mut response = request
            .send()
            .await
            .map_err(|e| self.transport_failure(server, path, &e))?;
        let status = response.status();
        let mut bytes = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
                        tracing::warn!(server, path, "Ollama's answer is too large");
                        return Err(Failure(format!(
                            "the Ollama server at {server} sent an answer larger than {} MiB",
                            MAX_RESPONSE_BYTES / (1024 * 1024)
                        )));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return Err(self.transport_failure(server, path, &e)),
            }
        }
        if !status.is_success() {
            let said = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned));
            tracing::warn!(server, path, %status, error = ?said, "Ollama refused a request");
            let mut sentence = format!("the Ollama server at {server} answered {status}");
            if status.is_redirection() {
                sentence.push_str(" (redirects are not followed)");
            }
            if let Some(said) = said {
                let said: String = said.chars().take(MAX_ERROR_CHARS).collect();
                let _ = write!(sentence, ": {said}");
            }
            return Err(Failure(sentence));
        }
        serde_json::from_slice(&bytes).map_err(|e| unexpected(server, path, e))
    }

    fn transport_failure(&self, server: &str, path: &str, error: &reqwest::Error) -> Failure {
        tracing::warn!(server, path, error = %error, "a call to Ollama failed");
        Failure(if error.is_timeout() {
            format!(
                "the Ollama server at {server} did not answer within {} seconds",
                self.settings.timeout.as_secs_f64()
            )
        } else if error.is_connect() {
            format!("could not connect to the Ollama server at {server}; is it running?")
        } else {
            format!("the connection to the Ollama server at {server} failed")
        })
    }
}

fn unexpected(server: &str, path: &str, reason: impl std::fmt::Display) -> Failure {
    tracing::warn!(server, path, reason = %reason, "Ollama's answer could not be read");
    Failure(format!(
        "the Ollama server at {server} sent an answer that could not be read"
    ))
}
