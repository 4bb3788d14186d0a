//! Request limits: each one exceeded gives a clear error instead of work.

use clap::Args;

/// Request limits: each one exceeded gives a clear error instead of work.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_query_depth: usize,
    pub max_query_complexity: usize,
    /// Most fields (and fragment spreads) a document may select once its fragments are
    /// expanded.
    pub max_query_fields: usize,
    pub max_batch_size: usize,
    /// Largest JSON request body.
    pub max_body_bytes: usize,
    /// Largest multipart (upload) request body.
    pub max_upload_bytes: usize,
    pub max_upload_files: usize,
    /// Most documents kept for automatic persisted queries (in the database, shared by every
    /// node); 0 turns the protocol off (`PersistedQueryNotSupported`).
    pub max_persisted_queries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_query_depth: 15,
            max_query_complexity: 2_000,
            max_query_fields: 5_000,
            max_batch_size: 20,
            max_body_bytes: 1024 * 1024,
            max_upload_bytes: 20 * 1024 * 1024 + 64 * 1024,
            max_upload_files: 10,
            max_persisted_queries: 10_000,
        }
    }
}

/// The command line's (and environment's) part of the limits section.
#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Request limits")]
pub struct LimitsArgs {
    /// Deepest query accepted.
    #[arg(long, env = "LOREGRAPH_MAX_QUERY_DEPTH", default_value_t = Limits::default().max_query_depth)]
    pub max_query_depth: usize,
    /// Highest query complexity accepted (one point per field selected).
    #[arg(long, env = "LOREGRAPH_MAX_QUERY_COMPLEXITY", default_value_t = Limits::default().max_query_complexity)]
    pub max_query_complexity: usize,
    /// Most fields (and fragment spreads) a document may select once its fragments are
    /// expanded.
    #[arg(long, env = "LOREGRAPH_MAX_QUERY_FIELDS", default_value_t = Limits::default().max_query_fields)]
    pub max_query_fields: usize,
    /// Most operations in one batched request.
    #[arg(long, env = "LOREGRAPH_MAX_BATCH_SIZE", default_value_t = Limits::default().max_batch_size)]
    pub max_batch_size: usize,
    /// Largest JSON request body, bytes.
    #[arg(long, env = "LOREGRAPH_MAX_BODY_BYTES", default_value_t = Limits::default().max_body_bytes)]
    pub max_body_bytes: usize,
    /// Largest multipart (upload) request body, bytes.
    #[arg(long, env = "LOREGRAPH_MAX_UPLOAD_BYTES", default_value_t = Limits::default().max_upload_bytes)]
    pub max_upload_bytes: usize,
    /// Most documents kept for automatic persisted queries, shared by every node through the
    /// database (least recently used go first); 0 turns persisted queries off.
    #[arg(long, env = "LOREGRAPH_MAX_PERSISTED_QUERIES", default_value_t = Limits::default().max_persisted_queries)]
    pub max_persisted_queries: usize,
}

impl LimitsArgs {
    pub fn settings(self) -> Limits {
        Limits {
            max_query_depth: self.max_query_depth,
            max_query_complexity: self.max_query_complexity,
            max_query_fields: self.max_query_fields,
            max_batch_size: self.max_batch_size,
            max_body_bytes: self.max_body_bytes,
            max_upload_bytes: self.max_upload_bytes,
            max_persisted_queries: self.max_persisted_queries,
            ..Limits::default()
        }
    }
}
