//! Seed 001's web auth: `POST /api/auth/web/login` sets an httpOnly session cookie,
//! `GET /api/auth/web/session` reads it, `POST /api/auth/web/select-tenant` switches tenant,
//! `POST /api/auth/web/logout` ends it.
//!
//! Cookie-authenticated state changes need the `X-CSRF-Token` header carrying the `csrf_token`
//! returned here (see `RequestAuth::may_mutate`).

use std::net::SocketAddr;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::accounts::model::ClientType;
use crate::accounts::sessions::{self, SessionTokens};
use crate::accounts::store as accounts;
use crate::auth::Credentials;
use crate::auth::cookies::{clear_session_cookie, read_session_cookie, session_cookie};
use crate::auth::viewer::RequestAuth;
use crate::error::{AppError, AppResult};
use crate::graphql::handler::client_info;
use crate::state::AppState;

/// A JSON body that parses but does not fit (a field missing, or of the wrong type) is 422, as
/// seed 001 answers validation failures; one that is not JSON at all stays 400.
pub(crate) fn json_rejection(rejection: JsonRejection) -> AppError {
    match rejection {
        JsonRejection::JsonDataError(error) => AppError::unfit(None, error.body_text()),
        // A body past the route's limit is 413, as every upload's is.
        other if other.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
            AppError::PayloadTooLarge("the body is larger than this endpoint takes".into())
        }
        other => AppError::bad_input(other.body_text()),
    }
}

#[derive(Deserialize)]
pub struct LoginRequest {
    email: String,
    password: String,
    tenant_id: Option<Uuid>,
}

/// Seed 001's login response, plus what a browser client needs next.
#[derive(Serialize)]
pub struct LoginResponse {
    access_token: String,
    token_type: &'static str,
    /// None when the account belongs to no tenant.
    tenant_id: Option<Uuid>,
    user_id: Uuid,
    role: Option<&'static str>,
    expires_in: i64,
    /// Echo this in the `X-CSRF-Token` header on cookie-authenticated mutations.
    csrf_token: String,
}

fn signed_in(state: &AppState, tokens: SessionTokens) -> AppResult<Response> {
    let web = tokens
        .web
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("a browser session has no web token")))?;
    let body = LoginResponse {
        access_token: tokens.access_token,
        token_type: "bearer",
        tenant_id: tokens.place.as_ref().map(|place| place.tenant.id),
        user_id: tokens.user.id,
        role: tokens.place.as_ref().map(|place| place.role.as_str()),
        expires_in: tokens.expires_in,
        csrf_token: web.csrf,
    };
    let cookie = session_cookie(
        &web.token,
        state.config.web_session_ttl,
        state.config.cookie_secure,
    );
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> AppResult<Response> {
    let Json(request) = body.map_err(json_rejection)?;
    let client = client_info(&headers, Some(peer));
    let tokens = sessions::sign_in(
        &state,
        &request.email,
        &request.password,
        request.tenant_id,
        &client,
        ClientType::Browser,
    )
    .await?;
    signed_in(&state, tokens)
}

#[derive(Deserialize)]
pub struct GoogleSsoRequest {
    /// The ID token; Google's button calls it `credential`.
    #[serde(alias = "credential")]
    id_token: String,
    tenant_id: Option<Uuid>,
}

/// Seed 001's `POST /api/auth/web/google-sso`: signs in with a Google ID token and sets the
/// session cookie, as the password login does.
pub async fn google_sso(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<GoogleSsoRequest>, JsonRejection>,
) -> AppResult<Response> {
    let Json(request) = body.map_err(json_rejection)?;
    let client = client_info(&headers, Some(peer));
    let tokens = crate::accounts::identities::service::sign_in_with_id_token(
        &state,
        crate::config::ProviderId::Google,
        &request.id_token,
        request.tenant_id,
        &client,
        ClientType::Browser,
    )
    .await?;
    signed_in(&state, tokens)
}

/// Who the session cookie signs in (in a tenant or in none); any other credentials are refused
/// here. A `changing` request also needs the CSRF header, as cookie-authenticated GraphQL
/// mutations do.
async fn cookie_auth(
    state: &AppState,
    headers: &HeaderMap,
    changing: bool,
) -> AppResult<RequestAuth> {
    let credentials = Credentials::from_headers(headers);
    if !matches!(credentials, Credentials::Cookie { .. }) {
        return Err(AppError::unauthenticated("no session cookie"));
    }
    let auth = state
        .auth
        .authenticate(credentials, client_info(headers, None))
        .await?;
    if changing && !auth.may_mutate() {
        return Err(AppError::Forbidden {
            message: "missing or wrong X-CSRF-Token header".into(),
            reason: Some("csrf"),
        });
    }
    Ok(auth)
}

#[derive(Serialize)]
pub struct SessionResponse {
    user_id: Uuid,
    email: String,
    display_name: String,
    /// The session's tenant; none for an account that belongs to no tenant.
    tenant_id: Option<Uuid>,
    tenant_name: Option<String>,
    role: Option<&'static str>,
    session_id: Option<Uuid>,
    /// The session's CSRF token, for a browser that signed in through a redirect (OAuth) and
    /// never saw the login response.
    csrf_token: Option<String>,
}

pub async fn session(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> AppResult<Json<SessionResponse>> {
    let auth = cookie_auth(&state, &headers, false).await?;
    let account = auth.account()?;
    let mut conn = state.pool.get().await?;
    let user = accounts::find_user(&mut conn, account.user_id)
        .await?
        .ok_or_else(|| AppError::unauthenticated("the account no longer exists"))?;
    let tenant = match account.tenant_id {
        Some(tenant_id) => Some(
            crate::tenants::service::find_tenant(&mut conn, tenant_id)
                .await?
                .ok_or_else(|| AppError::not_found("tenant not found"))?,
        ),
        None => None,
    };
    Ok(Json(SessionResponse {
        user_id: user.id,
        email: user.email,
        display_name: user.display_name,
        tenant_id: tenant.as_ref().map(|tenant| tenant.id),
        tenant_name: tenant.map(|tenant| tenant.name),
        role: auth.viewer.as_ref().map(|viewer| viewer.role.as_str()),
        session_id: account.session_id,
        csrf_token: read_session_cookie(&headers)
            .and_then(|token| state.auth.keys.verify(&token).ok())
            .and_then(|claims| claims.csrf),
    }))
}

#[derive(Deserialize)]
pub struct SelectTenantRequest {
    tenant_id: Uuid,
}

pub async fn select_tenant(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<SelectTenantRequest>, JsonRejection>,
) -> AppResult<Response> {
    let Json(request) = body.map_err(json_rejection)?;
    let account = cookie_auth(&state, &headers, true).await?.account()?;
    let session_id = account
        .session_id
        .ok_or_else(|| AppError::unauthenticated("no session cookie"))?;
    let mut conn = state.pool.get().await?;
    let user = accounts::find_user(&mut conn, account.user_id)
        .await?
        .ok_or_else(|| AppError::unauthenticated("the account no longer exists"))?;
    let tokens =
        sessions::switch_tenant(&state, &mut conn, session_id, user, request.tenant_id, true)
            .await?;
    signed_in(&state, tokens)
}

pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    let account = cookie_auth(&state, &headers, true).await?.account()?;
    let mut conn = state.pool.get().await?;
    sessions::end_sessions(
        &state,
        &mut conn,
        account.user_id,
        account.session_id,
        false,
    )
    .await?;
    Ok((
        [(
            header::SET_COOKIE,
            clear_session_cookie(state.config.cookie_secure),
        )],
        Json(serde_json::json!({ "detail": "signed out" })),
    )
        .into_response())
}
