//! Password hashing with argon2id. Hashing is slow on purpose, so it runs on the blocking pool.

use std::sync::LazyLock;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

use crate::error::{AppError, AppResult};

pub const MIN_PASSWORD_LEN: usize = 8;
/// Long enough for any passphrase, short enough that hashing it is not a denial of service.
pub const MAX_PASSWORD_LEN: usize = 1024;

/// A hash of a random password with the current parameters: checking a login for an unknown
/// email against it costs what a real check costs, so timing does not reveal which emails exist.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_blocking(&super::tokens::random_token(16)).unwrap_or_default());

pub fn validate_new_password(field: &'static str, password: &str) -> AppResult<()> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_LEN {
        return Err(AppError::bad_field(
            field,
            format!("the password must have at least {MIN_PASSWORD_LEN} characters"),
        ));
    }
    if chars > MAX_PASSWORD_LEN {
        return Err(AppError::bad_field(
            field,
            format!("the password must have at most {MAX_PASSWORD_LEN} characters"),
        ));
    }
    Ok(())
}

fn hash_blocking(password: &str) -> AppResult<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| AppError::internal(anyhow::anyhow!("hashing a password: {e}")))
}

pub async fn hash(password: &str) -> AppResult<String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(AppError::internal)?
}

/// Checks `password` against `stored`, or against a dummy hash when there is no account or
/// the account has no password (signed up with Google or Microsoft: `""`), so that answering
/// takes as long either way.
pub async fn verify(password: &str, stored: Option<&str>) -> AppResult<bool> {
    if password.len() > MAX_PASSWORD_LEN * 4 {
        return Ok(false);
    }
    let password = password.to_owned();
    let stored = stored.filter(|hash| !hash.is_empty()).map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        let against = stored.as_deref().unwrap_or(DUMMY_HASH.as_str());
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), against)
            .is_ok();
        matches && stored.is_some()
    })
    .await
    .map_err(AppError::internal)
}
