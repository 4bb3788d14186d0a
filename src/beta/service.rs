//! What other domains ask of the beta program: the tier a tenant's beta gives it while it
//! lasts (its features count as the tenant's own).

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::store;
use crate::config::billing::Tier;
use crate::error::AppResult;

/// The tier of the tenant's beta while it lasts.
pub async fn active_tier(conn: &mut AsyncPgConnection, tenant_id: Uuid) -> AppResult<Option<Tier>> {
    Ok(store::enrollment(conn, tenant_id)
        .await?
        .filter(|enrollment| enrollment.is_active())
        .and_then(|enrollment| Tier::parse(&enrollment.tier)))
}
