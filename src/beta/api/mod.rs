//! GraphQL of the beta program: codes and enrollments (`codes`), feedback and the waitlist
//! (`community`).

pub mod codes;
pub mod community;

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};

use super::model::{
    CodeRow, EnrollmentRow, FeedbackKind, FeedbackRow, FeedbackStatus, WaitlistRow,
};
use crate::accounts::api::User;
use crate::config::billing::Tier;
use crate::error::AppResult;
use crate::tenants::api::Tenant;

pub struct BetaCode(pub CodeRow);

/// A beta invite code as the operators see it (the code itself is shown once, when made).
#[Object]
impl BetaCode {
    /// The code's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Its last four characters, to tell codes apart.
    async fn hint(&self) -> &str {
        &self.0.code_hint
    }

    /// What it is for.
    async fn label(&self) -> &str {
        &self.0.label
    }

    /// The tier whose features a tenant in the beta has.
    async fn tier(&self) -> Option<Tier> {
        Tier::parse(&self.0.tier)
    }

    /// How many days of beta it gives.
    async fn beta_days(&self) -> i32 {
        self.0.beta_days
    }

    /// How many times it may be redeemed.
    async fn max_uses(&self) -> i32 {
        self.0.max_uses
    }

    /// How many times it was.
    async fn uses(&self) -> i32 {
        self.0.uses
    }

    /// Whether it would work now.
    async fn open(&self) -> bool {
        self.0.is_open()
    }

    /// When it stops working, if ever.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }

    /// When it was revoked, if it was.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }

    /// When it was made.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

pub struct BetaEnrollment(pub EnrollmentRow);

/// A tenant's place in the beta.
#[Object]
impl BetaEnrollment {
    /// The tenant.
    async fn tenant(&self, ctx: &Context<'_>) -> AppResult<Option<Tenant>> {
        Tenant::load(ctx, self.0.tenant_id).await
    }

    /// The tier whose features it has while the beta lasts (on top of its own).
    async fn tier(&self) -> Option<Tier> {
        Tier::parse(&self.0.tier)
    }

    /// Who redeemed the code.
    async fn redeemed_by(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        User::load(ctx, self.0.redeemed_by).await
    }

    /// When it joined.
    async fn started_at(&self) -> DateTime<Utc> {
        self.0.started_at
    }

    /// When its beta ends.
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.ends_at
    }

    /// Whether its beta is still on.
    async fn active(&self) -> bool {
        self.0.is_active()
    }
}

pub struct BetaFeedback(pub FeedbackRow);

/// A piece of feedback from a member.
#[Object]
impl BetaFeedback {
    /// Its id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// What it is about.
    async fn kind(&self) -> Option<FeedbackKind> {
        FeedbackKind::from_db(&self.0.kind)
    }

    /// What they said.
    async fn message(&self) -> &str {
        &self.0.message
    }

    /// Where in the apps they were.
    async fn page(&self) -> &str {
        &self.0.page
    }

    /// Where the operators are with it.
    async fn status(&self) -> Option<FeedbackStatus> {
        FeedbackStatus::from_db(&self.0.status)
    }

    /// The operators' note.
    async fn admin_note(&self) -> &str {
        &self.0.admin_note
    }

    /// Who sent it.
    async fn user(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        User::load(ctx, self.0.user_id).await
    }

    /// When it was sent.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

pub struct WaitlistEntry(pub WaitlistRow);

/// Someone waiting for a place in the beta.
#[Object]
impl WaitlistEntry {
    /// The entry's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Their address.
    async fn email(&self) -> &str {
        &self.0.email
    }

    /// Their name, if they gave one.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// What they said about themselves.
    async fn note(&self) -> &str {
        &self.0.note
    }

    /// When they joined the list.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When they were given a code, if they were.
    async fn promoted_at(&self) -> Option<DateTime<Utc>> {
        self.0.promoted_at
    }
}
