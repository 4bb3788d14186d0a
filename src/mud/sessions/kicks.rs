//! Kicks (ADMIN, seed 002's "kick"): ending a member's session, or every session playing a
//! character, and closing their live sockets on every node. An ADMIN kicks only members below
//! them; the reason is logged with the actor.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::store;
use crate::accounts::service::{self as accounts, ensure_above, target_member};
use crate::auth::{Revocation, Role, Viewer};
use crate::context::Platform;
use crate::db::validate_text;
use crate::error::{AppError, AppResult};
use crate::mud::model::CharacterRow;

const MAX_REASON_CHARS: usize = 500;

/// Ends one session of a member below the viewer; false when it had already ended.
pub async fn kick_session(
    platform: &Platform,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    session_id: Uuid,
    reason: Option<&str>,
) -> AppResult<bool> {
    viewer.require_role(Role::Admin)?;
    check_reason(reason)?;
    let session = accounts::find_session(conn, session_id)
        .await?
        .filter(|s| s.tenant_id == Some(viewer.tenant_id))
        .ok_or_else(|| AppError::not_found("session not found"))?;
    ensure_may_kick(conn, viewer, session.user_id).await?;
    let ended = end_sessions(platform, conn, viewer.tenant_id, &[session.id]).await?;
    if ended > 0 {
        tracing::info!(
            actor = %viewer.user_id,
            session = %session.id,
            reason = reason.unwrap_or(""),
            "kicked a session"
        );
    }
    Ok(ended > 0)
}

/// Ends every session playing the character (whose owners must all be below the viewer); how
/// many it ended.
pub async fn kick_character(
    platform: &Platform,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    character: &CharacterRow,
    reason: Option<&str>,
) -> AppResult<usize> {
    viewer.require_role(Role::Admin)?;
    check_reason(reason)?;
    let sessions = store::sessions_playing(conn, viewer.tenant_id, character.id).await?;
    let mut owners: Vec<Uuid> = sessions.iter().map(|s| s.user_id).collect();
    owners.sort_unstable();
    owners.dedup();
    for owner in owners {
        ensure_may_kick(conn, viewer, owner).await?;
    }
    let ids: Vec<Uuid> = sessions.iter().map(|s| s.id).collect();
    let ended = end_sessions(platform, conn, viewer.tenant_id, &ids).await?;
    tracing::info!(
        actor = %viewer.user_id,
        character = %character.id,
        sessions = ended,
        reason = reason.unwrap_or(""),
        "kicked a character"
    );
    Ok(ended)
}

/// A kick's reason, when given: at most 500 characters of text.
pub fn check_reason(reason: Option<&str>) -> AppResult<()> {
    if let Some(reason) = reason {
        validate_text("reason", reason, MAX_REASON_CHARS)?;
    }
    Ok(())
}

/// Ends those of these sessions that are still live, in one statement, and closes their live
/// sockets on every node; how many it ended.
async fn end_sessions(
    platform: &Platform,
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    session_ids: &[Uuid],
) -> AppResult<usize> {
    let ended = store::end_live_sessions(conn, tenant_id, session_ids).await?;
    for &session_id in &ended {
        platform.revoke(Revocation::Session(session_id)).await;
    }
    Ok(ended.len())
}

/// Fails unless `viewer` may kick a session of `user_id`: a member of their tenant below them.
async fn ensure_may_kick(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    user_id: Uuid,
) -> AppResult<()> {
    let (_, role) = target_member(conn, viewer, user_id).await?;
    ensure_above(viewer, user_id, role)
}
