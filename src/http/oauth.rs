//! Seed 001's OAuth sign-in for browsers: `GET /api/auth/oauth/providers` lists the providers
//! configured, `GET /api/auth/oauth/{provider}` sends the browser to one, and
//! `GET /api/auth/oauth/{provider}/callback` brings it back — signed in with the same session
//! cookie as the password login, or with the identity linked to its account — and redirects it
//! to where it asked to land, with `?oauth_error=<reason>` when something failed there.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cookie::{Cookie, SameSite};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::accounts::identities::flow::{self, Callback, Completed, Purpose};
use crate::auth::Credentials;
use crate::auth::cookies::session_cookie;
use crate::auth::tokens::random_token;
use crate::config::ProviderId;
use crate::error::{AppError, AppResult};
use crate::graphql::handler::client_info;
use crate::state::AppState;

/// Where the cookie binding a flow to the browser that started it (its hash is kept with the
/// flow; one cookie per flow, named by `flow::flow_cookie_name`) is sent.
const FLOW_COOKIE_PATH: &str = "/api/auth/oauth";

#[derive(Serialize)]
struct ProviderEntry {
    id: &'static str,
    name: &'static str,
    /// Where a browser goes to sign in with it.
    url: String,
}

pub async fn providers(State(state): State<AppState>) -> Json<serde_json::Value> {
    let providers: Vec<ProviderEntry> = state
        .providers
        .configured()
        .map(|provider| ProviderEntry {
            id: provider.id().as_str(),
            name: provider.id().display_name(),
            url: format!("/api/auth/oauth/{}", provider.id().as_str()),
        })
        .collect();
    Json(serde_json::json!({ "providers": providers }))
}

fn provider_named(name: &str) -> AppResult<ProviderId> {
    ProviderId::parse(name).ok_or_else(|| AppError::not_found("no such sign-in provider"))
}

#[derive(Deserialize)]
pub struct StartQuery {
    #[serde(alias = "returnTo", alias = "redirect")]
    return_to: Option<String>,
    #[serde(alias = "tenantId")]
    tenant_id: Option<Uuid>,
}

fn flow_cookie(
    name: String,
    value: &str,
    max_age: cookie::time::Duration,
    secure: bool,
) -> AppResult<HeaderValue> {
    let cookie = Cookie::build((name, value.to_owned()))
        .http_only(true)
        // Lax: the provider sends the browser back with a top-level GET, which carries it.
        .same_site(SameSite::Lax)
        .secure(secure)
        .path(FLOW_COOKIE_PATH)
        .max_age(max_age)
        .build();
    HeaderValue::from_str(&cookie.to_string()).map_err(AppError::internal)
}

fn read_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name && !c.value().is_empty())
        .map(|c| c.value().to_owned())
}

pub(crate) fn redirect(location: &str, cookies: &[HeaderValue]) -> AppResult<Response> {
    let mut response = StatusCode::FOUND.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::LOCATION,
        HeaderValue::from_str(location).map_err(AppError::internal)?,
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for cookie in cookies {
        headers.append(header::SET_COOKIE, cookie.clone());
    }
    Ok(response)
}

/// Sends the browser to the provider's sign-in page.
pub async fn start(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<StartQuery>,
) -> AppResult<Response> {
    let provider = provider_named(&provider)?;
    let client = client_info(&headers, Some(peer));
    let secret = random_token(24);
    let begun = flow::begin(
        &state,
        provider,
        Purpose::SignIn {
            tenant_id: query.tenant_id,
        },
        Some(&secret),
        query.return_to.as_deref(),
        &client,
    )
    .await?;
    let ttl = cookie::time::Duration::seconds(state.config.identity.flow_ttl.as_secs() as i64);
    let cookie = flow_cookie(
        flow::flow_cookie_name(&begun.state),
        &secret,
        ttl,
        state.config.cookie_secure,
    )?;
    redirect(&begun.url, &[cookie])
}

/// What a provider sends back to a callback.
#[derive(Deserialize)]
pub struct CallbackQuery {
    pub(crate) code: Option<String>,
    pub(crate) state: Option<String>,
    pub(crate) error: Option<String>,
}

/// The account of the browser's web session, if it has one (links and Drive consents must
/// come back to it).
pub(crate) async fn session_user(
    state: &AppState,
    headers: &HeaderMap,
    client: &crate::auth::viewer::ClientInfo,
) -> Option<Uuid> {
    match Credentials::from_headers(headers) {
        credentials @ Credentials::Cookie { .. } => state
            .auth
            .authenticate(credentials, client.clone())
            .await
            .ok()
            .and_then(|auth| auth.user_id()),
        _ => None,
    }
}

/// Where the provider sends the browser back.
pub async fn callback(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> AppResult<Response> {
    let provider = provider_named(&provider)?;
    let client = client_info(&headers, Some(peer));
    let cookie_name = query.state.as_deref().map(flow::flow_cookie_name);
    let browser_secret = cookie_name
        .as_deref()
        .and_then(|name| read_cookie(&headers, name));
    let signed_in_user = session_user(&state, &headers, &client).await;
    let outcome = flow::complete(
        &state,
        Callback {
            provider,
            state: query.state.as_deref(),
            code: query.code.as_deref(),
            error: query.error.as_deref(),
            browser_secret: browser_secret.as_deref(),
            signed_in_user,
            drive: false,
            client: &client,
        },
    )
    .await;
    let Some(return_to) = outcome.return_to else {
        // No flow: nowhere trustworthy to send the browser, so the error is the answer.
        return Err(outcome.result.err().unwrap_or_else(|| {
            AppError::bad_input("this sign-in link is unknown, used or expired; start again")
        }));
    };
    let secure = state.config.cookie_secure;
    let forget_flow = flow_cookie(
        cookie_name.unwrap_or_default(),
        "",
        cookie::time::Duration::ZERO,
        secure,
    )?;
    match outcome.result {
        Ok(Completed::SignedIn(tokens)) => {
            let web = tokens.web.as_ref().ok_or_else(|| {
                AppError::internal(anyhow::anyhow!("a browser session has no web token"))
            })?;
            let session = session_cookie(&web.token, state.config.web_session_ttl, secure);
            redirect(&return_to, &[session, forget_flow])
        }
        Ok(Completed::Linked(_)) => redirect(
            &flow::with_query(&return_to, "linked", provider.as_str()),
            &[forget_flow],
        ),
        // `complete` refuses a Drive consent at this callback; Drive's has its own.
        Ok(Completed::DriveConsented { .. }) => Err(AppError::internal(anyhow::anyhow!(
            "a Drive consent completed at the sign-in callback"
        ))),
        Err(error) => {
            error.log();
            tracing::info!(provider = provider.as_str(), error = %error.message(), "an OAuth sign-in failed");
            let reason = reason_of(&error);
            redirect(
                &flow::with_query(&return_to, "oauth_error", &reason),
                &[forget_flow],
            )
        }
    }
}

/// What `?oauth_error=` says of an error: a FORBIDDEN error's reason, else its code.
pub(crate) fn reason_of(error: &AppError) -> String {
    match error {
        AppError::Forbidden {
            reason: Some(reason),
            ..
        } => (*reason).to_owned(),
        other => other.code().to_ascii_lowercase(),
    }
}
