//! GraphQL: creating, listing and revoking API keys.

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::service;
use super::store::{self, ApiKeyRow};
use crate::accounts::api::User;
use crate::auth::Role;
use crate::context::ContextExt;
use crate::db::pagination::{PageRequest, page_type};
use crate::db::parse_id;
use crate::error::AppResult;

pub struct ApiKey(ApiKeyRow);

/// A credential for scripts and services. It acts as its owner, with the owner's current role,
/// in the tenant it was created in. The secret itself is never shown again after creation.
#[Object]
impl ApiKey {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The key's first characters, to recognise it.
    async fn prefix(&self) -> &str {
        &self.0.prefix
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// Updated at most every few seconds.
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }

    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }

    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }

    /// The key this key was created with, when it was created with one. Revoking that key
    /// revokes this one too, and this key never outlives it.
    async fn parent_id(&self) -> Option<ID> {
        self.0.parent_key_id.map(|id| ID(id.to_string()))
    }

    async fn is_active(&self) -> bool {
        self.0.revoked_at.is_none() && self.0.expires_at.is_none_or(|at| at > Utc::now())
    }

    async fn owner(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        User::load(ctx, Some(self.0.user_id)).await
    }
}

/// A new key. `key` is shown this once: store it now.
#[derive(SimpleObject)]
pub struct CreatedApiKey {
    pub api_key: ApiKey,
    /// Send as `Authorization: Bearer <key>` or `X-API-Key: <key>`.
    pub key: String,
}

page_type! {
    /// A page of API keys.
    pub struct ApiKeyPage {
        total,
        api_keys: Vec<ApiKey>,
    }
}

#[derive(Default)]
pub struct ApiKeyQuery;

#[Object]
impl ApiKeyQuery {
    /// Your API keys in this tenant; an ADMIN sees every member's.
    async fn api_keys(
        &self,
        ctx: &Context<'_>,
        offset: Option<i32>,
        limit: Option<i32>,
        #[graphql(default = false)] include_revoked: bool,
    ) -> AppResult<ApiKeyPage> {
        let viewer = ctx.viewer()?;
        let page = PageRequest::new(offset, limit)?;
        let owner = (viewer.role < Role::Admin).then_some(viewer.user_id);
        let mut conn = ctx.conn().await?;
        let (total, rows) =
            store::list(&mut conn, viewer.tenant_id, owner, include_revoked, page).await?;
        Ok(ApiKeyPage::new(
            total,
            page,
            rows.into_iter().map(ApiKey).collect(),
        ))
    }
}

#[derive(Default)]
pub struct ApiKeyMutation;

#[Object]
impl ApiKeyMutation {
    /// Creates a key acting as you in the current tenant, working until `expiresAt` (or forever).
    /// A key created with an API key is that key's child: it expires no later than its parent,
    /// and revoking the parent revokes it (and its own children).
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        name: String,
        expires_at: Option<DateTime<Utc>>,
    ) -> AppResult<CreatedApiKey> {
        let viewer = ctx.viewer()?;
        let (row, key) = service::create(ctx.platform(), viewer, &name, expires_at).await?;
        Ok(CreatedApiKey {
            api_key: ApiKey(row),
            key,
        })
    }

    /// Revokes a key at once, with every key created with it (and theirs). Your own keys, or any
    /// key of the tenant for an ADMIN.
    async fn revoke_api_key(&self, ctx: &Context<'_>, id: ID) -> AppResult<ApiKey> {
        let viewer = ctx.viewer()?;
        let key_id = parse_id("id", &id)?;
        let row = service::revoke(ctx.platform(), viewer, key_id).await?;
        Ok(ApiKey(row))
    }
}
