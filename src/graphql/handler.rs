//! `/graphql` over HTTP: `POST` (JSON, batched arrays, multipart uploads) and `GET` (a query in
//! the URL, or the playground for a browser asking for a page), answered in the media type and
//! with the status the client's `Accept` calls for ([`MediaType`]).

use std::net::SocketAddr;
use std::sync::Arc;

use async_graphql::http::{MultipartOptions, receive_batch_body};
use async_graphql::parser::types::OperationType;
use async_graphql::{BatchRequest, BatchResponse, ParseRequestError};
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::{StreamExt, TryStreamExt, future};
use serde::Deserialize;
use tracing::Instrument as _;

use super::media::MediaType;
use super::persisted::AfterParse;
use super::{WS_PATH, csrf, operation, playground};
use crate::auth::Credentials;
use crate::auth::viewer::{ClientInfo, RequestAuth};
use crate::context::Loaders;
use crate::error::AppError;
use crate::http::assets::linger;
use crate::state::AppState;

/// The operation names of a request, for the request log line.
#[derive(Clone, Debug)]
pub struct OperationNames(pub String);

pub fn client_info(headers: &HeaderMap, peer: Option<SocketAddr>) -> ClientInfo {
    ClientInfo {
        ip: peer.map(|addr| addr.ip()),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(200).collect()),
        host: headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .filter(|host| {
                !host.is_empty()
                    && host.len() <= 255
                    && host
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
            })
            .map(str::to_owned),
    }
}

pub async fn graphql(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let media = MediaType::negotiate(&headers);
    let auth = match authenticate(&state, &headers, peer).await {
        Ok(auth) => auth,
        Err(error) => return error_response(error, media),
    };
    let batch = match read_batch(&state, &headers, body).await {
        Ok(batch) => batch,
        Err(error) => return error_response(error, media),
    };
    if super::sse::wanted(&headers) {
        return super::sse::respond(&state, &auth, batch).await;
    }
    let names = match &batch {
        BatchRequest::Single(request) => request.operation_name.clone().unwrap_or_default(),
        BatchRequest::Batch(requests) => requests
            .iter()
            .map(|r| r.operation_name.clone().unwrap_or_default())
            .collect::<Vec<_>>()
            .join(","),
    };
    let run = |request| execute(&state, &auth, request);
    let answers = match batch {
        BatchRequest::Single(request) => BatchResponse::Single(run(request).await),
        // The operations of a batch run side by side, as async-graphql's own batches do.
        BatchRequest::Batch(requests) => {
            BatchResponse::Batch(future::join_all(requests.into_iter().map(run)).await)
        }
    };
    let mut response = media.respond(answers);
    response.extensions_mut().insert(OperationNames(names));
    response
}

/// A query in the URL (`query`, `operationName`, and `variables` and `extensions` as JSON text).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetParams {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

/// `GET /graphql`: a query or the playground. Mutations are refused (405, `Allow: POST`): a GET
/// must be safe to repeat, prefetch and cache.
pub async fn graphql_get(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    params: Result<Query<GetParams>, QueryRejection>,
) -> Response {
    let media = MediaType::negotiate(&headers);
    let params = match params {
        Ok(Query(params)) => params,
        Err(_) => {
            let error = AppError::bad_input("the URL's parameters could not be read");
            return error_response(error, media);
        }
    };
    if params.query.is_none() && params.extensions.is_none() && wants_a_page(&headers) {
        return playground::page().await.into_response();
    }
    let request = match get_request(params) {
        Ok(request) => request,
        Err(error) => return error_response(error, media),
    };
    let auth = match authenticate(&state, &headers, peer).await {
        Ok(auth) => auth,
        Err(error) => return error_response(error, media),
    };
    let name = request.operation_name.clone().unwrap_or_default();
    let (named, kind, answer) = match prepare(&state, &auth, request, false).await {
        Ok((_, Some(OperationType::Mutation), _, _)) => {
            let error = AppError::bad_input("mutations are sent with POST, not GET");
            let mut response = error_response(error, media);
            *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            return response;
        }
        Ok((request, kind, named, persisted)) => {
            let query = persisted.is_some().then(|| request.query.clone());
            let answer = run(&state, &auth, request, kind, named.as_deref()).await;
            keep_persisted(&state, &auth, persisted, query, &answer).await;
            (named, kind, answer)
        }
        Err(refused) => (None, None, refused),
    };
    crate::metrics::graphql_operation(counted_as(&auth, named.as_deref()), kind, &answer);
    let mut response = media.respond(BatchResponse::Single(answer));
    if auth.user_id().is_some() {
        // A signed-in viewer's answer is theirs: no shared cache may keep it for the next
        // caller of the same URL (only anonymous queries are a CDN's to cache).
        let headers = response.headers_mut();
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
        headers.insert(
            header::VARY,
            HeaderValue::from_static("Authorization, Cookie"),
        );
    }
    response.extensions_mut().insert(OperationNames(name));
    response
}

/// Whether a GET without a query comes from a browser asking for a page.
fn wants_a_page(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.contains("text/html"))
}

/// The request a GET's parameters make: `query` is required unless `extensions` names a
/// persisted query; `variables` and `extensions`, when given, are JSON objects (nested at most
/// as deep as serde_json's limit of 128).
fn get_request(params: GetParams) -> Result<async_graphql::Request, AppError> {
    let object = |field: &'static str, text: Option<String>| match text {
        None => Ok(None),
        Some(text) => match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(value @ serde_json::Value::Object(_)) => Ok(Some(value)),
            Ok(_) | Err(_) => Err(AppError::bad_field(
                field,
                format!("`{field}` must be a JSON object"),
            )),
        },
    };
    let variables = object("variables", params.variables)?;
    let extensions = object("extensions", params.extensions)?;
    let mut request = async_graphql::Request::new(params.query.unwrap_or_default());
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(variables) = variables {
        request = request.variables(async_graphql::Variables::from_json(variables));
    }
    if let Some(serde_json::Value::Object(extensions)) = extensions {
        for (key, value) in extensions {
            let value = async_graphql::Value::from_json(value)
                .map_err(|_| AppError::bad_field("extensions", "`extensions` must be JSON"))?;
            request.extensions.insert(key, value);
        }
    }
    if missing_query(&request) {
        return Err(AppError::bad_field(
            "query",
            "a GET request needs its `query` parameter",
        ));
    }
    Ok(request)
}

/// A request with neither a document nor the hash of a persisted one.
fn missing_query(request: &async_graphql::Request) -> bool {
    request.query.is_empty() && !request.extensions.contains_key("persistedQuery")
}

async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> Result<RequestAuth, AppError> {
    let client = client_info(headers, Some(peer));
    state
        .auth
        .authenticate(Credentials::from_headers(headers), client)
        .await
}

/// Runs one operation over POST: anything but a subscription.
async fn execute(
    state: &AppState,
    auth: &RequestAuth,
    request: async_graphql::Request,
) -> async_graphql::Response {
    let (name, kind, answer) = match prepare(state, auth, request, false).await {
        Ok((request, kind, name, persisted)) => {
            let query = persisted.is_some().then(|| request.query.clone());
            let answer = run(state, auth, request, kind, name.as_deref()).await;
            keep_persisted(state, auth, persisted, query, &answer).await;
            (name, kind, answer)
        }
        Err(refused) => (None, None, refused),
    };
    crate::metrics::graphql_operation(counted_as(auth, name.as_deref()), kind, &answer);
    answer
}

/// A request ready to run: with its parsed document, the kind of operation it runs, that
/// operation's name (for the metrics and traces), and the hash to keep its text under once it
/// ran (a persisted query sent with its text).
pub(super) type Prepared = (
    async_graphql::Request,
    Option<OperationType>,
    Option<String>,
    Option<Arc<str>>,
);

/// The name an operation is counted under in the metrics: its own for a signed-in viewer; one
/// label for all others, so nobody can use up the names the metrics keep without an account.
fn counted_as<'n>(auth: &RequestAuth, name: Option<&'n str>) -> Option<&'n str> {
    if auth.user_id().is_some() {
        name
    } else {
        Some("unauthenticated")
    }
}

/// Keeps a persisted query's text once it ran, for a signed-in viewer, without a request
/// error: a document that does not validate, or one sent by anyone at all, never takes a
/// place in the shared table.
async fn keep_persisted(
    state: &AppState,
    auth: &RequestAuth,
    hash: Option<Arc<str>>,
    query: Option<String>,
    answer: &async_graphql::Response,
) {
    if let (Some(hash), Some(query), Some(_)) = (hash, query, &auth.viewer)
        && !super::media::never_ran(answer)
    {
        state.persisted.register(hash, &query).await;
    }
}

/// Finds a persisted query's text, parses the operation's document through the document cache
/// and checks what must hold before it runs (CSRF; a subscription only where `streamed`, over
/// an event stream); the request prepared, or the answer refusing it.
pub(super) async fn prepare(
    state: &AppState,
    auth: &RequestAuth,
    mut request: async_graphql::Request,
    streamed: bool,
) -> Result<Prepared, async_graphql::Response> {
    let refuse = |error| async_graphql::Response::from_errors(vec![error]);
    let persisted = state
        .persisted
        .resolve(&mut request)
        .await
        .map_err(refuse)?;
    let parsed = state
        .documents
        .parse(&request.query)
        .await
        .map_err(refuse)?;
    csrf::check(&parsed.document, Some(auth)).map_err(refuse)?;
    let found = operation(&parsed.document, request.operation_name.as_deref());
    let kind = found.map(|(_, op)| op.ty);
    let name = found.and_then(|(name, _)| name).map(str::to_owned);
    if kind == Some(OperationType::Subscription) && !streamed {
        let error = AppError::bad_input(format!(
            "subscriptions are served over WebSocket at {WS_PATH} (graphql-transport-ws, or the \
             legacy graphql-ws protocol), or over HTTP as an event stream (POST with `Accept: \
             text/event-stream`)"
        ));
        return Err(refuse(error.into()));
    }
    parsed.attach_to(&mut request);
    let keep = match persisted {
        AfterParse::Register(hash) => Some(hash),
        AfterParse::Nothing => None,
    };
    Ok((request, kind, name, keep))
}

/// Runs a prepared operation with its own loaders (they cache, and the operations of a batch
/// run side by side, so a shared cache would let one see another's stale reads).
async fn run(
    state: &AppState,
    auth: &RequestAuth,
    request: async_graphql::Request,
    kind: Option<OperationType>,
    name: Option<&str>,
) -> async_graphql::Response {
    let tenant_id = auth.viewer.as_ref().map(|v| v.tenant_id);
    let request = request
        .data(Arc::new(Loaders::new(&state.pool, tenant_id)))
        .data(auth.clone());
    let span = crate::telemetry::operation_span(kind, name);
    state.schema.execute(request).instrument(span).await
}

/// Reads the body under the configured limits (refusing an oversized body as it streams in)
/// and parses it as a single request, a batch, or a multipart upload.
async fn read_batch(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<BatchRequest, AppError> {
    let limits = &state.config.limits;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let essence = content_type
        .map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .ok_or_else(|| {
            AppError::UnsupportedMediaType(
                "send the request with `Content-Type: application/json` (or multipart/form-data \
                 for uploads)"
                    .into(),
            )
        })?;
    if essence != "application/json" && essence != "multipart/form-data" {
        return Err(AppError::UnsupportedMediaType(format!(
            "`{essence}` is not a GraphQL request: send application/json (or multipart/form-data \
             for uploads)"
        )));
    }
    let multipart = essence == "multipart/form-data";
    let max_bytes = if multipart {
        limits.max_upload_bytes
    } else {
        limits.max_body_bytes
    };
    let too_large =
        || AppError::PayloadTooLarge(format!("the request body is larger than {max_bytes} bytes"));
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > max_bytes) {
        return Err(too_large());
    }
    let mut seen = 0usize;
    let mut stream = body.into_data_stream().map(move |chunk| {
        let chunk = chunk.map_err(std::io::Error::other)?;
        seen += chunk.len();
        if seen > max_bytes {
            return Err(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                "body too large",
            ));
        }
        Ok(chunk)
    });
    // A file may be no larger than an asset may be: refused as it streams in.
    let options = MultipartOptions::default()
        .max_file_size(limits.max_upload_bytes.min(state.config.assets.max_bytes))
        .max_num_files(limits.max_upload_files);
    let parsed = receive_batch_body(content_type, (&mut stream).into_async_read(), options).await;
    let refused_early = matches!(
        &parsed,
        Err(ParseRequestError::PayloadTooLarge | ParseRequestError::Io(_))
    );
    if refused_early {
        linger(async { while let Some(Ok(_)) = stream.next().await {} }).await;
    }
    let batch = parsed.map_err(|e| match e {
        ParseRequestError::PayloadTooLarge => too_large(),
        ParseRequestError::Io(io) if io.kind() == std::io::ErrorKind::FileTooLarge => too_large(),
        ParseRequestError::InvalidRequest(_) | ParseRequestError::InvalidFilesMap(_) => {
            AppError::bad_input("the request body is not a valid GraphQL request")
        }
        other => AppError::bad_input(format!("the request could not be read: {other}")),
    })?;
    let query_missing = match &batch {
        BatchRequest::Single(request) => missing_query(request),
        BatchRequest::Batch(requests) => requests.iter().any(missing_query),
    };
    if query_missing {
        return Err(AppError::bad_field(
            "query",
            "a GraphQL request needs its `query`",
        ));
    }
    if let BatchRequest::Batch(requests) = &batch {
        if requests.len() > limits.max_batch_size {
            return Err(AppError::bad_input(format!(
                "a batch may hold at most {} operations",
                limits.max_batch_size
            )));
        }
        if requests.is_empty() {
            return Err(AppError::bad_input("the batch is empty"));
        }
    }
    Ok(batch)
}

/// A request-level failure in GraphQL's response shape and the client's media type, with the
/// matching HTTP status.
pub fn error_response(error: AppError, media: MediaType) -> Response {
    crate::metrics::graphql_error_code(error.code());
    let status = error.status();
    let error: async_graphql::Error = error.into();
    let server_error = error.into_server_error(Default::default());
    let body = serde_json::json!({ "errors": [server_error] });
    let mut response = (status, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, media.content_type());
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
    }
    crate::error::close_after_refused_body(status, &mut response);
    response
}
