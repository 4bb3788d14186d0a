//! `POST /graphql`: JSON, batched arrays, and multipart uploads.

use std::net::SocketAddr;
use std::sync::Arc;

use async_graphql::http::{MultipartOptions, receive_batch_body};
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use async_graphql::{BatchRequest, BatchResponse, ParseRequestError};
use async_graphql_axum::GraphQLResponse;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::{StreamExt, TryStreamExt, future};

use super::{WS_PATH, csrf};
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
    }
}

pub async fn graphql(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let client = client_info(&headers, Some(peer));
    let auth = match state
        .auth
        .authenticate(Credentials::from_headers(&headers), client)
        .await
    {
        Ok(auth) => auth,
        Err(error) => return error_response(error),
    };
    let batch = match read_batch(&state, &headers, body).await {
        Ok(batch) => batch,
        Err(error) => return error_response(error),
    };
    let names = match &batch {
        BatchRequest::Single(request) => request.operation_name.clone().unwrap_or_default(),
        BatchRequest::Batch(requests) => requests
            .iter()
            .map(|r| r.operation_name.clone().unwrap_or_default())
            .collect::<Vec<_>>()
            .join(","),
    };
    let run = |request| execute(&state, &auth, request);
    let responses = match batch {
        BatchRequest::Single(request) => BatchResponse::Single(run(request).await),
        // The operations of a batch run side by side, as async-graphql's own batches do.
        BatchRequest::Batch(requests) => {
            BatchResponse::Batch(future::join_all(requests.into_iter().map(run)).await)
        }
    };
    let mut response = GraphQLResponse::from(responses).into_response();
    response.extensions_mut().insert(OperationNames(names));
    response
}

/// Runs one operation: parsed through the document cache, CSRF-checked, with its own loaders
/// (they cache, and the operations of a batch run side by side, so a shared cache would let one
/// see another's stale reads).
async fn execute(
    state: &AppState,
    auth: &RequestAuth,
    mut request: async_graphql::Request,
) -> async_graphql::Response {
    let document = match state.documents.parse(&request.query).await {
        Ok(document) => document,
        Err(error) => return async_graphql::Response::from_errors(vec![error]),
    };
    if let Err(error) = csrf::check(&document, Some(auth)) {
        return async_graphql::Response::from_errors(vec![error]);
    }
    if selects_subscription(&document, request.operation_name.as_deref()) {
        let error = AppError::bad_input(format!(
            "subscriptions are served over WebSocket at {WS_PATH} (graphql-transport-ws, or the \
             legacy graphql-ws protocol), not over HTTP"
        ));
        return async_graphql::Response::from_errors(vec![error.into()]);
    }
    request.set_parsed_query(document);
    let tenant_id = auth.viewer.as_ref().map(|v| v.tenant_id);
    let request = request
        .data(Arc::new(Loaders::new(&state.pool, tenant_id)))
        .data(auth.clone());
    state.schema.execute(request).await
}

/// Whether the operation the request runs is a subscription.
fn selects_subscription(document: &ExecutableDocument, operation_name: Option<&str>) -> bool {
    let operation = match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => Some(operation),
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next()
        }
        (DocumentOperations::Multiple(_), None) => None,
    };
    operation.is_some_and(|operation| operation.node.ty == OperationType::Subscription)
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
    let multipart = content_type.is_some_and(|ct| ct.starts_with("multipart/"));
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

/// A request-level failure in GraphQL's response shape, with the matching HTTP status.
pub fn error_response(error: AppError) -> Response {
    let status = error.status();
    let error: async_graphql::Error = error.into();
    let server_error = error.into_server_error(Default::default());
    let body = serde_json::json!({ "errors": [server_error] });
    let mut response = (status, axum::Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
    }
    crate::error::close_after_refused_body(status, &mut response);
    response
}
