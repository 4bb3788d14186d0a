//! The studio archive over REST (seed "Migration and Archive"): `GET /api/migration/export/{id}`
//! downloads a complete export's ZIP, `POST /api/migration/import` imports one from the raw
//! request body (up to 512 MiB, past what a GraphQL upload takes). Both for a tenant's ADMIN,
//! by bearer token or session cookie (an import by cookie needs its CSRF header).

use std::net::SocketAddr;

use axum::Json;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::auth::Role;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::studio_archive::service::{self as archives, ImportOutcome, MAX_ARCHIVE_BYTES};

pub async fn download(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let viewer = super::caller(&state, &headers, peer, Role::Admin, false).await?;
    let id = uuid::Uuid::parse_str(&id).map_err(|_| AppError::not_found("no such export"))?;
    let (length, stream) = archives::download(&state, &state.assets, &viewer, id).await?;
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let disposition = format!("attachment; filename=\"loregraph-export-{id}.zip\"");
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// What an import answers: the GraphQL `TenantImport`, in snake_case.
#[derive(Serialize)]
pub struct ImportAnswer {
    applied: bool,
    problems: Vec<String>,
    entities: usize,
    relationships: usize,
    notes: usize,
    assets: usize,
}

impl From<ImportOutcome> for ImportAnswer {
    fn from(outcome: ImportOutcome) -> Self {
        Self {
            applied: outcome.applied,
            problems: outcome.problems,
            entities: outcome.counts.entities,
            relationships: outcome.counts.relationships,
            notes: outcome.counts.notes,
            assets: outcome.counts.assets,
        }
    }
}

/// 200 with the counts when applied; 422 with the problems when not (nothing was written).
pub async fn import(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> AppResult<Response> {
    // Who is asking is known before the body is read.
    let viewer = super::caller(&state, &headers, peer, Role::Admin, true).await?;
    let archive = super::read_body(body, MAX_ARCHIVE_BYTES, "an archive").await?;
    let mut conn = state.pool.get().await?;
    let outcome = archives::import(
        &state,
        state
            .templates
            .for_tenant(&state.pool, viewer.tenant_id)
            .await?
            .as_ref(),
        &state.assets,
        &mut conn,
        &viewer,
        archive.to_vec(),
    )
    .await?;
    let status = if outcome.applied {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, Json(ImportAnswer::from(outcome))).into_response())
}
