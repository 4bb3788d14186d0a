//! A signed-in person founding another tenant: they become its ADMIN and their session moves
//! into it. The way out for an account that belongs to no tenant, and how a studio head opens a
//! second studio without a second account.

use std::time::Duration;

use diesel_async::AsyncConnection;

use super::service::announce_member;
use super::sessions::{self, SessionTokens};
use super::store;
use crate::auth::viewer::Account;
use crate::auth::{Role, rate_window};
use crate::context::Platform;
use crate::error::{AppError, AppResult};
use crate::events::MemberAction;
use crate::tenants::service as tenants;

/// How many tenants one account may found a day: enough for any studio, too few to fill the
/// database.
const TENANTS_PER_DAY: u32 = 10;

/// Creates a tenant named `name` with the account as its ADMIN, and moves the account's
/// session into it (API keys are bound to their tenant: FORBIDDEN).
pub async fn create(platform: &Platform, account: Account, name: &str) -> AppResult<SessionTokens> {
    let session_id = account.session_id.ok_or_else(|| {
        AppError::forbidden("create tenants from a signed-in session, not with an API key")
    })?;
    let name = tenants::validate_name("name", name)?;
    let mut conn = platform.pool.get().await?;
    let user = store::find_user(&mut conn, account.user_id)
        .await?
        .filter(|user| user.is_active)
        .ok_or_else(|| AppError::unauthenticated("the account no longer exists"))?;
    // While registration is by beta code only, a new studio is one too (the operators excepted).
    if platform.config.identity.registration_closed && !user.is_superuser {
        return Err(super::service::registration_closed());
    }
    rate_window::ensure_within(
        &mut conn,
        &format!("tenant-create:{}", account.user_id),
        TENANTS_PER_DAY,
        Duration::from_secs(24 * 3600),
        "too many tenants created today",
    )
    .await?;
    let tenant = conn
        .transaction::<_, AppError, _>(async |conn| {
            let tenant = tenants::insert_tenant(conn, &name).await?;
            store::insert_membership(conn, tenant.id, user.id, Role::Admin).await?;
            Ok(tenant)
        })
        .await?;
    announce_member(
        &platform.events,
        Some(user.id),
        tenant.id,
        user.id,
        MemberAction::Joined,
        Some(Role::Admin),
    );
    sessions::switch_tenant(platform, &mut conn, session_id, user, tenant.id, false).await
}
