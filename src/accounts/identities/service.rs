//! The rules of identities: who an ID token signs in as, when an identity may join an
//! account, and when it may leave one.

use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::store::{self, IdentityRow, MAX_IDENTITIES_PER_ACCOUNT};
use crate::accounts::model::{AccountOrigin, ClientType, NewAccount};
use crate::accounts::service::{create_account, validate_display_name, validate_email};
use crate::accounts::sessions::{Place, SessionTokens, choose_tenant, open_session};
use crate::accounts::store as accounts;
use crate::auth::Role;
use crate::auth::viewer::ClientInfo;
use crate::config::ProviderId;
use crate::context::Platform;
use crate::db::schema::users;
use crate::error::{AppError, AppResult};
use crate::oidc::IdClaims;
use crate::tenants::service as tenants;

/// The email the provider vouches for, or why it vouches for none.
fn verified_email(provider: ProviderId, claims: &IdClaims) -> AppResult<String> {
    match (&claims.email, claims.email_verified) {
        // An address `register` would refuse is no address for an account here either.
        (Some(email), true) if validate_email("email", email).is_ok() => Ok(email.clone()),
        _ => Err(AppError::Forbidden {
            message: format!(
                "{} does not vouch for this account's email address; sign in another way",
                provider.display_name()
            ),
            reason: Some("email_unverified"),
        }),
    }
}

/// Signs in with a provider's identity: into its account when the identity is known; else a
/// new account (with a studio of its own, as `register` makes) for a verified email no account
/// uses. An email an account uses already is never joined silently: its owner signs in another
/// way and links the identity (FORBIDDEN, reason `link_required`).
pub async fn sign_in(
    platform: &Platform,
    provider: ProviderId,
    claims: &IdClaims,
    tenant_id: Option<Uuid>,
    client: &ClientInfo,
    client_type: ClientType,
) -> AppResult<SessionTokens> {
    match sign_in_once(platform, provider, claims, tenant_id, client, client_type).await {
        // Two first sign-ins of one newcomer at once: one made the account; the other finds it.
        Err(AppError::Conflict(_)) => {
            sign_in_once(platform, provider, claims, tenant_id, client, client_type).await
        }
        other => other,
    }
}

async fn sign_in_once(
    platform: &Platform,
    provider: ProviderId,
    claims: &IdClaims,
    tenant_id: Option<Uuid>,
    client: &ClientInfo,
    client_type: ClientType,
) -> AppResult<SessionTokens> {
    let mut conn = platform.pool.get().await?;
    if let Some(identity) = store::find(&mut conn, provider.as_str(), &claims.subject).await? {
        let user = accounts::find_user(&mut conn, identity.user_id)
            .await?
            .filter(|user| user.is_active)
            .ok_or_else(|| AppError::unauthenticated("this account is deactivated"))?;
        store::touch(
            &mut conn,
            identity.id,
            claims.email.as_deref(),
            claims.email_verified,
        )
        .await?;
        let place = choose_tenant(&mut conn, &user, tenant_id).await?;
        return open_session(platform, &mut conn, user, place, client, client_type).await;
    }
    let email = verified_email(provider, claims)?;
    if accounts::find_user_by_email(&mut conn, &email)
        .await?
        .is_some()
    {
        return Err(AppError::Forbidden {
            message: format!(
                "an account with {email} exists already: sign in to it another way, then link {} \
                 to it (beginIdentityLink)",
                provider.display_name()
            ),
            reason: Some("link_required"),
        });
    }
    if platform.config.identity.registration_closed {
        return Err(crate::accounts::service::registration_closed());
    }
    let local_part = email.split('@').next().unwrap_or("player");
    let display_name = claims
        .name
        .as_deref()
        .and_then(|name| validate_display_name("name", name).ok())
        .unwrap_or_else(|| local_part.chars().take(100).collect());
    let tenant_name = tenants::validate_name("tenantName", &format!("{display_name}'s studio"))
        .unwrap_or_else(|_| "My studio".to_owned());
    let (user, tenant) = conn
        .transaction::<_, AppError, _>(async |conn| {
            let tenant = tenants::insert_tenant(conn, &tenant_name).await?;
            let account = NewAccount {
                email: &email,
                display_name: &display_name,
                // No password: one is set through forgotPassword when the owner wants one.
                password_hash: "",
                is_superuser: false,
                username: None,
                origin: AccountOrigin::Visitor,
            };
            let user = create_account(conn, &account, tenant.id, Role::Admin).await?;
            store::insert(
                conn,
                user.id,
                provider.as_str(),
                &claims.subject,
                Some(&email),
                true,
            )
            .await?
            .ok_or_else(|| {
                AppError::conflict("this sign-in is being completed twice; try again")
            })?;
            Ok((user, tenant))
        })
        .await?;
    tracing::info!(user_id = %user.id, provider = provider.as_str(), "an account was created by signing in with a provider");
    let place = Place {
        tenant,
        role: Role::Admin,
    };
    open_session(platform, &mut conn, user, Some(place), client, client_type).await
}

/// Signs in with an ID token the client got from the provider itself (Google's sign-in button
/// hands the page one): checked against the provider's keys, issuer and this server's client
/// id, then as [`sign_in`].
pub async fn sign_in_with_id_token(
    platform: &Platform,
    provider: ProviderId,
    id_token: &str,
    tenant_id: Option<Uuid>,
    client: &ClientInfo,
    client_type: ClientType,
) -> AppResult<SessionTokens> {
    let providers = &platform.providers;
    let claims = providers
        .require(provider)?
        .verify_id_token(providers.http(), id_token, None)
        .await?;
    // A token signs in once: one that leaked (from a page, a log) opens nothing more.
    let expires_at = chrono::DateTime::from_timestamp(claims.expires_at, 0)
        .ok_or_else(|| AppError::unauthenticated("the ID token's expiry is not a time"))?
        + chrono::Duration::minutes(2);
    let mut conn = platform.pool.get().await?;
    let hash = crate::auth::tokens::secret_hash(id_token.trim());
    if !store::record_id_token_use(&mut conn, &hash, expires_at).await? {
        return Err(AppError::unauthenticated(
            "this ID token was used already; sign in again",
        ));
    }
    drop(conn);
    sign_in(platform, provider, &claims, tenant_id, client, client_type).await
}

/// Links a provider's identity to the signed-in account `user_id` (its owner asked for it by
/// starting the flow signed in). The provider must vouch for the identity's email; an identity
/// of another account stays there.
pub async fn link(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    provider: ProviderId,
    claims: &IdClaims,
) -> AppResult<IdentityRow> {
    let taken = || {
        AppError::conflict(format!(
            "this {} account is linked to another account already",
            provider.display_name()
        ))
    };
    if let Some(existing) = store::find(conn, provider.as_str(), &claims.subject).await? {
        if existing.user_id != user_id {
            return Err(taken());
        }
        store::touch(
            conn,
            existing.id,
            claims.email.as_deref(),
            claims.email_verified,
        )
        .await?;
        return Ok(existing);
    }
    let email = verified_email(provider, claims)?;
    conn.transaction::<_, AppError, _>(async |conn| {
        lock_account(conn, user_id).await?;
        if store::of_user(conn, user_id).await?.len() as i64 >= MAX_IDENTITIES_PER_ACCOUNT {
            return Err(AppError::conflict(format!(
                "an account holds at most {MAX_IDENTITIES_PER_ACCOUNT} linked identities"
            )));
        }
        store::insert(
            conn,
            user_id,
            provider.as_str(),
            &claims.subject,
            Some(&email),
            true,
        )
        .await?
        .ok_or_else(taken)
    })
    .await
}

/// Mails the account's owner that an identity now signs in to it (after the fact, on a task
/// of its own): a link they did not make is theirs to undo — `unlinkIdentity`, or a password
/// reset, which removes every linked identity.
pub fn tell_owner_of_link(
    platform: &Platform,
    user_id: Uuid,
    provider: ProviderId,
    identity: &IdentityRow,
) {
    let platform = platform.clone();
    let at = identity
        .email
        .clone()
        .unwrap_or_else(|| "an account".to_owned());
    tokio::spawn(async move {
        let mailed = async {
            let mut conn = platform.pool.get().await?;
            let Some(user) = accounts::find_user(&mut conn, user_id).await? else {
                return Ok(());
            };
            drop(conn);
            let body = format!(
                "Hello {name},\n\nthe {provider} account {at} can now sign in to your loregraph \
                 account.\n\nIf you did not link it, unlink it in your account's settings, or reset \
                 your password: a reset removes every linked account and ends every session.\n",
                name = user.display_name,
                provider = provider.display_name(),
            );
            platform
                .mailer
                .send(
                    &user.email,
                    &format!(
                        "{} was linked to your loregraph account",
                        provider.display_name()
                    ),
                    &body,
                )
                .await
                .map(|_| ())
        };
        if let Err(error) = mailed.await {
            tracing::warn!(error = ?error, "the mail about a linked identity could not be sent");
        }
    });
}

/// The account's identities.
pub async fn linked(conn: &mut AsyncPgConnection, user_id: Uuid) -> AppResult<Vec<IdentityRow>> {
    store::of_user(conn, user_id).await
}

/// Removes one of the account's identities, unless it is the account's only way to sign in
/// (no password and no other identity): then CONFLICT, so nobody locks themselves out.
pub async fn unlink(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    identity_id: Uuid,
) -> AppResult<()> {
    conn.transaction::<_, AppError, _>(async |conn| {
        let has_password = lock_account(conn, user_id).await?;
        let identities = store::of_user(conn, user_id).await?;
        if !identities.iter().any(|identity| identity.id == identity_id) {
            return Err(AppError::not_found("no such linked identity"));
        }
        if !has_password && identities.len() == 1 {
            return Err(AppError::conflict(
                "this is the account's only way to sign in: set a password first (forgotPassword \
                 sends a link) or link another identity",
            ));
        }
        store::delete(conn, user_id, identity_id).await?;
        Ok(())
    })
    .await
}

/// Locks the account's row for the transaction (concurrent links and unlinks of one account
/// take turns, so two unlinks cannot each leave "one other way in"); whether it has a password.
async fn lock_account(conn: &mut AsyncPgConnection, user_id: Uuid) -> AppResult<bool> {
    let hash: String = users::table
        .find(user_id)
        .select(users::password_hash)
        .for_update()
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::unauthenticated("the account no longer exists"))?;
    Ok(!hash.is_empty())
}
