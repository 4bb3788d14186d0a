//! GraphQL of quota groups: the BrainBits quotas of teams and groups and what their members
//! consumed this period.

use async_graphql::{Context, Enum, ID, Object};
use chrono::{DateTime, Utc};

use crate::auth::Role;
use crate::billing::group_quotas::{self, GroupQuota};
use crate::billing::ledger::Period;
use crate::context::ContextExt;
use crate::db::parse_id;
use crate::error::AppResult;
use crate::teams::api::{Group, Team};
use crate::teams::service::GroupKind;

/// Whether a quota group is a team or a group.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum QuotaGroupKind {
    /// A team (`teams`).
    Team,
    /// A group (`groups`).
    Group,
}

pub struct QuotaGroup {
    quota: GroupQuota,
    period: Period,
}

impl QuotaGroup {
    fn new((period, quota): (Period, GroupQuota)) -> Self {
        Self { quota, period }
    }
}

/// A team's or group's BrainBits quota and what its members consumed this period. Every debit
/// by a member counts against each of their teams and groups.
#[Object]
impl QuotaGroup {
    /// The team's or group's id.
    async fn id(&self) -> ID {
        ID(self.quota.group.id.to_string())
    }

    /// Team or group.
    async fn kind(&self) -> QuotaGroupKind {
        match self.quota.group.kind() {
            GroupKind::Team => QuotaGroupKind::Team,
            GroupKind::Group => QuotaGroupKind::Group,
        }
    }

    /// Its name.
    async fn name(&self) -> &str {
        &self.quota.group.name
    }

    /// The team, when it is one.
    async fn team(&self) -> Option<Team> {
        (self.quota.group.kind() == GroupKind::Team).then(|| Team(self.quota.group.clone()))
    }

    /// The group, when it is one.
    async fn group(&self) -> Option<Group> {
        (self.quota.group.kind() == GroupKind::Group).then(|| Group(self.quota.group.clone()))
    }

    /// Its cap in BrainBits per period; null for none.
    async fn quota(&self) -> Option<i64> {
        self.quota.quota
    }

    /// What its members consumed this period (since the last reset, if any).
    async fn used(&self) -> i64 {
        self.quota.used
    }

    /// What is left under the cap; null without one.
    async fn remaining(&self) -> Option<i64> {
        self.quota
            .quota
            .map(|quota| (quota - self.quota.used).max(0))
    }

    /// When the period began.
    async fn period_start(&self) -> DateTime<Utc> {
        self.period.start
    }

    /// When the period ends.
    async fn period_end(&self) -> DateTime<Utc> {
        self.period.end
    }

    /// When this period's count was last reset, if it was.
    async fn reset_at(&self) -> Option<DateTime<Utc>> {
        self.quota.reset_at
    }
}

#[derive(Default)]
pub struct QuotaGroupQuery;

#[Object]
impl QuotaGroupQuery {
    /// Every team and group with its quota and usage this period (teams first, by name).
    async fn quota_groups(&self, ctx: &Context<'_>) -> AppResult<Vec<QuotaGroup>> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        let (period, quotas) = group_quotas::list(&mut conn, viewer).await?;
        Ok(quotas
            .into_iter()
            .map(|quota| QuotaGroup {
                quota,
                period: period.clone(),
            })
            .collect())
    }

    /// One team's or group's quota and usage this period.
    async fn quota_group(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The team's or group's id.")] id: ID,
    ) -> AppResult<QuotaGroup> {
        let viewer = ctx.viewer()?;
        let id = parse_id("id", &id)?;
        let mut conn = ctx.conn().await?;
        Ok(QuotaGroup::new(
            group_quotas::get(&mut conn, viewer, id).await?,
        ))
    }
}

#[derive(Default)]
pub struct QuotaGroupMutation;

#[Object]
impl QuotaGroupMutation {
    /// Caps what a team's or group's members may consume together per period; null removes
    /// the cap (ADMIN, TEAM_QUOTAS).
    async fn update_group_quota(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The team's or group's id.")] id: ID,
        #[graphql(desc = "The cap in BrainBits per period; null removes it.")] quota: Option<i64>,
    ) -> AppResult<QuotaGroup> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let id = parse_id("id", &id)?;
        Ok(QuotaGroup::new(
            group_quotas::set_quota(ctx.platform(), viewer, id, quota).await?,
        ))
    }

    /// Zeroes what a team's or group's members consumed this period, so its quota starts over
    /// (ADMIN). The ledger keeps every entry.
    async fn reset_quota_group(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The team's or group's id.")] id: ID,
    ) -> AppResult<QuotaGroup> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let id = parse_id("id", &id)?;
        Ok(QuotaGroup::new(
            group_quotas::reset(ctx.platform(), viewer, id).await?,
        ))
    }
}
