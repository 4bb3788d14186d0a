//! Connections with their keys: a key is sealed (AES-256-GCM, bound to its tenant and
//! connection) in the same transaction that writes the connection, and opened only to make a
//! call; and where a connection's calls go ([`target`]).

use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::{ApiConnectionBody, LlmProvider};
use crate::auth::Viewer;
use crate::billing::service::KeySource;
use crate::context::Platform;
use crate::error::{AppError, AppResult};
use crate::settings::service as settings;
use tokio_util::sync::CancellationToken;

use crate::llm::service::{
    self as llm, ChatRequest, Endpoint, LlmRuntime, Metered, Target, provider_named,
};
use crate::story::library::{self, Stored};
use crate::story::store;

/// Longest API key.
const MAX_KEY_CHARS: usize = 4_096;

/// What happens to a connection's key.
pub enum KeyChange {
    Keep,
    Remove,
    Set(String),
}

/// The masked form reads show: the first four and last four characters, all `*` for keys of
/// eight characters or fewer.
pub fn masked(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}...{tail}")
}

fn checked_key(key: &str) -> AppResult<String> {
    let key = key.trim();
    if key.is_empty()
        || key.chars().count() > MAX_KEY_CHARS
        || key.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(AppError::bad_field(
            "apiKey",
            "an API key is 1 to 4,096 characters without spaces",
        ));
    }
    Ok(key.to_owned())
}

/// A base URL's scheme, host and port.
fn origin(base_url: Option<&str>) -> Option<String> {
    let url = reqwest::Url::parse(base_url?).ok()?;
    Some(url.origin().ascii_serialization())
}

/// Where a sealed key is bound: its tenant and connection.
fn bound_to(tenant_id: Uuid, connection_id: Uuid) -> Vec<u8> {
    format!("story-api-key/{tenant_id}/{connection_id}").into_bytes()
}

/// Seals `key` (or removes the connection's key), inside the caller's transaction.
async fn write_key(
    platform: &Platform,
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    connection_id: Uuid,
    change: KeyChange,
) -> AppResult<()> {
    match change {
        KeyChange::Keep => Ok(()),
        KeyChange::Remove => store::put_secret(conn, tenant_id, connection_id, None).await,
        KeyChange::Set(key) => {
            let sealer = platform.sealer.as_ref().ok_or_else(|| {
                AppError::bad_field(
                    "apiKey",
                    "this server keeps no API keys: its operator has not set a secrets key",
                )
            })?;
            let sealed = sealer.seal(key.as_bytes(), &bound_to(tenant_id, connection_id))?;
            store::put_secret(
                conn,
                tenant_id,
                connection_id,
                Some((&sealed, &masked(&key))),
            )
            .await
        }
    }
}

/// The studio's provider as configured; BAD_USER_INPUT when there is none.
fn studio_provider(
    platform: &Platform,
) -> AppResult<(LlmProvider, &crate::config::StudioProvider)> {
    let studio = platform.config.llm.studio.as_ref().ok_or_else(|| {
        AppError::bad_field(
            "useStudioKey",
            "this server offers no studio provider: bring your own key",
        )
    })?;
    let provider = provider_named(&studio.provider)
        .map(LlmProvider::of)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("unknown studio provider")))?;
    Ok((provider, studio))
}

/// Creates a connection and seals its key, in one transaction (WORLDBUILDER and above). A
/// connection on the studio's provider takes its provider from the server and no key.
pub async fn create(
    platform: &Platform,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    display_name: &str,
    mut body: ApiConnectionBody,
    api_key: Option<String>,
) -> AppResult<Stored<ApiConnectionBody>> {
    if body.uses_studio_key {
        if api_key.is_some() {
            return Err(AppError::bad_field(
                "apiKey",
                "a connection on the studio's provider takes no key of its own",
            ));
        }
        body.provider = studio_provider(platform)?.0;
    }
    let key = api_key.as_deref().map(checked_key).transpose()?;
    conn.transaction::<_, AppError, _>(async |conn| {
        let stored = library::insert(conn, viewer, Some(display_name), body).await?;
        if let Some(key) = key {
            write_key(
                platform,
                conn,
                viewer.tenant_id,
                stored.id,
                KeyChange::Set(key),
            )
            .await?;
        }
        Ok(stored)
    })
    .await
}

/// A change to a connection: only what is given changes.
pub struct ConnectionUpdate {
    pub display_name: Option<String>,
    pub provider: Option<LlmProvider>,
    pub base_url: Option<String>,
    pub model: Option<String>,
    pub key: KeyChange,
}

/// Changes a connection and its key in one transaction (WORLDBUILDER and above).
pub async fn update(
    platform: &Platform,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: Uuid,
    expected_version: Option<i32>,
    update: ConnectionUpdate,
) -> AppResult<Stored<ApiConnectionBody>> {
    let key = match update.key {
        KeyChange::Set(key) => KeyChange::Set(checked_key(&key)?),
        other => other,
    };
    conn.transaction::<_, AppError, _>(async |conn| {
        let current =
            library::lock::<ApiConnectionBody>(conn, viewer, id, expected_version).await?;
        let mut body = current.body.clone();
        if body.uses_studio_key
            && (update.provider.is_some()
                || update.base_url.is_some()
                || matches!(key, KeyChange::Set(_)))
        {
            return Err(AppError::bad_input(
                "a connection on the studio's provider takes only a new name and model",
            ));
        }
        if let Some(provider) = update.provider {
            body.provider = provider;
        }
        if let Some(base_url) = update.base_url {
            body.base_url = Some(base_url);
        }
        if let Some(model) = update.model {
            body.model = model;
        }
        let saved =
            library::save(conn, viewer, &current, update.display_name.as_deref(), body).await?;
        // A key goes only where it was given for: pointing the connection at another host or
        // protocol forgets it, unless a new one comes with the change (else anyone who may
        // edit the connection could send the key to a server of theirs).
        let moved = saved.body.provider != current.body.provider
            || origin(saved.body.base_url.as_deref()) != origin(current.body.base_url.as_deref());
        let key = match key {
            KeyChange::Keep if moved => KeyChange::Remove,
            other => other,
        };
        write_key(platform, conn, viewer.tenant_id, id, key).await?;
        Ok(saved)
    })
    .await
}

/// Where the connection's calls go, with its key opened, and whose key pays (WORLDBUILDER and
/// above may call a connection directly; stories call theirs as their players).
pub async fn target(
    platform: &Platform,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<Target> {
    viewer.require_role(<ApiConnectionBody as library::Body>::READ_ROLE)?;
    resolve(platform, conn, viewer, id).await
}

/// Where the connection's calls go, for the engine calling it on the viewer's behalf (a
/// session's turn, a player's suggestions): the caller's right to make the call was checked
/// where it began.
pub async fn resolve(
    platform: &Platform,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<Target> {
    let connection = library::fetch::<ApiConnectionBody>(conn, viewer.tenant_id, id)
        .await?
        .ok_or_else(|| AppError::not_found("API connection not found"))?;
    let body = connection.body;
    if body.uses_studio_key {
        let (provider, studio) = studio_provider(platform)?;
        return Ok(Target {
            endpoint: Endpoint {
                provider: provider.wire(),
                base_url: studio.base_url.clone(),
                api_key: studio.api_key.clone(),
                model: body.model,
            },
            key_source: KeySource::Studio,
        });
    }
    let api_key = match store::secret(conn, viewer.tenant_id, id).await? {
        Some((sealed, _)) => {
            let sealer = platform.sealer.as_ref().ok_or_else(|| {
                AppError::conflict("this server has no secrets key to open the connection's key")
            })?;
            let key = sealer
                .open(&sealed, &bound_to(viewer.tenant_id, id))
                .ok_or_else(|| {
                    AppError::conflict(
                        "the connection's key was sealed under another secrets key: set it again",
                    )
                })?;
            Some(String::from_utf8(key).map_err(AppError::internal)?)
        }
        // No key of its own: the caller's own key for the provider pays, if they keep one.
        None => {
            let base_url = body.base_url.as_deref().unwrap_or_default();
            settings::provider_key(
                platform,
                conn,
                viewer.user_id,
                body.provider.wire(),
                base_url,
            )
            .await?
        }
    };
    Ok(Target {
        endpoint: Endpoint {
            provider: body.provider.wire(),
            base_url: body.base_url.unwrap_or_default(),
            api_key,
            model: body.model,
        },
        key_source: KeySource::Byok,
    })
}

/// Remembers how a call on the connection went (the dashboard's health), whatever the
/// outcome; a failure to remember is logged, never the caller's error.
pub async fn record<T>(platform: &Platform, viewer: &Viewer, id: Uuid, outcome: &AppResult<T>) {
    // Only what the provider (or the connection's settings) did says anything of its health:
    // a call the caller may not pay for never reached it.
    if matches!(
        outcome,
        Err(AppError::Forbidden { .. } | AppError::FeatureGate { .. } | AppError::Unavailable)
    ) {
        return;
    }
    let message = outcome.as_ref().err().map(AppError::message);
    let recorded = async {
        let mut conn = platform.pool.get().await?;
        store::record_check(
            &mut conn,
            viewer.tenant_id,
            id,
            message.is_none(),
            message.as_deref(),
        )
        .await
    }
    .await;
    if recorded.is_err() {
        tracing::warn!(connection = %id, "could not record how a connection's call went");
    }
}

/// Calls the model behind a connection as the viewer, who was allowed the call where it began
/// (a test call is WORLDBUILDER's, a suggestion the session owner's): where it goes, the
/// metered call (ended if the caller goes away), and the connection's health recorded. Gives
/// the model asked.
pub async fn call(
    platform: &Platform,
    runtime: &LlmRuntime,
    viewer: &Viewer,
    id: Uuid,
    request: &ChatRequest,
    operation: &str,
) -> AppResult<(Metered, String)> {
    let cancel = CancellationToken::new();
    let _stop = cancel.clone().drop_guard();
    stream(
        platform,
        runtime,
        viewer,
        id,
        request,
        operation,
        &cancel,
        |_| {},
    )
    .await
}

/// [`call`], with each piece of the answer handed to `on_text` as it arrives, and stopped
/// upstream when `cancel` is.
#[allow(clippy::too_many_arguments)]
pub async fn stream(
    platform: &Platform,
    runtime: &LlmRuntime,
    viewer: &Viewer,
    id: Uuid,
    request: &ChatRequest,
    operation: &str,
    cancel: &CancellationToken,
    on_text: impl FnMut(&str) + Send,
) -> AppResult<(Metered, String)> {
    let target = {
        let mut conn = platform.pool.get().await?;
        resolve(platform, &mut conn, viewer, id).await?
    };
    let reply = llm::chat(
        runtime, platform, viewer, &target, request, operation, cancel, on_text,
    )
    .await;
    // A call the caller stopped says nothing of the connection's health.
    if !cancel.is_cancelled() {
        record(platform, viewer, id, &reply).await;
    }
    Ok((reply?, target.endpoint.model))
}
