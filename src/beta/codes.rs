//! Beta invite codes: made by the operators (SUPERUSER), shown once (only a hash is kept),
//! redeemed by a tenant's ADMIN (or while registering) to put the tenant in the beta with the
//! code's tier for the code's number of days; revoked and extended by the operators.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use rand::Rng;
use uuid::Uuid;

use super::model::{CodeRow, EnrollmentRow};
use super::store::{self, NewCode};
use crate::accounts::service::{self as accounts, Registration, SessionTokens};
use crate::auth::tokens::secret_hash;
use crate::auth::viewer::ClientInfo;
use crate::auth::{Role, Viewer, rate_window};
use crate::config::billing::Tier;
use crate::context::Platform;
use crate::db::pagination::PageRequest;
use crate::db::validate_text;
use crate::error::{AppError, AppResult};

/// Crockford's base32 alphabet: no I, L, O or U to misread.
const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Code checks per client address a minute (the public `validateBetaCode`).
const CHECKS_PER_MINUTE: u32 = 30;

/// What a new code grants.
pub struct CodeInput {
    pub label: Option<String>,
    pub tier: Tier,
    pub beta_days: i32,
    pub max_uses: i32,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A fresh code: `LORE-` and three groups of five.
fn new_code() -> String {
    let mut rng = rand::rng();
    let groups: Vec<String> = (0..3)
        .map(|_| {
            (0..5)
                .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
                .collect()
        })
        .collect();
    format!("LORE-{}", groups.join("-"))
}

/// A code as typed: case, dashes and spaces do not matter.
fn normalized(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn invalid() -> AppError {
    AppError::bad_field(
        "code",
        "the beta code is invalid, used up, revoked or expired",
    )
}

/// Makes a code (SUPERUSER); the row and the code, shown this once.
pub async fn create(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    input: CodeInput,
) -> AppResult<(CodeRow, String)> {
    viewer.require_role(Role::Superuser)?;
    let label = input.label.as_deref().unwrap_or("").trim().to_owned();
    validate_text("label", &label, 200)?;
    if !(1..=365).contains(&input.beta_days) {
        return Err(AppError::bad_field(
            "betaDays",
            "a beta lasts 1 to 365 days",
        ));
    }
    if !(1..=10_000).contains(&input.max_uses) {
        return Err(AppError::bad_field(
            "maxUses",
            "a code works 1 to 10,000 times",
        ));
    }
    if input.expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(AppError::bad_field(
            "expiresAt",
            "the expiry must be in the future",
        ));
    }
    let code = new_code();
    let plain = normalized(&code);
    let hint: String = plain.chars().skip(plain.len().saturating_sub(4)).collect();
    let row = store::insert_code(
        conn,
        NewCode {
            code_hash: &secret_hash(&plain),
            code_hint: &hint,
            label: &label,
            tier: input.tier.as_str(),
            beta_days: input.beta_days,
            max_uses: input.max_uses,
            expires_at: input.expires_at,
            created_by: viewer.user_id,
        },
    )
    .await?;
    Ok((row, code))
}

/// The open code `code` names, if any.
async fn open_code(conn: &mut AsyncPgConnection, code: &str) -> AppResult<Option<CodeRow>> {
    let plain = normalized(code);
    if plain.is_empty() || plain.len() > 64 {
        return Ok(None);
    }
    Ok(store::code_by_hash(conn, &secret_hash(&plain))
        .await?
        .filter(CodeRow::is_open))
}

/// Whether a code would work now, for anyone (rate-limited per address): the open code, or
/// None for one that is unknown, used up, revoked or expired alike.
pub async fn check(
    platform: &Platform,
    code: &str,
    client: &ClientInfo,
) -> AppResult<Option<CodeRow>> {
    let mut conn = platform.pool.get().await?;
    count_check(&mut conn, client).await?;
    open_code(&mut conn, code).await
}

/// Counts a try at a code from the client's address (RATE_LIMITED past 30 a minute).
async fn count_check(conn: &mut AsyncPgConnection, client: &ClientInfo) -> AppResult<()> {
    rate_window::ensure_within(
        conn,
        &rate_window::address_key("beta-code", client.ip),
        CHECKS_PER_MINUTE,
        Duration::from_secs(60),
        "too many beta codes tried; wait a minute",
    )
    .await
}

/// Uses `code` to enroll `tenant_id`, inside the caller's transaction: the code's use and the
/// enrollment happen together or not at all.
pub async fn enroll(
    conn: &mut AsyncPgConnection,
    code: &str,
    tenant_id: Uuid,
    user_id: Uuid,
) -> AppResult<EnrollmentRow> {
    let found = open_code(conn, code).await?.ok_or_else(invalid)?;
    let used = store::use_code(conn, found.id).await?.ok_or_else(invalid)?;
    store::enroll(conn, tenant_id, &used, user_id)
        .await?
        .ok_or_else(|| AppError::conflict("this tenant is in the beta already"))
}

/// Puts the viewer's tenant in the beta with `code` (ADMIN).
pub async fn redeem(platform: &Platform, viewer: &Viewer, code: &str) -> AppResult<EnrollmentRow> {
    viewer.require_role(Role::Admin)?;
    let mut conn = platform.pool.get().await?;
    rate_window::ensure_within(
        &mut conn,
        &format!("beta-redeem:{}", viewer.user_id),
        CHECKS_PER_MINUTE,
        Duration::from_secs(60),
        "too many beta codes tried; wait a minute",
    )
    .await?;
    let (tenant_id, user_id) = (viewer.tenant_id, viewer.user_id);
    conn.transaction::<_, AppError, _>(async |conn| enroll(conn, code, tenant_id, user_id).await)
        .await
}

/// Registers an account and its tenant with a beta code: the account, the tenant and the
/// enrollment are one transaction (a bad code creates nothing). Works while registration is
/// closed to everyone else.
pub async fn register(
    platform: &Platform,
    client: &ClientInfo,
    registration: Registration<'_>,
    code: &str,
) -> AppResult<SessionTokens> {
    // Each try at a code counts as a check, whichever way it comes (the account's fields are
    // checked before the code, so a bad field does not say whether the code was good).
    {
        let mut conn = platform.pool.get().await?;
        count_check(&mut conn, client).await?;
    }
    let code = code.to_owned();
    accounts::register_with(
        platform,
        client,
        registration,
        move |conn: &mut AsyncPgConnection, tenant_id: Uuid, user_id: Uuid| {
            Box::pin(async move { enroll(conn, &code, tenant_id, user_id).await.map(|_| ()) })
        },
    )
    .await
}

pub async fn revoke(conn: &mut AsyncPgConnection, viewer: &Viewer, id: Uuid) -> AppResult<CodeRow> {
    viewer.require_role(Role::Superuser)?;
    store::revoke_code(conn, id)
        .await?
        .ok_or_else(|| AppError::not_found("beta code not found"))
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    page: PageRequest,
) -> AppResult<(i64, Vec<CodeRow>)> {
    viewer.require_role(Role::Superuser)?;
    store::list_codes(conn, page).await
}

/// Moves a tenant's beta end `days` (1 to 365) later, from now if it already ended
/// (SUPERUSER).
pub async fn extend(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    tenant_id: Uuid,
    days: i32,
) -> AppResult<EnrollmentRow> {
    viewer.require_role(Role::Superuser)?;
    if !(1..=365).contains(&days) {
        return Err(AppError::bad_field("days", "extend by 1 to 365 days"));
    }
    store::extend(conn, tenant_id, days)
        .await?
        .ok_or_else(|| AppError::not_found("that tenant is not in the beta"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_the_same_however_they_are_typed() {
        let code = new_code();
        assert!(code.starts_with("LORE-") && code.len() == 22, "{code}");
        assert_eq!(normalized(&code.to_lowercase()), normalized(&code));
        assert_eq!(normalized(" lore-ab12c "), "LOREAB12C");
    }
}
