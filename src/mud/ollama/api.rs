//! GraphQL: Ollama commands (seed 002's OllamaCommandRequest / ClearOllamaContextRequest), for
//! ADMIN and above ("view logs"). Only configured servers are reached; what goes wrong there is
//! told in `output`, not as an error.

use std::sync::Arc;

use async_graphql::{Context, Object, SimpleObject};

use super::Ollama;
use super::client::Failure;
use super::service;
use crate::auth::Role;
use crate::context::ContextExt;
use crate::error::AppResult;

/// What `ollamaCommand` did (seed 002's OllamaCommandResponse).
#[derive(SimpleObject)]
pub struct OllamaCommandResult {
    /// Whether the Ollama server answered the command.
    pub success: bool,
    /// Its answer as text (a table, a model's details, the assistant's reply), or what went
    /// wrong reaching it.
    pub output: String,
}

/// What `clearOllamaContext` did (seed 002's ClearOllamaContextResponse).
#[derive(SimpleObject)]
pub struct ClearOllamaContextResult {
    /// True: afterwards there is no conversation either way.
    pub success: bool,
    /// Whether there was a conversation to forget.
    pub message: String,
}

#[derive(Default)]
pub struct OllamaQuery;

#[Object]
impl OllamaQuery {
    /// The Ollama servers this server may talk to, spelled as `ollamaCommand` takes them
    /// (ADMIN). Empty when Ollama is not configured.
    async fn ollama_servers(&self, ctx: &Context<'_>) -> AppResult<Vec<String>> {
        ctx.viewer_with(Role::Admin)?;
        Ok(ctx.part::<Arc<Ollama>>()?.servers().to_vec())
    }
}

#[derive(Default)]
pub struct OllamaMutation;

#[Object]
impl OllamaMutation {
    /// Runs an `ollama` CLI command on one of `ollamaServers` (ADMIN): `list` (models),
    /// `ps` (loaded models), `show <model>`, or `run <model> <prompt>`, which continues this
    /// session's conversation with that model on that server (another server or model starts
    /// a new one). A `serverUrl` that is not configured, or a malformed `command`, is
    /// BAD_USER_INPUT; a server that cannot be reached or refuses gives `success: false`.
    async fn ollama_command(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "One of `ollamaServers`.")] server_url: String,
        #[graphql(desc = "The command: `list`, `ps`, `show <model>` or `run <model> <prompt>`.")]
        command: String,
    ) -> AppResult<OllamaCommandResult> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let ollama = ctx.part::<Arc<Ollama>>()?;
        let answer =
            service::execute(ctx.platform(), ollama, viewer, &server_url, &command).await?;
        Ok(match answer {
            Ok(output) => OllamaCommandResult {
                success: true,
                output,
            },
            Err(Failure(output)) => OllamaCommandResult {
                success: false,
                output,
            },
        })
    }

    /// Forgets this session's `run` conversation (ADMIN); other sessions keep theirs.
    async fn clear_ollama_context(&self, ctx: &Context<'_>) -> AppResult<ClearOllamaContextResult> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let mut conn = ctx.conn().await?;
        let cleared = service::clear(&mut conn, viewer).await?;
        Ok(ClearOllamaContextResult {
            success: true,
            message: if cleared {
                "the Ollama conversation of this session was cleared".into()
            } else {
                "this session had no Ollama conversation to clear".into()
            },
        })
    }
}
