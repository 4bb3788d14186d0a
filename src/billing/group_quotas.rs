//! BrainBits quotas per team and per group ("quota groups"): a cap per billing period on what
//! the members of a team or group consume together. Usage is counted per period in the debit's
//! own transaction (under the account lock), for every team and group the member is in, so a
//! quota set mid-period already knows what was used; a reset zeroes the period's count.

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::ledger::{self, Period};
use super::tiers::{Feature, require_feature};
use crate::auth::{Role, Viewer};
use crate::context::Platform;
use crate::db::schema::brainbits_group_quotas;
use crate::error::{AppError, AppResult};
use crate::teams::service::{self as teams, GroupKind, GroupRow};

/// One team's or group's quota and what its members consumed this period.
#[derive(Clone, Debug)]
pub struct GroupQuota {
    pub group: GroupRow,
    pub quota: Option<i64>,
    pub used: i64,
    /// When the period's count was last reset, if it was.
    pub reset_at: Option<DateTime<Utc>>,
}

impl GroupQuota {
    /// How it is named in a refusal: "the team Art" or "the group Writers".
    pub fn label(&self) -> String {
        format!("the {} {}", self.group.kind().noun(), self.group.name)
    }
}

#[derive(QueryableByName)]
struct StateRow {
    #[diesel(sql_type = SqlUuid)]
    group_id: Uuid,
    #[diesel(sql_type = Nullable<BigInt>)]
    period_limit: Option<i64>,
    #[diesel(sql_type = BigInt)]
    used: i64,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    reset_at: Option<DateTime<Utc>>,
}

/// The quota and usage in `period_key` of each of `groups` (in their order).
async fn states(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    groups: Vec<GroupRow>,
    period_key: &str,
) -> AppResult<Vec<GroupQuota>> {
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = groups.iter().map(|group| group.id).collect();
    let rows: Vec<StateRow> = diesel::sql_query(
        "SELECT g.id AS group_id, q.period_limit, COALESCE(u.used, 0)::bigint AS used, u.reset_at \
         FROM unnest($2::uuid[]) AS g(id) \
         LEFT JOIN brainbits_group_quotas q ON q.tenant_id = $1 AND q.group_id = g.id \
         LEFT JOIN brainbits_group_usage u \
           ON u.tenant_id = $1 AND u.group_id = g.id AND u.period_key = $3",
    )
    .bind::<SqlUuid, _>(tenant_id)
    .bind::<Array<SqlUuid>, _>(&ids)
    .bind::<Text, _>(period_key)
    .load(conn)
    .await?;
    Ok(groups
        .into_iter()
        .map(|group| {
            let row = rows.iter().find(|row| row.group_id == group.id);
            GroupQuota {
                quota: row.and_then(|row| row.period_limit),
                used: row.map_or(0, |row| row.used),
                reset_at: row.and_then(|row| row.reset_at),
                group,
            }
        })
        .collect())
}

/// The teams and groups a member is in, with their quotas and usage in `period`: what a debit
/// checks and counts.
pub async fn of_member(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    period: &Period,
) -> AppResult<Vec<GroupQuota>> {
    let groups = teams::groups_of_member(conn, tenant_id, user_id).await?;
    states(conn, tenant_id, groups, &period.key).await
}

/// Counts `amount` against each of the member's teams and groups in `period`, in the debit's
/// transaction.
pub async fn count(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    groups: &[GroupQuota],
    period: &Period,
    amount: i64,
) -> AppResult<()> {
    if groups.is_empty() || amount <= 0 {
        return Ok(());
    }
    let ids: Vec<Uuid> = groups.iter().map(|group| group.group.id).collect();
    diesel::sql_query(
        "INSERT INTO brainbits_group_usage (tenant_id, group_id, period_key, used) \
         SELECT $1, g, $3, $4 FROM unnest($2::uuid[]) AS g \
         ON CONFLICT (tenant_id, group_id, period_key) \
         DO UPDATE SET used = brainbits_group_usage.used + EXCLUDED.used",
    )
    .bind::<SqlUuid, _>(tenant_id)
    .bind::<Array<SqlUuid>, _>(&ids)
    .bind::<Text, _>(&period.key)
    .bind::<BigInt, _>(amount)
    .execute(conn)
    .await?;
    Ok(())
}

/// The current period of the viewer's tenant (crediting its allowance if it just began).
async fn current_period(conn: &mut AsyncPgConnection, tenant_id: Uuid) -> AppResult<Period> {
    let (_, _, period) = ledger::settle(conn, tenant_id).await?;
    Ok(period)
}

/// Every team and group of the viewer's tenant with its quota and usage this period (teams
/// first, each by name); any member may look.
pub async fn list(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
) -> AppResult<(Period, Vec<GroupQuota>)> {
    let mut groups = teams::list(conn, viewer, GroupKind::Team).await?;
    groups.extend(teams::list(conn, viewer, GroupKind::Group).await?);
    let period = current_period(conn, viewer.tenant_id).await?;
    let quotas = states(conn, viewer.tenant_id, groups, &period.key).await?;
    Ok((period, quotas))
}

/// One team's or group's quota and usage this period.
pub async fn get(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    group_id: Uuid,
) -> AppResult<(Period, GroupQuota)> {
    let group = find_group(conn, viewer, group_id).await?;
    let period = current_period(conn, viewer.tenant_id).await?;
    let mut quotas = states(conn, viewer.tenant_id, vec![group], &period.key).await?;
    let quota = quotas
        .pop()
        .ok_or_else(|| AppError::not_found("team or group not found"))?;
    Ok((period, quota))
}

async fn find_group(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    group_id: Uuid,
) -> AppResult<GroupRow> {
    match teams::get(conn, viewer, GroupKind::Team, group_id).await {
        Err(AppError::NotFound(_)) => teams::get(conn, viewer, GroupKind::Group, group_id)
            .await
            .map_err(|_| AppError::not_found("team or group not found")),
        other => other,
    }
}

/// Caps what a team's or group's members may consume together per period; `None` removes the
/// cap (ADMIN, on a tier with TEAM_QUOTAS).
pub async fn set_quota(
    platform: &Platform,
    viewer: &Viewer,
    group_id: Uuid,
    quota: Option<i64>,
) -> AppResult<(Period, GroupQuota)> {
    viewer.require_role(Role::Admin)?;
    if quota.is_some_and(|quota| quota < 0) {
        return Err(AppError::bad_field("quota", "a quota is at least 0"));
    }
    require_feature(platform, viewer.tenant_id, Feature::TeamQuotas).await?;
    let mut conn = platform.pool.get().await?;
    let group = find_group(&mut conn, viewer, group_id).await?;
    match quota {
        Some(limit) => {
            diesel::insert_into(brainbits_group_quotas::table)
                .values((
                    brainbits_group_quotas::tenant_id.eq(viewer.tenant_id),
                    brainbits_group_quotas::group_id.eq(group.id),
                    brainbits_group_quotas::period_limit.eq(limit),
                ))
                .on_conflict((
                    brainbits_group_quotas::tenant_id,
                    brainbits_group_quotas::group_id,
                ))
                .do_update()
                .set((
                    brainbits_group_quotas::period_limit.eq(limit),
                    brainbits_group_quotas::updated_at.eq(diesel::dsl::now),
                ))
                .execute(&mut conn)
                .await?;
        }
        None => {
            diesel::delete(brainbits_group_quotas::table.find((viewer.tenant_id, group.id)))
                .execute(&mut conn)
                .await?;
        }
    }
    get(&mut conn, viewer, group.id).await
}

/// Zeroes what a team's or group's members consumed this period (ADMIN): the quota starts
/// over. The ledger keeps every entry; only the group's count restarts.
pub async fn reset(
    platform: &Platform,
    viewer: &Viewer,
    group_id: Uuid,
) -> AppResult<(Period, GroupQuota)> {
    viewer.require_role(Role::Admin)?;
    let mut conn = platform.pool.get().await?;
    let group = find_group(&mut conn, viewer, group_id).await?;
    let tenant_id = viewer.tenant_id;
    conn.transaction::<_, AppError, _>(async |conn| {
        // Under the account lock, so no debit counts into the period while it is reset.
        let account = super::store::lock_account(conn, tenant_id).await?;
        let period = ledger::period_of(&account, Utc::now());
        diesel::sql_query(
            "INSERT INTO brainbits_group_usage (tenant_id, group_id, period_key, used, reset_at) \
             VALUES ($1, $2, $3, 0, now()) \
             ON CONFLICT (tenant_id, group_id, period_key) \
             DO UPDATE SET used = 0, reset_at = now()",
        )
        .bind::<SqlUuid, _>(tenant_id)
        .bind::<SqlUuid, _>(group.id)
        .bind::<Text, _>(&period.key)
        .execute(conn)
        .await?;
        Ok(())
    })
    .await?;
    get(&mut conn, viewer, group.id).await
}
