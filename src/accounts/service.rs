//! The rules of accounts that more than one resolver applies (who may grant or manage whom,
//! what an email or a display name may be, how an account comes to exist), and what other
//! domains may ask of accounts: the one way in from outside it (ARCHITECTURE.md). Managing a
//! tenant's members (create, update, set a password, remove, delete) is `members.rs`.

use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::sessions::normalize_email;
use super::store;
use crate::auth::viewer::ClientInfo;
use crate::auth::{Role, Viewer, password};
use crate::context::Platform;
use crate::db::keyset::Window;
use crate::db::pagination::PageRequest;
use crate::error::{AppError, AppResult};
use crate::events::{EventBus, EventPayload, MemberAction};
use crate::tenants::service as tenants;

pub use super::model::{AccountOrigin, ClientType, NewAccount, SessionRow, UserRow};
pub use super::sessions::{Place, SessionTokens, open_session};
pub use super::store::{
    MemberKey, find_session, find_user, find_user_by_username, insert_membership,
    is_member_by_email, membership,
};

/// An offset page of a tenant's members with their roles, by display name (`search` matches
/// email, display name or username), and how many match.
pub async fn list_members(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    search: Option<&str>,
    page: PageRequest,
) -> AppResult<(i64, Vec<(UserRow, String)>)> {
    let (total, rows) = store::list_members(conn, tenant_id, search, &Window::Offset(page)).await?;
    Ok((total.unwrap_or_default(), rows))
}

/// The same members by window: an offset page with its total, or a page by cursor
/// ([`MemberKey`]).
pub use super::store::list_members as list_members_windowed;

/// Sends a member's browser to Google to consent to Drive (the drive domain keeps what comes
/// back to `/api/auth/oauth/google/drive/callback`); the consent URL.
pub async fn begin_drive_consent(
    platform: &Platform,
    viewer: &Viewer,
    return_to: Option<&str>,
    client: &ClientInfo,
) -> AppResult<String> {
    use super::identities::flow::{Purpose, begin};
    let purpose = Purpose::Drive {
        user_id: viewer.user_id,
        tenant_id: viewer.tenant_id,
    };
    let begun = begin(
        platform,
        crate::config::ProviderId::Google,
        purpose,
        None,
        return_to,
        client,
    )
    .await?;
    Ok(begun.url)
}

/// Forgets what signing in leaves behind: provider round trips never finished, reset links
/// expired a day ago, request-rate windows that ended (up to `batch` of each); how many.
pub async fn prune_sign_in_leftovers(conn: &mut AsyncPgConnection, batch: i64) -> AppResult<usize> {
    Ok(super::identities::store::prune_flows(conn, batch).await?
        + super::identities::store::prune_id_token_uses(conn, batch).await?
        + super::resets::store::prune(conn, batch).await?
        + crate::auth::rate_window::forget_ended(conn, batch).await?)
}

/// Creates an account and its first membership, inside the caller's transaction: every way an
/// account comes to exist (`register`, `createUser`, `registerWithInvite`) goes through here.
pub async fn create_account(
    conn: &mut AsyncPgConnection,
    account: &NewAccount<'_>,
    tenant_id: Uuid,
    role: Role,
) -> AppResult<UserRow> {
    let user = store::insert_user(conn, account).await?;
    store::insert_membership(conn, tenant_id, user.id, role).await?;
    Ok(user)
}

/// What `register` asks for: an account and the tenant it founds.
pub struct Registration<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub display_name: &'a str,
    pub tenant_name: &'a str,
    /// Derived from the email when absent.
    pub username: Option<&'a str>,
}

/// The refusal of a new account while registration is by beta code only.
pub fn registration_closed() -> AppError {
    AppError::Forbidden {
        message: "registration is by beta code only: registerWithBetaCode, or joinWaitlist for \
                  a code"
            .into(),
        reason: Some("registration_closed"),
    }
}

/// Creates an account and a new tenant with it as ADMIN, in one transaction, and signs it in
/// (refused while registration is by beta code only).
pub async fn register(
    platform: &Platform,
    client: &ClientInfo,
    registration: Registration<'_>,
) -> AppResult<SessionTokens> {
    if platform.config.identity.registration_closed {
        return Err(registration_closed());
    }
    register_with(platform, client, registration, |_, _, _| {
        Box::pin(async { Ok(()) })
    })
    .await
}

/// [`register`], doing `also` (with the new tenant's and user's ids) in the same transaction:
/// what else a way of registering needs to happen with it or not at all (a beta code's use).
/// Everything is checked before the password is hashed.
pub async fn register_with(
    platform: &Platform,
    client: &ClientInfo,
    registration: Registration<'_>,
    also: impl for<'c> FnOnce(
        &'c mut AsyncPgConnection,
        Uuid,
        Uuid,
    ) -> futures_util::future::BoxFuture<'c, AppResult<()>>
    + Send,
) -> AppResult<SessionTokens> {
    let email = validate_email("email", registration.email)?;
    password::validate_new_password("password", registration.password)?;
    let display_name = validate_display_name("displayName", registration.display_name)?;
    let tenant_name = tenants::validate_name("tenantName", registration.tenant_name)?;
    let password_hash = password::hash(registration.password).await?;
    let mut conn = platform.pool.get().await?;
    let (user, tenant) = conn
        .transaction::<_, AppError, _>(async |conn| {
            let tenant = tenants::insert_tenant(conn, &tenant_name).await?;
            let account = NewAccount {
                email: &email,
                display_name: &display_name,
                password_hash: &password_hash,
                is_superuser: false,
                username: registration.username,
                origin: AccountOrigin::Visitor,
            };
            let user = create_account(conn, &account, tenant.id, Role::Admin).await?;
            also(conn, tenant.id, user.id).await?;
            Ok((user, tenant))
        })
        .await?;
    let place = Place {
        tenant,
        role: Role::Admin,
    };
    open_session(
        platform,
        &mut conn,
        user,
        Some(place),
        client,
        ClientType::Api,
    )
    .await
}

/// Tells the tenant's subscribers that a membership changed (`actor`: who changed it, when
/// someone signed in did).
pub fn announce_member(
    events: &EventBus,
    actor: Option<Uuid>,
    tenant_id: Uuid,
    user_id: Uuid,
    action: MemberAction,
    role: Option<Role>,
) {
    events.publish(
        tenant_id,
        actor,
        EventPayload::Member {
            action,
            user_id,
            role,
        },
    );
}

/// Fails unless `role` may be granted by `actor`.
pub fn ensure_can_grant(actor: &Viewer, role: Role) -> AppResult<()> {
    if role == Role::Superuser {
        return Err(AppError::forbidden(
            "SUPERUSER cannot be granted here; use `loregraph admin create-superuser`",
        ));
    }
    if actor.is_superuser() || role < actor.role {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "you can grant only roles below your own",
        ))
    }
}

/// A member of the viewer's tenant and their role there; NOT_FOUND for anyone else (including
/// users of other tenants, whose existence is not revealed). Superusers reach every account; for
/// a non-member the role is `None`.
pub async fn target_member(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    user_id: Uuid,
) -> AppResult<(UserRow, Option<Role>)> {
    let not_found = || AppError::not_found("user not found");
    let user = store::find_user(conn, user_id)
        .await?
        .ok_or_else(not_found)?;
    let membership = store::membership(conn, viewer.tenant_id, user_id).await?;
    // Only superusers reach accounts outside their tenant; to anyone else those do not exist.
    if membership.is_none() && !viewer.is_superuser() {
        return Err(not_found());
    }
    let role = if user.is_superuser {
        Some(Role::Superuser)
    } else {
        membership.map(|m| m.role())
    };
    Ok((user, role))
}

/// A member of the viewer's tenant by username, as `target_member` finds them (NOT_FOUND for
/// anyone the viewer may not reach, so other tenants' usernames cannot be probed).
pub async fn member_by_username(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    username: &str,
) -> AppResult<(UserRow, Option<Role>)> {
    let user = store::find_user_by_username(conn, username)
        .await?
        .ok_or_else(|| AppError::not_found(format!("there is no user `{username}` here")))?;
    target_member(conn, viewer, user.id).await
}

/// Fails unless `actor` may manage a user holding `target_role` (`None`: not a member, which
/// only superusers get to see).
pub fn ensure_above(actor: &Viewer, target_id: Uuid, target_role: Option<Role>) -> AppResult<()> {
    if actor.user_id == target_id {
        return Err(AppError::forbidden(
            "you cannot do this to your own account",
        ));
    }
    if actor.is_superuser() || target_role.is_some_and(|role| role < actor.role) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "you can manage only users below your own role",
        ))
    }
}

/// Checks an email's shape and returns it normalised (trimmed, lower-case).
pub fn validate_email(field: &'static str, email: &str) -> AppResult<String> {
    let email = normalize_email(email);
    if email.len() > 254 || !email_address::EmailAddress::is_valid(&email) {
        return Err(AppError::bad_field(
            field,
            "this is not a valid email address",
        ));
    }
    Ok(email)
}

pub fn validate_display_name(field: &'static str, name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::bad_field(
            field,
            "the display name must have 1 to 100 characters",
        ));
    }
    Ok(name.to_owned())
}
