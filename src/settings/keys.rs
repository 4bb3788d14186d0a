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

fn bound_to(user_id: Uuid, provider: &str, origin: &str) -> Vec<u8> {
    format!("provider-key:{user_id}:{provider}:{origin}").into_bytes()
}

/// The provider's own address, where a key is sent unless its owner named another.
fn official_origin(provider: Provider) -> Option<&'static str> {
    match provider {
        Provider::OpenAiCompatible => Some("https://api.openai.com"),
        Provider::Anthropic => Some("https://api.anthropic.com"),
        Provider::Ollama => None,
    }
}

/// Where a kept key may be sent.
pub fn approved_origin(row: &ProviderKeyRow) -> &str {
    match row.origin.as_str() {
        "" => provider_of(&row.provider)
            .and_then(official_origin)
            .unwrap_or_default(),
        origin => origin,
    }
}

/// The origin of an http(s) URL: https, or http to the machine itself (a local model server).
pub fn origin_of(field: &'static str, url: &str) -> AppResult<String> {
    let url =
        reqwest::Url::parse(url.trim()).map_err(|_| AppError::bad_field(field, "not a URL"))?;
    let loopback = url.host_str().is_some_and(|host| {
        host.eq_ignore_ascii_case("localhost")
            || host
                .trim_matches(['[', ']'])
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    });
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => {
            return Err(AppError::bad_field(
                field,
                "a key is only sent over https (or http to this machine)",
            ));
        }
    }
    Ok(url.origin().ascii_serialization())
}

fn sealer(platform: &Platform) -> AppResult<&Sealer> {
    platform.sealer.as_ref().ok_or_else(|| {
        AppError::conflict(
            "this server has no secrets key (LOREGRAPH_SECRETS_KEY) to keep provider keys with",
        )
    })
}

/// Keeps `key` as the account's key for `provider`, replacing any before it, to be sent only
/// to `base_url`'s origin (the provider's own address when absent).
pub async fn set(
    platform: &Platform,
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    provider: Provider,
    key: &str,
    base_url: Option<&str>,
) -> AppResult<ProviderKeyRow> {
    let origin = match (base_url, official_origin(provider)) {
        (Some(url), _) => origin_of("baseUrl", url)?,
        (None, Some(official)) => official.to_owned(),
        (None, None) => {
            return Err(AppError::bad_field(
                "baseUrl",
                "say where this provider's key may be sent",
            ));
        }
    };
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
    let sealed = sealer(platform)?.seal(key.as_bytes(), &bound_to(user_id, provider, &origin))?;
    let last_four: String = key.chars().skip(chars.saturating_sub(4)).collect();
    store::put_key(conn, user_id, provider, &sealed, &last_four, &origin).await
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

/// The account's own key for `provider`, opened for a call it makes to `base_url`; None when
/// it has none, or when the key's owner did not approve that address (a connection someone
/// else pointed elsewhere never gets it).
pub async fn open(
    platform: &Platform,
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    provider: Provider,
    base_url: &str,
) -> AppResult<Option<String>> {
    let Some(row) = store::key(conn, user_id, slug(provider)).await? else {
        return Ok(None);
    };
    if origin_of("baseUrl", base_url).ok().as_deref() != Some(approved_origin(&row)) {
        return Ok(None);
    }
    let sealer = sealer(platform)?;
    let bound = bound_to(user_id, &row.provider, &row.origin);
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
