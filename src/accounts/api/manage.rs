//! GraphQL: seed 002's user management in one place — `manageUser` with the seed's actions and
//! `createUser` with password confirmation — over the same rules as `updateUser` and friends:
//! admins act only on members below them and create only PLAYER or WORLDBUILDER accounts;
//! superusers manage everyone; deleting an account is superuser-only.

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};

use super::User;
use super::admin::{self, UpdateUserInput};
use crate::accounts::members::{self, NewMember};
use crate::accounts::service::{self};
use crate::auth::Role;
use crate::context::ContextExt;
use crate::error::{AppError, AppResult};

/// What `manageUser` does (seed 002's actions).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ManageUserAction {
    /// Give the user `newRole` in this tenant.
    ChangeRole,
    /// Deactivate the account: no sign-in, every session ended.
    Ban,
    /// The same as BAN.
    Deactivate,
    /// Reactivate a banned account.
    Unban,
    /// Delete the account and what it owns (SUPERUSER).
    Delete,
    /// Set `newPassword` (at least 8 characters) and end every session.
    ChangePassword,
}

/// A management action on the account with `targetUsername`.
#[derive(InputObject)]
pub struct ManageUserInput {
    /// The username of the member to act on.
    pub target_username: String,
    /// What to do to them.
    pub action: ManageUserAction,
    /// For CHANGE_ROLE.
    pub new_role: Option<Role>,
    /// For CHANGE_PASSWORD: at least 8 characters.
    pub new_password: Option<String>,
}

/// What `manageUser` did (seed 002's UserManagementResponse).
#[derive(SimpleObject)]
pub struct UserManagementPayload {
    /// True when the action was done (a failure is an error instead).
    pub success: bool,
    /// What was done, in words.
    pub message: String,
    /// The account as it is now (null once deleted).
    pub user: Option<User>,
}

/// A new account in the current tenant.
#[derive(InputObject)]
pub struct CreateUserInput {
    /// 2 to 20 letters, digits, `_`, `.` or `-`; unique.
    pub username: String,
    /// The address the account signs in with (it may sign in with the username too).
    pub email: String,
    /// At least 8 characters.
    pub password: String,
    /// Must equal `password`.
    pub password_confirm: String,
    /// ADMIN may create PLAYER or WORLDBUILDER accounts; SUPERUSER any role.
    pub role: Role,
    /// Defaults to the username.
    pub display_name: Option<String>,
}

/// What `createUser` did (seed 002's CreateUserResponse).
#[derive(SimpleObject)]
pub struct CreateUserPayload {
    /// True when the account was created (a failure is an error instead).
    pub success: bool,
    /// What was done, in words.
    pub message: String,
    /// The new account.
    pub user: User,
}

#[derive(Default)]
pub struct ManageUserMutation;

#[Object]
impl ManageUserMutation {
    /// Manages a member of the current tenant by username (ADMIN, on users below them).
    async fn manage_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Whom to manage and how.")] input: ManageUserInput,
    ) -> AppResult<UserManagementPayload> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let user_id = {
            let mut conn = ctx.conn().await?;
            service::member_by_username(&mut conn, viewer, &input.target_username)
                .await?
                .0
                .id
        };
        let username = input.target_username.as_str();
        let update = |changes: UpdateUserInput| admin::update_user(ctx, viewer, user_id, changes);
        let (message, user) = match input.action {
            ManageUserAction::ChangeRole => {
                let role = input
                    .new_role
                    .ok_or_else(|| AppError::bad_field("newRole", "CHANGE_ROLE needs `newRole`"))?;
                let user = update(UpdateUserInput {
                    role: Some(role),
                    ..UpdateUserInput::default()
                })
                .await?;
                (format!("{username} is now {}", role.as_str()), Some(user))
            }
            ManageUserAction::Ban | ManageUserAction::Deactivate => {
                let user = update(UpdateUserInput {
                    is_active: Some(false),
                    ..UpdateUserInput::default()
                })
                .await?;
                (format!("{username} was banned"), Some(user))
            }
            ManageUserAction::Unban => {
                let user = update(UpdateUserInput {
                    is_active: Some(true),
                    ..UpdateUserInput::default()
                })
                .await?;
                (format!("{username} was reactivated"), Some(user))
            }
            ManageUserAction::ChangePassword => {
                let new_password = input.new_password.as_deref().ok_or_else(|| {
                    AppError::bad_field("newPassword", "CHANGE_PASSWORD needs `newPassword`")
                })?;
                admin::set_user_password(ctx, viewer, user_id, new_password).await?;
                (format!("{username}'s password was changed"), None)
            }
            ManageUserAction::Delete => {
                admin::delete_user(ctx, viewer, user_id).await?;
                (format!("{username} was deleted"), None)
            }
        };
        Ok(UserManagementPayload {
            success: true,
            message,
            user,
        })
    }

    /// Creates an account that is a member of the current tenant (ADMIN: PLAYER or
    /// WORLDBUILDER; SUPERUSER: any role, SUPERUSER included).
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new account and its role.")] input: CreateUserInput,
    ) -> AppResult<CreateUserPayload> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let new_member = NewMember {
            username: &input.username,
            email: &input.email,
            password: &input.password,
            password_confirm: &input.password_confirm,
            display_name: input.display_name.as_deref(),
            role: input.role,
        };
        let row = members::create(ctx.platform(), viewer, new_member).await?;
        Ok(CreateUserPayload {
            success: true,
            message: format!("created {} as {}", row.username, input.role.as_str()),
            user: User::with_role(row, input.role),
        })
    }
}
