//! REST shims for what cannot speak GraphQL: health probes, the cookie-based web login, sign-in
//! with Google and Microsoft, password resets, uploads
//! and file serving, the billing portal, Stripe's webhook, and Prometheus' `/metrics`.

pub mod assembly_export;
pub mod assets;
pub mod billing_portal;
pub mod drive;
pub mod frontend_logs;
pub mod health;
pub mod markdown_import;
pub mod metrics;
pub mod oauth;
pub mod password_reset;
pub mod shares;
pub mod story_files;
pub mod stripe_webhook;
pub mod tenant_archive;
pub mod web_auth;

use std::net::SocketAddr;

use axum::http::HeaderMap;

use crate::auth::{Credentials, Role, Viewer};
use crate::error::{AppError, AppResult};
use crate::graphql::handler::client_info;
use crate::state::AppState;

/// A raw request body of at most `max_bytes` (413 past it, naming the limit in MiB and what
/// the body is: "an archive", "a file").
pub(crate) async fn read_body(
    body: axum::body::Body,
    max_bytes: usize,
    what: &str,
) -> AppResult<axum::body::Bytes> {
    axum::body::to_bytes(body, max_bytes).await.map_err(|_| {
        AppError::PayloadTooLarge(format!(
            "{what} may take at most {} MiB",
            max_bytes / (1024 * 1024)
        ))
    })
}

/// The signed-in caller of a shim, holding at least `role`. A caller signed in by cookie
/// changes things (`mutates`) only with the X-CSRF-Token header.
pub(crate) async fn caller(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    role: Role,
    mutates: bool,
) -> AppResult<Viewer> {
    let auth = state
        .auth
        .authenticate(
            Credentials::from_headers(headers),
            client_info(headers, Some(peer)),
        )
        .await?;
    if mutates && !auth.may_mutate() {
        return Err(AppError::Forbidden {
            message: "cookie-authenticated uploads need the X-CSRF-Token header (from the sign-in response)".into(),
            reason: Some("csrf"),
        });
    }
    let viewer = auth.viewer()?.clone();
    viewer.require_role(role)?;
    Ok(viewer)
}
