//! GraphQL of accounts: signing up and in, tokens and the viewer's own account (here), the
//! administration of a tenant's users (`admin`), and the seed's createUser and manageUser
//! (`manage`).

pub mod admin;
pub mod identities;
pub mod manage;

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::model::{ClientType, UserRow};
use super::passwords;
use super::service::{self, Registration};
use super::sessions::{self, SessionTokens};
use super::store;
use crate::accounts::loaders::AccountLoaders;
use crate::auth::Role;
use crate::context::ContextExt;
use crate::db::loading::{load, prefetch_many};
use crate::db::parse_id;
use crate::error::{AppError, AppResult};
use crate::tenants::api::Tenant;

#[derive(Clone)]
pub struct User {
    pub row: UserRow,
    /// The role in the viewer's tenant, when the query already knows it.
    pub known_role: Option<Role>,
    /// The user this very response signs in (no viewer exists yet): they see their own email.
    pub signing_in: bool,
}

impl User {
    pub fn new(row: UserRow) -> Self {
        Self::known(row, None)
    }

    pub fn with_role(row: UserRow, role: Role) -> Self {
        Self::known(row, Some(role))
    }

    pub fn known(row: UserRow, known_role: Option<Role>) -> Self {
        Self {
            row,
            known_role,
            signing_in: false,
        }
    }
}

/// How other domains' GraphQL types show a user (an author, an actor).
impl User {
    /// The user with this id, through the request's loader (null when there is none, or no id).
    pub async fn load(ctx: &Context<'_>, id: Option<Uuid>) -> AppResult<Option<User>> {
        match id {
            Some(id) => Ok(load(&ctx.loaders::<AccountLoaders>().users, id)
                .await?
                .map(User::new)),
            None => Ok(None),
        }
    }

    /// Loads these users in one statement for the fields of a list that will ask for them
    /// (nothing to do when the request's loaders keep nothing).
    pub async fn prefetch(ctx: &Context<'_>, ids: impl IntoIterator<Item = Uuid>) -> AppResult<()> {
        if ctx.caches_loads() {
            prefetch_many(&ctx.loaders::<AccountLoaders>().users, ids).await?;
        }
        Ok(())
    }
}

/// A person with an account. Accounts are global; what they may do depends on their role in
/// the tenant being looked at.
#[Object]
impl User {
    /// The account's id (the same in every tenant).
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }

    /// Seen by the user themself and by ADMIN and above; null for other members (who see the
    /// display name and username).
    async fn email(&self, ctx: &Context<'_>) -> Option<&str> {
        let auth = ctx.auth();
        let visible = self.signing_in
            || auth.user_id() == Some(self.row.id)
            || auth
                .viewer
                .as_ref()
                .is_some_and(|viewer| viewer.role >= Role::Admin);
        visible.then_some(self.row.email.as_str())
    }

    /// Unique (ignoring case), 2 to 20 characters; MUD clients sign in with it.
    async fn username(&self) -> &str {
        &self.row.username
    }

    /// The name shown to other people.
    async fn display_name(&self) -> &str {
        &self.row.display_name
    }

    /// False once the account is deactivated: it can no longer sign in.
    async fn is_active(&self) -> bool {
        self.row.is_active
    }

    /// True for a SUPERUSER: global, with every role in every tenant.
    async fn is_superuser(&self) -> bool {
        self.row.is_superuser
    }

    /// When the account was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }

    /// When the account was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.row.updated_at
    }

    /// When the user last signed in; null if they never have.
    async fn last_login_at(&self) -> Option<DateTime<Utc>> {
        self.row.last_login_at
    }

    /// The role in the viewer's current tenant; null when the user is not a member of it.
    async fn role(&self, ctx: &Context<'_>) -> AppResult<Option<Role>> {
        if self.row.is_superuser {
            return Ok(Some(Role::Superuser));
        }
        if let Some(role) = self.known_role {
            return Ok(Some(role));
        }
        load(&ctx.loaders::<AccountLoaders>().roles, self.row.id).await
    }

    /// Every tenant the user belongs to. Visible to the user themself and to superusers.
    async fn memberships(&self, ctx: &Context<'_>) -> AppResult<Vec<Membership>> {
        let account = ctx.auth().account()?;
        let superuser = ctx.auth().viewer.as_ref().is_some_and(|v| v.is_superuser());
        if account.user_id != self.row.id && !superuser {
            return Err(AppError::forbidden(
                "only the user themself can see their memberships",
            ));
        }
        Ok(
            load(&ctx.loaders::<AccountLoaders>().memberships, self.row.id)
                .await?
                .unwrap_or_default()
                .into_iter()
                .map(|m| Membership {
                    tenant_id: m.tenant_id,
                    role: m.role(),
                    joined_at: m.created_at,
                })
                .collect(),
        )
    }
}

pub struct Membership {
    tenant_id: Uuid,
    role: Role,
    joined_at: DateTime<Utc>,
}

/// A user's place in one tenant.
#[Object]
impl Membership {
    /// The tenant the user belongs to.
    async fn tenant(&self, ctx: &Context<'_>) -> AppResult<Tenant> {
        Tenant::load(ctx, self.tenant_id)
            .await?
            .ok_or_else(|| AppError::not_found("tenant not found"))
    }

    /// The user's role in that tenant.
    async fn role(&self) -> Role {
        self.role
    }

    /// When the user joined that tenant.
    async fn joined_at(&self) -> DateTime<Utc> {
        self.joined_at
    }
}

pub struct AuthPayload(pub SessionTokens);

/// The result of signing in: tokens plus who and where you are.
#[Object]
impl AuthPayload {
    /// Short-lived; send it as `Authorization: Bearer <accessToken>`.
    async fn access_token(&self) -> &str {
        &self.0.access_token
    }

    /// Single use: exchange it with `refreshToken` for a new pair before the access token expires.
    async fn refresh_token(&self) -> &str {
        &self.0.refresh_token
    }

    /// Always "bearer".
    async fn token_type(&self) -> &str {
        "bearer"
    }

    /// Seconds until the access token expires.
    async fn expires_in(&self) -> i64 {
        self.0.expires_in
    }

    /// The user now signed in (their own email included).
    async fn user(&self) -> User {
        User {
            signing_in: true,
            ..User::known(
                self.0.user.clone(),
                self.0.place.as_ref().map(|place| place.role),
            )
        }
    }

    /// The tenant the tokens are for; null when the account belongs to no tenant (the session
    /// may then accept an invite, create a tenant or select one it joined, nothing else).
    async fn tenant(&self) -> Option<Tenant> {
        self.0
            .place
            .as_ref()
            .map(|place| Tenant(place.tenant.clone()))
    }

    /// The user's role in that tenant; null with the tenant.
    async fn role(&self) -> Option<Role> {
        self.0.place.as_ref().map(|place| place.role)
    }
}

/// A new account with its own new tenant.
#[derive(InputObject)]
pub struct RegisterInput {
    /// The address to sign in with.
    pub email: String,
    /// At least 8 characters.
    pub password: String,
    /// The name shown to other people.
    pub display_name: String,
    /// The studio to create; you become its first ADMIN.
    pub tenant_name: String,
    /// 2 to 20 letters, digits, `_`, `.` or `-`, unique; derived from the email when absent.
    pub username: Option<String>,
}

impl RegisterInput {
    /// The registration the input asks for (`register`, `registerWithBetaCode`).
    pub fn registration(&self) -> Registration<'_> {
        Registration {
            email: &self.email,
            password: &self.password,
            display_name: &self.display_name,
            tenant_name: &self.tenant_name,
            username: self.username.as_deref(),
        }
    }
}

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The signed-in user (also in a session in no tenant, where `role` is null).
    async fn me(&self, ctx: &Context<'_>) -> AppResult<User> {
        let account = ctx.account()?;
        let row = load(&ctx.loaders::<AccountLoaders>().users, account.user_id)
            .await?
            .ok_or_else(|| AppError::unauthenticated("the account no longer exists"))?;
        let role = ctx.auth().viewer.as_ref().map(|viewer| viewer.role);
        Ok(User::known(row, role))
    }
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Creates an account and a new tenant with you as its ADMIN, and signs you in.
    async fn register(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new account and the name of its tenant.")] input: RegisterInput,
    ) -> AppResult<AuthPayload> {
        let tokens =
            service::register(ctx.platform(), &ctx.auth().client, input.registration()).await?;
        Ok(AuthPayload(tokens))
    }

    /// Signs in with email and password, into `tenantId` or else the tenant used last. A wrong
    /// email and a wrong password fail alike; repeated failures are throttled (RATE_LIMITED).
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account's email address.")] email: String,
        #[graphql(desc = "The account's password.")] password: String,
        #[graphql(desc = "The tenant to sign into; the tenant used last when absent.")]
        tenant_id: Option<ID>,
        #[graphql(
            default_with = "ClientType::Api",
            desc = "What the session is opened from; API when absent."
        )]
        client_type: ClientType,
    ) -> AppResult<AuthPayload> {
        let requested = tenant_id.map(|id| parse_id("tenantId", &id)).transpose()?;
        let client = &ctx.auth().client;
        let tokens = sessions::sign_in(
            ctx.platform(),
            &email,
            &password,
            requested,
            client,
            client_type,
        )
        .await?;
        Ok(AuthPayload(tokens))
    }

    /// Exchanges a refresh token for a new access token and refresh token. Each refresh token
    /// works once; presenting a used one revokes its whole session.
    async fn refresh_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The refresh token of the last pair issued (it works once).")]
        refresh_token: String,
    ) -> AppResult<AuthPayload> {
        let mut conn = ctx.conn().await?;
        Ok(AuthPayload(
            sessions::refresh(ctx.platform(), &mut conn, &refresh_token).await?,
        ))
    }

    /// Ends the current session (or, with `everywhere`, every session of the account).
    async fn logout(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default = false,
            desc = "End every session of the account, not only this one."
        )]
        everywhere: bool,
    ) -> AppResult<bool> {
        let viewer = ctx.account()?;
        let mut conn = ctx.conn().await?;
        sessions::end_sessions(
            ctx.platform(),
            &mut conn,
            viewer.user_id,
            viewer.session_id,
            everywhere,
        )
        .await?;
        if ctx.auth().via_cookie {
            ctx.append_http_header(
                axum::http::header::SET_COOKIE,
                crate::auth::cookies::clear_session_cookie(ctx.platform().config.cookie_secure),
            );
        }
        Ok(true)
    }

    /// Changes your own password; every other session of the account is signed out.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Your password now.")] current_password: String,
        #[graphql(desc = "The new password: at least 8 characters.")] new_password: String,
    ) -> AppResult<bool> {
        let account = ctx.account()?;
        passwords::change_own(ctx.platform(), account, &current_password, &new_password).await?;
        Ok(true)
    }
}

/// Switching tenants: a mutation of sessions, listed in the schema beside the tenant's own.
#[derive(Default)]
pub struct TenantSessionMutation;

#[Object]
impl TenantSessionMutation {
    /// Founds a new tenant with you as its ADMIN and moves the current session into it (also
    /// from a session in no tenant); returns tokens for it. At most 10 a day per account.
    async fn create_tenant(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new tenant's name: 1 to 100 characters.")] name: String,
    ) -> AppResult<AuthPayload> {
        let account = ctx.account()?;
        let tokens = super::own_tenants::create(ctx.platform(), account, &name).await?;
        Ok(AuthPayload(tokens))
    }

    /// Moves the current session (also one in no tenant) to another tenant you belong to and
    /// returns tokens for it.
    async fn select_tenant(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id of a tenant you belong to.")] tenant_id: ID,
    ) -> AppResult<AuthPayload> {
        let viewer = ctx.account()?;
        let session_id = viewer
            .session_id
            .ok_or_else(|| AppError::forbidden("API keys are bound to one tenant"))?;
        let tenant_id = parse_id("tenantId", &tenant_id)?;
        let mut conn = ctx.conn().await?;
        let user = store::find_user(&mut conn, viewer.user_id)
            .await?
            .ok_or_else(|| AppError::unauthenticated("the account no longer exists"))?;
        let tokens = sessions::switch_tenant(
            ctx.platform(),
            &mut conn,
            session_id,
            user,
            tenant_id,
            false,
        )
        .await?;
        Ok(AuthPayload(tokens))
    }
}
