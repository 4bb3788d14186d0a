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
    /// Secret for signing access tokens; generated into the data dir when unset. Every node of
    /// a cluster of servers needs the same one.
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
    /// The signing secret: the one given, or the one kept in `data_dir`.
    pub fn secret(&self, data_dir: &Path) -> anyhow::Result<Vec<u8>> {
        match self.jwt_secret.as_deref().filter(|s| !s.is_empty()) {
            Some(secret) => Ok(secret.as_bytes().to_vec()),
            None => load_or_create_secret(data_dir),
        }
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

/// Reads the signing secret kept in the data dir, generating it (0600) on first use, so tokens
/// survive restarts without any configuration.
pub fn load_or_create_secret(data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;

    let path = data_dir.join("jwt_secret");
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => return Ok(text.trim().as_bytes().to_vec()),
        Ok(_) => anyhow::bail!(
            "{} is empty; delete it to generate a new secret",
            path.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    std::fs::create_dir_all(data_dir)?;
    let secret = crate::auth::tokens::random_token(48);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(secret.as_bytes())?;
    file.sync_all()?;
    Ok(secret.into_bytes())
}
