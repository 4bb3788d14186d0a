//! Managing a tenant's members, under the role rules of DOMAIN_NOTES: admins act only on users
//! below them and grant only roles below their own; account-wide changes need the account to
//! belong to their tenant alone; deleting an account is a superuser's.

use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::model::UserRow;
use super::model::{AccountOrigin, NewAccount};
use super::passwords;
use super::service::{
    announce_member, create_account, ensure_above, ensure_can_grant, target_member,
    validate_display_name, validate_email,
};
use super::store::{self, UserChanges};
use super::usernames;
use crate::auth::{Revocation, Role, Viewer, credentials, password};
use crate::context::Platform;
use crate::error::{AppError, AppResult};
use crate::events::MemberAction;

/// What `createUser` asks for.
pub struct NewMember<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub password: &'a str,
    pub password_confirm: &'a str,
    /// The username when absent.
    pub display_name: Option<&'a str>,
    /// SUPERUSER (granted by a superuser only) makes a superuser account, ADMIN here.
    pub role: Role,
}

/// Creates an account in the viewer's tenant with a role below the viewer's (a superuser may
/// create another), announced to the tenant. Everything is checked before the password is
/// hashed.
pub async fn create(
    platform: &Platform,
    viewer: &Viewer,
    new_member: NewMember<'_>,
) -> AppResult<UserRow> {
    let makes_superuser = new_member.role == Role::Superuser;
    if !(makes_superuser && viewer.is_superuser()) {
        ensure_can_grant(viewer, new_member.role)?;
    }
    let username = usernames::validate("username", new_member.username)?;
    let email = validate_email("email", new_member.email)?;
    password::validate_new_password("password", new_member.password)?;
    if new_member.password_confirm != new_member.password {
        return Err(AppError::bad_field(
            "passwordConfirm",
            "the passwords do not match",
        ));
    }
    let display_name =
        validate_display_name("displayName", new_member.display_name.unwrap_or(&username))?;
    let password_hash = password::hash(new_member.password).await?;
    let origin = if viewer.is_superuser() {
        AccountOrigin::Superuser
    } else {
        AccountOrigin::Admin
    };
    // SUPERUSER is a flag on the account, never a membership role.
    let membership_role = if makes_superuser {
        Role::Admin
    } else {
        new_member.role
    };
    let mut conn = platform.pool.get().await?;
    let row = conn
        .transaction::<_, AppError, _>(async |conn| {
            let account = NewAccount {
                email: &email,
                display_name: &display_name,
                password_hash: &password_hash,
                is_superuser: makes_superuser,
                username: Some(&username),
                origin,
            };
            create_account(conn, &account, viewer.tenant_id, membership_role).await
        })
        .await?;
    announce_member(
        &platform.events,
        Some(viewer.user_id),
        viewer.tenant_id,
        row.id,
        MemberAction::Joined,
        Some(new_member.role),
    );
    Ok(row)
}

/// What `updateUser` changes (only what is given).
pub struct MemberUpdate {
    pub display_name: Option<String>,
    pub email: Option<String>,
    /// The role in the viewer's tenant.
    pub role: Option<Role>,
    pub is_active: Option<bool>,
}

/// Account-wide changes (email, password, deactivation) reach every tenant the account belongs
/// to, so an admin may make them only when the account belongs to their tenant alone.
async fn ensure_account_owned(
    conn: &mut AsyncPgConnection,
    actor: &Viewer,
    user_id: Uuid,
) -> AppResult<()> {
    if actor.is_superuser() {
        return Ok(());
    }
    let memberships = store::memberships_of(conn, user_id).await?;
    if memberships.iter().all(|m| m.tenant_id == actor.tenant_id) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "this account also belongs to other tenants; only a superuser can change it account-wide",
        ))
    }
}

/// Changes a member of the viewer's tenant, under the role rules: anyone their own display name
/// and email; ADMIN members below them, their role, and (when the account belongs to this
/// tenant alone) their email and whether they may sign in. Deactivating ends their sessions.
/// Returns the account and its role here.
pub async fn update(
    platform: &Platform,
    viewer: &Viewer,
    user_id: Uuid,
    input: MemberUpdate,
) -> AppResult<(UserRow, Option<Role>)> {
    let mut conn = platform.pool.get().await?;
    let (target, mut role) = target_member(&mut conn, viewer, user_id).await?;
    let is_self = viewer.user_id == user_id;
    let account_wide = input.email.is_some() || input.is_active.is_some();
    if !is_self || input.role.is_some() || input.is_active.is_some() {
        viewer.require_role(Role::Admin)?;
        ensure_above(viewer, user_id, role)?;
        if account_wide {
            ensure_account_owned(&mut conn, viewer, user_id).await?;
        }
    }
    let changes = UserChanges {
        display_name: input
            .display_name
            .as_deref()
            .map(|n| validate_display_name("displayName", n))
            .transpose()?,
        email: input
            .email
            .as_deref()
            .map(|e| validate_email("email", e))
            .transpose()?,
        is_active: input.is_active,
        ..UserChanges::default()
    };
    if let Some(new_role) = input.role {
        ensure_can_grant(viewer, new_role)?;
        if target.is_superuser {
            return Err(AppError::forbidden(
                "a superuser's role cannot be changed here",
            ));
        }
    }
    let row = conn
        .transaction::<_, AppError, _>(async |conn| {
            if let Some(new_role) = input.role
                && !store::set_membership_role(conn, viewer.tenant_id, user_id, new_role).await?
            {
                return Err(AppError::not_found(
                    "the user is not a member of this tenant",
                ));
            }
            if input.is_active == Some(false) {
                store::revoke_user_sessions(conn, user_id, None).await?;
            }
            if changes.display_name.is_some()
                || changes.email.is_some()
                || changes.is_active.is_some()
            {
                store::update_user(conn, user_id, &changes).await
            } else {
                Ok(target.clone())
            }
        })
        .await?;
    if let Some(new_role) = input.role {
        role = Some(new_role);
        announce_member(
            &platform.events,
            Some(viewer.user_id),
            viewer.tenant_id,
            user_id,
            MemberAction::Updated,
            role,
        );
    }
    platform.revoke(Revocation::User(user_id)).await;
    Ok((row, role))
}

/// Sets a member's password and signs them out everywhere (ADMIN, on users below them whose
/// account belongs to this tenant alone).
pub async fn set_password(
    platform: &Platform,
    viewer: &Viewer,
    user_id: Uuid,
    new_password: &str,
) -> AppResult<()> {
    viewer.require_role(Role::Admin)?;
    password::validate_new_password("newPassword", new_password)?;
    let mut conn = platform.pool.get().await?;
    let (_, role) = target_member(&mut conn, viewer, user_id).await?;
    ensure_above(viewer, user_id, role)?;
    ensure_account_owned(&mut conn, viewer, user_id).await?;
    passwords::replace(platform, &mut conn, user_id, new_password, None).await
}

/// Deletes an account and everything it owns, in every tenant (SUPERUSER only).
pub async fn delete_account(platform: &Platform, viewer: &Viewer, user_id: Uuid) -> AppResult<()> {
    if !viewer.is_superuser() {
        return Err(AppError::forbidden(
            "only a superuser can delete accounts; use removeMember to remove someone from this tenant",
        ));
    }
    if user_id == viewer.user_id {
        return Err(AppError::forbidden("you cannot delete your own account"));
    }
    let mut conn = platform.pool.get().await?;
    let memberships = store::memberships_of(&mut conn, user_id).await?;
    if !store::delete_user(&mut conn, user_id).await? {
        return Err(AppError::not_found("user not found"));
    }
    platform.revoke(Revocation::User(user_id)).await;
    for membership in memberships {
        announce_member(
            &platform.events,
            Some(viewer.user_id),
            membership.tenant_id,
            user_id,
            MemberAction::Removed,
            None,
        );
    }
    Ok(())
}

/// Removes a member from the viewer's tenant (ADMIN, on users below them): their membership,
/// their sessions there and their API keys there, in one transaction. The account stays.
pub async fn remove(platform: &Platform, viewer: &Viewer, user_id: Uuid) -> AppResult<()> {
    viewer.require_role(Role::Admin)?;
    let mut conn = platform.pool.get().await?;
    let (_, role) = target_member(&mut conn, viewer, user_id).await?;
    ensure_above(viewer, user_id, role)?;
    let removed = conn
        .transaction::<_, AppError, _>(async |conn| {
            let removed = store::delete_membership(conn, viewer.tenant_id, user_id).await?;
            store::revoke_user_sessions_in_tenant(conn, user_id, viewer.tenant_id).await?;
            // Their keys here must not come back to life if they are invited again.
            credentials::revoke_member_api_keys(conn, viewer.tenant_id, user_id).await?;
            Ok(removed)
        })
        .await?;
    if !removed {
        return Err(AppError::not_found("user not found"));
    }
    platform.revoke(Revocation::User(user_id)).await;
    announce_member(
        &platform.events,
        Some(viewer.user_id),
        viewer.tenant_id,
        user_id,
        MemberAction::Removed,
        None,
    );
    Ok(())
}
