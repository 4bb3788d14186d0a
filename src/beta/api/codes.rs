//! GraphQL of beta codes and enrollments.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::{BetaCode, BetaEnrollment};
use crate::accounts::api::{AuthPayload, RegisterInput};
use crate::auth::Role;
use crate::beta::codes::{self, CodeInput};
use crate::beta::store;
use crate::config::billing::Tier;
use crate::context::ContextExt;
use crate::db::pagination::{PageRequest, page_type};
use crate::db::parse_id;
use crate::error::AppResult;

/// What a new beta code grants.
#[derive(InputObject)]
pub struct BetaCodeInput {
    /// What it is for (whom it goes to): up to 200 characters.
    pub label: Option<String>,
    /// The tier whose features a tenant in the beta has; STUDIO when absent.
    pub tier: Option<Tier>,
    /// How many days of beta it gives: 1 to 365, 90 when absent.
    pub beta_days: Option<i32>,
    /// How many times it may be redeemed: 1 to 10,000, once when absent.
    pub max_uses: Option<i32>,
    /// When it stops working; never when absent.
    pub expires_at: Option<DateTime<Utc>>,
}

impl BetaCodeInput {
    pub fn into_input(self) -> CodeInput {
        CodeInput {
            label: self.label,
            tier: self.tier.unwrap_or(Tier::Studio),
            beta_days: self.beta_days.unwrap_or(90),
            max_uses: self.max_uses.unwrap_or(1),
            expires_at: self.expires_at,
        }
    }
}

/// A new beta code: the code itself, shown this once.
#[derive(SimpleObject)]
pub struct CreatedBetaCode {
    /// The code to hand out (`LORE-XXXXX-XXXXX-XXXXX`); only its hash is kept.
    pub code: String,
    /// The code as the operators see it from now on.
    pub beta_code: BetaCode,
}

/// Whether a beta code would work now.
#[derive(SimpleObject)]
pub struct BetaCodeCheck {
    /// True when it would; false for one unknown, used up, revoked or expired alike.
    pub valid: bool,
    /// The tier it gives, when valid.
    pub tier: Option<Tier>,
    /// The days of beta it gives, when valid.
    pub beta_days: Option<i32>,
}

page_type! {
    /// A page of beta codes.
    pub struct BetaCodePage { total, codes: Vec<BetaCode> }
}

#[derive(Default)]
pub struct BetaCodeQuery;

#[Object]
impl BetaCodeQuery {
    /// Whether a beta code would work now; no account needed (30 checks a minute per address).
    async fn validate_beta_code(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The code, as typed (case and dashes do not matter).")] code: String,
    ) -> AppResult<BetaCodeCheck> {
        let found = codes::check(ctx.platform(), &code, &ctx.auth().client).await?;
        Ok(BetaCodeCheck {
            valid: found.is_some(),
            tier: found.as_ref().and_then(|row| Tier::parse(&row.tier)),
            beta_days: found.map(|row| row.beta_days),
        })
    }

    /// The beta codes, newest first (SUPERUSER).
    async fn beta_codes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many to skip: 0 to 10,000, 0 when absent.")] offset: Option<i32>,
        #[graphql(desc = "How many to return: 1 to 200, 50 when absent.")] limit: Option<i32>,
    ) -> AppResult<BetaCodePage> {
        let viewer = ctx.viewer_with(Role::Superuser)?;
        let page = PageRequest::new(offset, limit)?;
        let mut conn = ctx.conn().await?;
        let (total, rows) = codes::list(&mut conn, viewer, page).await?;
        Ok(BetaCodePage::new(
            total,
            page,
            rows.into_iter().map(BetaCode).collect(),
        ))
    }

    /// Your tenant's place in the beta; null when it is not in it.
    async fn beta_enrollment(&self, ctx: &Context<'_>) -> AppResult<Option<BetaEnrollment>> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        Ok(store::enrollment(&mut conn, viewer.tenant_id)
            .await?
            .map(BetaEnrollment))
    }
}

#[derive(Default)]
pub struct BetaCodeMutation;

#[Object]
impl BetaCodeMutation {
    /// Makes a beta invite code (SUPERUSER); the code is shown this once.
    async fn create_beta_code(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What the code grants.")] input: BetaCodeInput,
    ) -> AppResult<CreatedBetaCode> {
        let viewer = ctx.viewer_with(Role::Superuser)?;
        let mut conn = ctx.conn().await?;
        let (row, code) = codes::create(&mut conn, viewer, input.into_input()).await?;
        Ok(CreatedBetaCode {
            code,
            beta_code: BetaCode(row),
        })
    }

    /// Revokes a beta code (SUPERUSER): it works no more; tenants it enrolled stay.
    async fn revoke_beta_code(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The code's id.")] id: ID,
    ) -> AppResult<BetaCode> {
        let viewer = ctx.viewer_with(Role::Superuser)?;
        let id = parse_id("id", &id)?;
        let mut conn = ctx.conn().await?;
        Ok(BetaCode(codes::revoke(&mut conn, viewer, id).await?))
    }

    /// Puts your tenant in the beta with a code (ADMIN).
    async fn redeem_beta_code(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The code, as typed.")] code: String,
    ) -> AppResult<BetaEnrollment> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        Ok(BetaEnrollment(
            codes::redeem(ctx.platform(), viewer, &code).await?,
        ))
    }

    /// Moves a tenant's beta end later, from now if it already ended (SUPERUSER).
    async fn extend_beta(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The tenant's id.")] tenant_id: ID,
        #[graphql(desc = "How many days: 1 to 365.")] days: i32,
    ) -> AppResult<BetaEnrollment> {
        let viewer = ctx.viewer_with(Role::Superuser)?;
        let tenant_id = parse_id("tenantId", &tenant_id)?;
        let mut conn = ctx.conn().await?;
        Ok(BetaEnrollment(
            codes::extend(&mut conn, viewer, tenant_id, days).await?,
        ))
    }

    /// Creates an account and a new tenant (you its ADMIN) in the beta with a code, and signs
    /// you in; works while registration is closed to everyone else. A bad code creates nothing.
    async fn register_with_beta_code(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new account and the name of its tenant.")] input: RegisterInput,
        #[graphql(desc = "The beta code, as typed.")] code: String,
    ) -> AppResult<AuthPayload> {
        let tokens = codes::register(
            ctx.platform(),
            &ctx.auth().client,
            input.registration(),
            &code,
        )
        .await?;
        Ok(AuthPayload(tokens))
    }
}
