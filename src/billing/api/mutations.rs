//! Billing mutations: checkout, the customer portal, consuming BrainBits, quotas.

use async_graphql::{Context, ID, Object};

use super::types::{
    BrainbitsUsage, ConsumeBrainbitsPayload, KeySource, TeamMemberBilling, is_on_device, usage_of,
    validate_label, validate_quota,
};
use crate::accounts::service as accounts;
use crate::auth::Role;
use crate::billing::ledger::{self, Debit};
use crate::billing::service::{Feature, require_feature};
use crate::billing::store;
use crate::context::ContextExt;
use crate::db::parse_id;
use crate::error::{AppError, AppResult};
use crate::events::{BrainbitsDebit, EventPayload};

/// Most BrainBits one call may consume.
const MAX_DEBIT: i32 = 1_000_000;

#[derive(Default)]
pub struct BillingMutation;

#[Object]
impl BillingMutation {
    /// Pays for an AI operation in BrainBits (1 to 1,000,000). Calls on the user's own key
    /// (BYOK) or an on-device provider are not metered. Refused with FORBIDDEN
    /// (`reason`: quota_exceeded or insufficient_brainbits) when a quota or the balance would
    /// not cover it; the balance never goes below 0.
    async fn consume_brainbits(
        &self,
        ctx: &Context<'_>,
        amount: i32,
        operation: String,
        provider: String,
        #[graphql(default_with = "KeySource::Studio")] key_source: KeySource,
    ) -> AppResult<ConsumeBrainbitsPayload> {
        let viewer = ctx.viewer()?;
        if !(1..=MAX_DEBIT).contains(&amount) {
            return Err(AppError::bad_field(
                "amount",
                "consume 1 to 1,000,000 BrainBits",
            ));
        }
        let operation = validate_label("operation", &operation)?;
        let provider = validate_label("provider", &provider)?;
        let mut conn = ctx.conn().await?;
        let exemption = match key_source {
            _ if !ctx.platform().config.billing.configured() => {
                Some("billing is not configured on this server: not metered")
            }
            KeySource::Byok => Some("your own key: not metered"),
            KeySource::Studio if is_on_device(&provider) => Some("on-device: not metered"),
            KeySource::Studio => None,
        };
        if let Some(message) = exemption {
            let (_, balance, _) = ledger::settle(&mut conn, viewer.tenant_id).await?;
            return Ok(ConsumeBrainbitsPayload {
                charged: 0,
                exempt: true,
                message: message.to_owned(),
                balance,
                entry_id: None,
            });
        }
        let debit = Debit {
            tenant_id: viewer.tenant_id,
            user_id: viewer.user_id,
            amount: i64::from(amount),
            operation: &operation,
            provider: &provider,
        };
        let entry = ledger::debit(&mut conn, &debit).await?;
        ctx.platform().events.publish(
            viewer.tenant_id,
            Some(viewer.user_id),
            EventPayload::BrainbitsDeducted(BrainbitsDebit {
                entry_id: entry.id,
                user_id: viewer.user_id,
                amount: -entry.amount,
                balance: entry.balance_after,
                operation,
                provider,
            }),
        );
        Ok(ConsumeBrainbitsPayload {
            charged: -entry.amount,
            exempt: false,
            message: format!("{} BrainBits taken", -entry.amount),
            balance: entry.balance_after,
            entry_id: Some(ID(entry.id.to_string())),
        })
    }

    /// Caps the BrainBits the whole team may consume per period; null removes the cap
    /// (ADMIN, TEAM_QUOTAS).
    async fn update_team_quota(
        &self,
        ctx: &Context<'_>,
        quota: Option<i64>,
    ) -> AppResult<BrainbitsUsage> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let quota = validate_quota("quota", quota)?;
        require_feature(ctx.platform(), ctx.viewer()?.tenant_id, Feature::TeamQuotas).await?;
        let mut conn = ctx.conn().await?;
        store::set_team_quota(&mut conn, viewer.tenant_id, quota).await?;
        drop(conn);
        usage_of(ctx).await
    }

    /// Caps the BrainBits one member may consume per period; null removes the cap (ADMIN,
    /// TEAM_QUOTAS).
    async fn update_user_quota(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        quota: Option<i64>,
    ) -> AppResult<TeamMemberBilling> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let quota = validate_quota("quota", quota)?;
        let user_id = parse_id("userId", &user_id)?;
        require_feature(ctx.platform(), ctx.viewer()?.tenant_id, Feature::TeamQuotas).await?;
        let mut conn = ctx.conn().await?;
        if accounts::membership(&mut conn, viewer.tenant_id, user_id)
            .await?
            .is_none()
        {
            return Err(AppError::not_found("there is no such member here"));
        }
        ledger::set_user_quota(&mut conn, viewer.tenant_id, user_id, quota).await?;
        let (_, _, period) = ledger::settle(&mut conn, viewer.tenant_id).await?;
        let used = ledger::consumed_since(&mut conn, viewer.tenant_id, Some(user_id), period.start)
            .await?;
        Ok(TeamMemberBilling {
            user_id,
            used,
            quota,
        })
    }
}
