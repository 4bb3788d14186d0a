//! Usernames (seed 002): unique ignoring case, 2 to 20 characters. An account that does not
//! choose one gets one derived from its email's local part, numbered when that is taken.

use std::collections::HashSet;

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::lower;
use crate::db::schema::users;
use crate::error::{AppError, AppResult};

pub const MIN_CHARS: usize = 2;
pub const MAX_CHARS: usize = 20;
/// Derived names leave room for a `_NNNNN` suffix.
const DERIVED_BASE_CHARS: usize = 14;

fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// Checks a chosen username: 2 to 20 letters, digits, `_`, `.` or `-`, starting with a letter
/// or digit.
pub fn validate(field: &'static str, username: &str) -> AppResult<String> {
    let username = username.trim();
    let length = username.chars().count();
    if !(MIN_CHARS..=MAX_CHARS).contains(&length) {
        return Err(AppError::bad_field(
            field,
            "the username must have 2 to 20 characters",
        ));
    }
    if !username.chars().all(allowed) || !username.starts_with(|c: char| c.is_ascii_alphanumeric())
    {
        return Err(AppError::bad_field(
            field,
            "the username may hold only letters, digits, `_`, `.` and `-`, and must start with a letter or digit",
        ));
    }
    Ok(username.to_owned())
}

/// The name an email's local part suggests: its allowed characters, at most 14 of them, padded
/// to the minimum length.
pub fn base_from_email(email: &str) -> String {
    let local = email.split('@').next().unwrap_or_default();
    let mut base: String = local
        .chars()
        .filter(|&c| allowed(c))
        .skip_while(|c| !c.is_ascii_alphanumeric())
        .take(DERIVED_BASE_CHARS)
        .collect();
    if base.chars().count() < MIN_CHARS {
        base.push_str("user");
    }
    base
}

/// A free username for an account with `email`: the base from its local part, or the first free
/// `base_N`.
pub async fn derive(conn: &mut AsyncPgConnection, email: &str) -> AppResult<String> {
    let base = base_from_email(email);
    // Every name starting with the base (LIKE's `_` wildcard may match a few more: harmless).
    let taken: HashSet<String> = users::table
        .filter(lower(users::username).like(format!("{}%", base.to_lowercase())))
        .select(lower(users::username))
        .load::<String>(conn)
        .await?
        .into_iter()
        .collect();
    if !taken.contains(&base.to_lowercase()) {
        return Ok(base);
    }
    (2..)
        .map(|n| format!("{base}_{n}"))
        .find(|candidate| !taken.contains(&candidate.to_lowercase()))
        .ok_or_else(|| AppError::conflict("no free username could be derived"))
}

/// Whether a database error is the username's uniqueness.
pub fn is_taken(error: &diesel::result::Error) -> bool {
    matches!(
        error,
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            info,
        ) if info.constraint_name() == Some("users_username_key")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bases_come_from_the_local_part() {
        assert_eq!(base_from_email("ada.lovelace@example.com"), "ada.lovelace");
        assert_eq!(base_from_email("x@example.com"), "xuser");
        assert_eq!(base_from_email("__ok+tag@example.com"), "oktag");
        assert_eq!(
            base_from_email("averyveryverylongname@example.com"),
            "averyveryveryl"
        );
        assert_eq!(base_from_email("é@example.com"), "user");
    }

    #[test]
    fn chosen_names_are_checked() {
        assert_eq!(validate("username", " Ada ").unwrap(), "Ada");
        assert!(validate("username", "a").is_err());
        assert!(validate("username", "abcdefghijklmnopqrstu").is_err());
        assert!(validate("username", "ada lovelace").is_err());
        assert!(validate("username", "-ada").is_err());
        assert!(validate("username", "ada_l.v-2").is_ok());
    }
}
