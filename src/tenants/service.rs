//! The tenants' rules, and what other domains may ask of them: the one way in from outside it
//! (ARCHITECTURE.md).

use diesel_async::AsyncPgConnection;

use super::store;
use crate::auth::{Role, Viewer};
use crate::error::{AppError, AppResult};

/// A tenant's row, as accounts open sessions in it.
pub use super::model::TenantRow;

/// Creating a tenant (registration, the first superuser) and finding one (a session, a Stripe
/// customer).
pub use super::store::{find_tenant, insert_tenant};

/// A tenant name: trimmed, 1..=100 characters.
pub fn validate_name(field: &'static str, name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::bad_field(
            field,
            "the tenant name must have 1 to 100 characters",
        ));
    }
    Ok(name.to_owned())
}

/// Renames the viewer's tenant and/or sets its recycle-bin retention (ADMIN): `retention` is
/// None to leave it, `Some(None)` to keep recycled things until the bin is emptied by hand.
/// Both checked before either is written, in one statement.
pub async fn update(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    name: Option<&str>,
    retention: Option<Option<i32>>,
) -> AppResult<TenantRow> {
    viewer.require_role(Role::Admin)?;
    let name = name.map(|name| validate_name("name", name)).transpose()?;
    if let Some(Some(days)) = retention
        && !(1..=3_650).contains(&days)
    {
        return Err(AppError::bad_field(
            "recycleRetentionDays",
            "the recycle-bin retention must be 1 to 3,650 days (or null to keep things)",
        ));
    }
    store::update_tenant(conn, viewer.tenant_id, name.as_deref(), retention)
        .await?
        .ok_or_else(|| AppError::not_found("tenant not found"))
}
