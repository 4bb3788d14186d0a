//! Seed 001's public side of share links: `GET /api/share/{code}` (what the share is and its
//! first page) and `GET /api/share/{code}/entities/{type}` (a page of its entities of one
//! type). No account: a password-protected share takes its password in the
//! `X-Share-Password` header. An unknown, altered, expired or revoked code is 404 with nothing
//! else said; a missing or wrong password 401; too many tries 429.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::db::pagination::PageRequest;
use crate::entities::service::{EntityRow, EntityType};
use crate::error::{AppError, AppResult};
use crate::graphql::handler::client_info;
use crate::shares::model::ShareRow;
use crate::shares::service;
use crate::state::AppState;

const PASSWORD_HEADER: &str = "x-share-password";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedEntity {
    entity_type: &'static str,
    entity_id: String,
    name: String,
    status: String,
    fields: Value,
    markdown_body: String,
    updated_at: DateTime<Utc>,
}

impl SharedEntity {
    fn of(row: EntityRow) -> Self {
        Self {
            entity_type: row.kind().slug(),
            fields: row.fields.value().clone(),
            entity_id: row.entity_id,
            name: row.name,
            status: row.status,
            markdown_body: row.markdown_body,
            updated_at: row.updated_at,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShareInfo {
    kind: &'static str,
    title: String,
    entity_type: Option<String>,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
}

impl ShareInfo {
    fn of(share: &ShareRow) -> Self {
        Self {
            kind: share.kind().as_str(),
            title: share.title.clone(),
            entity_type: share.entity_type.clone(),
            created_at: share.created_at,
            expires_at: share.expires_at,
        }
    }
}

#[derive(Serialize)]
pub struct SharedPage {
    share: ShareInfo,
    total: i64,
    offset: i64,
    limit: i64,
    entities: Vec<SharedEntity>,
}

#[derive(Deserialize)]
pub struct PageQuery {
    offset: Option<i32>,
    limit: Option<i32>,
}

/// Shared content is for whoever holds the link now: no cache may keep it (a password-protected
/// or since-revoked share would be served from there).
type NoStore = [(axum::http::HeaderName, &'static str); 1];

const NO_STORE: NoStore = [(axum::http::header::CACHE_CONTROL, "no-store")];

async fn page(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    code: &str,
    entity_type: Option<EntityType>,
    query: PageQuery,
) -> AppResult<Json<SharedPage>> {
    let page = PageRequest::new(query.offset, query.limit)?;
    let password = headers
        .get(PASSWORD_HEADER)
        .and_then(|value| value.to_str().ok());
    let client = client_info(headers, Some(peer));
    let share = service::open(state, code, password, &client).await?;
    let (total, rows) = service::entities_of(state, &share, entity_type, page).await?;
    Ok(Json(SharedPage {
        share: ShareInfo::of(&share),
        total,
        offset: page.offset,
        limit: page.limit,
        entities: rows.into_iter().map(SharedEntity::of).collect(),
    }))
}

pub async fn open(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(code): Path<String>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> AppResult<(NoStore, Json<SharedPage>)> {
    Ok((
        NO_STORE,
        page(&state, peer, &headers, &code, None, query).await?,
    ))
}

pub async fn entities(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((code, entity_type)): Path<(String, String)>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> AppResult<(NoStore, Json<SharedPage>)> {
    // `character` as the seed spells it, or `CHARACTER` as GraphQL does.
    let entity_type = EntityType::from_slug(&entity_type.to_ascii_lowercase())
        .ok_or_else(|| AppError::not_found("there is no such entity type"))?;
    let page = page(&state, peer, &headers, &code, Some(entity_type), query).await?;
    Ok((NO_STORE, page))
}
