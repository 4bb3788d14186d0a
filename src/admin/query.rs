//! Read-only SQL for the operators (SUPERUSER only: a tenant's ADMIN would see every tenant's
//! rows, so they are refused rather than given a filtered view). A query runs in a READ ONLY
//! transaction, as the role `loregraph_reader` (which reads the tables but not the secrets in
//! them: password hashes, tokens, sealed keys, asset access keys, the server's own secrets),
//! within a statement timeout, and answers at most 500 rows of at most 1 MiB in all. It is one
//! SELECT (or WITH, VALUES, TABLE): it runs as the source of a sub-select, so a second
//! statement, a `SET`, or a data-modifying WITH is refused by PostgreSQL itself.

use std::time::{Duration, Instant};

use diesel::QueryableByName;
use diesel::sql_types::{Nullable, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::Value;

use crate::auth::{Role, Viewer};
use crate::error::{AppError, AppResult};

pub const MAX_ROWS: usize = 500;
const MAX_SQL_CHARS: usize = 20_000;
const MAX_RESULT_BYTES: usize = 1 << 20;
const TIMEOUT: Duration = Duration::from_secs(5);
const READER: &str = "loregraph_reader";

/// What a query answered.
#[derive(Clone, Debug, Default)]
pub struct QueryAnswer {
    /// The columns, in order (none when no row came back).
    pub columns: Vec<String>,
    /// Each row's values, in the columns' order, as JSON.
    pub rows: Vec<Vec<Value>>,
    /// True when more rows (or more bytes) were there than were kept.
    pub truncated: bool,
    pub elapsed: Duration,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Nullable<Text>)]
    keys: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    vals: Option<String>,
}

/// How the query's transaction ended: it always rolls back, carrying the answer out.
enum Ended {
    Answered(Vec<Row>),
    Failed(AppError),
}

impl From<diesel::result::Error> for Ended {
    fn from(error: diesel::result::Error) -> Self {
        Self::Failed(AppError::from(error))
    }
}

/// The statement as it will run: trimmed, one trailing `;` dropped, bounded.
fn statement(sql: &str) -> AppResult<&str> {
    let sql = sql.trim();
    let sql = sql.strip_suffix(';').unwrap_or(sql).trim_end();
    if sql.is_empty() {
        return Err(AppError::bad_field("sql", "write a query"));
    }
    if sql.chars().count() > MAX_SQL_CHARS {
        return Err(AppError::bad_field(
            "sql",
            "a query is at most 20,000 characters",
        ));
    }
    Ok(sql)
}

/// PostgreSQL's refusal of the query, told as the caller's mistake (it is their SQL).
fn refused(error: diesel::result::Error) -> AppError {
    match error {
        diesel::result::Error::DatabaseError(_, info) => {
            AppError::bad_field("sql", format!("the query was refused: {}", info.message()))
        }
        other => AppError::from(other),
    }
}

pub async fn run(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    sql: &str,
) -> AppResult<QueryAnswer> {
    viewer.require_role(Role::Superuser)?;
    let sql = statement(sql)?;
    let wrapped = format!(
        "SELECT (SELECT json_agg(e.key) FROM json_each(row_to_json(q)) e)::text AS keys, \
                (SELECT json_agg(e.value) FROM json_each(row_to_json(q)) e)::text AS vals \
         FROM (SELECT * FROM (\n{sql}\n) AS user_query LIMIT {}) AS q",
        MAX_ROWS + 1
    );
    let started = Instant::now();
    // The transaction never commits: whatever the query did (a large object it made, a
    // sequence it moved, were either allowed) is rolled back with it.
    let outcome = conn
        .transaction::<(), Ended, _>(async |conn| {
            diesel::sql_query("SET TRANSACTION READ ONLY")
                .execute(conn)
                .await?;
            diesel::sql_query(format!(
                "SET LOCAL statement_timeout = {}",
                TIMEOUT.as_millis()
            ))
            .execute(conn)
            .await?;
            diesel::sql_query(format!("SET LOCAL ROLE {READER}"))
                .execute(conn)
                .await
                .map_err(|_| {
                    Ended::Failed(AppError::conflict(
                        "the database has no role loregraph_reader this server may act as \
                         (made by the migrations where the server may make roles)",
                    ))
                })?;
            let rows = diesel::sql_query(wrapped)
                .load(conn)
                .await
                .map_err(|error| Ended::Failed(refused(error)))?;
            Err(Ended::Answered(rows))
        })
        .await;
    let rows: Vec<Row> = match outcome {
        Err(Ended::Answered(rows)) => rows,
        Err(Ended::Failed(error)) => return Err(error),
        Ok(()) => Vec::new(),
    };
    let mut answer = QueryAnswer {
        truncated: rows.len() > MAX_ROWS,
        ..QueryAnswer::default()
    };
    let mut bytes = 0;
    for row in rows.into_iter().take(MAX_ROWS) {
        let text = row.vals.unwrap_or_else(|| "[]".into());
        bytes += text.len();
        if bytes > MAX_RESULT_BYTES {
            answer.truncated = true;
            break;
        }
        if answer.columns.is_empty()
            && let Some(keys) = &row.keys
        {
            answer.columns = serde_json::from_str(keys).unwrap_or_default();
        }
        answer
            .rows
            .push(serde_json::from_str(&text).unwrap_or_default());
    }
    answer.elapsed = started.elapsed();
    Ok(answer)
}
