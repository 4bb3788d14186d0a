//! Throttles sign-in attempts per account and per client address, in fixed windows counted in
//! PostgreSQL (`login_throttle`).
//!
//! - An attempt is counted *before* its password is hashed, in one atomic statement, and let
//!   through only while the count is within the limit: forty parallel guesses check at most
//!   `max_failures_per_account` passwords, however the slow hashes interleave.
//! - The count belongs to the account, whichever spelling named it (email or username); a name
//!   with no account behind it is counted under that name, so probing costs the same.
//! - Every node serving one database shares the counts: the limit holds for a cluster, not per
//!   node.
//!
//! A failed attempt stays counted until its window ends; a successful one clears its account's
//! window and gives its address the attempt back. A refused attempt is not counted.

use std::net::IpAddr;

use diesel::QueryableByName;
use diesel::sql_types::{Array, Double, Integer, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::config::LoginThrottle;
use crate::error::{AppError, AppResult};

/// Whom a sign-in attempt names.
pub enum Subject<'a> {
    Account(Uuid),
    /// A sign-in name (lower-cased) that belongs to no account.
    UnknownName(&'a str),
}

/// An attempt that was let through and is counted; [`LoginThrottler::succeeded`] settles a
/// successful one (a failed one stays counted).
pub struct Attempt {
    account_key: String,
    address_key: Option<String>,
}

pub struct LoginThrottler {
    config: LoginThrottle,
}

#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = Integer)]
    attempts: i32,
    /// Seconds until the window ends.
    #[diesel(sql_type = Double)]
    remaining: f64,
}

const ADDRESS_PREFIX: &str = "address:";

impl LoginThrottler {
    pub fn new(config: LoginThrottle) -> Self {
        Self { config }
    }

    fn window_secs(&self) -> f64 {
        self.config.window.as_secs_f64().max(1.0)
    }

    fn limit_for(&self, key: &str) -> i32 {
        let limit = if key.starts_with(ADDRESS_PREFIX) {
            self.config.max_failures_per_address
        } else {
            self.config.max_failures_per_account
        };
        i32::try_from(limit).unwrap_or(i32::MAX)
    }

    /// Counts an attempt on `subject` from `ip`; fails with RATE_LIMITED (counting nothing)
    /// while either has used up its window.
    pub async fn reserve(
        &self,
        conn: &mut AsyncPgConnection,
        subject: Subject<'_>,
        ip: Option<IpAddr>,
    ) -> AppResult<Attempt> {
        let attempt = Attempt {
            account_key: match subject {
                Subject::Account(id) => format!("account:{id}"),
                // Hashed: a name is whatever a client sent, of any length.
                Subject::UnknownName(name) => {
                    format!("name:{}", hex::encode(Sha256::digest(name.as_bytes())))
                }
            },
            address_key: ip.map(|ip| format!("{ADDRESS_PREFIX}{ip}")),
        };
        let keys: Vec<&str> = std::iter::once(attempt.account_key.as_str())
            .chain(attempt.address_key.as_deref())
            .collect();
        // Counted and, when over a limit, taken back in one transaction: the rows stay locked
        // in between, so no other attempt (or a new window) sees the count half-way.
        let refused = conn
            .transaction::<_, AppError, _>(async |conn| {
                let counted = self.count(conn, &keys).await?;
                let over = counted
                    .iter()
                    .filter(|row| row.attempts > self.limit_for(&row.key))
                    .map(|row| row.remaining)
                    .reduce(f64::max);
                match over {
                    // Rolling back takes the attempt back.
                    Some(remaining) => Err(AppError::RateLimited {
                        message: "too many failed sign-in attempts; try again later".into(),
                        retry_after_secs: remaining.ceil().max(1.0) as u64,
                    }),
                    None => Ok(()),
                }
            })
            .await;
        if let Err(AppError::RateLimited { .. }) = &refused {
            crate::metrics::login_throttled();
        }
        refused.map(|()| attempt)
    }

    /// Adds an attempt to each key's window (starting a new window where the last one ended).
    async fn count(&self, conn: &mut AsyncPgConnection, keys: &[&str]) -> AppResult<Vec<Counted>> {
        // The account's row is always locked before the address's (the array's order), so
        // concurrent attempts cannot deadlock.
        Ok(diesel::sql_query(
            "INSERT INTO login_throttle AS t (key, window_started, attempts) \
             SELECT key, now(), 1 FROM unnest($1::text[]) WITH ORDINALITY AS k(key, position) \
             ORDER BY position \
             ON CONFLICT (key) DO UPDATE SET \
               attempts = CASE WHEN t.window_started <= now() - make_interval(secs => $2) \
                          THEN 1 ELSE t.attempts + 1 END, \
               window_started = CASE WHEN t.window_started <= now() - make_interval(secs => $2) \
                                THEN now() ELSE t.window_started END \
             RETURNING key, attempts, \
               EXTRACT(EPOCH FROM window_started + make_interval(secs => $2) - now())::float8 \
               AS remaining",
        )
        .bind::<Array<Text>, _>(keys)
        .bind::<Double, _>(self.window_secs())
        .load(conn)
        .await?)
    }

    /// The password was right: the account's window starts afresh, and the address gets its
    /// attempt back.
    pub async fn succeeded(&self, conn: &mut AsyncPgConnection, attempt: Attempt) -> AppResult<()> {
        // One row per statement: nothing to order, nothing to deadlock on.
        diesel::sql_query("DELETE FROM login_throttle WHERE key = $1")
            .bind::<Text, _>(&attempt.account_key)
            .execute(conn)
            .await?;
        if let Some(address_key) = &attempt.address_key {
            diesel::sql_query(
                "UPDATE login_throttle SET attempts = attempts - 1 WHERE key = $1 AND attempts > 0",
            )
            .bind::<Text, _>(address_key)
            .execute(conn)
            .await?;
        }
        Ok(())
    }

    /// Forgets windows that ended, `limit` at a time (a failed sign-in forgets a few, so no
    /// sign-in waits on a long sweep; the retention sweeper the rest); how many.
    pub async fn forget_ended(&self, conn: &mut AsyncPgConnection, limit: i64) -> AppResult<usize> {
        Ok(diesel::sql_query(
            "DELETE FROM login_throttle WHERE key IN (SELECT key FROM login_throttle \
             WHERE window_started <= now() - make_interval(secs => $1) LIMIT $2)",
        )
        .bind::<Double, _>(self.window_secs())
        .bind::<diesel::sql_types::BigInt, _>(limit)
        .execute(conn)
        .await?)
    }
}
