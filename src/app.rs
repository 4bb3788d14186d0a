//! The HTTP application: routes, middleware, and serving with graceful shutdown.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use tokio::net::TcpListener;

use crate::graphql::handler::{OperationNames, graphiql, graphql};
use crate::graphql::ws::graphql_ws;
use crate::http::{assets, billing_portal, health, web_auth};
use crate::realtime::Realtime;
use crate::state::AppState;

/// How long shutdown waits for in-flight requests and WebSocket close frames.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

pub fn router(state: AppState) -> Router {
    // Uploads get a body limit of their own: the largest image plus the form around it (each
    // handler refuses the file itself as soon as it passes the image limit).
    let upload_limit = axum::extract::DefaultBodyLimit::max(
        state
            .config
            .assets
            .max_bytes
            .saturating_add(assets::UPLOAD_FORM_OVERHEAD),
    );
    let uploads = Router::new()
        .route("/api/assets/upload", post(assets::upload))
        .route("/api/upload/{type}/{id}", post(assets::upload_for_entity))
        .route(
            "/api/upload/{type}/{id}/image",
            post(assets::upload_for_entity),
        )
        .layer(upload_limit);
    Router::new()
        .route("/graphql", get(graphiql).post(graphql))
        .route("/graphql/ws", get(graphql_ws))
        .route("/api/ws", get(graphql_ws))
        .route("/health", get(health::ready))
        .route("/api/health", get(health::ready))
        .route("/health/live", get(health::live))
        .route("/api/health/live", get(health::live))
        .route("/health/detailed", get(health::detailed))
        .route("/api/auth/web/login", post(web_auth::login))
        .route("/api/auth/web/session", get(web_auth::session))
        .route("/api/auth/web/select-tenant", post(web_auth::select_tenant))
        .route("/api/auth/web/logout", post(web_auth::logout))
        .route("/api/billing/portal", get(billing_portal::portal))
        .route(
            "/api/billing/webhook",
            post(crate::http::stripe_webhook::webhook),
        )
        .route("/files/{key}", get(assets::serve_original))
        .route("/files/{key}/thumbnail", get(assets::serve_thumbnail))
        .layer(axum::extract::DefaultBodyLimit::max(
            state.config.limits.max_body_bytes,
        ))
        .merge(uploads)
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

/// One log line per request: method, path, GraphQL operation names, status, latency.
async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| request.uri().path().to_owned());
    let response = next.run(request).await;
    let operation = response
        .extensions()
        .get::<OperationNames>()
        .map(|n| n.0.as_str())
        .unwrap_or("");
    tracing::info!(
        target: "loregraph::request",
        %method,
        path,
        operation,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    response
}

/// Serves until `shutdown` resolves, then stops taking connections, lets in-flight requests
/// finish, sends WebSocket clients a close frame, and returns.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = router(state.clone());
    let token = state.shutdown.clone();
    let worker = tokio::spawn(crate::assets::jobs::work(
        state.platform.clone(),
        state.assets.clone(),
    ));
    // Stops at the shutdown token; a run cut short is taken up again by the next.
    tokio::spawn(crate::retention::run(
        state.platform.clone(),
        state.assets.clone(),
    ));
    let realtime = Realtime::start(&state.platform, &state.live, &state.presence);
    // Shutdown comes from outside (a signal) or from within (`stopServer` cancels the token).
    let signal = async move {
        tokio::select! {
            () = shutdown => {}
            () = token.cancelled() => {}
        }
        tracing::info!("shutting down: finishing in-flight requests");
        token.cancel();
    };
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(signal)
    .await?;
    // The worker stops at its next check of the shutdown token; a job it was running is
    // taken over by any node once its lease runs out.
    if tokio::time::timeout(DRAIN_TIMEOUT, worker).await.is_err() {
        tracing::warn!("the asset worker did not stop in time");
    }
    state.connections.close();
    if tokio::time::timeout(DRAIN_TIMEOUT, state.connections.wait())
        .await
        .is_err()
    {
        tracing::warn!("some WebSocket connections did not close in time");
    }
    if tokio::time::timeout(DRAIN_TIMEOUT, realtime.stop())
        .await
        .is_err()
    {
        tracing::warn!("this node's presence was not cleared in time; other nodes will sweep it");
    }
    Ok(())
}
