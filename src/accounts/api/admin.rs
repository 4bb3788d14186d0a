//! GraphQL: managing the users of a tenant (ADMIN), under the role rules of DOMAIN_NOTES:
//! admins act only on users below them and grant only roles below their own; SUPERUSER is global
//! and granted only from the command line. The members come as an offset page (`users`) or by
//! cursor (`usersConnection`), from one loader.

use async_graphql::{Context, ID, InputObject, Object};
use uuid::Uuid;

use super::User;
use crate::accounts::loaders::AccountLoaders;
use crate::accounts::members::{self, MemberUpdate};
use crate::accounts::model::UserRow;
use crate::accounts::service::target_member;
use crate::accounts::store::{self, MemberKey};
use crate::auth::{Role, Viewer};
use crate::context::ContextExt;
use crate::db::connection::{connection_type, page_of};
use crate::db::cursor::ConnectionArgs;
use crate::db::keyset::Window;
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

connection_type! {
    /// Users, a page at a time by cursor.
    pub struct UserConnection;
    /// A user and their cursor.
    pub struct UserEdge(User);
}

/// The members of the viewer's tenant that `search` and `window` choose, with their roles.
async fn load_members(
    ctx: &Context<'_>,
    viewer: &Viewer,
    search: Option<&str>,
    window: &Window<MemberKey>,
) -> AppResult<(Option<i64>, Vec<(UserRow, String)>)> {
    let mut conn = ctx.conn().await?;
    store::list_members(&mut conn, viewer.tenant_id, search, window).await
}

/// A member as the lists show them: with their role in the viewer's tenant.
fn member((row, role): (UserRow, String)) -> User {
    User::with_role(row, Role::from_db(&role))
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
        #[graphql(desc = "How many users to skip: 0 to 10,000, 0 when absent.")] offset: Option<
            i32,
        >,
        #[graphql(desc = "How many users to return: 1 to 200, 50 when absent.")] limit: Option<i32>,
        #[graphql(desc = "Text to look for in the email, display name or username.")]
        search: Option<String>,
    ) -> AppResult<UserPage> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let page = PageRequest::new(offset, limit)?;
        let (total, rows) =
            load_members(ctx, viewer, search.as_deref(), &Window::Offset(page)).await?;
        Ok(UserPage::new(
            total.unwrap_or_default(),
            page,
            rows.into_iter().map(member).collect(),
        ))
    }

    /// The members of the current tenant by cursor (ADMIN), by display name, filtered as
    /// `users` is.
    async fn users_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Text to look for in the email, display name or username.")]
        search: Option<String>,
        #[graphql(
            desc = "How many users to return after `after`: 1 to 200, 50 when neither \
                          `first` nor `last` is given."
        )]
        first: Option<i32>,
        #[graphql(desc = "The cursor to go on after (an `endCursor`); the start when absent.")]
        after: Option<String>,
        #[graphql(desc = "How many users to return before `before`: 1 to 200.")] last: Option<i32>,
        #[graphql(
            desc = "The cursor to go back from (a `startCursor`); the end when absent \
                          and `last` is given."
        )]
        before: Option<String>,
    ) -> AppResult<UserConnection> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let search = search.as_deref();
        let cursors = ctx.cursors(format!("users/{}", search.unwrap_or_default()))?;
        let window = cursors.window(ConnectionArgs {
            first,
            after,
            last,
            before,
        })?;
        let (_, rows) = load_members(ctx, viewer, search, &Window::Keyset(window.clone())).await?;
        let key = |(row, _): &(UserRow, String)| (row.display_name.clone(), row.id);
        Ok(page_of(rows, &window, &cursors, key, member).into())
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
