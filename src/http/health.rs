use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;

use crate::state::AppState;

/// `GET /health`, `GET /api/health`: the process is up (cheap; touches no dependency).
pub async fn basic() -> impl IntoResponse {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

/// `GET /health/detailed`: SystemHealth; 503 when a dependency is down.
pub async fn detailed(State(state): State<AppState>) -> impl IntoResponse {
    let health = crate::health::check(&state).await;
    let status = if health.is_healthy() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(health))
}
