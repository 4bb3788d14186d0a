//! GraphQL: managing the users of a tenant (ADMIN), under the role rules of DOMAIN_NOTES:
//! admins act only on users below them and grant only roles below their own; SUPERUSER is global
//! and granted only from the command line.

use async_graphql::{Context, ID, InputObject, Object};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::User;
use crate::accounts::loaders::AccountLoaders;
use crate::accounts::service::{
    announce_member, ensure_above, ensure_can_grant, target_member, validate_display_name,
    validate_email,
};
use crate::accounts::store::{self, UserChanges};
use crate::auth::{Revocation, Role, Viewer, credentials, password};
use crate::context::ContextExt;
use crate::db::pagination::{PageRequest, page_type};
use crate::db::parse_id;
use crate::error::{AppError, AppResult};
use crate::events::MemberAction;

page_type! {
    /// A page of users.
    pub struct UserPage {
        total,
        users: Vec<User>,
    }
}

/// Changes to a user (only what is given changes).
#[derive(InputObject, Default)]
pub struct UpdateUserInput {
    pub display_name: Option<String>,
    /// Changes the sign-in email (account-wide; see `setUserPassword` for who may).
    pub email: Option<String>,
    /// The role in the current tenant.
    pub role: Option<Role>,
    /// Deactivating signs the user out everywhere and blocks sign-in (account-wide).
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

#[derive(Default)]
pub struct UserAdminQuery;

#[Object]
impl UserAdminQuery {
    /// The members of the current tenant (ADMIN), by display name; `search` matches email, name or username.
    async fn users(
        &self,
        ctx: &Context<'_>,
        offset: Option<i32>,
        limit: Option<i32>,
        search: Option<String>,
    ) -> AppResult<UserPage> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let page = PageRequest::new(offset, limit)?;
        let mut conn = ctx.conn().await?;
        let (total, rows) = store::list_members(
            &mut conn,
            viewer.tenant_id,
            search.as_deref(),
            page.offset,
            page.limit,
        )
        .await?;
        Ok(UserPage::new(
            total,
            page,
            rows.into_iter()
                .map(|(row, role)| User::with_role(row, Role::from_db(&role)))
                .collect(),
        ))
    }

    /// A member of the current tenant (ADMIN); null for anyone else.
    async fn user(&self, ctx: &Context<'_>, id: ID) -> AppResult<Option<User>> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let Ok(user_id) = parse_id("id", &id) else {
            return Ok(None);
        };
        let mut conn = ctx.conn().await?;
        match target_member(&mut conn, viewer, user_id).await {
            Ok((row, role)) => Ok(Some(User::known(row, role))),
            Err(AppError::NotFound(_)) => Ok(None),
            Err(other) => Err(other),
        }
    }
}

/// Applies an `UpdateUserInput` to a member of the viewer's tenant, under the role rules.
pub(crate) async fn update_user(
    ctx: &Context<'_>,
    viewer: &Viewer,
    user_id: Uuid,
    input: UpdateUserInput,
) -> AppResult<User> {
    let mut conn = ctx.conn().await?;
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
    let row =
        diesel_async::AsyncConnection::transaction::<_, AppError, _>(&mut *conn, async |conn| {
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
            &ctx.platform().events,
            ctx.auth().user_id(),
            viewer.tenant_id,
            user_id,
            MemberAction::Updated,
            role,
        );
    }
    ctx.platform().revoke(Revocation::User(user_id)).await;
    ctx.loaders::<AccountLoaders>().users.clear::<Uuid>();
    Ok(User::known(row, role))
}

/// Sets a member's password and signs them out everywhere (ADMIN, on users below them whose
/// account belongs to this tenant alone).
pub(crate) async fn set_user_password(
    ctx: &Context<'_>,
    viewer: &Viewer,
    user_id: Uuid,
    new_password: &str,
) -> AppResult<()> {
    password::validate_new_password("newPassword", new_password)?;
    let mut conn = ctx.conn().await?;
    let (_, role) = target_member(&mut conn, viewer, user_id).await?;
    ensure_above(viewer, user_id, role)?;
    ensure_account_owned(&mut conn, viewer, user_id).await?;
    let changes = UserChanges {
        password_hash: Some(password::hash(new_password).await?),
        ..UserChanges::default()
    };
    diesel_async::AsyncConnection::transaction::<_, AppError, _>(&mut *conn, async |conn| {
        store::update_user(conn, user_id, &changes).await?;
        store::revoke_user_sessions(conn, user_id, None).await
    })
    .await?;
    ctx.platform().revoke(Revocation::User(user_id)).await;
    ctx.loaders::<AccountLoaders>().users.clear::<Uuid>();
    Ok(())
}

/// Deletes an account and everything it owns, in every tenant (SUPERUSER only).
pub(crate) async fn delete_user(
    ctx: &Context<'_>,
    viewer: &Viewer,
    user_id: Uuid,
) -> AppResult<()> {
    if !viewer.is_superuser() {
        return Err(AppError::forbidden(
            "only a superuser can delete accounts; use removeMember to remove someone from this tenant",
        ));
    }
    if user_id == viewer.user_id {
        return Err(AppError::forbidden("you cannot delete your own account"));
    }
    let mut conn = ctx.conn().await?;
    let memberships = store::memberships_of(&mut conn, user_id).await?;
    if !store::delete_user(&mut conn, user_id).await? {
        return Err(AppError::not_found("user not found"));
    }
    ctx.platform().revoke(Revocation::User(user_id)).await;
    ctx.loaders::<AccountLoaders>().users.clear::<Uuid>();
    for membership in memberships {
        announce_member(
            &ctx.platform().events,
            ctx.auth().user_id(),
            membership.tenant_id,
            user_id,
            MemberAction::Removed,
            None,
        );
    }
    Ok(())
}

#[derive(Default)]
pub struct UserAdminMutation;

#[Object]
impl UserAdminMutation {
    /// Updates a member of the current tenant (ADMIN, on users below them; your own display name
    /// and email too).
    async fn update_user(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateUserInput,
    ) -> AppResult<User> {
        let viewer = ctx.viewer()?;
        let user_id = parse_id("id", &id)?;
        update_user(ctx, viewer, user_id, input).await
    }

    /// Sets another user's password and signs them out everywhere (ADMIN, on users below them
    /// whose account belongs to this tenant alone).
    async fn set_user_password(
        &self,
        ctx: &Context<'_>,
        id: ID,
        new_password: String,
    ) -> AppResult<bool> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let user_id = parse_id("id", &id)?;
        set_user_password(ctx, viewer, user_id, &new_password).await?;
        Ok(true)
    }
    /// Removes a member from the current tenant and ends their sessions there (ADMIN, on users
    /// below them). The account itself stays.
    async fn remove_member(&self, ctx: &Context<'_>, id: ID) -> AppResult<bool> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let user_id = parse_id("id", &id)?;
        let mut conn = ctx.conn().await?;
        let (_, role) = target_member(&mut conn, viewer, user_id).await?;
        ensure_above(viewer, user_id, role)?;
        let removed = diesel_async::AsyncConnection::transaction::<_, AppError, _>(
            &mut *conn,
            async |conn| {
                let removed = store::delete_membership(conn, viewer.tenant_id, user_id).await?;
                store::revoke_user_sessions_in_tenant(conn, user_id, viewer.tenant_id).await?;
                // Their keys here must not come back to life if they are invited again.
                credentials::revoke_member_api_keys(conn, viewer.tenant_id, user_id).await?;
                Ok(removed)
            },
        )
        .await?;
        if !removed {
            return Err(AppError::not_found("user not found"));
        }
        ctx.platform().revoke(Revocation::User(user_id)).await;
        ctx.loaders::<AccountLoaders>().users.clear::<Uuid>();
        announce_member(
            &ctx.platform().events,
            ctx.auth().user_id(),
            viewer.tenant_id,
            user_id,
            MemberAction::Removed,
            None,
        );
        Ok(true)
    }

    /// Deletes an account and everything it owns, in every tenant. SUPERUSER only (DOMAIN_NOTES);
    /// an ADMIN removes members from their tenant with `removeMember`.
    async fn delete_user(&self, ctx: &Context<'_>, id: ID) -> AppResult<bool> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let user_id = parse_id("id", &id)?;
        delete_user(ctx, viewer, user_id).await?;
        Ok(true)
    }
}
