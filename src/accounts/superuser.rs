//! `loregraph admin create-superuser`: the only way to make a SUPERUSER.

use diesel_async::AsyncConnection;

use super::model::{AccountOrigin, NewAccount, UserRow};
use super::service::{create_account, validate_display_name, validate_email};
use super::store::{self, UserChanges};
use crate::auth::{Revocation, Role, password};
use crate::db::DbPool;
use crate::error::AppError;
use crate::tenants::service as tenants;

/// Creates a superuser with a tenant of their own, or promotes an existing account (and sets
/// its password). Every existing session of a promoted account is ended.
pub async fn create_superuser(
    pool: &DbPool,
    email: &str,
    new_password: &str,
    display_name: &str,
) -> anyhow::Result<UserRow> {
    let email = validate_email("email", email).map_err(describe)?;
    password::validate_new_password("password", new_password).map_err(describe)?;
    let display_name = validate_display_name("displayName", display_name).map_err(describe)?;
    let password_hash = password::hash(new_password).await.map_err(describe)?;
    let mut conn = pool.get().await?;
    let user = conn
        .transaction::<_, AppError, _>(async |conn| {
            if let Some(existing) = store::find_user_by_email(conn, &email).await? {
                let changes = UserChanges {
                    is_superuser: Some(true),
                    is_active: Some(true),
                    password_hash: Some(password_hash.clone()),
                    ..UserChanges::default()
                };
                store::revoke_user_sessions(conn, existing.id, None).await?;
                // Running servers close the account's live sockets when this commits.
                crate::events::bridge::notify_revocation(conn, Revocation::User(existing.id))
                    .await?;
                return store::update_user(conn, existing.id, &changes).await;
            }
            let tenant = tenants::insert_tenant(conn, "Administration").await?;
            let account = NewAccount {
                email: &email,
                display_name: &display_name,
                password_hash: &password_hash,
                is_superuser: true,
                username: None,
                origin: AccountOrigin::System,
            };
            create_account(conn, &account, tenant.id, Role::Admin).await
        })
        .await
        .map_err(describe)?;
    Ok(user)
}

fn describe(error: AppError) -> anyhow::Error {
    match error {
        AppError::Internal(cause) => anyhow::anyhow!("{cause:#}"),
        other => anyhow::anyhow!("{}", other.message()),
    }
}
