//! Seed 001's Drive routes for browsers: `GET /api/auth/oauth/google/drive` sends a signed-in
//! member to Google's Drive consent, `GET /api/auth/oauth/google/drive/callback` keeps what
//! comes back, and `GET /api/drive/files/{file_id}/download` passes a file's bytes through.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::caller;
use super::oauth::CallbackQuery;
use crate::accounts::identities::flow::{self, Callback, Completed};
use crate::auth::Role;
use crate::config::ProviderId;
use crate::error::{AppError, AppResult};
use crate::graphql::handler::client_info;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct StartQuery {
    #[serde(alias = "returnTo", alias = "redirect")]
    return_to: Option<String>,
}

/// Sends a signed-in member (web session or token) to Google's Drive consent.
pub async fn start(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<StartQuery>,
) -> AppResult<Response> {
    let viewer = caller(&state, &headers, peer, Role::Worldbuilder, false).await?;
    let url = crate::accounts::service::begin_drive_consent(
        &state,
        &viewer,
        query.return_to.as_deref(),
        &client_info(&headers, Some(peer)),
    )
    .await?;
    super::oauth::redirect(&url, &[])
}

/// Where Google sends the browser back: the consent is kept if the browser's session is the
/// member's who asked.
pub async fn callback(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> AppResult<Response> {
    let client = client_info(&headers, Some(peer));
    let signed_in_user = super::oauth::session_user(&state, &headers, &client).await;
    let outcome = flow::complete(
        &state,
        Callback {
            provider: ProviderId::Google,
            state: query.state.as_deref(),
            code: query.code.as_deref(),
            error: query.error.as_deref(),
            browser_secret: None,
            signed_in_user,
            drive: true,
            client: &client,
        },
    )
    .await;
    let Some(return_to) = outcome.return_to else {
        return Err(outcome.result.err().unwrap_or_else(|| {
            AppError::bad_input("this consent link is unknown, used or expired; start again")
        }));
    };
    let kept = match outcome.result {
        Ok(Completed::DriveConsented {
            user_id,
            tenant_id,
            tokens,
            email,
        }) => crate::drive::service::connect(&state, tenant_id, user_id, tokens, email)
            .await
            .map(|_| ()),
        Ok(_) => Err(AppError::internal(anyhow::anyhow!(
            "a sign-in completed at Drive's callback"
        ))),
        Err(error) => Err(error),
    };
    match kept {
        Ok(()) => super::oauth::redirect(&flow::with_query(&return_to, "drive", "connected"), &[]),
        Err(error) => {
            error.log();
            tracing::info!(error = %error.message(), "a Drive consent failed");
            super::oauth::redirect(
                &flow::with_query(&return_to, "oauth_error", &super::oauth::reason_of(&error)),
                &[],
            )
        }
    }
}

/// Seed 001's `POST /api/drive/webhook`: Google's notification for a push channel. Answered
/// at once (the round runs on the sync worker's queue); 404 for an unknown or stopped channel
/// or a wrong token, and nothing is processed.
pub async fn webhook(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let notification = crate::drive::watch::Notification {
        channel_id: header("x-goog-channel-id").unwrap_or_default(),
        token: header("x-goog-channel-token"),
        resource_state: header("x-goog-resource-state").unwrap_or_default(),
        message_number: header("x-goog-message-number").and_then(|n| n.parse().ok()),
    };
    if let Some((tenant_id, user_id)) = crate::drive::watch::notified(&state, notification).await? {
        state.drive_sync.enqueue(tenant_id, user_id);
    }
    Ok(axum::http::StatusCode::OK.into_response())
}

/// A Drive file's bytes, for the signed-in member whose Drive it is in.
pub async fn download(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(file_id): Path<String>,
) -> AppResult<Response> {
    let viewer = caller(&state, &headers, peer, Role::Worldbuilder, false).await?;
    let file = crate::drive::service::download(&state, &viewer, &file_id).await?;
    let mut response = file.bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&file.mime_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    // The name as Drive has it, quoted safely (RFC 6266's ASCII fallback).
    let safe: String = file
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}
