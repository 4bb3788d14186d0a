//! The waitlist: anyone may join without an account (the answer is the same whether or not
//! the address was on it already); the operators list it and promote an entry to a code of its
//! own, mailed to it.

use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::codes::{self, CodeInput};
use super::model::{CodeRow, WaitlistRow};
use super::store;
use crate::accounts::service::validate_email;
use crate::auth::viewer::ClientInfo;
use crate::auth::{Role, Viewer, rate_window};
use crate::context::Platform;
use crate::db::pagination::PageRequest;
use crate::db::validate_text;
use crate::error::{AppError, AppResult};
use crate::mail::Delivery;

const JOINS_PER_HOUR: u32 = 10;

pub async fn join(
    platform: &Platform,
    email: &str,
    name: Option<&str>,
    note: Option<&str>,
    client: &ClientInfo,
) -> AppResult<()> {
    let email = validate_email("email", email)?;
    let name = name.unwrap_or("").trim();
    validate_text("name", name, 100)?;
    let note = note.unwrap_or("").trim();
    validate_text("note", note, 1_000)?;
    let mut conn = platform.pool.get().await?;
    rate_window::ensure_within(
        &mut conn,
        &rate_window::address_key("waitlist", client.ip),
        JOINS_PER_HOUR,
        Duration::from_secs(3600),
        "too many waitlist sign-ups from this address; try again later",
    )
    .await?;
    store::join_waitlist(&mut conn, &email, name, note).await?;
    Ok(())
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    promoted: Option<bool>,
    page: PageRequest,
) -> AppResult<(i64, Vec<WaitlistRow>)> {
    viewer.require_role(Role::Superuser)?;
    store::list_waitlist(conn, promoted, page).await
}

/// A promotion: the entry, its single-use code (shown this once) and how the mail went.
pub struct Promoted {
    pub entry: WaitlistRow,
    pub code_row: CodeRow,
    pub code: String,
    pub mailed: bool,
}

/// Gives a waitlist entry a single-use code granting `input` and mails it (SUPERUSER). The
/// code and the promotion are one transaction; the mail goes after it commits.
pub async fn promote(
    platform: &Platform,
    viewer: &Viewer,
    id: Uuid,
    input: CodeInput,
) -> AppResult<Promoted> {
    viewer.require_role(Role::Superuser)?;
    let mut conn = platform.pool.get().await?;
    let (entry, code_row, code) = conn
        .transaction::<_, AppError, _>(async |conn| {
            let (code_row, code) = codes::create(conn, viewer, input).await?;
            let entry = store::promote(conn, id, code_row.id)
                .await?
                .ok_or_else(|| AppError::not_found("no waitlist entry waits under that id"))?;
            Ok((entry, code_row, code))
        })
        .await?;
    let greeting = if entry.name.is_empty() {
        "Hello".to_owned()
    } else {
        format!("Hello {}", entry.name)
    };
    let body = format!(
        "{greeting},\n\nyour place in the loregraph beta is ready. Register with this code \
         (it works once):\n\n    {code}\n\nIt gives your studio {} days of the beta.\n",
        code_row.beta_days
    );
    let mailed = match platform
        .mailer
        .send(&entry.email, "Your loregraph beta code", &body)
        .await
    {
        Ok(Delivery::Sent) => true,
        Ok(Delivery::Logged) => false,
        Err(error) => {
            tracing::warn!(error = %error.message(), "the beta code could not be mailed");
            false
        }
    };
    Ok(Promoted {
        entry,
        code_row,
        code,
        mailed,
    })
}
