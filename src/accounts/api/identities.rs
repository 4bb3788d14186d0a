//! GraphQL of signing in with Google and Microsoft, linked identities, and password resets.

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::AuthPayload;
use crate::accounts::identities::flow::{self, Purpose};
use crate::accounts::identities::service as identities;
use crate::accounts::identities::store::IdentityRow;
use crate::accounts::model::ClientType;
use crate::accounts::resets::service as resets;
use crate::config::ProviderId;
use crate::context::ContextExt;
use crate::db::parse_id;
use crate::error::{AppError, AppResult};

/// An OpenID provider users may sign in with.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum IdentityProvider {
    /// Google accounts (Google Workspace and personal).
    Google,
    /// Microsoft accounts (work, school and personal).
    Microsoft,
}

impl From<IdentityProvider> for ProviderId {
    fn from(provider: IdentityProvider) -> Self {
        match provider {
            IdentityProvider::Google => ProviderId::Google,
            IdentityProvider::Microsoft => ProviderId::Microsoft,
        }
    }
}

impl From<ProviderId> for IdentityProvider {
    fn from(provider: ProviderId) -> Self {
        match provider {
            ProviderId::Google => IdentityProvider::Google,
            ProviderId::Microsoft => IdentityProvider::Microsoft,
        }
    }
}

/// A provider configured on this server, for a sign-in button.
#[derive(SimpleObject)]
pub struct SignInProvider {
    /// Which provider.
    pub provider: IdentityProvider,
    /// Its name, as a button shows it.
    pub name: &'static str,
    /// Where a browser goes to sign in with it (`GET`; add `?returnTo=` for where to land).
    pub sign_in_path: String,
}

/// An identity at a provider that signs in to your account.
#[derive(SimpleObject)]
pub struct LinkedIdentity {
    /// The link's id (for `unlinkIdentity`).
    pub id: ID,
    /// The provider.
    pub provider: IdentityProvider,
    /// The email the provider reported at the last sign-in.
    pub email: Option<String>,
    /// Whether the provider vouched for that email.
    pub email_verified: bool,
    /// When it was linked.
    pub linked_at: DateTime<Utc>,
    /// When it last signed in (or was linked).
    pub last_used_at: Option<DateTime<Utc>>,
}

impl LinkedIdentity {
    fn from_row(row: IdentityRow) -> Option<Self> {
        Some(Self {
            id: ID(row.id.to_string()),
            provider: ProviderId::parse(&row.provider)?.into(),
            email: row.email,
            email_verified: row.email_verified,
            linked_at: row.created_at,
            last_used_at: row.last_used_at,
        })
    }
}

#[derive(Default)]
pub struct IdentityQuery;

#[Object]
impl IdentityQuery {
    /// The providers configured here (none unless the operator gave a client id and secret).
    async fn sign_in_providers(&self, ctx: &Context<'_>) -> Vec<SignInProvider> {
        ctx.platform()
            .providers
            .configured()
            .map(|provider| SignInProvider {
                provider: provider.id().into(),
                name: provider.id().display_name(),
                sign_in_path: format!("/api/auth/oauth/{}", provider.id().as_str()),
            })
            .collect()
    }

    /// The identities that sign in to your account.
    async fn linked_identities(&self, ctx: &Context<'_>) -> AppResult<Vec<LinkedIdentity>> {
        let viewer = ctx.account()?;
        let mut conn = ctx.platform().pool.get().await?;
        Ok(identities::linked(&mut conn, viewer.user_id)
            .await?
            .into_iter()
            .filter_map(LinkedIdentity::from_row)
            .collect())
    }
}

#[derive(Default)]
pub struct IdentityMutation;

#[Object]
impl IdentityMutation {
    /// Signs in with a Google ID token (what Google's sign-in button hands the page): its
    /// signature, issuer, audience and expiry are checked. An unknown Google account with a
    /// verified email no account uses gets a new account and studio; an email an account uses
    /// already is refused (FORBIDDEN, reason `link_required`) until that account links Google.
    async fn login_with_google(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The ID token (a JWT) Google issued to this server's client id.")]
        id_token: String,
        #[graphql(desc = "The tenant to sign into; the tenant used last when absent.")]
        tenant_id: Option<ID>,
        #[graphql(
            default_with = "ClientType::Api",
            desc = "What the session is opened from; API when absent."
        )]
        client_type: ClientType,
    ) -> AppResult<AuthPayload> {
        let requested = tenant_id.map(|id| parse_id("tenantId", &id)).transpose()?;
        let tokens = identities::sign_in_with_id_token(
            ctx.platform(),
            ProviderId::Google,
            &id_token,
            requested,
            &ctx.auth().client,
            client_type,
        )
        .await?;
        Ok(AuthPayload(tokens))
    }

    /// Starts linking a provider's identity to your account: open the URL returned in the
    /// browser that holds your web session (the callback checks it is still you), sign in at the
    /// provider, and land on `returnTo` with `?linked=<provider>` (or `?oauth_error=`).
    async fn begin_identity_link(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The provider to link.")] provider: IdentityProvider,
        #[graphql(
            desc = "A path on this server, or a URL of an allowed web origin; `/` when absent."
        )]
        return_to: Option<String>,
    ) -> AppResult<String> {
        let viewer = ctx.account()?;
        if viewer.session_id.is_none() {
            return Err(AppError::forbidden(
                "link identities from a signed-in session, not with an API key",
            ));
        }
        flow::begin(
            ctx.platform(),
            provider.into(),
            Purpose::Link {
                user_id: viewer.user_id,
            },
            None,
            return_to.as_deref(),
            &ctx.auth().client,
        )
        .await
        .map(|begun| begun.url)
    }

    /// Removes a linked identity; refused (CONFLICT) when it is the account's only way to sign
    /// in. True when it was removed.
    async fn unlink_identity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The linked identity's id.")] id: ID,
    ) -> AppResult<bool> {
        let viewer = ctx.account()?;
        if viewer.session_id.is_none() {
            return Err(AppError::forbidden(
                "unlink identities from a signed-in session, not with an API key",
            ));
        }
        let identity_id = parse_id("id", &id)?;
        let mut conn = ctx.platform().pool.get().await?;
        identities::unlink(&mut conn, viewer.user_id, identity_id).await?;
        Ok(true)
    }

    /// Mails a single-use password-reset link to the address, if an account has it. The answer
    /// is the same either way; asking too often from one address is RATE_LIMITED.
    async fn forgot_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account's email address.")] email: String,
    ) -> AppResult<bool> {
        resets::request(ctx.platform(), &email, &ctx.auth().client).await?;
        Ok(true)
    }

    /// Sets a new password with the token of a reset link; the link stops working and every
    /// session of the account ends (sign in again with the new password).
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The `token` of the reset link.")] token: String,
        #[graphql(desc = "The new password (8 to 1024 characters).")] new_password: String,
    ) -> AppResult<bool> {
        resets::reset(ctx.platform(), &token, &new_password, &ctx.auth().client).await?;
        Ok(true)
    }
}
