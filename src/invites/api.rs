//! GraphQL: inviting people into a tenant and joining with an invite.

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::service;
use super::store::{self, InviteRow};
use crate::accounts::api::{AuthPayload, User};
use crate::auth::Role;
use crate::auth::tokens::secret_hash;
use crate::context::ContextExt;
use crate::db::pagination::{PageRequest, page_type};
use crate::db::parse_id;
use crate::error::AppResult;
use crate::tenants::service as tenants;

/// Where an invite is in its life.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum InviteStatus {
    /// Not used yet, and still usable.
    Pending,
    /// Used: the invitee joined.
    Accepted,
    /// Withdrawn by an ADMIN before it was used.
    Revoked,
    /// Its time ran out before it was used.
    Expired,
}

pub struct Invite(InviteRow);

impl Invite {
    fn status(&self) -> InviteStatus {
        let row = &self.0;
        if row.accepted_at.is_some() {
            InviteStatus::Accepted
        } else if row.revoked_at.is_some() {
            InviteStatus::Revoked
        } else if row.expires_at <= Utc::now() {
            InviteStatus::Expired
        } else {
            InviteStatus::Pending
        }
    }
}

/// An invitation for one email address to join the tenant with a role.
#[Object]
impl Invite {
    /// The invite's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The address invited.
    async fn email(&self) -> &str {
        &self.0.email
    }

    /// The role the invitee gets in the tenant.
    async fn role(&self) -> Role {
        Role::from_db(&self.0.role)
    }

    /// Where the invite is in its life.
    #[graphql(name = "status")]
    async fn status_field(&self) -> InviteStatus {
        self.status()
    }

    /// When the invite was made.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the invite stops working.
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }

    /// When the invite was used; null until then.
    async fn accepted_at(&self) -> Option<DateTime<Utc>> {
        self.0.accepted_at
    }

    /// Who made the invite; null once their account is deleted.
    async fn invited_by(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        User::load(ctx, self.0.created_by).await
    }
}

/// A new invite. `token` is shown this once: send it to the invitee.
#[derive(SimpleObject)]
pub struct CreatedInvite {
    /// The new invite.
    pub invite: Invite,
    /// The secret the invitee signs up or joins with (`registerWithInvite`, `acceptInvite`).
    pub token: String,
}

page_type! {
    /// A page of invites.
    pub struct InvitePage {
        total,
        invites: Vec<Invite>,
    }
}

/// What an invite token offers, for the sign-up page. Anyone holding the token may ask.
#[derive(SimpleObject)]
pub struct InviteValidation {
    /// The invite can be used now.
    pub valid: bool,
    /// Why the invite cannot be used, when it cannot.
    pub reason: Option<String>,
    /// The address invited; null for an unknown token.
    pub email: Option<String>,
    /// The role offered; null for an unknown token.
    pub role: Option<Role>,
    /// The name of the inviting tenant; null for an unknown token.
    pub tenant_name: Option<String>,
    /// When the invite stops working; null for an unknown token.
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Default)]
pub struct InviteQuery;

#[Object]
impl InviteQuery {
    /// The tenant's invites, newest first (ADMIN).
    async fn invites(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many invites to skip: 0 to 10,000, 0 when absent.")] offset: Option<
            i32,
        >,
        #[graphql(desc = "How many invites to return: 1 to 200, 50 when absent.")] limit: Option<
            i32,
        >,
    ) -> AppResult<InvitePage> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let page = PageRequest::new(offset, limit)?;
        let mut conn = ctx.conn().await?;
        let (total, rows) = store::list(&mut conn, viewer.tenant_id, page).await?;
        Ok(InvitePage::new(
            total,
            page,
            rows.into_iter().map(Invite).collect(),
        ))
    }

    /// Checks an invite token without using it (public).
    async fn validate_invite(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The invite's token.")] token: String,
    ) -> AppResult<InviteValidation> {
        let mut conn = ctx.conn().await?;
        let Some(row) = store::find_by_token(&mut conn, &secret_hash(token.trim())).await? else {
            return Ok(InviteValidation {
                valid: false,
                reason: Some("unknown invite".into()),
                email: None,
                role: None,
                tenant_name: None,
                expires_at: None,
            });
        };
        let tenant = tenants::find_tenant(&mut conn, row.tenant_id).await?;
        let invite = Invite(row);
        let reason = match invite.status() {
            InviteStatus::Pending => None,
            InviteStatus::Accepted => Some("the invite was already used"),
            InviteStatus::Revoked => Some("the invite was revoked"),
            InviteStatus::Expired => Some("the invite has expired"),
        };
        Ok(InviteValidation {
            valid: reason.is_none(),
            reason: reason.map(str::to_owned),
            email: Some(invite.0.email.clone()),
            role: Some(Role::from_db(&invite.0.role)),
            tenant_name: tenant.map(|t| t.name),
            expires_at: Some(invite.0.expires_at),
        })
    }
}

#[derive(Default)]
pub struct InviteMutation;

#[Object]
impl InviteMutation {
    /// Invites an email into the current tenant (ADMIN; only roles below your own).
    async fn create_invite(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The address to invite.")] email: String,
        #[graphql(desc = "The role the invitee gets: below your own.")] role: Role,
    ) -> AppResult<CreatedInvite> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let mut conn = ctx.conn().await?;
        let (row, token) = service::create(ctx.platform(), &mut conn, viewer, &email, role).await?;
        Ok(CreatedInvite {
            invite: Invite(row),
            token,
        })
    }

    /// Revokes a pending invite (ADMIN).
    async fn revoke_invite(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The invite's id.")] id: ID,
    ) -> AppResult<Invite> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let invite_id = parse_id("id", &id)?;
        let mut conn = ctx.conn().await?;
        Ok(Invite(service::revoke(&mut conn, viewer, invite_id).await?))
    }

    /// Creates an account for the invited email, joins the inviting tenant with the invited
    /// role, and signs in. The invite works once.
    async fn register_with_invite(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The invite's token.")] token: String,
        #[graphql(desc = "The new account's password: at least 8 characters.")] password: String,
        #[graphql(desc = "The name shown to other people.")] display_name: String,
    ) -> AppResult<AuthPayload> {
        let tokens = service::register_with_invite(
            ctx.platform(),
            &ctx.auth().client,
            ctx.auth().user_id(),
            &token,
            &password,
            &display_name,
        )
        .await?;
        Ok(AuthPayload(tokens))
    }

    /// Joins the inviting tenant with an existing account (the invite must be for your email),
    /// also from a session in no tenant. Switch to it with `selectTenant`.
    async fn accept_invite(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The invite's token.")] token: String,
    ) -> AppResult<User> {
        let account = ctx.account()?;
        let user = service::accept(ctx.platform(), account, &token).await?;
        Ok(User::new(user))
    }
}
