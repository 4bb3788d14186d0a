//! GraphQL of beta feedback, the waitlist and the program's numbers.

use async_graphql::{Context, ID, Object, SimpleObject};

use super::codes::BetaCodeInput;
use super::{BetaCode, BetaFeedback, WaitlistEntry};
use crate::auth::Role;
use crate::beta::model::{FeedbackKind, FeedbackStatus};
use crate::beta::{feedback, store, waitlist};
use crate::context::ContextExt;
use crate::db::pagination::{PageRequest, page_type};
use crate::db::parse_id;
use crate::error::AppResult;

page_type! {
    /// A page of feedback.
    pub struct BetaFeedbackPage { total, feedback: Vec<BetaFeedback> }
}

page_type! {
    /// A page of the waitlist.
    pub struct WaitlistPage { total, entries: Vec<WaitlistEntry> }
}

/// A waitlist entry given a code.
#[derive(SimpleObject)]
pub struct WaitlistPromotion {
    /// The entry.
    pub entry: WaitlistEntry,
    /// Its single-use code, shown this once.
    pub code: String,
    /// The code as the operators see it.
    pub beta_code: BetaCode,
    /// Whether the code was mailed (false without a mail relay: it was logged instead).
    pub mailed: bool,
}

/// The beta program in numbers.
#[derive(SimpleObject)]
pub struct BetaStatistics {
    /// Codes made.
    pub codes: i64,
    /// Codes that would work now.
    pub open_codes: i64,
    /// Times codes were redeemed.
    pub redemptions: i64,
    /// Tenants ever in the beta.
    pub enrolled_tenants: i64,
    /// Tenants in it now.
    pub active_enrollments: i64,
    /// People on the waitlist.
    pub waitlist: i64,
    /// Of them, given a code.
    pub waitlist_promoted: i64,
    /// Pieces of feedback.
    pub feedback: i64,
    /// Of them, not looked at yet.
    pub feedback_new: i64,
}

#[derive(Default)]
pub struct BetaCommunityQuery;

#[Object]
impl BetaCommunityQuery {
    /// Feedback, newest first: everyone's for SUPERUSER, your own for anyone else.
    async fn beta_feedback(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only feedback with this status.")] status: Option<FeedbackStatus>,
        #[graphql(desc = "How many to skip: 0 to 10,000, 0 when absent.")] offset: Option<i32>,
        #[graphql(desc = "How many to return: 1 to 200, 50 when absent.")] limit: Option<i32>,
    ) -> AppResult<BetaFeedbackPage> {
        let viewer = ctx.viewer()?;
        let page = PageRequest::new(offset, limit)?;
        let mut conn = ctx.conn().await?;
        let (total, rows) = feedback::list(&mut conn, viewer, status, page).await?;
        Ok(BetaFeedbackPage::new(
            total,
            page,
            rows.into_iter().map(BetaFeedback).collect(),
        ))
    }

    /// The waitlist, first come first (SUPERUSER).
    async fn waitlist(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only entries given a code (true) or still waiting (false).")]
        promoted: Option<bool>,
        #[graphql(desc = "How many to skip: 0 to 10,000, 0 when absent.")] offset: Option<i32>,
        #[graphql(desc = "How many to return: 1 to 200, 50 when absent.")] limit: Option<i32>,
    ) -> AppResult<WaitlistPage> {
        let viewer = ctx.viewer_with(Role::Superuser)?;
        let page = PageRequest::new(offset, limit)?;
        let mut conn = ctx.conn().await?;
        let (total, rows) = waitlist::list(&mut conn, viewer, promoted, page).await?;
        Ok(WaitlistPage::new(
            total,
            page,
            rows.into_iter().map(WaitlistEntry).collect(),
        ))
    }

    /// The beta program in numbers (SUPERUSER).
    async fn beta_statistics(&self, ctx: &Context<'_>) -> AppResult<BetaStatistics> {
        ctx.viewer_with(Role::Superuser)?;
        let mut conn = ctx.conn().await?;
        let counts = store::counts(&mut conn).await?;
        Ok(BetaStatistics {
            codes: counts.codes,
            open_codes: counts.open_codes,
            redemptions: counts.redemptions,
            enrolled_tenants: counts.enrolled_tenants,
            active_enrollments: counts.active_enrollments,
            waitlist: counts.waitlist,
            waitlist_promoted: counts.waitlist_promoted,
            feedback: counts.feedback,
            feedback_new: counts.feedback_new,
        })
    }
}

#[derive(Default)]
pub struct BetaCommunityMutation;

#[Object]
impl BetaCommunityMutation {
    /// Sends the operators feedback (20 an hour).
    async fn submit_beta_feedback(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What it is about.")] kind: FeedbackKind,
        #[graphql(desc = "What you want to say: 1 to 5,000 characters.")] message: String,
        #[graphql(desc = "Where in the apps you were: up to 500 characters.")] page: Option<String>,
    ) -> AppResult<BetaFeedback> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        let row = feedback::submit(&mut conn, viewer, kind, &message, page.as_deref()).await?;
        Ok(BetaFeedback(row))
    }

    /// Moves a piece of feedback along and notes why (SUPERUSER).
    async fn update_beta_feedback(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The feedback's id.")] id: ID,
        #[graphql(desc = "Its new status.")] status: Option<FeedbackStatus>,
        #[graphql(desc = "A note for the record: up to 2,000 characters.")] note: Option<String>,
    ) -> AppResult<BetaFeedback> {
        let viewer = ctx.viewer_with(Role::Superuser)?;
        let id = parse_id("id", &id)?;
        let mut conn = ctx.conn().await?;
        let row = feedback::update(&mut conn, viewer, id, status, note.as_deref()).await?;
        Ok(BetaFeedback(row))
    }

    /// Puts an address on the waitlist; no account needed, and the answer is true whether or
    /// not it was there already (10 an hour per client address).
    async fn join_waitlist(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Where to send a code.")] email: String,
        #[graphql(desc = "Your name: up to 100 characters.")] name: Option<String>,
        #[graphql(desc = "What you would build: up to 1,000 characters.")] note: Option<String>,
    ) -> AppResult<bool> {
        waitlist::join(
            ctx.platform(),
            &email,
            name.as_deref(),
            note.as_deref(),
            &ctx.auth().client,
        )
        .await?;
        Ok(true)
    }

    /// Gives a waitlist entry a single-use code and mails it (SUPERUSER).
    async fn promote_waitlist_entry(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entry's id.")] id: ID,
        #[graphql(desc = "What the code grants; STUDIO for 90 days when absent.")] input: Option<
            BetaCodeInput,
        >,
    ) -> AppResult<WaitlistPromotion> {
        let viewer = ctx.viewer_with(Role::Superuser)?;
        let id = parse_id("id", &id)?;
        let input = input
            .unwrap_or(BetaCodeInput {
                label: None,
                tier: None,
                beta_days: None,
                max_uses: None,
                expires_at: None,
            })
            .into_input();
        let input = crate::beta::codes::CodeInput {
            max_uses: 1,
            ..input
        };
        let promoted = waitlist::promote(ctx.platform(), viewer, id, input).await?;
        Ok(WaitlistPromotion {
            entry: WaitlistEntry(promoted.entry),
            code: promoted.code,
            beta_code: BetaCode(promoted.code_row),
            mailed: promoted.mailed,
        })
    }
}
