//! What a revocation takes away. Every node forgets the cached viewers it covers and re-checks
//! the live sockets they authenticated, so a revocation reaches open WebSockets on every node.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Viewer;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Revocation {
    /// One login session ended or changed tenant (logout, refresh-token reuse, tenant switch).
    Session(Uuid),
    /// Anything about a user that every one of their credentials depends on: role, membership,
    /// activation, password, the account itself.
    User(Uuid),
    /// One API key revoked.
    ApiKey(Uuid),
    /// Anything may have been revoked (revocations from other nodes may have been missed).
    All,
}

impl Revocation {
    /// Whether credentials that authenticated as `viewer` may be affected.
    pub fn covers(&self, viewer: &Viewer) -> bool {
        match *self {
            Self::Session(id) => viewer.session_id == Some(id),
            Self::User(id) => viewer.user_id == id,
            Self::ApiKey(id) => viewer.api_key_id == Some(id),
            Self::All => true,
        }
    }
}
