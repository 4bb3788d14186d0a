//! `GET /api/billing/portal`: sends an ADMIN's browser straight to Stripe's customer portal for
//! their tenant (303 See Other), so a plain link or button can open it.
//!
//! Any credentials work: a bearer token, an API key, or the session cookie. A cookie request
//! needs no CSRF header here: the browser follows this link itself (a top-level navigation, where
//! no header can be added), and all it yields is a portal page for the caller's own tenant,
//! shown to the caller. Failures answer `{"detail": ...}` with the error's status (401, 403;
//! 409 when billing is not configured or Stripe refuses).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::auth::{Credentials, Role};
use crate::billing::checkout::portal_url;
use crate::billing::not_configured;
use crate::error::AppResult;
use crate::graphql::handler::client_info;
use crate::state::AppState;

pub async fn portal(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let auth = state
        .auth
        .authenticate(
            Credentials::from_headers(&headers),
            client_info(&headers, Some(peer)),
        )
        .await?;
    let viewer = auth.viewer()?;
    viewer.require_role(Role::Admin)?;
    let stripe = state.stripe.as_deref().ok_or_else(not_configured)?;
    let url = portal_url(&state.pool, stripe, viewer).await?;
    let mut response = Redirect::to(&url).into_response();
    // The portal URL opens the tenant's billing to whoever holds it: keep it out of caches.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
