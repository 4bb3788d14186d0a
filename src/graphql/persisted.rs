//! Automatic persisted queries, Apollo's protocol: a client sends a document's sha256 in
//! `extensions.persistedQuery` instead of its text. An unknown hash answers
//! `PersistedQueryNotFound` and the client sends the text with the hash, which registers it;
//! from then on the hash alone runs it, over POST, GET (short URLs a CDN can cache) and the
//! WebSocket alike.
//!
//! The documents live in PostgreSQL, so one registered on any node is found by all of them, and
//! in a bounded memory cache on each node in front of it. Only query texts are kept (never
//! variables, results or who sent them), and the table is bounded: registering trims it to
//! `max_persisted_queries`, least recently used first. A document is "used" when a node loads
//! it, and a node that keeps serving one from memory touches it again at most once an hour.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_graphql::ServerError;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use moka::future::Cache;
use sha2::{Digest, Sha256};

use crate::db::DbPool;
use crate::db::schema::persisted_queries;
use crate::error::AppError;

/// The protocol version Apollo's clients send.
const VERSION: i64 = 1;

/// Longer documents run but are not kept (they are rarely repeated, and they would let a client
/// fill the table quickly). The same bound as the parsed-document cache's.
const MAX_PERSISTED_QUERY_BYTES: usize = 16 * 1024;

/// How often a node serving a document from memory tells the database it is still in use.
const TOUCH_EVERY: Duration = Duration::from_secs(3600);

/// What a cached document costs beyond its key and text (the entry, its `Arc`s, moka's keeping).
const ENTRY_OVERHEAD_BYTES: usize = 128;

/// How long an unknown hash is answered from memory, and how many are remembered.
const MISS_REMEMBERED_FOR: Duration = Duration::from_secs(10);
const MAX_REMEMBERED_MISSES: u64 = 10_000;

/// The documents of automatic persisted queries: this node's cache in front of the shared
/// table.
#[derive(Clone)]
pub struct PersistedQueries {
    known: Cache<Arc<str>, Known>,
    /// Hashes the database did not know a moment ago: a client repeating an unknown hash (or a
    /// flood of them) is answered from memory.
    misses: Cache<Arc<str>, ()>,
    pool: DbPool,
    /// The table's bound; 0 when persisted queries are off.
    max_stored: usize,
}

#[derive(Clone)]
struct Known {
    query: Arc<str>,
    /// When this node last told the database the document is in use.
    touched: Instant,
}

/// What to do with a request's document once it parses.
#[must_use]
pub enum AfterParse {
    /// Nothing: an ordinary request, or one whose document is known already.
    Nothing,
    /// Keep it under this hash (it came with its text and a hash that matches it).
    Register(Arc<str>),
}

impl PersistedQueries {
    /// Keeps up to `max_local_bytes` of query text in memory and `max_stored` documents in the
    /// database.
    pub fn new(pool: DbPool, max_local_bytes: u64, max_stored: usize) -> Self {
        Self {
            known: Cache::builder()
                .max_capacity(max_local_bytes)
                // The key and the entry's own keeping count too: many tiny documents must not
                // hold many times the budget.
                .weigher(|hash: &Arc<str>, known: &Known| {
                    u32::try_from(hash.len() + known.query.len() + ENTRY_OVERHEAD_BYTES)
                        .unwrap_or(u32::MAX)
                })
                .build(),
            misses: Cache::builder()
                .max_capacity(MAX_REMEMBERED_MISSES)
                .time_to_live(MISS_REMEMBERED_FOR)
                .build(),
            pool,
            max_stored,
        }
    }

    /// Reads the request's `extensions.persistedQuery`, if any: fills in the text of a
    /// hash-only request (or answers `PersistedQueryNotFound`), and checks that a text sent
    /// with a hash has that hash.
    pub async fn resolve(
        &self,
        request: &mut async_graphql::Request,
    ) -> Result<AfterParse, ServerError> {
        let Some(extension) = request.extensions.get("persistedQuery") else {
            return Ok(AfterParse::Nothing);
        };
        if self.max_stored == 0 {
            return Err(AppError::PersistedQueryNotSupported.into());
        }
        let hash = read_extension(extension)?;
        if request.query.is_empty() {
            let query = self.find(&hash).await?;
            request.query = query.ok_or(AppError::PersistedQueryNotFound)?.to_string();
            return Ok(AfterParse::Nothing);
        }
        if hex::encode(Sha256::digest(request.query.as_bytes())) != *hash {
            return Err(AppError::bad_field(
                "extensions",
                "provided sha does not match query: `persistedQuery.sha256Hash` must be the \
                 lowercase hex sha256 of the query's text",
            )
            .into());
        }
        if self.known.contains_key(&hash) || request.query.len() > MAX_PERSISTED_QUERY_BYTES {
            return Ok(AfterParse::Nothing);
        }
        Ok(AfterParse::Register(hash))
    }

    /// Keeps a document that parsed under its (checked) hash, here and in the database. A
    /// failure to store it is logged, not the request's: it ran, and the client will send the
    /// text again when a node does not know the hash.
    pub async fn register(&self, hash: Arc<str>, query: &str) {
        let query: Arc<str> = Arc::from(query);
        let stored = self.store(&hash, &query).await;
        if let Err(error) = stored {
            tracing::warn!(?error, "could not keep a persisted query in the database");
        }
        let touched = Instant::now();
        self.misses.invalidate(&hash).await;
        self.known.insert(hash, Known { query, touched }).await;
    }

    /// The document of `hash`: from memory, or from the database (marking it used).
    async fn find(&self, hash: &Arc<str>) -> Result<Option<Arc<str>>, AppError> {
        if let Some(known) = self.known.get(hash).await {
            if known.touched.elapsed() >= TOUCH_EVERY {
                // Marked touched before the write goes out, so concurrent hits send one.
                let touched = Instant::now();
                let query = known.query.clone();
                self.known
                    .insert(hash.clone(), Known { query, touched })
                    .await;
                self.touch(hash.clone());
            }
            return Ok(Some(known.query));
        }
        if self.misses.contains_key(hash) {
            return Ok(None);
        }
        let Some(query) = load_marking_used(&self.pool, hash).await? else {
            self.misses.insert(hash.clone(), ()).await;
            return Ok(None);
        };
        let query: Arc<str> = Arc::from(query);
        let touched = Instant::now();
        let known = Known {
            query: query.clone(),
            touched,
        };
        self.known.insert(hash.clone(), known).await;
        Ok(Some(query))
    }

    /// Marks a document this node keeps serving from memory as used, off the request's path.
    fn touch(&self, hash: Arc<str>) {
        let pool = self.pool.clone();
        tokio::spawn(async move {
            if let Err(error) = load_marking_used(&pool, &hash).await {
                tracing::debug!(?error, "could not mark a persisted query as used");
            }
        });
    }

    /// Inserts the document (nothing, when another node was first) and, when it is new, trims
    /// the table to its bound.
    async fn store(&self, hash: &str, query: &str) -> Result<(), AppError> {
        let mut conn = self.pool.get().await?;
        let inserted = diesel::insert_into(persisted_queries::table)
            .values((
                persisted_queries::sha256.eq(hash),
                persisted_queries::query.eq(query),
            ))
            .on_conflict_do_nothing()
            .execute(&mut conn)
            .await?;
        if inserted == 0 {
            return Ok(());
        }
        let keep = i64::try_from(self.max_stored).unwrap_or(i64::MAX);
        diesel::sql_query(
            "DELETE FROM persisted_queries WHERE sha256 IN (SELECT sha256 FROM persisted_queries \
             ORDER BY last_used_at DESC OFFSET $1)",
        )
        .bind::<diesel::sql_types::BigInt, _>(keep)
        .execute(&mut conn)
        .await?;
        Ok(())
    }
}

/// The document stored under `hash`, marked as used now (one statement).
async fn load_marking_used(pool: &DbPool, hash: &str) -> Result<Option<String>, AppError> {
    let mut conn = pool.get().await?;
    let query = diesel::update(persisted_queries::table.find(hash))
        .set(persisted_queries::last_used_at.eq(diesel::dsl::now))
        .returning(persisted_queries::query)
        .get_result(&mut conn)
        .await
        .optional()?;
    Ok(query)
}

/// The hash of `{"version": 1, "sha256Hash": "<64 hex digits>"}`, lowercased.
fn read_extension(extension: &async_graphql::Value) -> Result<Arc<str>, AppError> {
    let malformed = || {
        AppError::bad_field(
            "extensions",
            "`persistedQuery` must be {\"version\": 1, \"sha256Hash\": \"<64 hex digits>\"}",
        )
    };
    let async_graphql::Value::Object(fields) = extension else {
        return Err(malformed());
    };
    match fields.get("version") {
        Some(async_graphql::Value::Number(version)) if version.as_i64() == Some(VERSION) => {}
        Some(async_graphql::Value::Number(_)) => {
            return Err(AppError::bad_field(
                "extensions",
                "Unsupported persisted query version: this server speaks version 1",
            ));
        }
        _ => return Err(malformed()),
    }
    match fields.get("sha256Hash") {
        Some(async_graphql::Value::String(hash))
            if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            Ok(Arc::from(hash.to_ascii_lowercase()))
        }
        _ => Err(malformed()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extension(json: serde_json::Value) -> async_graphql::Value {
        async_graphql::Value::from_json(json).expect("a GraphQL value")
    }

    #[test]
    fn the_extension_names_version_one_and_a_sha256() {
        let hash = "AB".repeat(32);
        let read = read_extension(&extension(
            serde_json::json!({ "version": 1, "sha256Hash": hash }),
        ));
        assert_eq!(read.ok().as_deref(), Some("ab".repeat(32).as_str()));
        for refused in [
            serde_json::json!({ "version": 2, "sha256Hash": "ab".repeat(32) }),
            serde_json::json!({ "sha256Hash": "ab".repeat(32) }),
            serde_json::json!({ "version": 1, "sha256Hash": "ab".repeat(31) }),
            serde_json::json!({ "version": 1, "sha256Hash": "zz".repeat(32) }),
            serde_json::json!({ "version": 1 }),
            serde_json::json!("ab"),
        ] {
            let error = read_extension(&extension(refused.clone())).err();
            assert!(
                matches!(error, Some(AppError::BadInput { .. })),
                "{refused} was accepted"
            );
        }
    }
}
