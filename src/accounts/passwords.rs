//! Changing a password: your own (proving the current one), or a member's as their ADMIN
//! (`members::set_password`). Either way the new hash and the end of the account's other
//! sessions are one transaction, and every node forgets the account's tokens.

use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::store::{self, UserChanges};
use crate::auth::viewer::Account;
use crate::auth::{Revocation, password};
use crate::context::Platform;
use crate::error::{AppError, AppResult};

/// Changes the account's own password; every other session of the account is signed out.
pub async fn change_own(
    platform: &Platform,
    viewer: Account,
    current_password: &str,
    new_password: &str,
) -> AppResult<()> {
    password::validate_new_password("newPassword", new_password)?;
    let mut conn = platform.pool.get().await?;
    let user = store::find_user(&mut conn, viewer.user_id)
        .await?
        .ok_or_else(|| AppError::unauthenticated("the account no longer exists"))?;
    if !password::verify(current_password, Some(&user.password_hash)).await? {
        return Err(AppError::bad_field(
            "currentPassword",
            "the current password is wrong",
        ));
    }
    replace(
        platform,
        &mut conn,
        user.id,
        new_password,
        viewer.session_id,
    )
    .await
}

/// Sets the account's password and ends its sessions (all but `keep`, the caller's own).
pub(super) async fn replace(
    platform: &Platform,
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    new_password: &str,
    keep: Option<Uuid>,
) -> AppResult<()> {
    let changes = UserChanges {
        password_hash: Some(password::hash(new_password).await?),
        ..UserChanges::default()
    };
    conn.transaction::<_, AppError, _>(async |conn| {
        store::update_user(conn, user_id, &changes).await?;
        store::revoke_user_sessions(conn, user_id, keep).await
    })
    .await?;
    platform.revoke(Revocation::User(user_id)).await;
    Ok(())
}
