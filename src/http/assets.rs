//! Seed 001's upload routes and file serving:
//! `POST /api/assets/upload` (multipart `file`, optional `entity_type` / `entity_id`),
//! `POST /api/upload/{type}/{id}` and `/api/upload/{type}/{id}/image` (attach as the entity's
//! primary asset), answering seed 000's Asset JSON; `GET /files/{key}` and
//! `/files/{key}/thumbnail` serving the bytes.

use std::net::SocketAddr;

use axum::Json;
use axum::body::Body;
use axum::extract::{ConnectInfo, Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::assets::model::AssetRow;
use crate::assets::service::{self, Attachment, Upload};
use crate::assets::storage::ByteStream;
use crate::assets::store;
use crate::auth::{Role, Viewer};
use crate::entities::types::EntityType;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Seed 000's Asset, with what loregraph adds.
#[derive(Serialize)]
pub struct AssetJson {
    id: String,
    date_created: DateTime<Utc>,
    date_modified: DateTime<Utc>,
    file_type: String,
    original_filename: String,
    public_url: String,
    uploaded_by_id: Option<String>,
    mime_type: String,
    size_bytes: i64,
    sha256: String,
    width: Option<i32>,
    height: Option<i32>,
    thumbnail_url: Option<String>,
    tags: Vec<String>,
    status: String,
}

impl AssetJson {
    fn new(row: AssetRow, public_base: Option<&str>) -> Self {
        let (public_url, thumbnail_url) =
            (row.public_url(public_base), row.thumbnail_url(public_base));
        Self {
            id: row.id.to_string(),
            date_created: row.created_at,
            date_modified: row.updated_at,
            file_type: row.file_type,
            original_filename: row.original_filename,
            thumbnail_url,
            public_url,
            uploaded_by_id: row.uploaded_by.map(|id| id.to_string()),
            mime_type: row.mime_type,
            size_bytes: row.size_bytes,
            sha256: row.sha256,
            width: row.width,
            height: row.height,
            tags: row.tags,
            status: row.status,
        }
    }
}

/// The signed-in WORLDBUILDER making a change (cookie sessions need the CSRF header).
async fn uploader(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> AppResult<Viewer> {
    super::caller(state, headers, peer, Role::Worldbuilder, true).await
}

fn entity_type(text: &str) -> AppResult<EntityType> {
    EntityType::from_slug(&text.to_ascii_lowercase()).ok_or_else(|| {
        AppError::unfit(
            Some("entity_type"),
            format!("`{text}` is not an entity type"),
        )
    })
}

/// Reads the multipart form: the `file` (refused as soon as it passes the size limit, before
/// the rest arrives) and the optional `entity_type` / `entity_id` text fields.
async fn read_form(
    state: &AppState,
    mut form: Multipart,
) -> AppResult<(Upload, Option<(String, String)>)> {
    let max_bytes = state.config.assets.max_bytes;
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            service::too_large(max_bytes)
        } else {
            AppError::bad_input(format!(
                "the upload form could not be read: {}",
                e.body_text()
            ))
        }
    };
    let mut upload = None;
    let (mut kind, mut id) = (None, None);
    while let Some(mut field) = form.next_field().await.map_err(unreadable)? {
        match field.name() {
            Some("file") => {
                let filename = field.file_name().unwrap_or_default().to_owned();
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
                    if bytes.len() + chunk.len() > max_bytes {
                        drop(bytes);
                        linger(async { while let Ok(Some(_)) = field.chunk().await {} }).await;
                        drop(field);
                        linger(async {
                            while let Ok(Some(mut rest)) = form.next_field().await {
                                while let Ok(Some(_)) = rest.chunk().await {}
                            }
                        })
                        .await;
                        return Err(service::too_large(max_bytes));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                upload = Some(Upload {
                    filename,
                    bytes: bytes.into(),
                });
            }
            Some("entity_type") => kind = Some(field.text().await.map_err(unreadable)?),
            Some("entity_id") => id = Some(field.text().await.map_err(unreadable)?),
            // Other fields (a client's own metadata) are ignored.
            _ => {}
        }
    }
    let upload =
        upload.ok_or_else(|| AppError::unfit(Some("file"), "the form has no `file` field"))?;
    let target = match (kind, id) {
        (Some(kind), Some(id)) if !kind.is_empty() && !id.is_empty() => Some((kind, id)),
        (None, None) => None,
        (Some(k), None) if k.is_empty() => None,
        (None, Some(i)) if i.is_empty() => None,
        _ => {
            return Err(AppError::unfit(
                None,
                "give both entity_type and entity_id, or neither",
            ));
        }
    };
    Ok((upload, target))
}

/// Reads and discards what a refused client is still sending (up to the request's body limit,
/// past which the stream fails, and for a few seconds at most), so that it receives the
/// refusal instead of a connection reset: closing a socket with unread data resets it.
pub async fn linger(discard: impl Future<Output = ()>) {
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), discard).await;
}

/// A declared body larger than any acceptable upload is refused before it is read.
fn check_declared_length(state: &AppState, headers: &HeaderMap) -> AppResult<()> {
    let limit = state
        .config
        .assets
        .max_bytes
        .saturating_add(UPLOAD_FORM_OVERHEAD);
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(service::too_large(state.config.assets.max_bytes));
    }
    Ok(())
}

pub use crate::config::UPLOAD_FORM_OVERHEAD;

fn created(state: &AppState, row: AssetRow) -> Response {
    let public_base = state.config.assets.public_base_url.as_deref();
    (StatusCode::CREATED, Json(AssetJson::new(row, public_base))).into_response()
}

/// `POST /api/assets/upload`.
pub async fn upload(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: Multipart,
) -> AppResult<Response> {
    check_declared_length(&state, &headers)?;
    let viewer = uploader(&state, &headers, peer).await?;
    let (upload, target) = read_form(&state, form).await?;
    let attach = match target {
        Some((kind, entity_id)) => Some(Attachment {
            entity_type: entity_type(&kind)?,
            entity_id,
            primary: false,
        }),
        None => None,
    };
    Ok(created(
        &state,
        service::upload(&state, &state.assets, &viewer, upload, attach).await?,
    ))
}

/// `POST /api/upload/{type}/{id}` and `/api/upload/{type}/{id}/image`: the upload becomes the
/// entity's primary asset.
pub async fn upload_for_entity(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((kind, entity_id)): Path<(String, String)>,
    headers: HeaderMap,
    form: Multipart,
) -> AppResult<Response> {
    check_declared_length(&state, &headers)?;
    let viewer = uploader(&state, &headers, peer).await?;
    let entity_type = entity_type(&kind)?;
    let (upload, _) = read_form(&state, form).await?;
    let attach = Attachment {
        entity_type,
        entity_id,
        primary: true,
    };
    Ok(created(
        &state,
        service::upload(&state, &state.assets, &viewer, upload, Some(attach)).await?,
    ))
}

fn not_found() -> AppError {
    AppError::not_found("no such file")
}

/// `GET /files/{key}`: the original, with its sniffed type, a strong ETag (its hash),
/// conditional GET and single byte ranges.
pub async fn serve_original(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let asset = find_served(&state, &key).await?;
    let etag = format!("\"{}\"", asset.sha256);
    let size = u64::try_from(asset.size_bytes).map_err(AppError::internal)?;
    let mut response = if not_modified(&headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let (status, range) = match requested_range(&headers, &etag, size) {
            Ranged::Whole => (StatusCode::OK, None),
            Ranged::Part(start, end) => (StatusCode::PARTIAL_CONTENT, Some(start..end + 1)),
            Ranged::Unsatisfiable => {
                let mut response = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
                response
                    .headers_mut()
                    .insert(header::CONTENT_RANGE, value(&format!("bytes */{size}")));
                common_headers(response.headers_mut(), &etag);
                return Ok(response);
            }
        };
        let stream = state
            .assets
            .blobs
            .stream_original(asset.tenant_id, &asset.sha256, range.clone())
            .await?
            .ok_or_else(not_found)?;
        let length = range.as_ref().map_or(size, |r| r.end - r.start);
        let mut response = streamed(status, stream, length);
        if let Some(range) = range {
            let last = range.end - 1;
            response.headers_mut().insert(
                header::CONTENT_RANGE,
                value(&format!("bytes {}-{last}/{size}", range.start)),
            );
        }
        response
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, value(&asset.mime_type));
    headers.insert(
        header::CONTENT_DISPOSITION,
        content_disposition(&asset.original_filename),
    );
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    common_headers(headers, &etag);
    Ok(response)
}

/// `GET /files/{key}/thumbnail`: the PNG thumbnail, once processing has made it.
pub async fn serve_thumbnail(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let asset = find_served(&state, &key).await?;
    if !asset.has_thumbnail {
        return Err(AppError::not_found("the thumbnail is not ready yet"));
    }
    let etag = format!("\"{}-thumbnail\"", asset.sha256);
    let mut response = if not_modified(&headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let (size, stream) = state
            .assets
            .blobs
            .stream_thumbnail(asset.tenant_id, &asset.sha256)
            .await?
            .ok_or_else(not_found)?;
        streamed(StatusCode::OK, stream, size)
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    common_headers(headers, &etag);
    Ok(response)
}

/// The asset a URL's key names, live or recycled; purged ones (and wrong keys) are 404.
async fn find_served(state: &AppState, key: &str) -> AppResult<AssetRow> {
    // Keys are URL-safe tokens; anything else cannot name an asset.
    if key.len() > 128
        || !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(not_found());
    }
    let mut conn = state.pool.get().await?;
    store::find_by_access_key(&mut conn, key)
        .await?
        .ok_or_else(not_found)
}

/// A response streaming `length` bytes from the store.
fn streamed(status: StatusCode, stream: ByteStream, length: u64) -> Response {
    let mut response = (status, Body::from_stream(stream)).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    response
}

fn value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"))
}

/// Content never changes under a URL (it is content-addressed), so caches may keep it, for a
/// day (a purged asset should not live on in caches for long) and then revalidate by ETag;
/// the URL is a capability, so only private caches.
fn common_headers(headers: &mut HeaderMap, etag: &str) {
    headers.insert(header::ETAG, value(etag));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=86400"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|list| {
            list.split(',')
                .map(|tag| tag.trim().trim_start_matches("W/"))
                .any(|tag| tag == etag || tag == "*")
        })
}

enum Ranged {
    Whole,
    Part(u64, u64),
    Unsatisfiable,
}

/// One byte range, when asked for and still valid (`If-Range`); several ranges, or ranges
/// the parser cannot read, get the whole file, as RFC 9110 allows.
fn requested_range(headers: &HeaderMap, etag: &str, size: u64) -> Ranged {
    let Some(range) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Ranged::Whole;
    };
    if let Some(if_range) = headers.get(header::IF_RANGE).and_then(|v| v.to_str().ok())
        && if_range.trim() != etag
    {
        return Ranged::Whole;
    }
    let parsed = match http_range_header::parse_range_header(range) {
        Ok(parsed) => parsed,
        Err(http_range_header::RangeUnsatisfiableError::Unsatisfiable) => {
            return Ranged::Unsatisfiable;
        }
        Err(_) => return Ranged::Whole,
    };
    match parsed.validate(size) {
        Ok(ranges) if ranges.len() == 1 => Ranged::Part(*ranges[0].start(), *ranges[0].end()),
        Ok(_) => Ranged::Whole,
        Err(_) => Ranged::Unsatisfiable,
    }
}

/// `inline` with the name in both forms: an ASCII fallback with anything unsafe replaced, and
/// the exact name percent-encoded as UTF-8 (RFC 6266 / 5987), so no name can break the header.
fn content_disposition(filename: &str) -> HeaderValue {
    let fallback: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ' | '(' | ')') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = filename
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    value(&format!(
        "inline; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
    ))
}
