//! Signing in with OpenID Connect providers (Google, Microsoft, or any issuer configured in
//! their place): each provider's metadata found by discovery (`discovery`), its signing keys
//! cached and fetched again when a token names one not seen yet (`keys`), ID tokens checked —
//! signature, issuer, audience, expiry, nonce (`id_token`) — and the authorization code flow
//! with PKCE through the `oauth2` crate (`code_flow`), all over one bounded HTTP client (`http`).
//!
//! This is the platform's part: it says who the provider vouches for. Which account that is,
//! and whether it may sign in, is `accounts::identities`.

pub mod code_flow;
pub mod discovery;
pub mod http;
pub mod id_token;
pub mod keys;

use std::sync::Arc;
use std::time::Duration;

pub use code_flow::{Authorization, ProviderTokens};
pub use id_token::IdClaims;

use crate::config::{IdentitySettings, ProviderId, ProviderSettings};
use crate::error::AppError;
use discovery::Discovery;
use http::OidcHttp;

/// Why talking to a provider, or believing what it sent, failed.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("{0}")]
    Unreachable(String),
    #[error("{0}")]
    Malformed(String),
    /// A token (or code) the provider did not vouch for, or no longer does.
    #[error("{0}")]
    Invalid(String),
    /// The token endpoint refused with an OAuth error other than `invalid_grant` (the client
    /// is misconfigured, the scope is refused...): not the user's doing.
    #[error("{0}")]
    Refused(String),
}

impl From<OidcError> for AppError {
    fn from(error: OidcError) -> Self {
        match error {
            OidcError::Invalid(message) => AppError::unauthenticated(message),
            OidcError::Unreachable(message)
            | OidcError::Malformed(message)
            | OidcError::Refused(message) => AppError::Upstream(message),
        }
    }
}

/// One configured provider: its settings, and what discovery found (fetched on first use).
pub struct Provider {
    pub settings: ProviderSettings,
    discovery: Discovery,
}

impl Provider {
    pub fn id(&self) -> ProviderId {
        self.settings.id
    }
}

/// The providers configured, with the HTTP client they share.
pub struct Providers {
    http: OidcHttp,
    providers: Vec<Arc<Provider>>,
}

impl Providers {
    pub fn new(settings: &IdentitySettings) -> anyhow::Result<Self> {
        Ok(Self {
            http: OidcHttp::new(Duration::from_secs(10))?,
            providers: settings
                .providers
                .iter()
                .map(|settings| {
                    Arc::new(Provider {
                        discovery: Discovery::new(&settings.issuer),
                        settings: settings.clone(),
                    })
                })
                .collect(),
        })
    }

    /// The configured providers, in configuration order.
    pub fn configured(&self) -> impl Iterator<Item = &Arc<Provider>> {
        self.providers.iter()
    }

    pub fn get(&self, id: ProviderId) -> Option<&Arc<Provider>> {
        self.providers.iter().find(|p| p.id() == id)
    }

    /// The provider, or NOT_FOUND when it is not configured here.
    pub fn require(&self, id: ProviderId) -> Result<&Arc<Provider>, AppError> {
        self.get(id).ok_or_else(|| {
            AppError::not_found(format!(
                "sign-in with {} is not configured on this server",
                id.display_name()
            ))
        })
    }

    pub fn http(&self) -> &OidcHttp {
        &self.http
    }
}
