//! A provider's metadata from `{issuer}/.well-known/openid-configuration`, fetched on first use
//! and again a day later (providers move endpoints and keys rarely, and announce it).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};

use super::OidcError;
use super::http::OidcHttp;
use super::keys::KeyCache;

const REFRESH_AFTER: Duration = Duration::from_secs(24 * 3600);
/// After a failed fetch, callers wait this long before the next one is tried.
const RETRY_AFTER: Duration = Duration::from_secs(10);

/// The parts of a provider's metadata this server uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Metadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
}

/// What discovery found: the metadata and the key cache of its `jwks_uri`.
pub struct Discovered {
    pub metadata: Metadata,
    pub keys: KeyCache,
    fetched_at: Instant,
}

pub struct Discovery {
    issuer: String,
    current: RwLock<Option<Arc<Discovered>>>,
    /// One fetch at a time; also remembers when the last one failed.
    fetching: Mutex<Option<Instant>>,
}

impl Discovery {
    pub fn new(issuer: &str) -> Self {
        Self {
            issuer: issuer.trim_end_matches('/').to_owned(),
            current: RwLock::new(None),
            fetching: Mutex::new(None),
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The metadata, fetched if there is none yet or it is a day old. A stale copy keeps
    /// serving while a refresh fails.
    pub async fn get(&self, http: &OidcHttp) -> Result<Arc<Discovered>, OidcError> {
        if let Some(found) = self.fresh().await {
            return Ok(found);
        }
        let mut last_failure = self.fetching.lock().await;
        // Someone else may have fetched it while this call waited.
        if let Some(found) = self.fresh().await {
            return Ok(found);
        }
        let stale = self.current.read().await.clone();
        if last_failure.is_some_and(|at| at.elapsed() < RETRY_AFTER) {
            return stale.ok_or_else(|| {
                OidcError::Unreachable(format!("{} could not be reached", self.issuer))
            });
        }
        match self.fetch(http).await {
            Ok(metadata) => {
                *last_failure = None;
                let discovered = Arc::new(Discovered {
                    keys: KeyCache::new(&metadata.jwks_uri),
                    metadata,
                    fetched_at: Instant::now(),
                });
                *self.current.write().await = Some(discovered.clone());
                Ok(discovered)
            }
            Err(error) => {
                *last_failure = Some(Instant::now());
                tracing::warn!(issuer = %self.issuer, %error, "OpenID discovery failed");
                stale.ok_or(error)
            }
        }
    }

    async fn fresh(&self) -> Option<Arc<Discovered>> {
        self.current
            .read()
            .await
            .as_ref()
            .filter(|d| d.fetched_at.elapsed() < REFRESH_AFTER)
            .cloned()
    }

    async fn fetch(&self, http: &OidcHttp) -> Result<Metadata, OidcError> {
        let url = format!("{}/.well-known/openid-configuration", self.issuer);
        let metadata: Metadata = http.get_json(&url).await?;
        // OpenID Connect Discovery 1.0, 4.3: the document must name the issuer it was asked
        // for, or an attacker's document could pass for the provider's.
        if !super::id_token::is_configured_issuer(&metadata.issuer, &self.issuer) {
            return Err(OidcError::Malformed(format!(
                "the discovery document of {} names another issuer ({})",
                self.issuer, metadata.issuer
            )));
        }
        for endpoint in [
            &metadata.authorization_endpoint,
            &metadata.token_endpoint,
            &metadata.jwks_uri,
        ] {
            reqwest::Url::parse(endpoint).map_err(|_| {
                OidcError::Malformed(format!(
                    "the discovery document of {} has an endpoint that is not a URL",
                    self.issuer
                ))
            })?;
        }
        Ok(metadata)
    }
}
