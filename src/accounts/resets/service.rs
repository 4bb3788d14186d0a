//! The rules of password resets.
//!
//! - `forgotPassword` answers the same whether or not an account has the address, and in the
//!   same time: the lookup and the mail happen after the answer, on a task of their own.
//! - Requests are limited per client address (RATE_LIMITED, which says nothing about the
//!   account) and mails per account (silently: refusing would reveal that the account exists).
//! - A link works once, until it expires; using it retires the account's other links, sets the
//!   password, ends every session of the account, removes its linked identities and revokes
//!   its API keys, in one transaction: whoever else had a way in loses it.
//! - The link points at the configured public address, never at the request's Host.

use std::time::Duration;

use chrono::Utc;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::store;
use crate::accounts::sessions::normalize_email;
use crate::accounts::store::{self as accounts, UserChanges};
use crate::auth::tokens::{random_token, secret_hash};
use crate::auth::viewer::ClientInfo;
use crate::auth::{Revocation, password, rate_window};
use crate::context::Platform;
use crate::error::{AppError, AppResult};

const HOUR: Duration = Duration::from_secs(3600);
/// `resetPassword` attempts per client address per hour (tokens cannot be guessed; this keeps
/// the password hashing they may cost in check).
const RESETS_TRIED_PER_ADDRESS: u32 = 30;

/// Reset mails being prepared or sent at once; more wait their turn (each holds a database
/// connection for a moment and the mail relay for up to 20 s).
static SENDING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(8);

fn address_key(kind: &str, client: &ClientInfo) -> String {
    rate_window::address_key(kind, client.ip)
}

/// Asks for a reset link for `email`. Always Ok (unless this address asked too often): whether
/// a mail leaves is not the caller's business.
pub async fn request(platform: &Platform, email: &str, client: &ClientInfo) -> AppResult<()> {
    let email = normalize_email(email);
    if email.is_empty() || email.len() > 320 {
        return Err(AppError::bad_field(
            "email",
            "this is not a valid email address",
        ));
    }
    let settings = &platform.config.identity;
    let mut conn = platform.pool.get().await?;
    rate_window::ensure_within(
        &mut conn,
        &address_key("reset", client),
        settings.resets_per_address_per_hour,
        HOUR,
        "too many password-reset requests from this address; try again later",
    )
    .await?;
    drop(conn);
    // Never from the request's Host: whoever asks could name their own host and have the
    // account's owner mailed a link that hands them the token.
    let page = match (&settings.reset_page_url, &settings.public_url) {
        (Some(page), _) => page.clone(),
        (None, Some(public)) => format!("{public}/reset-password"),
        (None, None) => {
            return Err(AppError::Upstream(
                "password reset is not set up on this server: it needs LOREGRAPH_PUBLIC_URL or \
                 LOREGRAPH_PASSWORD_RESET_URL"
                    .into(),
            ));
        }
    };
    let platform = platform.clone();
    tokio::spawn(async move {
        let Ok(_turn) = SENDING.acquire().await else {
            return;
        };
        if let Err(error) = send_link(&platform, &email, &page).await {
            tracing::warn!(error = ?error, "a password-reset mail could not be sent");
        }
    });
    Ok(())
}

async fn send_link(platform: &Platform, email: &str, page: &str) -> AppResult<()> {
    let settings = &platform.config.identity;
    let mut conn = platform.pool.get().await?;
    let Some(user) = accounts::find_user_by_email(&mut conn, email)
        .await?
        .filter(|user| user.is_active)
    else {
        return Ok(());
    };
    let (mails, _) =
        rate_window::hit(&mut conn, &format!("reset:account:{}", user.id), HOUR).await?;
    if mails > settings.resets_per_account_per_hour {
        tracing::info!(user_id = %user.id, "password-reset mail withheld: too many this hour");
        return Ok(());
    }
    let token = random_token(32);
    let expires_at =
        Utc::now() + chrono::Duration::from_std(settings.reset_ttl).map_err(AppError::internal)?;
    store::insert(&mut conn, &secret_hash(&token), user.id, expires_at).await?;
    drop(conn);
    let separator = if page.contains('?') { '&' } else { '?' };
    let link = format!("{page}{separator}token={token}");
    let minutes = settings.reset_ttl.as_secs() / 60;
    let body = format!(
        "Hello {name},\n\nsomeone (we hope you) asked to reset the password of your loregraph \
         account. Open this link within {minutes} minutes to choose a new one:\n\n{link}\n\n\
         The link works once. Setting a new password signs your account out everywhere, \
         unlinks the Google and Microsoft accounts linked to it and revokes its API keys.\n\
         If you did not ask for this, ignore this mail: your password stays as it is.\n",
        name = user.display_name,
    );
    platform
        .mailer
        .send(&user.email, "Reset your loregraph password", &body)
        .await?;
    Ok(())
}

/// Sets a new password with a reset link's token and ends every session of the account.
pub async fn reset(
    platform: &Platform,
    token: &str,
    new_password: &str,
    client: &ClientInfo,
) -> AppResult<()> {
    password::validate_new_password("newPassword", new_password)?;
    let invalid = || AppError::bad_field("token", "this reset link is invalid, used or expired");
    let token = token.trim();
    if token.is_empty() || token.len() > 256 {
        return Err(invalid());
    }
    let hash = secret_hash(token);
    let mut conn = platform.pool.get().await?;
    rate_window::ensure_within(
        &mut conn,
        &address_key("reset-use", client),
        RESETS_TRIED_PER_ADDRESS,
        HOUR,
        "too many password-reset attempts from this address; try again later",
    )
    .await?;
    // Checked before the (slow) hashing, consumed after it, inside the transaction.
    store::live(&mut conn, &hash).await?.ok_or_else(invalid)?;
    let password_hash = password::hash(new_password).await?;
    let user_id = conn
        .transaction::<_, AppError, _>(async |conn| {
            let user_id = store::consume(conn, &hash).await?.ok_or_else(invalid)?;
            apply(conn, user_id, password_hash).await?;
            Ok(user_id)
        })
        .await?;
    platform.revoke(Revocation::User(user_id)).await;
    tracing::info!(%user_id, "a password was reset with a mailed link; every session ended");
    Ok(())
}

async fn apply(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    password_hash: String,
) -> AppResult<()> {
    let user = accounts::find_user(conn, user_id)
        .await?
        .filter(|user| user.is_active)
        .ok_or_else(|| {
            AppError::bad_field("token", "this reset link is invalid, used or expired")
        })?;
    let changes = UserChanges {
        password_hash: Some(password_hash),
        ..UserChanges::default()
    };
    accounts::update_user(conn, user.id, &changes).await?;
    accounts::revoke_user_sessions(conn, user.id, None).await?;
    store::retire_all(conn, user.id).await?;
    // The reset takes the account back whole: identities someone else linked and keys someone
    // else made stop working too (the owner links and makes them again).
    crate::accounts::identities::store::delete_all_of_user(conn, user.id).await?;
    crate::auth::revocation::revoke_api_keys_of_user(conn, user.id).await?;
    Ok(())
}
