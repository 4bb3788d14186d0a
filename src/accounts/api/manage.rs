//! GraphQL: seed 002's user management in one place — `manageUser` with the seed's actions and
//! `createUser` with password confirmation — over the same rules as `updateUser` and friends:
//! admins act only on members below them and create only PLAYER or WORLDBUILDER accounts;
//! superusers manage everyone; deleting an account is superuser-only.

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};

use super::User;
use super::admin::{self, UpdateUserInput};
use crate::accounts::model::{AccountOrigin, NewAccount};
use crate::accounts::service::{
    self, announce_member, ensure_can_grant, validate_display_name, validate_email,
};
use crate::accounts::usernames;
use crate::auth::{Role, password};
use crate::context::ContextExt;
use crate::error::{AppError, AppResult};
use crate::events::MemberAction;

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
    pub target_username: String,
    pub action: ManageUserAction,
    /// For CHANGE_ROLE.
    pub new_role: Option<Role>,
    /// For CHANGE_PASSWORD: at least 8 characters.
    pub new_password: Option<String>,
}

/// What `manageUser` did (seed 002's UserManagementResponse).
#[derive(SimpleObject)]
pub struct UserManagementPayload {
    pub success: bool,
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
    pub success: bool,
    pub message: String,
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
        input: ManageUserInput,
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
        input: CreateUserInput,
    ) -> AppResult<CreateUserPayload> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let makes_superuser = input.role == Role::Superuser;
        if !(makes_superuser && viewer.is_superuser()) {
            ensure_can_grant(viewer, input.role)?;
        }
        let username = usernames::validate("username", &input.username)?;
        let email = validate_email("email", &input.email)?;
        password::validate_new_password("password", &input.password)?;
        if input.password_confirm != input.password {
            return Err(AppError::bad_field(
                "passwordConfirm",
                "the passwords do not match",
            ));
        }
        let display_name = validate_display_name(
            "displayName",
            input.display_name.as_deref().unwrap_or(&username),
        )?;
        let password_hash = password::hash(&input.password).await?;
        let origin = if viewer.is_superuser() {
            AccountOrigin::Superuser
        } else {
            AccountOrigin::Admin
        };
        // SUPERUSER is a flag on the account, never a membership role.
        let membership_role = if makes_superuser {
            Role::Admin
        } else {
            input.role
        };
        let mut conn = ctx.conn().await?;
        let row = diesel_async::AsyncConnection::transaction::<_, AppError, _>(
            &mut *conn,
            async |conn| {
                let account = NewAccount {
                    email: &email,
                    display_name: &display_name,
                    password_hash: &password_hash,
                    is_superuser: makes_superuser,
                    username: Some(&username),
                    origin,
                };
                service::create_account(conn, &account, viewer.tenant_id, membership_role).await
            },
        )
        .await?;
        announce_member(
            &ctx.platform().events,
            ctx.auth().user_id(),
            viewer.tenant_id,
            row.id,
            MemberAction::Joined,
            Some(input.role),
        );
        Ok(CreateUserPayload {
            success: true,
            message: format!("created {} as {}", row.username, input.role.as_str()),
            user: User::with_role(row, input.role),
        })
    }
}
