//! Parsed documents, kept by their query text. Clients send the same few operations over and
//! over with different variables, and parsing was the largest single cost of a small query
//! (about a seventh of the server's time per request in the benchmark). The schema still checks
//! a cached document's limits (recursion depth, directives) and validates it, variables
//! included, on every request.

use std::sync::Arc;

use async_graphql::parser::{parse_query, types::ExecutableDocument};
use moka::future::Cache;

/// Longer queries are parsed every time: they are rarely repeated, and the cache stays small.
const MAX_CACHED_QUERY_BYTES: usize = 16 * 1024;

#[derive(Clone)]
pub struct DocumentCache {
    documents: Cache<Arc<str>, Arc<ExecutableDocument>>,
}

impl DocumentCache {
    /// A cache holding documents whose query texts add up to at most `max_query_bytes`.
    pub fn new(max_query_bytes: u64) -> Self {
        Self {
            documents: Cache::builder()
                .max_capacity(max_query_bytes)
                .weigher(|query: &Arc<str>, _| u32::try_from(query.len()).unwrap_or(u32::MAX))
                .build(),
        }
    }

    /// The parsed document, or None when the query does not parse (the schema then parses it
    /// again and reports the error in its usual shape).
    pub async fn parse(&self, query: &str) -> Option<ExecutableDocument> {
        if query.len() > MAX_CACHED_QUERY_BYTES {
            return parse_query(query).ok();
        }
        if let Some(document) = self.documents.get(query).await {
            return Some(ExecutableDocument::clone(&document));
        }
        let document = parse_query(query).ok()?;
        self.documents
            .insert(Arc::from(query), Arc::new(document.clone()))
            .await;
        Some(document)
    }
}
