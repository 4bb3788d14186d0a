//! Signing in: checking passwords, opening sessions and issuing, rotating and revoking tokens.
//! Shared by the GraphQL mutations and the cookie-based web login.

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::model::{ClientType, NewSession, UserRow};
use super::store::{self, RefreshOutcome};
use crate::auth::throttle::Subject;
use crate::auth::tokens::{Claims, TokenKind, random_token, secret_hash};
use crate::auth::viewer::ClientInfo;
use crate::auth::{Revocation, Role};
use crate::context::Platform;
use crate::error::{AppError, AppResult};
use crate::tenants::service::{self as tenants, TenantRow};

/// The tenant a session acts in and the member's role there.
#[derive(Clone)]
pub struct Place {
    pub tenant: TenantRow,
    pub role: Role,
}

/// Tokens handed to a client that signed in.
pub struct SessionTokens {
    pub session_id: Uuid,
    pub user: UserRow,
    /// None for a session in no tenant (an account that belongs to none).
    pub place: Option<Place>,
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// For browser sessions: the cookie token and the CSRF token that goes with it.
    pub web: Option<WebToken>,
}

pub struct WebToken {
    pub token: String,
    pub csrf: String,
}

/// The one answer for every way a password sign-in can fail, so it reveals nothing.
fn bad_credentials() -> AppError {
    AppError::unauthenticated("invalid email or password")
}

pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Signs in with email and password, into `tenant_id` or else the tenant used last: checks the
/// password (throttled), chooses the tenant, opens the session. GraphQL's `login` and the web
/// login both come here.
pub async fn sign_in(
    platform: &Platform,
    email: &str,
    password: &str,
    tenant_id: Option<Uuid>,
    client: &ClientInfo,
    client_type: ClientType,
) -> AppResult<SessionTokens> {
    let mut conn = platform.pool.get().await?;
    let user = check_password(platform, &mut conn, email, password, client).await?;
    let place = choose_tenant(&mut conn, &user, tenant_id).await?;
    open_session(platform, &mut conn, user, place, client, client_type).await
}

/// Checks an email (or username) and password, throttling attempts per account and per address.
/// The attempt is counted before the password is hashed (see `auth::throttle`).
async fn check_password(
    platform: &Platform,
    conn: &mut AsyncPgConnection,
    email: &str,
    password: &str,
    client: &ClientInfo,
) -> AppResult<UserRow> {
    let email = normalize_email(email);
    // MUD clients sign in by username: anything without an `@` is one.
    let user = if email.contains('@') {
        store::find_user_by_email(conn, &email).await?
    } else {
        store::find_user_by_username(conn, &email).await?
    };
    let subject = match &user {
        Some(user) => Subject::Account(user.id),
        None => Subject::UnknownName(&email),
    };
    let throttle = &platform.auth.throttle;
    let attempt = throttle.reserve(conn, subject, client.ip).await?;
    let matches =
        crate::auth::password::verify(password, user.as_ref().map(|u| u.password_hash.as_str()))
            .await?;
    match user {
        Some(user) if matches && user.is_active => {
            throttle.succeeded(conn, attempt).await?;
            Ok(user)
        }
        _ => {
            throttle.forget_ended(conn, 100).await?;
            Err(bad_credentials())
        }
    }
}

/// The tenant a sign-in lands in: the requested one, else the last one used, else the oldest
/// membership; none for an account that belongs to no tenant (it signs in to a session that
/// can accept an invite or create a tenant). Superusers may enter any tenant.
pub(super) async fn choose_tenant(
    conn: &mut AsyncPgConnection,
    user: &UserRow,
    requested: Option<Uuid>,
) -> AppResult<Option<Place>> {
    let memberships = store::memberships_of(conn, user.id).await?;
    let role_in = |tenant_id: Uuid| {
        if user.is_superuser {
            Some(Role::Superuser)
        } else {
            memberships
                .iter()
                .find(|m| m.tenant_id == tenant_id)
                .map(|m| m.role())
        }
    };
    let tenant_id = match requested {
        Some(id) => {
            role_in(id)
                .ok_or_else(|| AppError::forbidden("you are not a member of that tenant"))?;
            id
        }
        None => {
            let chosen = user
                .last_tenant_id
                .filter(|id| role_in(*id).is_some())
                .or_else(|| memberships.first().map(|m| m.tenant_id));
            match chosen {
                Some(id) => id,
                None => return Ok(None),
            }
        }
    };
    let tenant = tenants::find_tenant(conn, tenant_id)
        .await?
        .ok_or_else(|| AppError::not_found("tenant not found"))?;
    let role = role_in(tenant_id)
        .ok_or_else(|| AppError::forbidden("you are not a member of that tenant"))?;
    Ok(Some(Place { tenant, role }))
}

/// A fresh refresh token: the secret for the client, its hash for the database, its expiry.
struct NewRefreshToken {
    secret: String,
    hash: Vec<u8>,
    expires_at: DateTime<Utc>,
}

impl NewRefreshToken {
    fn issue(platform: &Platform) -> AppResult<Self> {
        let secret = random_token(32);
        Ok(Self {
            hash: secret_hash(&secret),
            expires_at: from_now(platform.config.refresh_token_ttl)?,
            secret,
        })
    }
}

fn from_now(duration: std::time::Duration) -> AppResult<DateTime<Utc>> {
    Ok(Utc::now() + ChronoDuration::from_std(duration).map_err(AppError::internal)?)
}

/// Opens a session (in a tenant, or in none) and issues its first tokens, in one transaction.
pub async fn open_session(
    platform: &Platform,
    conn: &mut AsyncPgConnection,
    user: UserRow,
    place: Option<Place>,
    client: &ClientInfo,
    client_type: ClientType,
) -> AppResult<SessionTokens> {
    let config = &platform.config;
    let session_id = Uuid::now_v7();
    let lifetime = if client_type == ClientType::Browser {
        config.web_session_ttl
    } else {
        config.refresh_token_ttl
    };
    let expires_at = from_now(lifetime)?;
    let refresh = NewRefreshToken::issue(platform)?;
    let ip = client.ip.map(|ip| ip.to_string());
    let tenant_id = place.as_ref().map(|place| place.tenant.id);
    conn.transaction::<_, AppError, _>(async |conn| {
        store::insert_session(
            conn,
            NewSession {
                id: session_id,
                user_id: user.id,
                tenant_id,
                client_type: client_type.as_str(),
                expires_at: Some(expires_at),
                user_agent: client.user_agent.as_deref(),
                ip_address: ip,
            },
        )
        .await?;
        store::insert_refresh_token(conn, session_id, &refresh.hash, refresh.expires_at).await?;
        store::record_login(conn, user.id, tenant_id).await
    })
    .await?;

    tokens_for(
        platform,
        session_id,
        user,
        place,
        refresh.secret,
        client_type == ClientType::Browser,
    )
}

/// Signs the access token (and for browsers the cookie token with its CSRF token) of a session.
fn tokens_for(
    platform: &Platform,
    session_id: Uuid,
    user: UserRow,
    place: Option<Place>,
    refresh_token: String,
    browser: bool,
) -> AppResult<SessionTokens> {
    let tenant_id = place.as_ref().map(|place| place.tenant.id);
    let role = place.as_ref().map(|place| place.role);
    let (access_token, expires_in) = sign(
        platform,
        &user,
        tenant_id,
        role,
        session_id,
        TokenKind::Access,
        None,
    )?;
    let web = if browser {
        let csrf = random_token(24);
        let (token, _) = sign(
            platform,
            &user,
            tenant_id,
            role,
            session_id,
            TokenKind::Web,
            Some(csrf.clone()),
        )?;
        Some(WebToken { token, csrf })
    } else {
        None
    };
    Ok(SessionTokens {
        session_id,
        user,
        place,
        access_token,
        refresh_token,
        expires_in,
        web,
    })
}

/// Signs a token for a session. Web tokens live as long as a web session; access tokens briefly.
fn sign(
    platform: &Platform,
    user: &UserRow,
    tenant_id: Option<Uuid>,
    role: Option<Role>,
    session_id: Uuid,
    kind: TokenKind,
    csrf: Option<String>,
) -> AppResult<(String, i64)> {
    let ttl = match kind {
        TokenKind::Access => platform.config.access_token_ttl,
        TokenKind::Web => platform.config.web_session_ttl,
    };
    let now = Utc::now().timestamp();
    let expires_in = ttl.as_secs() as i64;
    let claims = Claims {
        sub: user.id,
        tid: tenant_id,
        role,
        sid: session_id,
        jti: Uuid::new_v4(),
        iat: now,
        exp: now + expires_in,
        kind,
        csrf,
    };
    Ok((platform.auth.keys.sign(&claims)?, expires_in))
}

/// Exchanges a refresh token for new tokens. A refresh token works once: presenting one that was
/// already used means it leaked, so the whole session (its token family) is revoked.
pub async fn refresh(
    platform: &Platform,
    conn: &mut AsyncPgConnection,
    presented: &str,
) -> AppResult<SessionTokens> {
    let invalid = || AppError::unauthenticated("the refresh token is invalid or has expired");
    let hash = secret_hash(presented.trim());
    let refresh = NewRefreshToken::issue(platform)?;
    let outcome = conn
        .transaction::<_, AppError, _>(async |conn| {
            let outcome = store::consume_refresh_token(conn, &hash).await?;
            match &outcome {
                RefreshOutcome::Valid(session) => {
                    store::insert_refresh_token(
                        conn,
                        session.id,
                        &refresh.hash,
                        refresh.expires_at,
                    )
                    .await?;
                    store::extend_session(conn, session.id, refresh.expires_at).await?;
                }
                RefreshOutcome::Reused { session_id } => {
                    store::revoke_session(conn, *session_id).await?
                }
                RefreshOutcome::Invalid => {}
            }
            Ok(outcome)
        })
        .await?;
    let session = match outcome {
        RefreshOutcome::Valid(session) => session,
        RefreshOutcome::Reused { session_id } => {
            platform.revoke(Revocation::Session(session_id)).await;
            tracing::warn!(%session_id, "a used refresh token was presented again; session revoked");
            return Err(AppError::unauthenticated(
                "this refresh token was already used; the session has been revoked for safety",
            ));
        }
        RefreshOutcome::Invalid => return Err(invalid()),
    };
    let user = store::find_user(conn, session.user_id)
        .await?
        .filter(|u| u.is_active)
        .ok_or_else(invalid)?;
    // A session in no tenant stays in none (selectTenant moves it); one in a tenant needs the
    // membership still.
    let place = match session.tenant_id {
        Some(tenant_id) => Some(
            choose_tenant(conn, &user, Some(tenant_id))
                .await
                .map_err(|_| invalid())?
                .ok_or_else(invalid)?,
        ),
        None => None,
    };
    tokens_for(platform, session.id, user, place, refresh.secret, false)
}

/// Moves a session to another tenant and issues fresh tokens for it; the session's older refresh
/// tokens stop working.
pub async fn switch_tenant(
    platform: &Platform,
    conn: &mut AsyncPgConnection,
    session_id: Uuid,
    user: UserRow,
    tenant_id: Uuid,
    browser: bool,
) -> AppResult<SessionTokens> {
    let place = choose_tenant(conn, &user, Some(tenant_id))
        .await?
        .ok_or_else(|| AppError::forbidden("you are not a member of that tenant"))?;
    let refresh = NewRefreshToken::issue(platform)?;
    conn.transaction::<_, AppError, _>(async |conn| {
        store::set_session_tenant(conn, session_id, place.tenant.id).await?;
        store::retire_refresh_tokens(conn, session_id).await?;
        store::insert_refresh_token(conn, session_id, &refresh.hash, refresh.expires_at).await?;
        store::record_login(conn, user.id, Some(place.tenant.id)).await
    })
    .await?;
    platform.revoke(Revocation::Session(session_id)).await;
    tokens_for(
        platform,
        session_id,
        user,
        Some(place),
        refresh.secret,
        browser,
    )
}

/// Ends one session, or every session of the user.
pub async fn end_sessions(
    platform: &Platform,
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    session_id: Option<Uuid>,
    everywhere: bool,
) -> AppResult<()> {
    match (session_id, everywhere) {
        (Some(session_id), false) => {
            store::revoke_session(conn, session_id).await?;
            platform.revoke(Revocation::Session(session_id)).await;
        }
        (_, true) => {
            store::revoke_user_sessions(conn, user_id, None).await?;
            platform.revoke(Revocation::User(user_id)).await;
        }
        (None, false) => {
            return Err(AppError::bad_input(
                "an API key is not a session: revoke it with revokeApiKey, or log out everywhere",
            ));
        }
    }
    Ok(())
}
