//! GraphQL over Server-Sent Events (the graphql-sse protocol's "distinct connections" mode),
//! for clients without WebSockets: `POST /graphql` with `Accept: text/event-stream` runs one
//! operation — a subscription too — and answers with a stream of `next` events, each one
//! execution result, ended by a `complete` event. The stream ends when the operation does,
//! when the client goes away (which stops the subscription: a streamed turn is cancelled), or
//! when the server shuts down.

use std::convert::Infallible;
use std::sync::Arc;

use async_graphql::BatchRequest;
use axum::http::{HeaderMap, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt, stream};

use super::handler::{error_response, prepare};
use super::media::MediaType;
use crate::auth::viewer::RequestAuth;
use crate::context::Loaders;
use crate::error::AppError;
use crate::state::AppState;

/// Whether the client asks for an event stream.
pub fn wanted(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|range| {
            range
                .split(';')
                .next()
                .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("text/event-stream"))
        })
}

fn next(answer: &async_graphql::Response) -> Event {
    let data = serde_json::to_string(answer)
        .unwrap_or_else(|_| r#"{"errors":[{"message":"internal server error"}]}"#.to_owned());
    Event::default().event("next").data(data)
}

fn events(
    answers: impl Stream<Item = async_graphql::Response> + Send + 'static,
) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static {
    answers
        .map(|answer| Ok(next(&answer)))
        .chain(stream::once(async {
            Ok(Event::default().event("complete").data(""))
        }))
}

/// Runs one operation and streams its results.
pub async fn respond(state: &AppState, auth: &RequestAuth, batch: BatchRequest) -> Response {
    let BatchRequest::Single(request) = batch else {
        let error = AppError::bad_input("an event stream runs one operation, not a batch");
        return error_response(error, MediaType::Json);
    };
    let shutdown = state.platform.shutdown.clone().cancelled_owned();
    let answers = match prepare(state, auth, request, true).await {
        Err(refused) => stream::once(async { refused }).boxed(),
        Ok((request, _, _, _)) => {
            let tenant_id = auth.viewer.as_ref().map(|viewer| viewer.tenant_id);
            // Long-lived like a socket's operations: reads are not cached across events.
            let request = request
                .data(Arc::new(Loaders::uncached(&state.pool, tenant_id)))
                .data(auth.clone());
            state.schema.execute_stream(request).boxed()
        }
    };
    Sse::new(events(answers.take_until(shutdown)))
        .keep_alive(KeepAlive::default())
        .into_response()
}
