//! Rows of the beta program and its enums.

use async_graphql::Enum;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{beta_codes, beta_enrollments, beta_feedback, beta_waitlist};

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = beta_codes, check_for_backend(diesel::pg::Pg))]
pub struct CodeRow {
    pub id: Uuid,
    pub code_hash: Vec<u8>,
    pub code_hint: String,
    pub label: String,
    pub tier: String,
    pub beta_days: i32,
    pub max_uses: i32,
    pub uses: i32,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl CodeRow {
    /// Neither revoked, expired nor used up.
    pub fn is_open(&self) -> bool {
        self.revoked_at.is_none()
            && self.expires_at.is_none_or(|at| at > Utc::now())
            && self.uses < self.max_uses
    }
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = beta_enrollments, check_for_backend(diesel::pg::Pg))]
pub struct EnrollmentRow {
    pub tenant_id: Uuid,
    pub code_id: Option<Uuid>,
    pub redeemed_by: Option<Uuid>,
    pub tier: String,
    pub started_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

impl EnrollmentRow {
    pub fn is_active(&self) -> bool {
        self.ends_at > Utc::now()
    }
}

/// What a piece of feedback is about.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum FeedbackKind {
    /// Something does not work.
    Bug,
    /// Something could be better, or is missing.
    Idea,
    /// Something works well.
    Praise,
    /// Anything else.
    Other,
}

/// Where the operators are with a piece of feedback.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum FeedbackStatus {
    /// Not looked at yet.
    New,
    /// Read and sorted.
    Triaged,
    /// Going to be done.
    Planned,
    /// Done.
    Done,
    /// Not going to be done.
    WontFix,
}

macro_rules! db_enum {
    ($name:ident { $($variant:ident => $text:literal),* $(,)? }) => {
        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),* }
            }

            pub fn from_db(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)* _ => None }
            }
        }
    };
}

db_enum!(FeedbackKind { Bug => "bug", Idea => "idea", Praise => "praise", Other => "other" });
db_enum!(FeedbackStatus {
    New => "new",
    Triaged => "triaged",
    Planned => "planned",
    Done => "done",
    WontFix => "wont_fix",
});

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = beta_feedback, check_for_backend(diesel::pg::Pg))]
pub struct FeedbackRow {
    pub id: Uuid,
    pub user_id: Option<Uuid>,
    pub tenant_id: Option<Uuid>,
    pub kind: String,
    pub message: String,
    pub page: String,
    pub status: String,
    pub admin_note: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = beta_waitlist, check_for_backend(diesel::pg::Pg))]
pub struct WaitlistRow {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub note: String,
    pub created_at: DateTime<Utc>,
    pub promoted_at: Option<DateTime<Utc>>,
    pub code_id: Option<Uuid>,
}
