//! Running an Ollama command for an ADMIN on a tier with Ollama: the server must be configured,
//! the command well-formed; `run` continues the session's conversation with that model on that
//! server, kept in PostgreSQL. What goes wrong at Ollama is an answer (`Failure`), not an error.

use diesel_async::AsyncPgConnection;

use super::client::{ChatMessage, Failure};
use super::{Ollama, OllamaCommand, store};
use crate::auth::{Role, Viewer};
use crate::billing::service::{Feature, require_feature};
use crate::context::Platform;
use crate::error::AppResult;

/// Runs `command` on `server_url`: Ollama's answer as text, or what went wrong reaching it.
pub async fn execute(
    platform: &Platform,
    ollama: &Ollama,
    viewer: &Viewer,
    server_url: &str,
    command: &str,
) -> AppResult<Result<String, Failure>> {
    viewer.require_role(Role::Admin)?;
    require_feature(platform, viewer.tenant_id, Feature::Ollama).await?;
    let server = ollama.configured_server(server_url)?;
    Ok(match OllamaCommand::parse(command)? {
        OllamaCommand::List => ollama.list(server).await,
        OllamaCommand::Ps => ollama.ps(server).await,
        OllamaCommand::Show { model } => ollama.show(server, &model).await,
        OllamaCommand::Run { model, prompt } => {
            run(platform, ollama, viewer, server, &model, prompt).await?
        }
    })
}

/// Forgets the viewer's session's `run` conversation; whether there was one.
pub async fn clear(conn: &mut AsyncPgConnection, viewer: &Viewer) -> AppResult<bool> {
    viewer.require_role(Role::Admin)?;
    let owner = store::owner_key(viewer)?;
    store::clear(conn, viewer.tenant_id, owner).await
}

/// One turn of `run`: the session's conversation with `model` on `server`, the new prompt,
/// and (when Ollama answers) the conversation stored with the reply.
async fn run(
    platform: &Platform,
    ollama: &Ollama,
    viewer: &Viewer,
    server: &str,
    model: &str,
    prompt: String,
) -> AppResult<Result<String, Failure>> {
    let owner = store::owner_key(viewer)?;
    // No connection is held while the model thinks.
    let mut messages = {
        let mut conn = platform.pool.get().await?;
        store::conversation(&mut conn, owner, viewer, server, model).await?
    };
    messages.push(ChatMessage::user(prompt));
    let reply = match ollama.chat(server, model, &messages).await {
        Ok(reply) => reply,
        Err(failure) => return Ok(Err(failure)),
    };
    let output = reply.content.clone();
    messages.push(reply);
    let mut conn = platform.pool.get().await?;
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
