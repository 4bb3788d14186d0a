//! GraphQL: managing the users of a tenant (ADMIN), under the role rules of DOMAIN_NOTES:
//! admins act only on users below them and grant only roles below their own; SUPERUSER is global
//! and granted only from the command line.

use async_graphql::{Context, ID, InputObject, Object};
use uuid::Uuid;

use super::User;
use crate::accounts::loaders::AccountLoaders;
use crate::accounts::members::{self, MemberUpdate};
use crate::accounts::service::target_member;
use crate::accounts::store::{self};
use crate::auth::{Role, Viewer};
use crate::context::ContextExt;
use crate::db::pagination::{PageRequest, page_type};
use crate::db::parse_id;
use crate::error::{AppError, AppResult};

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
    /// The name shown to other people.
    pub display_name: Option<String>,
    /// Changes the sign-in email (account-wide; see `setUserPassword` for who may).
    pub email: Option<String>,
    /// The role in the current tenant.
    pub role: Option<Role>,
    /// Deactivating signs the user out everywhere and blocks sign-in (account-wide).
    pub is_active: Option<bool>,
}

#[derive(Default)]
pub struct UserAdminQuery;

#[Object]
impl UserAdminQuery {
    /// The members of the current tenant (ADMIN), by display name; `search` matches email, name or username.
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many users to skip; 0 when absent.")] offset: Option<i32>,
        #[graphql(desc = "How many users to return: 1 to 200, 50 when absent.")] limit: Option<i32>,
        #[graphql(desc = "Text to look for in the email, display name or username.")]
        search: Option<String>,
    ) -> AppResult<UserPage> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let page = PageRequest::new(offset, limit)?;
        let mut conn = ctx.conn().await?;
        let (total, rows) =
            store::list_members(&mut conn, viewer.tenant_id, search.as_deref(), page).await?;
        Ok(UserPage::new(
            total,
            page,
            rows.into_iter()
                .map(|(row, role)| User::with_role(row, Role::from_db(&role)))
                .collect(),
        ))
    }

    /// A member of the current tenant (ADMIN); null for anyone else.
    async fn user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's id.")] id: ID,
    ) -> AppResult<Option<User>> {
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
    let update = MemberUpdate {
        display_name: input.display_name,
        email: input.email,
        role: input.role,
        is_active: input.is_active,
    };
    let (row, role) = members::update(ctx.platform(), viewer, user_id, update).await?;
    ctx.loaders::<AccountLoaders>().users.clear::<Uuid>();
    Ok(User::known(row, role))
}

/// Sets a member's password and signs them out everywhere.
pub(crate) async fn set_user_password(
    ctx: &Context<'_>,
    viewer: &Viewer,
    user_id: Uuid,
    new_password: &str,
) -> AppResult<()> {
    members::set_password(ctx.platform(), viewer, user_id, new_password).await?;
    ctx.loaders::<AccountLoaders>().users.clear::<Uuid>();
    Ok(())
}

/// Deletes an account and everything it owns, in every tenant.
pub(crate) async fn delete_user(
    ctx: &Context<'_>,
    viewer: &Viewer,
    user_id: Uuid,
) -> AppResult<()> {
    members::delete_account(ctx.platform(), viewer, user_id).await?;
    ctx.loaders::<AccountLoaders>().users.clear::<Uuid>();
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
        #[graphql(desc = "The id of the user to change.")] id: ID,
        #[graphql(desc = "The changes; what is absent stays.")] input: UpdateUserInput,
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
        #[graphql(desc = "The id of the user whose password to set.")] id: ID,
        #[graphql(desc = "The new password: at least 8 characters.")] new_password: String,
    ) -> AppResult<bool> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let user_id = parse_id("id", &id)?;
        set_user_password(ctx, viewer, user_id, &new_password).await?;
        Ok(true)
    }
    /// Removes a member from the current tenant and ends their sessions there (ADMIN, on users
    /// below them). The account itself stays.
    async fn remove_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id of the member to remove.")] id: ID,
    ) -> AppResult<bool> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let user_id = parse_id("id", &id)?;
        members::remove(ctx.platform(), viewer, user_id).await?;
        ctx.loaders::<AccountLoaders>().users.clear::<Uuid>();
        Ok(true)
    }

    /// Deletes an account and everything it owns, in every tenant. SUPERUSER only (DOMAIN_NOTES);
    /// an ADMIN removes members from their tenant with `removeMember`.
    async fn delete_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id of the account to delete.")] id: ID,
    ) -> AppResult<bool> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let user_id = parse_id("id", &id)?;
        delete_user(ctx, viewer, user_id).await?;
        Ok(true)
    }
}
