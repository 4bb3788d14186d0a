//! Seed 001's `POST /api/auth/forgot-password` and `POST /api/auth/reset-password`, the REST
//! faces of `forgotPassword` and `resetPassword`.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};

use super::web_auth::json_rejection;
use crate::accounts::resets::service as resets;
use crate::error::AppResult;
use crate::graphql::handler::client_info;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct ForgotRequest {
    email: String,
}

/// The same answer whether or not an account has the address.
pub async fn forgot(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<ForgotRequest>, JsonRejection>,
) -> AppResult<Json<Value>> {
    let Json(request) = body.map_err(json_rejection)?;
    resets::request(&state, &request.email, &client_info(&headers, Some(peer))).await?;
    Ok(Json(json!({
        "detail": "if an account has this address, a reset link is on its way"
    })))
}

#[derive(Deserialize)]
pub struct ResetRequest {
    token: String,
    #[serde(alias = "newPassword", alias = "password")]
    new_password: String,
}

pub async fn reset(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<ResetRequest>, JsonRejection>,
) -> AppResult<Json<Value>> {
    let Json(request) = body.map_err(json_rejection)?;
    resets::reset(
        &state,
        &request.token,
        &request.new_password,
        &client_info(&headers, Some(peer)),
    )
    .await?;
    Ok(Json(json!({
        "detail": "the password was reset; every session of the account has ended"
    })))
}
