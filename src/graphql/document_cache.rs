//! Parsed documents, kept by their query text. Clients send the same few operations over and
//! over with different variables, and parsing was the largest single cost of a small query
//! (about a seventh of the server's time per request in the benchmark). Each cached document
//! comes with a memo of its validation ([`ValidationMemo`], patched into the vendored
//! async-graphql): once an operation of it has passed, later requests check only the
//! arguments their variables fill in, not the document's other twenty-odd rules (validation was
//! about a tenth of the server's time on a small query). The schema still checks a cached
//! document's limits (recursion depth, directives) on every request.
//!
//! Every document is checked against [`super::document_limits`] around its parse: its nesting
//! before the parser sees it, its selections (fragments expanded) before async-graphql walks
//! it. A long document, one too long to cache, is parsed on the blocking pool, a few at a time,
//! so a flood of them leaves the async workers free for everyone else.

use std::sync::Arc;
use std::time::Duration;

use async_graphql::parser::{parse_query, types::ExecutableDocument};
use async_graphql::{Request, ServerError, ValidationMemo};
use moka::future::Cache;
use tokio::sync::Semaphore;

use super::document_limits::{MAX_NESTING, check_nesting, check_selections};
use super::single_root::check_subscriptions;
use crate::error::AppError;

/// Longer queries are parsed every time, off the async workers: they are rarely repeated, and
/// the cache stays small.
const MAX_CACHED_QUERY_BYTES: usize = 16 * 1024;

/// How long a long document waits for its turn to be parsed before it is turned away (a flood
/// of them queues here, each holding its body).
const LONG_PARSE_WAIT: Duration = Duration::from_secs(5);

/// A parsed document, and the memo of its validation when it is a cached one.
pub struct Parsed {
    pub document: ExecutableDocument,
    memo: Option<Arc<ValidationMemo>>,
}

impl Parsed {
    /// Hands the document (and its memo) to the request that sent it.
    pub fn attach_to(self, request: &mut Request) {
        request.set_parsed_query(self.document);
        if let Some(memo) = self.memo {
            request.set_validation_memo(memo);
        }
    }
}

/// A cached document: its parsed form and what validating it found so far.
struct Cached {
    document: ExecutableDocument,
    memo: Arc<ValidationMemo>,
}

#[derive(Clone)]
pub struct DocumentCache {
    documents: Cache<Arc<str>, Arc<Cached>>,
    max_selections: usize,
    /// Long documents parsed at once: half the cores (at least one), so parsing never takes
    /// the whole machine.
    long_parses: Arc<Semaphore>,
}

impl DocumentCache {
    /// A cache holding documents whose query texts add up to at most `max_query_bytes`, each
    /// selecting at most `max_selections` fields with its fragments expanded.
    pub fn new(max_query_bytes: u64, max_selections: usize) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self {
            documents: Cache::builder()
                .max_capacity(max_query_bytes)
                .weigher(|query: &Arc<str>, _| u32::try_from(query.len()).unwrap_or(u32::MAX))
                .build(),
            max_selections,
            long_parses: Arc::new(Semaphore::new((cores / 2).max(1))),
        }
    }

    /// The parsed document, within the limits; or the error to answer with (the parser's own,
    /// or BAD_USER_INPUT naming the limit).
    pub async fn parse(&self, query: &str) -> Result<Parsed, ServerError> {
        if query.len() > MAX_CACHED_QUERY_BYTES {
            let busy = || AppError::RateLimited {
                message: "the server is busy parsing long documents; try again shortly".into(),
                retry_after_secs: 1,
            };
            let _permit = tokio::time::timeout(LONG_PARSE_WAIT, self.long_parses.acquire())
                .await
                .map_err(|_| busy())?
                .map_err(AppError::internal)?;
            let query = query.to_owned();
            let max_selections = self.max_selections;
            let document =
                tokio::task::spawn_blocking(move || checked_parse(&query, max_selections))
                    .await
                    .map_err(AppError::internal)??;
            return Ok(Parsed {
                document,
                memo: None,
            });
        }
        if let Some(cached) = self.documents.get(query).await {
            return Ok(Parsed {
                document: cached.document.clone(),
                memo: Some(cached.memo.clone()),
            });
        }
        let document = checked_parse(query, self.max_selections)?;
        let cached = Arc::new(Cached {
            document: document.clone(),
            memo: Arc::default(),
        });
        let memo = Some(cached.memo.clone());
        self.documents.insert(Arc::from(query), cached).await;
        Ok(Parsed { document, memo })
    }
}

fn checked_parse(query: &str, max_selections: usize) -> Result<ExecutableDocument, ServerError> {
    check_nesting(query, MAX_NESTING)?;
    let document = parse_query(query)?;
    check_selections(&document, max_selections)?;
    check_subscriptions(&document)?;
    Ok(document)
}
