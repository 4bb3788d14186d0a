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

/// A signed-in account in no tenant: a session of an account that belongs to none (or left its
/// last). It may manage the account, accept an invite, create a tenant or select one it joined;
/// everything else needs a tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tenantless {
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub expires_at: Option<DateTime<Utc>>,
}

/// What a session or API key authenticates as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// A member (or superuser) acting in a tenant.
    Member(Viewer),
    /// A session in no tenant.
    Tenantless(Tenantless),
}

impl Principal {
    pub fn user_id(&self) -> Uuid {
        match self {
            Self::Member(viewer) => viewer.user_id,
            Self::Tenantless(account) => account.user_id,
        }
    }

    pub fn session_id(&self) -> Option<Uuid> {
        match self {
            Self::Member(viewer) => viewer.session_id,
            Self::Tenantless(account) => Some(account.session_id),
        }
    }

    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        match self {
            Self::Member(viewer) => viewer.expires_at,
            Self::Tenantless(account) => account.expires_at,
        }
    }
}

/// The signed-in account behind a request, in a tenant or not: what account-level operations
/// (the account itself, its tenants, its settings and keys) act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Account {
    pub user_id: Uuid,
    /// The login session, when authenticated by one (API keys are bound to their tenant).
    pub session_id: Option<Uuid>,
    /// The tenant the request acts in, if any.
    pub tenant_id: Option<Uuid>,
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
    /// A session in no tenant (then `viewer` is None).
    pub tenantless: Option<Tenantless>,
}

impl RequestAuth {
    /// The viewer acting in a tenant: UNAUTHENTICATED without credentials, FORBIDDEN (reason
    /// `no_tenant`) for a session in no tenant.
    pub fn viewer(&self) -> AppResult<&Viewer> {
        if let Some(viewer) = &self.viewer {
            return Ok(viewer);
        }
        if self.tenantless.is_some() {
            return Err(AppError::Forbidden {
                message: "you belong to no tenant yet: accept an invite, create a tenant or \
                          select one with selectTenant"
                    .into(),
                reason: Some("no_tenant"),
            });
        }
        Err(AppError::unauthenticated("you must be signed in"))
    }

    /// The signed-in account, in a tenant or not; UNAUTHENTICATED without credentials.
    pub fn account(&self) -> AppResult<Account> {
        match (&self.viewer, &self.tenantless) {
            (Some(viewer), _) => Ok(Account {
                user_id: viewer.user_id,
                session_id: viewer.session_id,
                tenant_id: Some(viewer.tenant_id),
            }),
            (None, Some(account)) => Ok(Account {
                user_id: account.user_id,
                session_id: Some(account.session_id),
                tenant_id: None,
            }),
            (None, None) => Err(AppError::unauthenticated("you must be signed in")),
        }
    }

    /// Who is signed in, if anyone (the actor of what the request changes).
    pub fn user_id(&self) -> Option<Uuid> {
        self.viewer
            .as_ref()
            .map(|viewer| viewer.user_id)
            .or(self.tenantless.as_ref().map(|account| account.user_id))
    }

    /// Sets what the credentials authenticated as.
    pub fn set_principal(&mut self, principal: Principal) {
        match principal {
            Principal::Member(viewer) => self.viewer = Some(viewer),
            Principal::Tenantless(account) => self.tenantless = Some(account),
        }
    }

    /// Whether state-changing operations are allowed: always for header credentials, and for
    /// cookies only with the CSRF header (a cross-site page cannot read the token to send it).
    pub fn may_mutate(&self) -> bool {
        !self.via_cookie || self.csrf_verified
    }
}
