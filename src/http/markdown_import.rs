//! `POST /api/import/markdown?mode=preview|apply`: a project folder as a ZIP archive in the
//! raw request body (WORLDBUILDER; a bearer token, or the session cookie with its CSRF
//! header), imported as `importMarkdownArchive` does; the answer is the import's report as
//! JSON (snake_case keys), 200 whether or not it applied (`applied` says).

use std::net::SocketAddr;

use axum::Json;
use axum::body::Body;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::HeaderMap;
use serde::Deserialize;

use crate::auth::Role;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::sync::service::{self as sync, ImportMode, ImportReport};

/// The largest archive taken, in bytes.
pub const MAX_ARCHIVE_BYTES: usize = 64 * 1024 * 1024;

#[derive(Deserialize)]
pub struct ImportOptions {
    /// `preview` (the default) or `apply`.
    #[serde(default)]
    mode: Option<String>,
}

pub async fn import(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(options): Query<ImportOptions>,
    headers: HeaderMap,
    body: Body,
) -> AppResult<Json<ImportReport>> {
    let viewer = super::caller(&state, &headers, peer, Role::Worldbuilder, true).await?;
    let mode = match options
        .mode
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("preview") => ImportMode::Preview,
        Some("apply") => ImportMode::Apply,
        Some(other) => {
            return Err(AppError::bad_field(
                "mode",
                format!("`{other}` is not a mode: use preview or apply"),
            ));
        }
    };
    let archive = super::read_body(body, MAX_ARCHIVE_BYTES, "an archive").await?;
    let mut conn = state.pool.get().await?;
    let report = sync::import_archive(
        &state,
        state
            .templates
            .for_tenant(&state.pool, viewer.tenant_id)
            .await?
            .as_ref(),
        &mut conn,
        &viewer,
        mode,
        archive,
    )
    .await?;
    Ok(Json(report))
}
