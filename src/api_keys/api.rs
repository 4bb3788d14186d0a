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
    /// The key's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The name the key was given, to tell it apart.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The key's first characters, to recognise it.
    async fn prefix(&self) -> &str {
        &self.0.prefix
    }

    /// When the key was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// Updated at most every few seconds.
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }

    /// When the key stops working; null: it never expires.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }

    /// When the key was revoked; null while it is not.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }

    /// The key this key was created with, when it was created with one. Revoking that key
    /// revokes this one too, and this key never outlives it.
    async fn parent_id(&self) -> Option<ID> {
        self.0.parent_key_id.map(|id| ID(id.to_string()))
    }

    /// True while the key works: neither revoked nor expired.
    async fn is_active(&self) -> bool {
        self.0.revoked_at.is_none() && self.0.expires_at.is_none_or(|at| at > Utc::now())
    }

    /// The user the key acts as.
    async fn owner(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        User::load(ctx, Some(self.0.user_id)).await
    }
}

/// A new key. `key` is shown this once: store it now.
#[derive(SimpleObject)]
pub struct CreatedApiKey {
    /// The new key's details.
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
        #[graphql(desc = "How many keys to skip: 0 to 10,000, 0 when absent.")] offset: Option<i32>,
        #[graphql(desc = "How many keys to return: 1 to 200, 50 when absent.")] limit: Option<i32>,
        #[graphql(default = false, desc = "Also list revoked keys.")] include_revoked: bool,
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
        #[graphql(desc = "A name to tell the key apart: 1 to 100 characters.")] name: String,
        #[graphql(desc = "When the key stops working; never when absent.")] expires_at: Option<
            DateTime<Utc>,
        >,
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
    async fn revoke_api_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id of the key to revoke.")] id: ID,
    ) -> AppResult<ApiKey> {
        let viewer = ctx.viewer()?;
        let key_id = parse_id("id", &id)?;
        let row = service::revoke(ctx.platform(), viewer, key_id).await?;
        Ok(ApiKey(row))
    }
}
