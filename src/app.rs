//! The HTTP application: routes, middleware, and serving with graceful shutdown.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tracing::Instrument;

use crate::config::{CorsOrigins, HttpSettings};
use crate::graphql::WS_PATH;
use crate::graphql::handler::{OperationNames, graphql, graphql_get};
use crate::graphql::playground;
use crate::graphql::ws::graphql_ws;
use crate::http::{
    assembly_export, assets, billing_portal, drive, frontend_logs, health, markdown_import, oauth,
    password_reset, shares, story_files, tenant_archive, web_auth,
};
use crate::realtime::Realtime;
use crate::state::AppState;

/// How long shutdown waits for in-flight requests and WebSocket close frames.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// The header a request's id travels in, both ways.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// The longest request id taken from a client (longer ones are replaced).
const MAX_REQUEST_ID_CHARS: usize = 128;

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
    // Story files (covers, `.chr` archives, data packages) come as raw bodies.
    let story_files = Router::new()
        .route("/upload/{resource_id}/{file_id}", post(story_files::upload))
        .route(
            "/download/{resource_id}/{file_id}",
            get(story_files::download),
        )
        .layer(axum::extract::DefaultBodyLimit::max(
            crate::story::service::MAX_FILE_BYTES,
        ));
    let markdown_import = Router::new()
        .route("/api/import/markdown", post(markdown_import::import))
        .layer(axum::extract::DefaultBodyLimit::max(
            markdown_import::MAX_ARCHIVE_BYTES,
        ));
    let tenant_archives = Router::new()
        .route("/api/migration/import", post(tenant_archive::import))
        .layer(axum::extract::DefaultBodyLimit::max(
            crate::studio_archive::service::MAX_ARCHIVE_BYTES,
        ));
    let frontend_logs = Router::new()
        .route("/api/logs/frontend", post(frontend_logs::intake))
        .layer(axum::extract::DefaultBodyLimit::max(
            frontend_logs::MAX_BODY_BYTES,
        ));
    Router::new()
        .route("/graphql", get(graphql_get).post(graphql))
        .route("/graphql/assets/{name}", get(playground::asset))
        .route(WS_PATH, get(graphql_ws))
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
        .route("/api/auth/web/google-sso", post(web_auth::google_sso))
        .route("/api/auth/forgot-password", post(password_reset::forgot))
        .route("/api/auth/reset-password", post(password_reset::reset))
        .route("/api/auth/oauth/providers", get(oauth::providers))
        .route("/api/auth/oauth/google/drive", get(drive::start))
        .route(
            "/api/auth/oauth/google/drive/callback",
            get(drive::callback),
        )
        .route("/api/drive/files/{file_id}/download", get(drive::download))
        .route("/api/drive/webhook", post(drive::webhook))
        .route("/api/auth/oauth/{provider}", get(oauth::start))
        .route("/api/auth/oauth/{provider}/callback", get(oauth::callback))
        .route("/api/billing/portal", get(billing_portal::portal))
        .route("/api/migration/export/{id}", get(tenant_archive::download))
        .route(
            "/api/assembly/{id}/export/{profile}",
            post(assembly_export::export),
        )
        .route("/api/share/{code}", get(shares::open))
        .route("/api/share/{code}/entities/{type}", get(shares::entities))
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
        .merge(story_files)
        .merge(markdown_import)
        .merge(frontend_logs)
        .merge(tenant_archives)
        // Its own fallback, so an unknown path passes through the layer below too (and is
        // logged and counted as `unmatched`) after `/metrics` is merged in.
        .fallback(not_found)
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

/// No route has this path.
async fn not_found() -> StatusCode {
    StatusCode::NOT_FOUND
}

/// `/metrics` alone: beside the API, or on the address of `LOREGRAPH_METRICS_BIND`. Outside
/// the request log: a scrape every few seconds would fill it.
fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(crate::http::metrics::scrape))
        .with_state(state)
}

/// The router (with `/metrics` when `with_metrics`) inside the layers that concern the whole
/// HTTP exchange (compression, CORS). They wrap the router once rather than each route: a
/// route's layers are cloned with it for every request.
fn service(
    state: AppState,
    with_metrics: bool,
) -> impl tower::Service<Request, Response = Response, Error = std::convert::Infallible, Future: Send>
+ Clone
+ Send
+ 'static {
    let http = state.config.http.clone();
    let mut routes = router(state.clone());
    if with_metrics {
        routes = routes.merge(metrics_router(state));
    }
    tower::ServiceBuilder::new()
        .map_response(|response: Response<_>| response.map(axum::body::Body::new))
        .layer(compression(&http))
        .option_layer(cors(&http.cors_origins))
        .service(routes)
}

/// Which browser origins may call the API, and how (none: no CORS headers at all).
fn cors(origins: &CorsOrigins) -> Option<CorsLayer> {
    let layer = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static(crate::auth::cookies::CSRF_HEADER),
            REQUEST_ID,
            HeaderName::from_static("traceparent"),
        ])
        .expose_headers([REQUEST_ID, HeaderName::from_static("traceparent")])
        .max_age(Duration::from_secs(3600));
    match origins {
        CorsOrigins::None => None,
        CorsOrigins::Any => Some(layer.allow_origin(tower_http::cors::Any)),
        CorsOrigins::List(list) => {
            let list = list
                .iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok());
            Some(
                layer
                    .allow_origin(AllowOrigin::list(list))
                    .allow_credentials(true),
            )
        }
    }
}

/// gzip, br or zstd, as the client prefers, for responses of at least the configured size;
/// never for images (compressed already) or event streams.
fn compression(
    settings: &HttpSettings,
) -> CompressionLayer<impl Predicate + Send + Sync + 'static + use<>> {
    let predicate = SizeAbove::new(settings.compression_min_bytes)
        .and(NotForContentType::IMAGES)
        .and(NotForContentType::SSE)
        .and(NotForContentType::GRPC);
    CompressionLayer::new().compress_when(predicate)
}

/// The request's id: the client's `x-request-id` when it is a sane token, otherwise a new one.
fn request_id(request: &Request) -> Arc<str> {
    request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|id| {
            !id.is_empty()
                && id.len() <= MAX_REQUEST_ID_CHARS
                && id.bytes().all(|b| b.is_ascii_graphic())
        })
        .map_or_else(|| uuid::Uuid::new_v4().to_string().into(), Arc::from)
}

/// Gives each request its id (echoed in `x-request-id`, carried by every log line written while
/// it is served), writes one log line for it (method, path, GraphQL operation names, status,
/// latency) and counts it in the metrics (by route template, never the path itself).
async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id(&request);
    let method = request.method().clone();
    let matched = request.extensions().get::<MatchedPath>().is_some();
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| request.uri().path().to_owned());
    let route = matched.then_some(path.as_str());
    let span = if crate::telemetry::enabled() {
        // A SERVER span named by the route template, in the caller's trace when it sent one.
        let span = tracing::info_span!(
            "request",
            request_id = %id,
            otel.name = %format_args!(
                "{} {}",
                crate::metrics::method_label(method.as_str()),
                route.unwrap_or("unmatched")
            ),
            otel.kind = "server",
            http.request.method = crate::metrics::method_label(method.as_str()),
            http.route = route.unwrap_or("unmatched"),
            http.response.status_code = tracing::field::Empty,
        );
        crate::telemetry::continue_trace(&span, request.headers());
        span
    } else {
        tracing::info_span!("request", request_id = %id)
    };
    let mut response = crate::logging::with_request_id(id.clone(), next.run(request))
        .instrument(span.clone())
        .await;
    let operation = response
        .extensions()
        .get::<OperationNames>()
        .map(|n| n.0.as_str())
        .unwrap_or("");
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    span.record("http.response.status_code", status);
    crate::metrics::http_request(route, method.as_str(), status, elapsed);
    span.in_scope(|| {
        tracing::info!(
            target: "loregraph::request",
            %method,
            path,
            operation,
            status,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "request"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    crate::telemetry::answer_with_trace(&span, response.headers_mut());
    response
}

/// Binds the address `/metrics` is served on apart from the API (`LOREGRAPH_METRICS_BIND`),
/// when one is set.
pub async fn bind_metrics(settings: &HttpSettings) -> anyhow::Result<Option<TcpListener>> {
    let Some(address) = settings.metrics_bind else {
        return Ok(None);
    };
    let listener = TcpListener::bind(address).await.with_context(|| {
        format!(
            "cannot listen on {address} for /metrics; choose another address with \
             LOREGRAPH_METRICS_BIND"
        )
    })?;
    Ok(Some(listener))
}

/// Serves until `shutdown` resolves, then stops taking connections, lets in-flight requests
/// finish, sends WebSocket clients a close frame, and returns. `/metrics` is served on the
/// address of `LOREGRAPH_METRICS_BIND` when one is set, beside the API otherwise.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let metrics = bind_metrics(&state.config.http).await?;
    serve_with_metrics(listener, metrics, state, shutdown).await
}

/// [`serve`], with `/metrics` served on `metrics` alone (bound by the caller, as `listener` is,
/// so that the caller knows its port), or beside the API when there is none.
pub async fn serve_with_metrics(
    listener: TcpListener,
    metrics: Option<TcpListener>,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    crate::metrics::install();
    tokio::spawn(crate::metrics::upkeep(state.shutdown.clone()));
    let app = service(state.clone(), metrics.is_none());
    // Stops when shutdown begins: scrapes are refused from then on.
    let metrics_server = metrics.map(|listener| {
        if let Ok(address) = listener.local_addr() {
            tracing::info!(%address, "serving /metrics apart from the API");
        }
        let stop = state.shutdown.clone().cancelled_owned();
        let routes = metrics_router(state.clone());
        tokio::spawn(async move {
            let served = axum::serve(listener, routes)
                .with_graceful_shutdown(stop)
                .await;
            if let Err(error) = served {
                tracing::warn!(%error, "the /metrics listener failed");
            }
        })
    });
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
    // The bound project folders this node can reach, and the write-back of API changes.
    if let Err(error) = state.folders.start().await {
        tracing::warn!(error = %error.message(), "project folders could not be started");
    }
    // Drive folders' rounds and write-back (when Google is configured).
    state.drive_sync.start();
    // Tenants' templates changed on other nodes are forgotten here.
    tokio::spawn(
        state
            .templates
            .clone()
            .follow(state.events.clone(), state.shutdown.clone()),
    );
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
    // Streams (subscriptions, a turn's text, event streams) are many small writes: without
    // TCP_NODELAY, Nagle's algorithm holds each behind the last one's acknowledgement, which a
    // client may delay 40 ms.
    let listener = axum::serve::ListenerExt::tap_io(listener, |stream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY on a connection");
        }
    });
    axum::serve(
        listener,
        axum::ServiceExt::<Request>::into_make_service_with_connect_info::<SocketAddr>(app),
    )
    .with_graceful_shutdown(signal)
    .await?;
    // The worker stops at its next check of the shutdown token; a job it was running is
    // taken over by any node once its lease runs out.
    if tokio::time::timeout(DRAIN_TIMEOUT, worker).await.is_err() {
        tracing::warn!("the asset worker did not stop in time");
    }
    if let Some(metrics_server) = metrics_server
        && tokio::time::timeout(DRAIN_TIMEOUT, metrics_server)
            .await
            .is_err()
    {
        tracing::warn!("the /metrics listener did not stop in time");
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
