//! Feedback from members: anyone signed in to a tenant submits (a few an hour), sees their own;
//! the operators (SUPERUSER) see everyone's and move it along.

use std::time::Duration;

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::model::{FeedbackKind, FeedbackRow, FeedbackStatus};
use super::store::{self, NewFeedback};
use crate::auth::{Role, Viewer, rate_window};
use crate::db::pagination::PageRequest;
use crate::db::validate_text;
use crate::error::{AppError, AppResult};

const PER_HOUR: u32 = 20;

pub async fn submit(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    kind: FeedbackKind,
    message: &str,
    page: Option<&str>,
) -> AppResult<FeedbackRow> {
    let message = message.trim();
    if message.is_empty() {
        return Err(AppError::bad_field("message", "say something"));
    }
    validate_text("message", message, 5_000)?;
    let page = page.unwrap_or("").trim();
    validate_text("page", page, 500)?;
    rate_window::ensure_within(
        conn,
        &format!("beta-feedback:{}", viewer.user_id),
        PER_HOUR,
        Duration::from_secs(3600),
        "that is a lot of feedback for one hour; thank you, and try again later",
    )
    .await?;
    store::insert_feedback(
        conn,
        NewFeedback {
            user_id: viewer.user_id,
            tenant_id: viewer.tenant_id,
            kind: kind.as_str(),
            message,
            page,
        },
    )
    .await
}

/// Feedback, newest first: everyone's for SUPERUSER, one's own for anyone else.
pub async fn list(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    status: Option<FeedbackStatus>,
    page: PageRequest,
) -> AppResult<(i64, Vec<FeedbackRow>)> {
    let author = (!viewer.is_superuser()).then_some(viewer.user_id);
    store::list_feedback(conn, author, status.map(FeedbackStatus::as_str), page).await
}

/// Moves a piece of feedback along and notes why (SUPERUSER).
pub async fn update(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: Uuid,
    status: Option<FeedbackStatus>,
    note: Option<&str>,
) -> AppResult<FeedbackRow> {
    viewer.require_role(Role::Superuser)?;
    let note = note.map(str::trim);
    if let Some(note) = note {
        validate_text("note", note, 2_000)?;
    }
    store::update_feedback(conn, id, status.map(FeedbackStatus::as_str), note)
        .await?
        .ok_or_else(|| AppError::not_found("feedback not found"))
}
