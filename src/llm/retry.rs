//! When to try a call again: on a rate limit (429), a server error (5xx), a connection that
//! failed or an answer that never began — and only before any of the answer reached the
//! caller. Waits grow exponentially with full jitter (so callers that failed together do not
//! come back together), honour the provider's `Retry-After`, and stop at a bound on attempts
//! and on the total time spent waiting.

use std::time::Duration;

use rand::Rng as _;

/// How hard a call tries.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The first wait's ceiling; each later one doubles it.
    pub base_delay: Duration,
    /// No single wait is longer (a `Retry-After` beyond it ends the retries instead).
    pub max_delay: Duration,
    /// Waits add up to no more than this.
    pub max_total_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
            max_total_wait: Duration::from_secs(45),
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1`, after attempt `attempt` (1-based) failed in a
    /// way worth retrying; None when the call should give up: no attempts left, or the wait
    /// would pass `max_delay` or the total budget (`waited` so far).
    pub fn next_wait(
        &self,
        attempt: u32,
        retry_after: Option<Duration>,
        waited: Duration,
    ) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let wait = match retry_after {
            Some(asked) => asked,
            None => {
                let ceiling = self
                    .base_delay
                    .saturating_mul(1 << attempt.saturating_sub(1).min(16))
                    .min(self.max_delay);
                let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
                Duration::from_millis(rand::rng().random_range(0..=millis))
            }
        };
        (wait <= self.max_delay && waited + wait <= self.max_total_wait).then_some(wait)
    }
}

/// A `Retry-After` header's wait: delay-seconds, or an HTTP date (RFC 9110), counted from now.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    // IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") is RFC 2822 with the zone spelt GMT.
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let from_now = at.signed_duration_since(chrono::Utc::now());
    Some(from_now.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_within_their_ceiling_and_stop_at_the_bounds() {
        let policy = RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            max_total_wait: Duration::from_secs(2),
        };
        for _ in 0..200 {
            let first = policy.next_wait(1, None, Duration::ZERO).unwrap();
            assert!(first <= Duration::from_millis(100));
            let second = policy.next_wait(2, None, first).unwrap();
            assert!(second <= Duration::from_millis(200));
        }
        assert_eq!(policy.next_wait(3, None, Duration::ZERO), None);
        // The provider's own wait is taken as given, within the bounds.
        assert_eq!(
            policy.next_wait(1, Some(Duration::from_millis(700)), Duration::ZERO),
            Some(Duration::from_millis(700))
        );
        assert_eq!(
            policy.next_wait(1, Some(Duration::from_secs(5)), Duration::ZERO),
            None
        );
        assert_eq!(
            policy.next_wait(
                2,
                Some(Duration::from_millis(900)),
                Duration::from_millis(1500)
            ),
            None
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO)
        );
        let soon = (chrono::Utc::now() + chrono::Duration::seconds(30))
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string();
        let wait = parse_retry_after(&soon).unwrap();
        assert!(wait > Duration::from_secs(25) && wait <= Duration::from_secs(30));
        assert_eq!(parse_retry_after("soon"), None);
    }
}
