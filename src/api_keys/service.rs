//! The rules of API keys: who may create one (a tier with the feature), what it is called and
//! until when it works (no later than the key that created it), and revoking one with every key
//! created with it, at once on every node.

use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use uuid::Uuid;

use super::store::{self, ApiKeyRow, NewApiKey};
use crate::auth::tokens::{random_token, secret_hash};
use crate::auth::{Revocation, Role, Viewer};
use crate::billing::service::{Feature, require_feature};
use crate::context::Platform;
use crate::error::{AppError, AppResult};

/// Creates a key acting as the viewer in their tenant, and returns it with the key itself
/// (shown once; only its hash is kept). A key created with an API key is that key's child.
pub async fn create(
    platform: &Platform,
    viewer: &Viewer,
    name: &str,
    expires_at: Option<DateTime<Utc>>,
) -> AppResult<(ApiKeyRow, String)> {
    require_feature(platform, viewer.tenant_id, Feature::ApiKeys).await?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::bad_field(
            "name",
            "the key name must have 1 to 100 characters",
        ));
    }
    if expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(AppError::bad_field(
            "expiresAt",
            "the expiry must be in the future",
        ));
    }
    let key = format!(
        "{}{}_{}",
        crate::auth::API_KEY_PREFIX,
        &random_token(6)[..8],
        random_token(32)
    );
    let prefix: String = key.chars().take(11).collect();
    let key_hash = secret_hash(&key);
    let parent_key_id = viewer.api_key_id;
    let mut conn = platform.pool.get().await?;
    let row = conn
        .transaction::<_, AppError, _>(async |conn| {
            let mut expires_at = expires_at;
            if let Some(parent_id) = parent_key_id {
                // Locked until the child is in, so a revocation of the parent running now
                // either refuses this creation or revokes the child with it.
                let parent = store::lock_live(conn, parent_id)
                    .await?
                    .ok_or_else(|| AppError::unauthenticated("this API key was revoked"))?;
                expires_at = match (expires_at, parent.expires_at) {
                    (Some(asked), Some(parents)) => Some(asked.min(parents)),
                    (asked, parents) => asked.or(parents),
                };
            }
            store::insert(
                conn,
                NewApiKey {
                    id: Uuid::now_v7(),
                    tenant_id: viewer.tenant_id,
                    user_id: viewer.user_id,
                    name,
                    prefix: &prefix,
                    key_hash: &key_hash,
                    expires_at,
                    parent_key_id,
                },
            )
            .await
        })
        .await?;
    Ok((row, key))
}

/// Revokes a key (the viewer's own, or any of the tenant's for an ADMIN; NOT_FOUND otherwise)
/// with its descendants, and tells every node.
pub async fn revoke(platform: &Platform, viewer: &Viewer, key_id: Uuid) -> AppResult<ApiKeyRow> {
    let mut conn = platform.pool.get().await?;
    let not_found = || AppError::not_found("API key not found");
    let key = store::find(&mut conn, viewer.tenant_id, key_id)
        .await?
        .ok_or_else(not_found)?;
    if key.user_id != viewer.user_id && viewer.role < Role::Admin {
        return Err(not_found());
    }
    let (row, descendants) = conn
        .transaction::<_, AppError, _>(async |conn| {
            store::revoke_with_descendants(conn, key.id).await
        })
        .await?;
    for id in std::iter::once(key.id).chain(descendants) {
        platform.revoke(Revocation::ApiKey(id)).await;
    }
    Ok(row)
}
