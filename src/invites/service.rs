//! The rules of invites: an invite is open until used, revoked or expired, works once, and
//! joins its tenant with its role, for a new account (`registerWithInvite`) or the signed-in
//! one whose email it names (`acceptInvite`).

use chrono::{Duration as ChronoDuration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::store::{self, InviteRow, NewInvite};
use crate::accounts::service::{
    self as accounts, AccountOrigin, ClientType, NewAccount, SessionTokens, UserRow,
    announce_member, ensure_can_grant, validate_display_name, validate_email,
};
use crate::auth::tokens::{random_token, secret_hash};
use crate::auth::viewer::{Account, ClientInfo};
use crate::auth::{Role, Viewer, password};
use crate::context::Platform;
use crate::error::{AppError, AppResult};
use crate::events::MemberAction;
use crate::tenants::service as tenants;

/// Invites an email into the viewer's tenant with a role below the viewer's (ADMIN); the
/// invite and its token, which is shown this once (only its hash is kept).
pub async fn create(
    platform: &Platform,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    email: &str,
    role: Role,
) -> AppResult<(InviteRow, String)> {
    viewer.require_role(Role::Admin)?;
    ensure_can_grant(viewer, role)?;
    let email = validate_email("email", email)?;
    if accounts::is_member_by_email(conn, viewer.tenant_id, &email).await? {
        return Err(AppError::conflict(
            "this person is already a member of the tenant",
        ));
    }
    let token = random_token(32);
    let ttl = ChronoDuration::from_std(platform.config.invite_ttl).map_err(AppError::internal)?;
    let row = store::insert(
        conn,
        NewInvite {
            id: Uuid::now_v7(),
            tenant_id: viewer.tenant_id,
            email: &email,
            role: role.as_str(),
            token_hash: &secret_hash(&token),
            created_by: Some(viewer.user_id),
            expires_at: Utc::now() + ttl,
        },
    )
    .await?;
    Ok((row, token))
}

/// Revokes an invite of the viewer's tenant that was not used yet (ADMIN).
pub async fn revoke(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    invite_id: Uuid,
) -> AppResult<InviteRow> {
    viewer.require_role(Role::Admin)?;
    let invite = store::find(conn, viewer.tenant_id, invite_id)
        .await?
        .ok_or_else(|| AppError::not_found("invite not found"))?;
    if invite.accepted_at.is_some() {
        return Err(AppError::conflict("the invite was already used"));
    }
    store::revoke(conn, invite.id).await
}

/// An open invite for `token`, or BAD_USER_INPUT naming the field.
async fn open_invite(conn: &mut AsyncPgConnection, token: &str) -> AppResult<InviteRow> {
    let invite = store::find_by_token(conn, &secret_hash(token.trim()))
        .await?
        .filter(InviteRow::is_open)
        .ok_or_else(|| {
            AppError::bad_field("token", "the invite is invalid, used, revoked or expired")
        })?;
    Ok(invite)
}

/// Creates an account for the invited email, joins the inviting tenant with the invited role
/// (using the invite, in the same transaction), and signs it in. The invite is checked before
/// the password is hashed, and again, atomically, as it is used. `actor` is whoever is signed
/// in, if anyone (the member event names them).
pub async fn register_with_invite(
    platform: &Platform,
    client: &ClientInfo,
    actor: Option<Uuid>,
    token: &str,
    password: &str,
    display_name: &str,
) -> AppResult<SessionTokens> {
    password::validate_new_password("password", password)?;
    let display_name = validate_display_name("displayName", display_name)?;
    let mut conn = platform.pool.get().await?;
    // Check the invite before paying for a password hash; `use_invite` re-checks it atomically.
    let invite = open_invite(&mut conn, token).await?;
    let password_hash = password::hash(password).await?;
    let role = Role::from_db(&invite.role);
    let user = conn
        .transaction::<_, AppError, _>(async |conn| {
            let account = NewAccount {
                email: &invite.email,
                display_name: &display_name,
                password_hash: &password_hash,
                is_superuser: false,
                username: None,
                origin: AccountOrigin::Visitor,
            };
            let user = accounts::create_account(conn, &account, invite.tenant_id, role)
                .await
                .map_err(|e| match e {
                    AppError::Conflict(_) => AppError::conflict(
                        "an account with this email already exists; sign in and use \
                         acceptInvite",
                    ),
                    other => other,
                })?;
            use_invite(conn, &invite, user.id).await?;
            Ok(user)
        })
        .await?;
    announce_member(
        &platform.events,
        actor,
        invite.tenant_id,
        user.id,
        MemberAction::Joined,
        Some(role),
    );
    let tenant = tenants::find_tenant(&mut conn, invite.tenant_id)
        .await?
        .ok_or_else(|| AppError::not_found("tenant not found"))?;
    let tokens = accounts::open_session(
        platform,
        &mut conn,
        user,
        Some(accounts::Place { tenant, role }),
        client,
        ClientType::Api,
    )
    .await?;
    Ok(tokens)
}

/// Joins the inviting tenant with the signed-in account (the invite must be for its email),
/// also from a session in no tenant.
pub async fn accept(platform: &Platform, viewer: Account, token: &str) -> AppResult<UserRow> {
    let mut conn = platform.pool.get().await?;
    let invite = open_invite(&mut conn, token).await?;
    let user = accounts::find_user(&mut conn, viewer.user_id)
        .await?
        .ok_or_else(|| AppError::unauthenticated("the account no longer exists"))?;
    if user.email != invite.email {
        return Err(AppError::forbidden(
            "this invite is for another email address",
        ));
    }
    let role = Role::from_db(&invite.role);
    conn.transaction::<_, AppError, _>(async |conn| {
        use_invite(conn, &invite, user.id).await?;
        accounts::insert_membership(conn, invite.tenant_id, user.id, role).await
    })
    .await?;
    announce_member(
        &platform.events,
        Some(viewer.user_id),
        invite.tenant_id,
        user.id,
        MemberAction::Joined,
        Some(role),
    );
    Ok(user)
}

/// Uses the invite (once) for `user_id`, inside the caller's transaction (which adds the
/// membership).
async fn use_invite(
    conn: &mut AsyncPgConnection,
    invite: &InviteRow,
    user_id: Uuid,
) -> AppResult<()> {
    if !store::accept(conn, invite.id, user_id).await? {
        return Err(AppError::bad_field(
            "token",
            "the invite is invalid, used, revoked or expired",
        ));
    }
    Ok(())
}
