//! Signing in: token and session lifetimes, the signing secret, the sign-in throttle.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use clap::{ArgAction, Args};

use super::AppConfig;

/// Failed logins allowed inside `window` before further attempts are refused.
#[derive(Clone, Debug)]
pub struct LoginThrottle {
    pub max_failures_per_account: u32,
    pub max_failures_per_address: u32,
    pub window: Duration,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            max_failures_per_account: 5,
            max_failures_per_address: 30,
            window: Duration::from_secs(15 * 60),
        }
    }
}

/// The command line's (and environment's) part of the auth section.
#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Sign-in")]
pub struct AuthArgs {
    /// Secret for signing access tokens. Unset, one is generated once and kept in the database,
    /// so every node of a deployment on that database uses the same.
    #[arg(long, env = "LOREGRAPH_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Access token lifetime, seconds.
    #[arg(long, env = "LOREGRAPH_ACCESS_TOKEN_TTL", default_value_t = 900)]
    pub access_token_ttl: u64,
    /// Refresh token (and API session) lifetime, seconds.
    #[arg(long, env = "LOREGRAPH_REFRESH_TOKEN_TTL", default_value_t = 30 * 24 * 3600)]
    pub refresh_token_ttl: u64,
    /// Web (cookie) session lifetime, seconds.
    #[arg(long, env = "LOREGRAPH_WEB_SESSION_TTL", default_value_t = 7 * 24 * 3600)]
    pub web_session_ttl: u64,
    /// Invite lifetime, seconds.
    #[arg(long, env = "LOREGRAPH_INVITE_TTL", default_value_t = 7 * 24 * 3600)]
    pub invite_ttl: u64,
    /// Mark the session cookie Secure (serve behind HTTPS).
    #[arg(long, env = "LOREGRAPH_COOKIE_SECURE", action = ArgAction::Set, default_value_t = false)]
    pub cookie_secure: bool,
    /// Failed sign-ins per account allowed within the throttle window.
    #[arg(long, env = "LOREGRAPH_LOGIN_MAX_FAILURES", default_value_t = LoginThrottle::default().max_failures_per_account)]
    pub login_max_failures: u32,
    /// The sign-in throttle window, seconds.
    #[arg(long, env = "LOREGRAPH_LOGIN_WINDOW", default_value_t = 900)]
    pub login_window: u64,
}

impl AuthArgs {
    /// The signing secret the operator gave, if any.
    pub fn explicit_secret(&self) -> Option<Vec<u8>> {
        self.jwt_secret
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| s.as_bytes().to_vec())
    }

    pub fn apply(self, config: &mut AppConfig) {
        config.access_token_ttl = Duration::from_secs(self.access_token_ttl);
        config.refresh_token_ttl = Duration::from_secs(self.refresh_token_ttl);
        config.web_session_ttl = Duration::from_secs(self.web_session_ttl);
        config.invite_ttl = Duration::from_secs(self.invite_ttl);
        config.cookie_secure = self.cookie_secure;
        config.login_throttle = LoginThrottle {
            max_failures_per_account: self.login_max_failures,
            window: Duration::from_secs(self.login_window),
            ..LoginThrottle::default()
        };
    }
}

/// The signing secret an earlier version generated into the data dir, if it is there: the
/// database keeps it from then on (`auth::signing_secret`), so the tokens it signed stay valid.
pub fn legacy_secret(data_dir: &Path) -> anyhow::Result<Option<Vec<u8>>> {
    let path = data_dir.join("jwt_secret");
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => Ok(Some(text.trim().as_bytes().to_vec())),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}
