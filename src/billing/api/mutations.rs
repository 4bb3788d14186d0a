//! Billing mutations: checkout, the customer portal, consuming BrainBits, quotas.

use async_graphql::{Context, ID, Object};

use super::types::{BrainbitsUsage, ConsumeBrainbitsPayload, TeamMemberBilling, usage_of};
use crate::auth::Role;
use crate::billing::consumption::{self, Charge, KeySource};
use crate::billing::quotas;
use crate::context::ContextExt;
use crate::db::parse_id;
use crate::error::AppResult;

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
        #[graphql(desc = "The BrainBits to consume: 1 to 1,000,000.")] amount: i32,
        #[graphql(desc = "What was done: 1 to 64 printable characters.")] operation: String,
        #[graphql(desc = "Who did it (the AI provider): 1 to 64 printable characters.")]
        provider: String,
        #[graphql(
            default_with = "KeySource::Studio",
            desc = "Whose provider key paid for the call; STUDIO when absent."
        )]
        key_source: KeySource,
    ) -> AppResult<ConsumeBrainbitsPayload> {
        let viewer = ctx.viewer()?;
        let charge = Charge {
            amount,
            operation: &operation,
            provider: &provider,
            key_source,
            take: consumption::Take::All,
        };
        let mut conn = ctx.conn().await?;
        let paid = consumption::consume(ctx.platform(), &mut conn, viewer, charge).await?;
        Ok(ConsumeBrainbitsPayload {
            charged: paid.charged,
            exempt: paid.exempt,
            message: paid.message,
            balance: paid.balance,
            entry_id: paid.entry_id.map(|id| ID(id.to_string())),
        })
    }

    /// Caps the BrainBits the whole team may consume per period; null removes the cap
    /// (ADMIN, TEAM_QUOTAS).
    async fn update_team_quota(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The team's cap in BrainBits per period; null removes it.")] quota: Option<
            i64,
        >,
    ) -> AppResult<BrainbitsUsage> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        quotas::set_team_quota(ctx.platform(), viewer, quota).await?;
        usage_of(ctx).await
    }

    /// Caps the BrainBits one member may consume per period; null removes the cap (ADMIN,
    /// TEAM_QUOTAS).
    async fn update_user_quota(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member's id.")] user_id: ID,
        #[graphql(desc = "The member's cap in BrainBits per period; null removes it.")]
        quota: Option<i64>,
    ) -> AppResult<TeamMemberBilling> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let user_id = parse_id("userId", &user_id)?;
        let member = quotas::set_member_quota(ctx.platform(), viewer, user_id, quota).await?;
        Ok(TeamMemberBilling {
            user_id: member.user_id,
            used: member.used,
            quota: member.quota,
        })
    }
}
