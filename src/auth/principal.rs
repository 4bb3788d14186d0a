//! Turns a request's credentials into a `Viewer`.
//!
//! Tokens are only half of it: the session (or API key) behind a token is looked up so that
//! logout, revocation, deactivation and role changes take effect at once rather than when a token
//! expires. The lookups are cached for a few seconds and dropped from the cache on this node the
//! moment something changes, so a steady stream of requests costs no query per request.

use std::time::Duration;

use axum::http::HeaderMap;
use moka::future::Cache;
use uuid::Uuid;

use super::cookies::{CSRF_HEADER, read_session_cookie};
use super::credentials;
use super::throttle::LoginThrottler;
use super::tokens::{Claims, TokenKeys, TokenKind, constant_time_eq, secret_hash};
use super::viewer::{ClientInfo, Principal, RequestAuth};
use super::{Revocation, Viewer};
use crate::config::AppConfig;
use crate::db::DbPool;
use crate::error::{AppError, AppResult};

/// API keys start with this, which is how a bearer token is told apart from a JWT.
pub const API_KEY_PREFIX: &str = "lg_";
const CACHE_TTL: Duration = Duration::from_secs(10);

/// The credentials a request presents, before they are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    None,
    Bearer(String),
    ApiKey(String),
    Cookie { token: String, csrf: Option<String> },
}

impl Credentials {
    /// Headers win over the cookie: a client that sends a token means that token.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        if let Some(value) = header("authorization") {
            return Self::from_authorization(&value);
        }
        if let Some(key) = header("x-api-key") {
            return Self::ApiKey(key);
        }
        if let Some(token) = read_session_cookie(headers) {
            return Self::Cookie {
                token,
                csrf: header(CSRF_HEADER),
            };
        }
        Self::None
    }

    /// Credentials from a WebSocket `connection_init` payload (`{"authorization": "Bearer ..."}`).
    pub fn from_init_payload(payload: &serde_json::Value) -> Self {
        ["authorization", "Authorization"]
            .iter()
            .find_map(|k| payload.get(k))
            .and_then(|v| v.as_str())
            .map_or(Self::None, Self::from_authorization)
    }

    /// An `Authorization` value: `Bearer <jwt>` or `Bearer <API key>` (the scheme is optional).
    fn from_authorization(value: &str) -> Self {
        let value = value.trim();
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .unwrap_or(value)
            .trim();
        if token.is_empty() {
            Self::None
        } else if token.starts_with(API_KEY_PREFIX) {
            Self::ApiKey(token.to_owned())
        } else {
            Self::Bearer(token.to_owned())
        }
    }
}

pub struct AuthService {
    pub keys: TokenKeys,
    pub throttle: LoginThrottler,
    pool: DbPool,
    sessions: Cache<Uuid, Option<Principal>>,
    api_keys: Cache<Vec<u8>, Option<Viewer>>,
}

/// Who `key` authenticates, from the cache or else looked up (concurrent misses share one
/// lookup).
async fn cached_viewer<K, V>(
    cache: &Cache<K, Option<V>>,
    pool: &DbPool,
    key: K,
    lookup: impl AsyncFnOnce(&mut diesel_async::AsyncPgConnection, &K) -> AppResult<Option<V>>,
) -> AppResult<Option<V>>
where
    K: std::hash::Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    let lookup_key = key.clone();
    cache
        .try_get_with(key, async {
            let mut conn = pool.get().await?;
            lookup(&mut conn, &lookup_key).await
        })
        .await
        .map_err(|e| AppError::from_shared(&e))
}

fn viewer_cache<K, V>() -> Cache<K, Option<V>>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    Cache::builder()
        .max_capacity(100_000)
        .time_to_live(CACHE_TTL)
        .support_invalidation_closures()
        .build()
}

fn token_expiry(claims: &Claims) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp(claims.exp, 0)
}

impl AuthService {
    pub fn new(config: &AppConfig, pool: DbPool) -> Self {
        Self {
            keys: TokenKeys::new(&config.jwt_secret),
            throttle: LoginThrottler::new(config.login_throttle.clone()),
            pool,
            sessions: viewer_cache(),
            api_keys: viewer_cache(),
        }
    }

    /// Checks the credentials. Presenting bad credentials is an error (UNAUTHENTICATED), not a
    /// silent fall-back to anonymous: a client with a stale token should learn it at once.
    pub async fn authenticate(
        &self,
        credentials: Credentials,
        client: ClientInfo,
    ) -> AppResult<RequestAuth> {
        let mut auth = RequestAuth {
            client,
            ..RequestAuth::default()
        };
        match credentials {
            Credentials::None => {}
            Credentials::Bearer(token) => {
                let claims = self
                    .keys
                    .verify(&token)
                    .map_err(AppError::unauthenticated)?;
                if claims.kind != TokenKind::Access {
                    return Err(AppError::unauthenticated("the access token is invalid"));
                }
                auth.expires_at = token_expiry(&claims);
                auth.set_principal(self.session_principal(claims.sid).await?);
            }
            Credentials::Cookie { token, csrf } => {
                let claims = self.keys.verify(&token).map_err(|_| {
                    AppError::unauthenticated("the session has expired; sign in again")
                })?;
                if claims.kind != TokenKind::Web {
                    return Err(AppError::unauthenticated("the session cookie is invalid"));
                }
                auth.expires_at = token_expiry(&claims);
                auth.set_principal(self.session_principal(claims.sid).await?);
                auth.via_cookie = true;
                auth.csrf_verified = match (csrf.as_deref(), claims.csrf.as_deref()) {
                    (Some(sent), Some(expected)) => constant_time_eq(sent, expected),
                    _ => false,
                };
            }
            Credentials::ApiKey(key) => {
                auth.viewer = Some(self.api_key_viewer(&key).await?);
            }
        }
        let credentials_expiry = match (&auth.viewer, &auth.tenantless) {
            (Some(viewer), _) => viewer.expires_at,
            (None, Some(account)) => account.expires_at,
            (None, None) => None,
        };
        auth.expires_at = match (auth.expires_at, credentials_expiry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Ok(auth)
    }

    async fn session_principal(&self, session_id: Uuid) -> AppResult<Principal> {
        let principal = cached_viewer(
            &self.sessions,
            &self.pool,
            session_id,
            async |conn, id: &Uuid| credentials::session_principal(conn, *id).await,
        )
        .await?;
        principal.ok_or_else(|| AppError::unauthenticated("the session has ended; sign in again"))
    }

    async fn api_key_viewer(&self, key: &str) -> AppResult<Viewer> {
        let viewer = cached_viewer(
            &self.api_keys,
            &self.pool,
            secret_hash(key),
            async |conn, hash: &Vec<u8>| credentials::api_key_viewer(conn, hash).await,
        )
        .await?;
        viewer.ok_or_else(|| AppError::unauthenticated("the API key is invalid or revoked"))
    }

    /// Forgets every cached viewer (when revocations may have been missed).
    pub fn forget_everything(&self) {
        self.sessions.invalidate_all();
        self.api_keys.invalidate_all();
    }

    /// Forgets the cached viewers a revocation covers, so the next request looks them up again.
    /// Only this node's cache: `AppState::revoke` tells the others.
    pub async fn forget(&self, revocation: Revocation) {
        match revocation {
            Revocation::All => self.forget_everything(),
            Revocation::Session(session_id) => self.sessions.invalidate(&session_id).await,
            Revocation::User(_) | Revocation::ApiKey(_) => {
                let _ = self.sessions.invalidate_entries_if(move |_, principal| {
                    principal
                        .as_ref()
                        .is_some_and(|p| revocation.covers_principal(p))
                });
                let _ = self.api_keys.invalidate_entries_if(move |_, viewer| {
                    viewer.as_ref().is_some_and(|v| revocation.covers(v))
                });
            }
        }
    }
}

impl AuthService {
    /// A round trip through the session cache, for the health check.
    pub async fn probe_cache(&self) -> bool {
        let key = Uuid::nil();
        self.sessions.insert(key, None).await;
        let found = self.sessions.get(&key).await.is_some();
        self.sessions.invalidate(&key).await;
        found
    }
}
