//! A person's own AI provider keys: sealed at rest (AES-256-GCM under the server's secrets key,
//! bound to their owner and provider, so a sealed key copied to another row does not open),
//! listed by provider and last four characters only, and opened for the calls their owner makes
//! through a connection without a key of its own. A key sealed under a previous secrets key
//! (`LOREGRAPH_SECRETS_KEY_PREVIOUS`) is sealed again under the current one when next used.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::store::{self, ProviderKeyRow};
use crate::context::Platform;
use crate::error::{AppError, AppResult};
use crate::llm::service::Provider;
use crate::sealing::Sealer;

const MIN_KEY_CHARS: usize = 8;
const MAX_KEY_CHARS: usize = 512;

/// How a provider is kept in the database.
pub fn slug(provider: Provider) -> &'static str {
    match provider {
        Provider::OpenAiCompatible => "openai_compatible",
        Provider::Anthropic => "anthropic",
        Provider::Ollama => "ollama",
    }
}

pub fn provider_of(slug: &str) -> Option<Provider> {
    match slug {
        "openai_compatible" => Some(Provider::OpenAiCompatible),
        "anthropic" => Some(Provider::Anthropic),
        "ollama" => Some(Provider::Ollama),
        _ => None,
    }
}

fn bound_to(user_id: Uuid, provider: &str) -> Vec<u8> {
    format!("provider-key:{user_id}:{provider}").into_bytes()
}

fn sealer(platform: &Platform) -> AppResult<&Sealer> {
    platform.sealer.as_ref().ok_or_else(|| {
        AppError::conflict(
            "this server has no secrets key (LOREGRAPH_SECRETS_KEY) to keep provider keys with",
        )
    })
}

/// Keeps `key` as the account's key for `provider`, replacing any before it.
pub async fn set(
    platform: &Platform,
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    provider: Provider,
    key: &str,
) -> AppResult<ProviderKeyRow> {
    let key = key.trim();
    let chars = key.chars().count();
    if !(MIN_KEY_CHARS..=MAX_KEY_CHARS).contains(&chars)
        || key.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(AppError::bad_field(
            "key",
            "a key is 8 to 512 characters without spaces",
        ));
    }
    let provider = slug(provider);
    let sealed = sealer(platform)?.seal(key.as_bytes(), &bound_to(user_id, provider))?;
    let last_four: String = key.chars().skip(chars.saturating_sub(4)).collect();
    store::put_key(conn, user_id, provider, &sealed, &last_four).await
}

pub async fn list(conn: &mut AsyncPgConnection, user_id: Uuid) -> AppResult<Vec<ProviderKeyRow>> {
    store::keys(conn, user_id).await
}

/// Forgets the account's key for `provider`; false when there was none.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    provider: Provider,
) -> AppResult<bool> {
    store::delete_key(conn, user_id, slug(provider)).await
}

/// The account's own key for `provider`, opened for a call it makes; None when it has none.
pub async fn open(
    platform: &Platform,
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    provider: Provider,
) -> AppResult<Option<String>> {
    let Some(row) = store::key(conn, user_id, slug(provider)).await? else {
        return Ok(None);
    };
    let sealer = sealer(platform)?;
    let bound = bound_to(user_id, &row.provider);
    let (plain, current) = sealer
        .open_noting_key(&row.sealed_key, &bound)
        .ok_or_else(|| {
            AppError::conflict(format!(
                "your {} key was sealed under another secrets key: set it again",
                row.provider
            ))
        })?;
    if !current {
        // Rotation: from now on it opens under the current key alone.
        let resealed = sealer.seal(&plain, &bound)?;
        store::reseal_key(conn, &row, &resealed).await?;
    }
    String::from_utf8(plain)
        .map(Some)
        .map_err(AppError::internal)
}
