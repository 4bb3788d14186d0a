//! A provider's signing keys (its JWKS), cached. A token signed with a key the cache does not
//! hold makes it fetch the set again — providers rotate keys — but at most
//! [`FETCHES_PER_MINUTE`] times a minute, so tokens naming made-up keys cannot make us hammer
//! the provider.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::Jwk;
use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};

use super::OidcError;
use super::http::OidcHttp;

/// Keys are used this long before the set is fetched again regardless.
const MAX_AGE: Duration = Duration::from_secs(3600);
const FETCHES_PER_MINUTE: usize = 5;
const MINUTE: Duration = Duration::from_secs(60);
/// A provider publishes a handful; more is not a key set.
const MAX_KEYS: usize = 64;

#[derive(Deserialize)]
struct RawKeySet {
    keys: Vec<serde_json::Value>,
}

struct Cached {
    keys: Vec<Jwk>,
    fetched_at: Instant,
}

pub struct KeyCache {
    jwks_uri: String,
    cached: RwLock<Option<Cached>>,
    /// One fetch at a time, and when the fetches of the last minute were tried.
    fetching: Mutex<VecDeque<Instant>>,
}

impl KeyCache {
    pub fn new(jwks_uri: &str) -> Self {
        Self {
            jwks_uri: jwks_uri.to_owned(),
            cached: RwLock::new(None),
            fetching: Mutex::new(VecDeque::new()),
        }
    }

    /// The key a token's header names (`kid`); a token without one may use the set's only
    /// key.
    pub async fn key(&self, http: &OidcHttp, kid: Option<&str>) -> Result<Jwk, OidcError> {
        if let Some(key) = self.lookup(kid, false).await {
            return Ok(key);
        }
        let mut recent = self.fetching.lock().await;
        if let Some(key) = self.lookup(kid, false).await {
            return Ok(key);
        }
        while recent.front().is_some_and(|at| at.elapsed() >= MINUTE) {
            recent.pop_front();
        }
        if recent.len() < FETCHES_PER_MINUTE {
            recent.push_back(Instant::now());
            match self.fetch(http).await {
                Ok(keys) => {
                    *self.cached.write().await = Some(Cached {
                        keys,
                        fetched_at: Instant::now(),
                    })
                }
                Err(error) => {
                    tracing::warn!(jwks_uri = %self.jwks_uri, %error, "fetching signing keys failed");
                    // An old set still answers for the keys it has.
                    return self.lookup(kid, true).await.ok_or(error);
                }
            }
        }
        self.lookup(kid, true)
            .await
            .ok_or_else(|| OidcError::Invalid("the token is signed with an unknown key".into()))
    }

    async fn lookup(&self, kid: Option<&str>, stale_ok: bool) -> Option<Jwk> {
        let cached = self.cached.read().await;
        let cached = cached
            .as_ref()
            .filter(|c| stale_ok || c.fetched_at.elapsed() < MAX_AGE)?;
        match kid {
            Some(kid) => cached
                .keys
                .iter()
                .find(|key| key.common.key_id.as_deref() == Some(kid))
                .cloned(),
            None if cached.keys.len() == 1 => cached.keys.first().cloned(),
            None => None,
        }
    }

    async fn fetch(&self, http: &OidcHttp) -> Result<Vec<Jwk>, OidcError> {
        let set: RawKeySet = http.get_json(&self.jwks_uri).await?;
        // Keys of kinds this server does not read are skipped, not fatal: a set may mix them.
        let keys: Vec<Jwk> = set
            .keys
            .into_iter()
            .take(MAX_KEYS)
            .filter_map(|key| serde_json::from_value(key).ok())
            .collect();
        if keys.is_empty() {
            return Err(OidcError::Malformed(
                "the provider's key set holds no usable key".into(),
            ));
        }
        Ok(keys)
    }
}
