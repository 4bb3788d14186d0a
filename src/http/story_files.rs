//! The story engine's binary routes (seed 003): `POST /upload/{resource_id}/{file_id}` takes
//! one file as the raw request body, `GET /download/{resource_id}/{file_id}` gives one back.
//! Authenticated like every shim (a bearer token, or the session cookie with its CSRF header
//! for uploads) and scoped to the caller's tenant.
//!
//! | resource / file | upload | download |
//! |---|---|---|
//! | `{characterId}/cover` | a PNG, JPEG or WebP cover | the cover |
//! | `{characterId}/chr` | — | the card as a `.chr` archive |
//! | `character_import/archive` | a `.chr` archive, imported (`?copy=true`: a new id) | — |
//! | `package_import:{importId}/archive` | a data package, kept until `commitImport` | — |
//! | `package_export:{exportId}/archive` | — | the package `prepareExport` made |

use std::net::SocketAddr;

use axum::Json;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Role;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::story::service as story;

/// What an upload stored.
#[derive(Serialize)]
struct ResourceFilePayload {
    resource_id: String,
    file_id: String,
    size: usize,
    /// The document the upload made or changed.
    document_id: String,
}

#[derive(Deserialize)]
pub struct UploadOptions {
    #[serde(default)]
    copy: bool,
}

fn no_such_file() -> AppError {
    AppError::not_found("no such resource file")
}

fn document_id(text: &str) -> AppResult<Uuid> {
    Uuid::parse_str(text).map_err(|_| no_such_file())
}

/// `POST /upload/{resource_id}/{file_id}`.
pub async fn upload(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((resource_id, file_id)): Path<(String, String)>,
    Query(options): Query<UploadOptions>,
    headers: HeaderMap,
    body: Body,
) -> AppResult<Response> {
    // Who is asking is known before the body is read (up to 64 MiB).
    let viewer = super::caller(&state, &headers, peer, Role::Worldbuilder, true).await?;
    let body = super::read_body(body, story::MAX_FILE_BYTES, "a file").await?;
    let size = body.len();
    let stored = match (resource_id.as_str(), file_id.as_str()) {
        (slot, "archive") if slot.starts_with("package_import:") => {
            let id = document_id(&slot["package_import:".len()..])?;
            story::package_upload(&state, &viewer, id, &body).await?;
            id
        }
        ("character_import", "archive") => {
            story::import_card(&state, &state.assets, &viewer, body.to_vec(), options.copy)
                .await?
                .id
        }
        (character, "cover") => {
            story::set_cover(
                &state,
                &state.assets,
                &viewer,
                document_id(character)?,
                body,
            )
            .await?
            .id
        }
        _ => return Err(no_such_file()),
    };
    let payload = ResourceFilePayload {
        resource_id,
        file_id,
        size,
        document_id: stored.to_string(),
    };
    Ok((StatusCode::CREATED, Json(payload)).into_response())
}

/// `GET /download/{resource_id}/{file_id}`.
pub async fn download(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((resource_id, file_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> AppResult<Response> {
    match file_id.as_str() {
        "cover" => {
            let viewer = super::caller(&state, &headers, peer, Role::Player, false).await?;
            let id = document_id(&resource_id)?;
            let (mime_type, bytes) = story::cover(&state, &state.assets, &viewer, id).await?;
            Ok(file(&mime_type, None, bytes.to_vec()))
        }
        "chr" => {
            let viewer = super::caller(&state, &headers, peer, Role::Worldbuilder, false).await?;
            let id = document_id(&resource_id)?;
            let (name, bytes) = story::export_card(&state, &state.assets, &viewer, id).await?;
            Ok(file("application/zip", Some(&name), bytes))
        }
        "archive" if resource_id.starts_with("package_export:") => {
            let viewer = super::caller(&state, &headers, peer, Role::Worldbuilder, false).await?;
            let id = document_id(&resource_id["package_export:".len()..])?;
            let bytes = story::package_export(&state, &viewer, id).await?;
            Ok(file(
                "application/zip",
                Some(&format!("package-{id}.zip")),
                bytes,
            ))
        }
        _ => Err(no_such_file()),
    }
}

fn file(mime_type: &str, attachment: Option<&str>, bytes: Vec<u8>) -> Response {
    let mut response = (StatusCode::OK, bytes).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(mime_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    if let Some(name) = attachment
        && let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
    {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}
