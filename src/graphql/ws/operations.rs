//! The operations running on one socket: each a stream of results, tagged with the id the
//! client gave it, polled together.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::parser::types::OperationType;
use futures_util::stream::{AbortHandle, Abortable, BoxStream, SelectAll};
use futures_util::{Stream, StreamExt, future, stream};

use super::protocol::Outgoing;

/// An operation as the client named it.
pub struct Tag {
    pub id: String,
    /// The id written as a JSON string, once, for every message about it.
    pub id_json: String,
    generation: u64,
}

/// A result of an operation, or (`None`) the end of its results.
pub struct Tagged {
    pub tag: Arc<Tag>,
    pub result: Option<Outgoing>,
}

#[derive(Default)]
pub struct Operations {
    running: HashMap<String, Running>,
    results: SelectAll<BoxStream<'static, Tagged>>,
    /// Tells a new operation from a stopped one that reused its id.
    next_generation: u64,
}

struct Running {
    generation: u64,
    abort: AbortHandle,
}

impl Operations {
    pub fn is_running(&self, id: &str) -> bool {
        self.running.contains_key(id)
    }

    pub fn len(&self) -> usize {
        self.running.len()
    }

    pub fn start(&mut self, id: String, results: BoxStream<'static, Outgoing>) {
        let generation = self.next_generation;
        self.next_generation += 1;
        let (abort, registration) = AbortHandle::new_pair();
        let tag = Arc::new(Tag {
            id_json: serde_json::Value::String(id.clone()).to_string(),
            id: id.clone(),
            generation,
        });
        let results = Abortable::new(results, registration)
            .map(Some)
            .chain(stream::once(future::ready(None)))
            .map(move |result| Tagged {
                tag: tag.clone(),
                result,
            });
        self.results.push(results.boxed());
        self.running.insert(id, Running { generation, abort });
    }

    /// Stops the operation `id`; whether it was running. Its stream ends quietly.
    pub fn stop(&mut self, id: &str) -> bool {
        match self.running.remove(id) {
            Some(running) => {
                running.abort.abort();
                true
            }
            None => false,
        }
    }

    /// Marks `tag`'s operation finished (it failed, or its results ended); whether it was still
    /// running, that is, whether the client should hear that it ended.
    pub fn finish(&mut self, tag: &Tag) -> bool {
        match self.running.get(&tag.id) {
            Some(running) if running.generation == tag.generation => self.stop(&tag.id),
            _ => false,
        }
    }

    /// The next result of any operation; pending while none runs.
    pub async fn next(&mut self) -> Tagged {
        if self.results.is_empty() {
            return future::pending().await;
        }
        match self.results.next().await {
            Some(tagged) => tagged,
            None => future::pending().await,
        }
    }
}

/// A query's or mutation's answers as the socket sends them, each counted in the metrics under
/// the operation's name and type, and run inside the operation's span while traces are sent.
pub fn observed(
    answers: BoxStream<'static, async_graphql::Response>,
    name: Option<String>,
    kind: Option<OperationType>,
) -> BoxStream<'static, Outgoing> {
    let span = crate::telemetry::operation_span(kind, name.as_deref());
    let answers = InSpan {
        inner: answers,
        span,
    };
    answers
        .map(move |answer| {
            crate::metrics::graphql_operation(name.as_deref(), kind, &answer);
            Outgoing::from_response(&answer)
        })
        .boxed()
}

/// A stream polled inside a span (tracing's `Instrument` covers futures, not streams).
struct InSpan<S> {
    inner: S,
    span: tracing::Span,
}

impl<S: Stream + Unpin> Stream for InSpan<S> {
    type Item = S::Item;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<S::Item>> {
        let this = &mut *self;
        let _inside = this.span.enter();
        this.inner.poll_next_unpin(cx)
    }
}
