//! Capping consumption: the team's quota and each member's, per billing period (ADMIN, on a
//! tier with TEAM_QUOTAS). The ledger checks them on every debit.

use uuid::Uuid;

use super::ledger;
use super::store;
use super::tiers::{Feature, require_feature};
use crate::accounts::service as accounts;
use crate::auth::{Role, Viewer};
use crate::context::Platform;
use crate::error::{AppError, AppResult};

/// Caps what the viewer's whole team may consume per period; `None` removes the cap.
pub async fn set_team_quota(
    platform: &Platform,
    viewer: &Viewer,
    quota: Option<i64>,
) -> AppResult<()> {
    viewer.require_role(Role::Admin)?;
    let quota = validate_quota(quota)?;
    require_feature(platform, viewer.tenant_id, Feature::TeamQuotas).await?;
    let mut conn = platform.pool.get().await?;
    store::set_team_quota(&mut conn, viewer.tenant_id, quota).await?;
    Ok(())
}

/// A member's quota and what they consumed this period.
#[derive(Clone, Copy, Debug)]
pub struct MemberQuota {
    pub user_id: Uuid,
    pub used: i64,
    pub quota: Option<i64>,
}

/// Caps what one member of the viewer's tenant may consume per period; `None` removes the cap.
pub async fn set_member_quota(
    platform: &Platform,
    viewer: &Viewer,
    user_id: Uuid,
    quota: Option<i64>,
) -> AppResult<MemberQuota> {
    viewer.require_role(Role::Admin)?;
    let quota = validate_quota(quota)?;
    require_feature(platform, viewer.tenant_id, Feature::TeamQuotas).await?;
    let mut conn = platform.pool.get().await?;
    if accounts::membership(&mut conn, viewer.tenant_id, user_id)
        .await?
        .is_none()
    {
        return Err(AppError::not_found("there is no such member here"));
    }
    ledger::set_user_quota(&mut conn, viewer.tenant_id, user_id, quota).await?;
    let (_, _, period) = ledger::settle(&mut conn, viewer.tenant_id).await?;
    let used =
        ledger::consumed_since(&mut conn, viewer.tenant_id, Some(user_id), period.start).await?;
    Ok(MemberQuota {
        user_id,
        used,
        quota,
    })
}

fn validate_quota(quota: Option<i64>) -> AppResult<Option<i64>> {
    match quota {
        Some(q) if q < 0 => Err(AppError::bad_field("quota", "a quota is at least 0")),
        other => Ok(other),
    }
}
