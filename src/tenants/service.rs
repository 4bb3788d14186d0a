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

/// Renames the viewer's tenant (ADMIN).
pub async fn rename(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    name: &str,
) -> AppResult<TenantRow> {
    viewer.require_role(Role::Admin)?;
    let name = validate_name("name", name)?;
    store::rename_tenant(conn, viewer.tenant_id, &name).await
}
