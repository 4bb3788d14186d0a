//! What a revocation takes away. Every node forgets the cached viewers it covers and re-checks
//! the live sockets they authenticated, so a revocation reaches open WebSockets on every node.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Viewer;
use super::viewer::Principal;

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

    /// Whether credentials that authenticated as `principal` may be affected.
    pub fn covers_principal(&self, principal: &Principal) -> bool {
        match (principal, *self) {
            (Principal::Member(viewer), _) => self.covers(viewer),
            (Principal::Tenantless(account), Self::Session(id)) => account.session_id == id,
            (Principal::Tenantless(account), Self::User(id)) => account.user_id == id,
            (Principal::Tenantless(_), Self::ApiKey(_)) => false,
            (Principal::Tenantless(_), Self::All) => true,
        }
    }
}

/// Revokes every live API key of a user, in every tenant, inside the caller's transaction (a
/// password reset takes the account back); how many. The caller revokes the user's
/// credentials on every node (`Revocation::User`) once it commits.
pub async fn revoke_api_keys_of_user(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
) -> crate::error::AppResult<usize> {
    use crate::db::schema::api_keys;
    Ok(diesel::update(
        api_keys::table
            .filter(api_keys::user_id.eq(user_id))
            .filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(diesel::dsl::now))
    .execute(conn)
    .await?)
}
