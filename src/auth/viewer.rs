//! Who a request runs as.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Role;
use crate::error::{AppError, AppResult};

/// An authenticated caller acting in one tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Viewer {
    pub user_id: Uuid,
    pub tenant_id: Uuid,
    /// The live role in `tenant_id` (SUPERUSER for superusers, whatever their membership says).
    pub role: Role,
    /// The login session, when authenticated by a session token.
    pub session_id: Option<Uuid>,
    /// The API key, when authenticated by one.
    pub api_key_id: Option<Uuid>,
    /// When the session or API key behind this viewer expires, if it does.
    pub expires_at: Option<DateTime<Utc>>,
}

impl Viewer {
    /// Whether `other` acts as the same person, in the same tenant, with the same role and the
    /// same credentials (expiry aside: refreshing a session moves it).
    pub fn same_access(&self, other: &Viewer) -> bool {
        self.user_id == other.user_id
            && self.tenant_id == other.tenant_id
            && self.role == other.role
            && self.session_id == other.session_id
            && self.api_key_id == other.api_key_id
    }

    pub fn is_superuser(&self) -> bool {
        self.role == Role::Superuser
    }

    /// Fails with FORBIDDEN unless the viewer holds at least `role`.
    pub fn require_role(&self, role: Role) -> AppResult<()> {
        if self.role >= role {
            Ok(())
        } else {
            Err(AppError::forbidden(format!(
                "this requires the {} role",
                role.as_str().to_uppercase()
            )))
        }
    }
}

/// Where a request came from; used for throttling and recorded on sessions.
#[derive(Clone, Debug, Default)]
pub struct ClientInfo {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
    /// The request's `Host` (when it is a plausible host name), for URLs back to this server
    /// when no public URL is configured.
    pub host: Option<String>,
}

/// The outcome of authenticating a request, put into every GraphQL request's data.
#[derive(Clone, Debug, Default)]
pub struct RequestAuth {
    pub viewer: Option<Viewer>,
    /// Authenticated by the session cookie (rather than a header the browser never adds itself).
    pub via_cookie: bool,
    /// For cookie requests: whether the `X-CSRF-Token` header matched the session's token.
    pub csrf_verified: bool,
    pub client: ClientInfo,
    /// When these credentials stop working: the token's expiry, or the session's or key's own,
    /// whichever comes first. Live sockets close then.
    pub expires_at: Option<DateTime<Utc>>,
}

impl RequestAuth {
    pub fn viewer(&self) -> AppResult<&Viewer> {
        self.viewer
            .as_ref()
            .ok_or_else(|| AppError::unauthenticated("you must be signed in"))
    }

    /// Who is signed in, if anyone (the actor of what the request changes).
    pub fn user_id(&self) -> Option<Uuid> {
        self.viewer.as_ref().map(|viewer| viewer.user_id)
    }

    /// Whether state-changing operations are allowed: always for header credentials, and for
    /// cookies only with the CSRF header (a cross-site page cannot read the token to send it).
    pub fn may_mutate(&self) -> bool {
        !self.via_cookie || self.csrf_verified
    }
}
