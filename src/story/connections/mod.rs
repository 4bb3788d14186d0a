//! API connections: a provider, its base URL, the key it wants (sealed at rest, never read
//! back: reads show whether there is one and its masked form) and the model to ask — or the
//! studio's own provider, whose calls are metered in BrainBits.
//!
//! - this file: the connection's body and GraphQL node;
//! - [`service`]: creating and changing connections with their keys, and where a call goes;
//! - [`api`]: the mutations, the test call and the model list.

pub mod api;
pub mod service;

use async_graphql::{ComplexObject, Context, Enum, SimpleObject};
use serde::{Deserialize, Serialize};

use super::api::library::library_api;
use super::library::Body;
use super::model::Kind;
use crate::auth::Role;
use crate::billing::service::{KeySource, is_metered};
use crate::context::ContextExt;
use crate::db::validate_text;
use crate::error::{AppError, AppResult};
use crate::llm::service::{Provider, ledger_label};

/// The wire protocol an API connection speaks.
#[derive(Enum, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LlmProvider {
    /// OpenAI's chat completions, as OpenAI, OpenRouter, vLLM, llama.cpp and LM Studio serve
    /// them (base URL `https://api.openai.com/v1`).
    OpenaiCompatible,
    /// Anthropic's Messages API (base URL `https://api.anthropic.com`).
    Anthropic,
    /// Ollama's native API (base URL `http://host:11434`).
    Ollama,
}

impl LlmProvider {
    pub fn wire(self) -> Provider {
        match self {
            LlmProvider::OpenaiCompatible => Provider::OpenAiCompatible,
            LlmProvider::Anthropic => Provider::Anthropic,
            LlmProvider::Ollama => Provider::Ollama,
        }
    }

    pub fn of(provider: Provider) -> Self {
        match provider {
            Provider::OpenAiCompatible => LlmProvider::OpenaiCompatible,
            Provider::Anthropic => LlmProvider::Anthropic,
            Provider::Ollama => LlmProvider::Ollama,
        }
    }
}

/// An API connection's settings (its key is kept apart, sealed).
#[derive(SimpleObject, Serialize, Deserialize, Clone, Debug)]
pub struct ApiConnectionBody {
    /// The wire protocol it speaks.
    pub provider: LlmProvider,
    /// Where its calls go; null for the studio's provider (the operator's to set).
    pub base_url: Option<String>,
    /// The model it asks (1 to 200 characters).
    pub model: String,
    /// It calls the studio's provider with the studio's key: metered in BrainBits.
    pub uses_studio_key: bool,
}

/// Longest base URL.
const MAX_URL_CHARS: usize = 2_048;

impl Body for ApiConnectionBody {
    const KIND: Kind = Kind::ApiConnection;
    const READ_ROLE: Role = Role::Worldbuilder;

    fn check(&mut self) -> AppResult<()> {
        validate_text("model", &self.model, 200)?;
        self.model = self.model.trim().to_owned();
        if self.model.is_empty() || self.model.chars().any(char::is_control) {
            return Err(AppError::bad_field("model", "name the model to ask"));
        }
        if self.uses_studio_key {
            self.base_url = None;
            return Ok(());
        }
        let Some(base_url) = &self.base_url else {
            return Err(AppError::bad_field(
                "baseUrl",
                "give the provider's base URL",
            ));
        };
        self.base_url = Some(checked_base_url(base_url)?);
        Ok(())
    }
}

/// A base URL as kept: an http(s) URL without credentials in it (the key has its own field),
/// no trailing slash.
fn checked_base_url(base_url: &str) -> AppResult<String> {
    let trimmed = base_url.trim().trim_end_matches('/');
    validate_text("baseUrl", trimmed, MAX_URL_CHARS)?;
    let url = reqwest::Url::parse(trimmed)
        .map_err(|_| AppError::bad_field("baseUrl", "the base URL is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(AppError::bad_field(
            "baseUrl",
            "the base URL must be an http or https URL with a host",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(AppError::bad_field(
            "baseUrl",
            "put the key in `apiKey`, not in the base URL",
        ));
    }
    Ok(trimmed.to_owned())
}

library_api! {
    body: ApiConnectionBody, node: ApiConnection,
    node_doc: "An API connection: a provider, its base URL and model, and a key that is never \
               shown again (read and written by WORLDBUILDER and above).",
    query: ApiConnectionQuery { one: api_connection, many: api_connections },
    mutation: ApiConnectionDeletion { delete: delete_api_connection },
    connection: ApiConnectionConnection, ApiConnectionEdge,
    docs: "One API connection of the viewer's tenant; null when there is none.",
        "The tenant's API connections by name, a page at a time (WORLDBUILDER and above).",
        "API connections, a page at a time by cursor.",
        "An API connection and its cursor.",
}

#[ComplexObject]
impl ApiConnection {
    /// Whether it keeps a key of its own.
    async fn has_api_key(&self, ctx: &Context<'_>) -> AppResult<bool> {
        Ok(self.masked_key(ctx).await?.is_some())
    }

    /// Its key, masked: the first four and last four characters (all `*` for keys of eight
    /// characters or fewer); null without a key.
    async fn api_key_masked(&self, ctx: &Context<'_>) -> AppResult<Option<String>> {
        self.masked_key(ctx).await
    }

    /// Whether its calls are debited in BrainBits (the studio's provider, with billing on).
    async fn metered(&self, ctx: &Context<'_>) -> bool {
        let key_source = if self.body.uses_studio_key {
            KeySource::Studio
        } else {
            KeySource::Byok
        };
        let label = ledger_label(key_source, self.body.provider.wire());
        is_metered(ctx.platform(), key_source, label)
    }
}

impl ApiConnection {
    async fn masked_key(&self, ctx: &Context<'_>) -> AppResult<Option<String>> {
        let id = crate::db::parse_id("id", &self.document.id)?;
        let loaders = ctx.loaders::<super::loaders::StoryLoaders>();
        Ok(crate::db::loading::load(&loaders.masked_keys, id)
            .await?
            .map(|masked| masked.to_string()))
    }
}
