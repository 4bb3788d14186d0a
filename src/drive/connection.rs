//! A member's Drive connection: Google's consent kept as tokens sealed at rest (AES-256-GCM
//! under the server's secrets key, bound to the tenant and member, so neither a copy of the
//! database nor a row moved to another member opens them), the access token refreshed a minute
//! before it expires, and the grant revoked at Google on disconnect.

use chrono::{Duration as ChronoDuration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::model::{ConnectionRow, Tokens};
use super::store;
use crate::config::ProviderId;
use crate::context::Platform;
use crate::error::{AppError, AppResult};
use crate::oidc::{OidcError, ProviderTokens};
use crate::sealing::Sealer;

/// An access token this close to its expiry is refreshed first.
const REFRESH_MARGIN_SECS: i64 = 60;

fn bound_to(tenant_id: Uuid, user_id: Uuid) -> Vec<u8> {
    format!("drive:{tenant_id}:{user_id}").into_bytes()
}

fn sealer(platform: &Platform) -> AppResult<&Sealer> {
    platform.sealer.as_ref().ok_or_else(|| {
        AppError::Upstream("Drive needs the server's secrets key (LOREGRAPH_SECRETS_KEY)".into())
    })
}

pub fn not_connected() -> AppError {
    AppError::Forbidden {
        message: "connect Google Drive first (beginDriveConnection)".into(),
        reason: Some("drive_not_connected"),
    }
}

fn reconnect(message: &str) -> AppError {
    AppError::Forbidden {
        message: message.to_owned(),
        reason: Some("drive_reconnect"),
    }
}

/// The tokens of a connection, and whether they were sealed under the current key.
fn open(platform: &Platform, row: &ConnectionRow) -> AppResult<(Tokens, bool)> {
    let (plain, current) = sealer(platform)?
        .open_noting_key(&row.sealed_tokens, &bound_to(row.tenant_id, row.user_id))
        .ok_or_else(|| {
            reconnect("this server cannot open the Drive connection's tokens (its secrets key changed); connect Drive again")
        })?;
    let tokens = serde_json::from_slice(&plain).map_err(AppError::internal)?;
    Ok((tokens, current))
}

fn seal(
    platform: &Platform,
    tenant_id: Uuid,
    user_id: Uuid,
    tokens: &Tokens,
) -> AppResult<Vec<u8>> {
    let plain = serde_json::to_vec(tokens).map_err(AppError::internal)?;
    sealer(platform)?.seal(&plain, &bound_to(tenant_id, user_id))
}

fn expiry_of(tokens: &ProviderTokens) -> chrono::DateTime<Utc> {
    let seconds = tokens
        .expires_in
        .map(|d| d.as_secs().min(24 * 3600) as i64)
        .unwrap_or(3600);
    Utc::now() + ChronoDuration::seconds(seconds)
}

/// Keeps the tokens of a consent the member just gave. Google must have granted the Drive
/// scopes asked for (a consent screen lets people untick them) and sent a refresh token.
pub async fn connect(
    platform: &Platform,
    tenant_id: Uuid,
    user_id: Uuid,
    tokens: ProviderTokens,
    email: Option<String>,
) -> AppResult<ConnectionRow> {
    let wanted = &platform.config.drive.scopes;
    let granted = tokens.scopes.clone().unwrap_or_else(|| wanted.clone());
    if !wanted.iter().all(|scope| granted.contains(scope)) {
        return Err(AppError::Forbidden {
            message: "Google did not grant access to Drive: connect again and allow it".into(),
            reason: Some("drive_scope_denied"),
        });
    }
    let mut conn = platform.pool.get().await?;
    let previous = store::find(&mut conn, tenant_id, user_id).await?;
    let same_account = previous
        .as_ref()
        .is_some_and(|row| row.google_email.is_some() && row.google_email == email);
    let refresh_token = match tokens.refresh_token.clone() {
        Some(token) => token,
        // Google sends one only with a fresh consent; an earlier one of the same account
        // still works.
        None => match previous.as_ref().filter(|_| same_account) {
            Some(row) => open(platform, row)?.0.refresh_token,
            None => {
                return Err(AppError::Upstream(
                    "Google sent no refresh token; remove loregraph from your Google account's \
                     connected apps and connect again"
                        .into(),
                ));
            }
        },
    };
    let sealed = seal(
        platform,
        tenant_id,
        user_id,
        &Tokens {
            access_token: tokens.access_token.clone(),
            refresh_token,
        },
    )?;
    if previous.is_some() && !same_account {
        // Another Google account: the files known are not its files.
        store::forget_files(&mut conn, tenant_id, user_id).await?;
    }
    store::upsert(
        &mut conn,
        tenant_id,
        user_id,
        email.as_deref(),
        &granted.join(" "),
        &sealed,
        expiry_of(&tokens),
    )
    .await
}

/// Runs `call` with the member's Drive and a live access token (refreshed first when due).
pub async fn with_drive<T, E: Into<AppError>>(
    platform: &Platform,
    tenant_id: Uuid,
    user_id: Uuid,
    call: impl AsyncFnOnce(&super::client::Drive<'_>) -> Result<T, E>,
) -> AppResult<T> {
    let token = access_token(platform, tenant_id, user_id).await?;
    call(&super::client::Drive::of(platform, &token))
        .await
        .map_err(Into::into)
}

/// A live access token for the member's Drive, refreshed first when it is about to expire.
pub async fn access_token(
    platform: &Platform,
    tenant_id: Uuid,
    user_id: Uuid,
) -> AppResult<String> {
    let mut conn = platform.pool.get().await?;
    let row = store::find(&mut conn, tenant_id, user_id)
        .await?
        .ok_or_else(not_connected)?;
    let (tokens, current_key) = open(platform, &row)?;
    let fresh = row.access_expires_at > Utc::now() + ChronoDuration::seconds(REFRESH_MARGIN_SECS);
    if fresh && current_key {
        return Ok(tokens.access_token);
    }
    refresh(platform, &mut conn, tenant_id, user_id).await
}

/// Refreshes the access token under the row's lock (concurrent callers wait and find it
/// fresh); a grant Google revoked is recorded on the connection and asks for a reconnect.
async fn refresh(
    platform: &Platform,
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> AppResult<String> {
    let providers = &platform.providers;
    let google = providers.require(ProviderId::Google)?;
    conn.transaction::<_, AppError, _>(async |conn| {
        let row = store::lock(conn, tenant_id, user_id)
            .await?
            .ok_or_else(not_connected)?;
        let (tokens, current_key) = open(platform, &row)?;
        let fresh =
            row.access_expires_at > Utc::now() + ChronoDuration::seconds(REFRESH_MARGIN_SECS);
        if fresh {
            if !current_key {
                let sealed = seal(platform, tenant_id, user_id, &tokens)?;
                store::save_tokens(conn, tenant_id, user_id, &sealed, row.access_expires_at)
                    .await?;
            }
            return Ok(Ok(tokens.access_token));
        }
        match google
            .refresh(providers.http(), &tokens.refresh_token)
            .await
        {
            Ok(new) => {
                let kept = Tokens {
                    access_token: new.access_token.clone(),
                    refresh_token: new.refresh_token.clone().unwrap_or(tokens.refresh_token),
                };
                let sealed = seal(platform, tenant_id, user_id, &kept)?;
                store::save_tokens(conn, tenant_id, user_id, &sealed, expiry_of(&new)).await?;
                Ok(Ok(kept.access_token))
            }
            // Kept on the connection (the transaction commits), then refused.
            Err(OidcError::Invalid(_)) => {
                let message = "Google no longer accepts this Drive connection; connect Drive again";
                store::set_error(conn, tenant_id, user_id, Some(message)).await?;
                Ok(Err(reconnect(message)))
            }
            Err(other) => Err(other.into()),
        }
    })
    .await?
}

/// Ends the member's connection: the grant is revoked at Google (when Google can be reached;
/// the connection is forgotten either way) and the row removed. False when there was none.
pub async fn disconnect(platform: &Platform, tenant_id: Uuid, user_id: Uuid) -> AppResult<bool> {
    let mut conn = platform.pool.get().await?;
    let Some(row) = store::find(&mut conn, tenant_id, user_id).await? else {
        return Ok(false);
    };
    drop(conn);
    // Channels first: once the grant is revoked they can no longer be stopped.
    if let Err(error) = super::watch::close_all(platform, tenant_id, user_id).await {
        tracing::warn!(error = %error.message(), "closing a Drive's channels failed");
    }
    let mut conn = platform.pool.get().await?;
    if let (Ok((tokens, _)), Some(google)) = (
        open(platform, &row),
        platform.providers.get(ProviderId::Google),
    ) && let Err(error) = google
        .revoke(platform.providers.http(), &tokens.refresh_token)
        .await
    {
        tracing::warn!(%error, "revoking a Drive grant at Google failed; the connection is forgotten anyway");
    }
    store::delete(&mut conn, tenant_id, user_id).await
}
