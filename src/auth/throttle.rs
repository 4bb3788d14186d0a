//! Throttles failed logins per account and per client address (fixed windows, in memory).

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use moka::future::Cache;

use crate::config::LoginThrottle;
use crate::error::{AppError, AppResult};

#[derive(Debug)]
struct Window {
    started: Instant,
    failures: u32,
}

pub struct LoginThrottler {
    config: LoginThrottle,
    windows: Cache<String, Arc<Mutex<Window>>>,
}

impl LoginThrottler {
    pub fn new(config: LoginThrottle) -> Self {
        Self {
            windows: Cache::builder()
                .max_capacity(100_000)
                .time_to_idle(config.window)
                .build(),
            config,
        }
    }

    fn keys(email: &str, ip: Option<IpAddr>) -> [Option<String>; 2] {
        [
            Some(format!("account:{}", email.trim().to_lowercase())),
            ip.map(|ip| format!("address:{ip}")),
        ]
    }

    fn limit_for(&self, key: &str) -> u32 {
        if key.starts_with("account:") {
            self.config.max_failures_per_account
        } else {
            self.config.max_failures_per_address
        }
    }

    /// Fails with RATE_LIMITED while the account or the address is over its limit.
    pub async fn check(&self, email: &str, ip: Option<IpAddr>) -> AppResult<()> {
        for key in Self::keys(email, ip).into_iter().flatten() {
            let Some(window) = self.windows.get(&key).await else {
                continue;
            };
            let window = window.lock().unwrap_or_else(|p| p.into_inner());
            let elapsed = window.started.elapsed();
            if elapsed < self.config.window && window.failures >= self.limit_for(&key) {
                let retry_after = self.config.window.saturating_sub(elapsed);
                return Err(AppError::RateLimited {
                    message: "too many failed sign-in attempts; try again later".into(),
                    retry_after_secs: retry_after.as_secs().max(1),
                });
            }
        }
        Ok(())
    }

    pub async fn record_failure(&self, email: &str, ip: Option<IpAddr>) {
        for key in Self::keys(email, ip).into_iter().flatten() {
            let window = self
                .windows
                .get_with(key, async {
                    Arc::new(Mutex::new(Window {
                        started: Instant::now(),
                        failures: 0,
                    }))
                })
                .await;
            let mut window = window.lock().unwrap_or_else(|p| p.into_inner());
            if window.started.elapsed() >= self.config.window {
                window.started = Instant::now();
                window.failures = 0;
            }
            window.failures += 1;
        }
    }

    /// A successful login clears the account's window (not the address's).
    pub async fn record_success(&self, email: &str) {
        if let [Some(account), _] = Self::keys(email, None) {
            self.windows.invalidate(&account).await;
        }
    }
}
