//! An assembly's export over REST (seed "Assembly System": `POST /api/assembly/{id}/export/
//! {profile}`): the ZIP of its files laid out as the profile says, with the manifest. Any
//! member of the tenant, by bearer token or session cookie; `?partial=true` exports an
//! assembly whose required slots are not all filled (the manifest lists them).

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::assemblies::service as assemblies;
use crate::auth::Role;
use crate::error::AppResult;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct ExportOptions {
    #[serde(default)]
    partial: bool,
}

pub async fn export(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((id, profile)): Path<(String, String)>,
    Query(options): Query<ExportOptions>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let viewer = super::caller(&state, &headers, peer, Role::Player, false).await?;
    let catalog = state
        .templates
        .for_tenant(&state.pool, viewer.tenant_id)
        .await?;
    let zip = assemblies::export_zip(
        &state,
        &state.assets,
        &state.rules,
        &state.export_profiles,
        &catalog,
        &viewer,
        &id,
        &profile,
        options.partial,
    )
    .await?;
    let mut response = Body::from(zip).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Ids and profile ids are letters, digits and _ only: safe in the header as they are.
    if let Ok(value) =
        HeaderValue::from_str(&format!("attachment; filename=\"{id}_{profile}.zip\""))
    {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
