//! Fixed windows counting requests per key in PostgreSQL (`rate_windows`), for the requests
//! that must stay rare whichever node serves them: password-reset mails per account and per
//! address. Sign-in attempts have their own, subtler throttle (`throttle`).

use std::time::Duration;

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Double, Integer, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::error::{AppError, AppResult};

#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = Integer)]
    hits: i32,
    /// Seconds until the window ends.
    #[diesel(sql_type = Double)]
    remaining: f64,
}

/// The count of `key` within its window after this request, and the seconds until the window
/// ends. A window that ended starts again with this request.
pub async fn hit(
    conn: &mut AsyncPgConnection,
    key: &str,
    window: Duration,
) -> AppResult<(u32, u64)> {
    let counted: Counted = diesel::sql_query(
        "INSERT INTO rate_windows AS w (key, window_ends, hits) \
         VALUES ($1, now() + make_interval(secs => $2), 1) \
         ON CONFLICT (key) DO UPDATE SET \
           hits = CASE WHEN w.window_ends <= now() THEN 1 ELSE w.hits + 1 END, \
           window_ends = CASE WHEN w.window_ends <= now() \
                         THEN now() + make_interval(secs => $2) ELSE w.window_ends END \
         RETURNING hits, EXTRACT(EPOCH FROM window_ends - now())::float8 AS remaining",
    )
    .bind::<Text, _>(key)
    .bind::<Double, _>(window.as_secs_f64().max(1.0))
    .get_result(conn)
    .await?;
    Ok((
        u32::try_from(counted.hits).unwrap_or(0),
        counted.remaining.ceil().max(1.0) as u64,
    ))
}

/// Takes back one hit of `key` (an attempt counted before it was known to be fine: a right
/// password), so a limit on failures counts failures alone. Counting first and forgiving after
/// is what keeps concurrent attempts from all passing a check made before any was counted.
pub async fn forgive(conn: &mut AsyncPgConnection, key: &str) -> AppResult<()> {
    diesel::sql_query(
        "UPDATE rate_windows SET hits = GREATEST(hits - 1, 0) \
         WHERE key = $1 AND window_ends > now()",
    )
    .bind::<Text, _>(key)
    .execute(conn)
    .await?;
    Ok(())
}

/// Counts a request on `key`; RATE_LIMITED (saying `message`) once more than `limit` fell in
/// the window.
pub async fn ensure_within(
    conn: &mut AsyncPgConnection,
    key: &str,
    limit: u32,
    window: Duration,
    message: &str,
) -> AppResult<()> {
    let (hits, remaining) = hit(conn, key, window).await?;
    if hits > limit {
        return Err(AppError::RateLimited {
            message: message.to_owned(),
            retry_after_secs: remaining,
        });
    }
    Ok(())
}

/// The key of a client address for `kind`: an IPv4 address whole, an IPv6 address by its /64
/// (one subscriber usually holds a whole /64, and counting its addresses apart would be no
/// limit at all).
pub fn address_key(kind: &str, ip: Option<std::net::IpAddr>) -> String {
    match ip.map(|ip| ip.to_canonical()) {
        Some(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!(
                "{kind}:address:{:x}:{:x}:{:x}:{:x}::/64",
                s[0], s[1], s[2], s[3]
            )
        }
        Some(ip) => format!("{kind}:address:{ip}"),
        None => format!("{kind}:address:unknown"),
    }
}

/// Forgets up to `limit` windows that ended; how many.
pub async fn forget_ended(conn: &mut AsyncPgConnection, limit: i64) -> AppResult<usize> {
    Ok(diesel::sql_query(
        "DELETE FROM rate_windows WHERE key IN \
         (SELECT key FROM rate_windows WHERE window_ends <= now() LIMIT $1)",
    )
    .bind::<BigInt, _>(limit)
    .execute(conn)
    .await?)
}
