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

/// The SELECT of up to `$3` rows of `table` (entities or assets: a `tenant_id`, an `id`, a
/// `deleted_at`) that have been in their tenant's recycle bin longer than its retention, or
/// than `$2` days when not NULL; of the tenant `$1`, or of every tenant when NULL. Each row
/// comes with `cutoff`, the time before which it was recycled; tenants that keep recycled
/// things are passed over. Read through the bin's index, tenant by tenant.
pub fn expired_in_bin(table: &'static str) -> String {
    format!(
        "SELECT e.tenant_id, e.id, e.cutoff FROM tenants t \
         CROSS JOIN LATERAL ( \
           SELECT x.tenant_id, x.id, \
                  now() - make_interval(days => COALESCE($2, t.recycle_retention_days)) AS cutoff \
             FROM {table} x \
            WHERE x.tenant_id = t.id AND x.deleted_at IS NOT NULL \
              AND x.deleted_at < now() - make_interval(days => COALESCE($2, t.recycle_retention_days)) \
            ORDER BY x.deleted_at LIMIT $3) e \
         WHERE ($1::uuid IS NULL OR t.id = $1) \
           AND COALESCE($2, t.recycle_retention_days) IS NOT NULL \
         LIMIT $3"
    )
}

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
