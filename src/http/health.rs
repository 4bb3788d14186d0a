use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;

use crate::state::AppState;

/// `GET /health`, `GET /api/health`: ready to serve. 200 while the database answers, 503
/// (status "unavailable") while it does not: the readiness probe, and what a load balancer
/// should route by. Cheap: the database is asked at most once a second.
pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let (status, text) = if state.database_probe.reachable().await {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    };
    let body = json!({ "status": text, "database": text, "version": env!("CARGO_PKG_VERSION") });
    (status, Json(body))
}

/// `GET /health/live`, `GET /api/health/live`: the process is up and serving HTTP (touches no
/// dependency). The liveness probe: it stays 200 while the database is away, since restarting
/// the server would not bring the database back (the embedded one restarts by itself).
pub async fn live() -> impl IntoResponse {
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
