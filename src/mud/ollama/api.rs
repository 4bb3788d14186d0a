//! GraphQL: Ollama commands (seed 002's OllamaCommandRequest / ClearOllamaContextRequest), for
//! ADMIN and above ("view logs"). Only configured servers are reached; what goes wrong there is
//! told in `output`, not as an error.

use std::sync::Arc;

use async_graphql::{Context, Object, SimpleObject};

use super::Ollama;
use super::OllamaCommand;
use super::client::{ChatMessage, Failure};
use super::store;
use crate::auth::Role;
use crate::billing::service::{Feature, require_feature};
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

/// One turn of `run`: the session's conversation with `model` on `server`, the new prompt,
/// and (when Ollama answers) the conversation stored with the reply.
async fn run(
    ctx: &Context<'_>,
    server: &str,
    model: &str,
    prompt: String,
) -> AppResult<Result<String, Failure>> {
    let viewer = ctx.viewer()?;
    let owner = store::owner_key(viewer)?;
    // No connection is held while the model thinks.
    let mut messages = {
        let mut conn = ctx.conn().await?;
        store::conversation(&mut conn, owner, viewer, server, model).await?
    };
    messages.push(ChatMessage::user(prompt));
    let reply = match ctx
        .part::<Arc<Ollama>>()?
        .chat(server, model, &messages)
        .await
    {
        Ok(reply) => reply,
        Err(failure) => return Ok(Err(failure)),
    };
    let output = reply.content.clone();
    messages.push(reply);
    let mut conn = ctx.conn().await?;
    store::save(
        &mut conn,
        owner,
        viewer,
        server,
        model,
        &store::bounded(messages),
    )
    .await?;
    Ok(Ok(output))
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
        server_url: String,
        command: String,
    ) -> AppResult<OllamaCommandResult> {
        ctx.viewer_with(Role::Admin)?;
        require_feature(ctx.platform(), ctx.viewer()?.tenant_id, Feature::Ollama).await?;
        let ollama = ctx.part::<Arc<Ollama>>()?;
        let server = ollama.configured_server(&server_url)?;
        let command = OllamaCommand::parse(&command)?;
        let answer = match command {
            OllamaCommand::List => ollama.list(server).await,
            OllamaCommand::Ps => ollama.ps(server).await,
            OllamaCommand::Show { model } => ollama.show(server, &model).await,
            OllamaCommand::Run { model, prompt } => run(ctx, server, &model, prompt).await?,
        };
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
        let owner = store::owner_key(viewer)?;
        let mut conn = ctx.conn().await?;
        let cleared = store::clear(&mut conn, owner).await?;
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
