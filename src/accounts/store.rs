//! Queries of the accounts domain: users, memberships, sessions and refresh tokens.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{MembershipRow, NewAccount, NewSession, NewUser, SessionRow, UserRow};
use super::usernames;
use crate::auth::Role;
use crate::db::escape_like;
use crate::db::keyset::{Window, load_window, windowed};
use crate::db::schema::{memberships, refresh_tokens, sessions, users};
use crate::error::{AppError, AppResult};

pub async fn find_user_by_email(
    conn: &mut AsyncPgConnection,
    email: &str,
) -> AppResult<Option<UserRow>> {
    Ok(users::table
        .filter(users::email.eq(email))
        .select(UserRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

pub async fn find_user(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Option<UserRow>> {
    Ok(users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

pub async fn users_by_ids(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> AppResult<Vec<UserRow>> {
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select(UserRow::as_select())
        .load(conn)
        .await?)
}

/// How often a derived username is derived again after a concurrent sign-up took it first.
const DERIVATION_ATTEMPTS: usize = 3;

/// Creates an account; a taken email or chosen username is a CONFLICT saying which.
pub async fn insert_user(
    conn: &mut AsyncPgConnection,
    account: &NewAccount<'_>,
) -> AppResult<UserRow> {
    let chosen = account
        .username
        .map(|name| usernames::validate("username", name))
        .transpose()?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let username = match &chosen {
            Some(name) => name.clone(),
            None => usernames::derive(conn, account.email).await?,
        };
        let row = NewUser {
            id: Uuid::now_v7(),
            email: account.email,
            display_name: account.display_name,
            password_hash: account.password_hash,
            is_superuser: account.is_superuser,
            username: &username,
            account_origin: account.origin.as_str(),
        };
        // In a savepoint, so a clash leaves the caller's transaction usable for another try.
        let inserted = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                diesel::insert_into(users::table)
                    .values(&row)
                    .returning(UserRow::as_returning())
                    .get_result(conn)
                    .await
            })
            .await;
        match inserted {
            Ok(user) => return Ok(user),
            Err(e) if usernames::is_taken(&e) => {
                if chosen.is_none() && attempt < DERIVATION_ATTEMPTS {
                    continue;
                }
                return Err(AppError::conflict("this username is already taken"));
            }
            Err(e) => {
                return Err(match AppError::from(e) {
                    AppError::Conflict(_) => {
                        AppError::conflict("an account with this email already exists")
                    }
                    other => other,
                });
            }
        }
    }
}

/// The account with this username (ignoring case).
pub async fn find_user_by_username(
    conn: &mut AsyncPgConnection,
    username: &str,
) -> AppResult<Option<UserRow>> {
    Ok(users::table
        .filter(crate::db::lower(users::username).eq(username.to_lowercase()))
        .select(UserRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Records a sign-in, and the tenant it landed in (a session in no tenant keeps the last one).
pub async fn record_login(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    tenant_id: Option<Uuid>,
) -> AppResult<()> {
    let user = users::table.find(user_id);
    match tenant_id {
        Some(tenant_id) => {
            diesel::update(user)
                .set((
                    users::last_login_at.eq(diesel::dsl::now),
                    users::last_tenant_id.eq(tenant_id),
                ))
                .execute(conn)
                .await?
        }
        None => {
            diesel::update(user)
                .set(users::last_login_at.eq(diesel::dsl::now))
                .execute(conn)
                .await?
        }
    };
    Ok(())
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub is_active: Option<bool>,
    pub is_superuser: Option<bool>,
    pub password_hash: Option<String>,
}

pub async fn update_user(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    changes: &UserChanges,
) -> AppResult<UserRow> {
    diesel::update(users::table.find(id))
        .set((changes, users::updated_at.eq(diesel::dsl::now)))
        .returning(UserRow::as_returning())
        .get_result(conn)
        .await
        .map_err(|e| match AppError::from(e) {
            AppError::Conflict(_) => AppError::bad_field("email", "this email is already in use"),
            other => other,
        })
}

pub async fn delete_user(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<bool> {
    Ok(diesel::delete(users::table.find(id)).execute(conn).await? > 0)
}

pub async fn memberships_of(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
) -> AppResult<Vec<MembershipRow>> {
    Ok(memberships::table
        .filter(memberships::user_id.eq(user_id))
        .order(memberships::created_at.asc())
        .select(MembershipRow::as_select())
        .load(conn)
        .await?)
}

/// Whether the account with `email` is a member of the tenant.
pub async fn is_member_by_email(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    email: &str,
) -> AppResult<bool> {
    Ok(diesel::select(diesel::dsl::exists(
        memberships::table
            .inner_join(users::table)
            .filter(memberships::tenant_id.eq(tenant_id))
            .filter(users::email.eq(email)),
    ))
    .get_result(conn)
    .await?)
}

/// Memberships of many users, each list oldest first (the memberships loader).
pub async fn memberships_of_users(
    conn: &mut AsyncPgConnection,
    user_ids: &[Uuid],
) -> AppResult<Vec<MembershipRow>> {
    Ok(memberships::table
        .filter(memberships::user_id.eq_any(user_ids))
        .order((memberships::user_id, memberships::created_at.asc()))
        .select(MembershipRow::as_select())
        .load(conn)
        .await?)
}

pub async fn membership(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> AppResult<Option<MembershipRow>> {
    Ok(memberships::table
        .find((tenant_id, user_id))
        .select(MembershipRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Memberships of many users in one tenant (the role loader).
pub async fn memberships_in_tenant(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_ids: &[Uuid],
) -> AppResult<Vec<MembershipRow>> {
    Ok(memberships::table
        .filter(memberships::tenant_id.eq(tenant_id))
        .filter(memberships::user_id.eq_any(user_ids))
        .select(MembershipRow::as_select())
        .load(conn)
        .await?)
}

pub async fn insert_membership(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    role: Role,
) -> AppResult<()> {
    diesel::insert_into(memberships::table)
        .values((
            memberships::tenant_id.eq(tenant_id),
            memberships::user_id.eq(user_id),
            memberships::role.eq(role.as_str()),
        ))
        .execute(conn)
        .await
        .map_err(|e| match AppError::from(e) {
            AppError::Conflict(_) => {
                AppError::conflict("this user is already a member of the tenant")
            }
            other => other,
        })?;
    Ok(())
}

pub async fn set_membership_role(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    role: Role,
) -> AppResult<bool> {
    Ok(
        diesel::update(memberships::table.find((tenant_id, user_id)))
            .set((
                memberships::role.eq(role.as_str()),
                memberships::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?
            == 1,
    )
}

pub async fn delete_membership(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> AppResult<bool> {
    Ok(
        diesel::delete(memberships::table.find((tenant_id, user_id)))
            .execute(conn)
            .await?
            > 0,
    )
}

/// Where a member sits in the list: their display name, and their id.
pub type MemberKey = (String, Uuid);

/// A tenant's members with their roles, by display name: an offset page with the total the
/// search matches, or a page by cursor.
pub async fn list_members(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    search: Option<&str>,
    window: &Window<MemberKey>,
) -> AppResult<(Option<i64>, Vec<(UserRow, String)>)> {
    let pattern = search.map(|s| format!("%{}%", escape_like(s)));
    let filtered = || {
        let mut query = memberships::table
            .inner_join(users::table)
            .filter(memberships::tenant_id.eq(tenant_id))
            .into_boxed();
        if let Some(pattern) = &pattern {
            query = query.filter(
                users::email
                    .ilike(pattern.clone())
                    .or(users::display_name.ilike(pattern.clone()))
                    .or(users::username.ilike(pattern.clone())),
            );
        }
        query
    };
    let rows = windowed!(
        filtered(),
        window.clone(),
        asc(users::display_name, users::id)
    )
    .select((UserRow::as_select(), memberships::role));
    load_window(conn, window, rows, filtered().count()).await
}

pub async fn insert_session(
    conn: &mut AsyncPgConnection,
    session: NewSession<'_>,
) -> AppResult<()> {
    diesel::insert_into(sessions::table)
        .values(&session)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn find_session(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Option<SessionRow>> {
    Ok(sessions::table
        .find(id)
        .select(SessionRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Moves a session to another tenant. The world character it played belongs to the tenant it
/// leaves, so the session stops playing it.
pub async fn set_session_tenant(
    conn: &mut AsyncPgConnection,
    session_id: Uuid,
    tenant_id: Uuid,
) -> AppResult<()> {
    diesel::update(sessions::table.find(session_id))
        .set((
            sessions::tenant_id.eq(tenant_id),
            sessions::character_id.eq(None::<Uuid>),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Extends a session when its refresh token is rotated.
pub async fn extend_session(
    conn: &mut AsyncPgConnection,
    session_id: Uuid,
    expires_at: DateTime<Utc>,
) -> AppResult<()> {
    diesel::update(sessions::table.find(session_id))
        .set((
            sessions::expires_at.eq(expires_at),
            sessions::last_activity.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn revoke_session(conn: &mut AsyncPgConnection, session_id: Uuid) -> AppResult<()> {
    diesel::update(sessions::table.find(session_id))
        .filter(sessions::revoked_at.is_null())
        .set(sessions::revoked_at.eq(diesel::dsl::now))
        .execute(conn)
        .await?;
    Ok(())
}

/// Revokes every live session of a user (all tenants), except `keep` if given.
pub async fn revoke_user_sessions(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    keep: Option<Uuid>,
) -> AppResult<usize> {
    Ok(diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::id.ne(keep.unwrap_or(Uuid::nil()))),
    )
    .set(sessions::revoked_at.eq(diesel::dsl::now))
    .execute(conn)
    .await?)
}

/// Revokes a user's live sessions in one tenant (after losing membership there).
pub async fn revoke_user_sessions_in_tenant(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    tenant_id: Uuid,
) -> AppResult<usize> {
    Ok(diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::tenant_id.eq(tenant_id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(diesel::dsl::now))
    .execute(conn)
    .await?)
}

pub async fn insert_refresh_token(
    conn: &mut AsyncPgConnection,
    session_id: Uuid,
    token_hash: &[u8],
    expires_at: DateTime<Utc>,
) -> AppResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(Uuid::now_v7()),
            refresh_tokens::session_id.eq(session_id),
            refresh_tokens::token_hash.eq(token_hash),
            refresh_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// What presenting a refresh token found.
pub enum RefreshOutcome {
    /// Unused and live: it is now marked used; the session may continue.
    Valid(SessionRow),
    /// Already used once: a sign that it leaked. The caller revokes the session.
    Reused {
        session_id: Uuid,
    },
    Invalid,
}

/// Marks a refresh token used, atomically: of two concurrent presentations only one wins.
pub async fn consume_refresh_token(
    conn: &mut AsyncPgConnection,
    token_hash: &[u8],
) -> AppResult<RefreshOutcome> {
    let claimed: Option<Uuid> = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(token_hash))
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::expires_at.gt(diesel::dsl::now)),
    )
    .set(refresh_tokens::used_at.eq(diesel::dsl::now))
    .returning(refresh_tokens::session_id)
    .get_result(conn)
    .await
    .optional()?;
    if let Some(session_id) = claimed {
        let session = find_session(conn, session_id).await?;
        return Ok(match session {
            Some(s) if s.revoked_at.is_none() => RefreshOutcome::Valid(s),
            _ => RefreshOutcome::Invalid,
        });
    }
    let used: Option<(Uuid, Option<DateTime<Utc>>)> = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select((refresh_tokens::session_id, refresh_tokens::used_at))
        .first(conn)
        .await
        .optional()?;
    Ok(match used {
        Some((session_id, Some(_))) => RefreshOutcome::Reused { session_id },
        _ => RefreshOutcome::Invalid,
    })
}

/// Drops a session's refresh tokens (after a tenant switch issues a new one): presenting an old
/// one is then merely invalid, not a reuse that would revoke the session.
pub async fn retire_refresh_tokens(
    conn: &mut AsyncPgConnection,
    session_id: Uuid,
) -> AppResult<()> {
    diesel::delete(refresh_tokens::table.filter(refresh_tokens::session_id.eq(session_id)))
        .execute(conn)
        .await?;
    Ok(())
}
