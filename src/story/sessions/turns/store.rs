//! SQL of running turns: the one row a session's running turn holds, whichever node runs it.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::story_session_turns as turns;
use crate::error::AppResult;

/// Whether the row's node stopped beating 30 seconds ago (it crashed or was cut off), by the
/// database's clock (the nodes' own clocks may disagree). `claim` says the same in its SQL.
fn lapsed() -> diesel::expression::SqlLiteral<diesel::sql_types::Bool> {
    diesel::dsl::sql("story_session_turns.beat_at < now() - interval '30 seconds'")
}

/// Claims the session for `turn_id`; false when another turn holds it (one whose node still
/// beats).
pub async fn claim(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    session_id: Uuid,
    turn_id: Uuid,
    user_id: Uuid,
) -> AppResult<bool> {
    #[derive(QueryableByName)]
    struct Claimed {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        turn_id: Uuid,
    }
    let claimed: Option<Claimed> = diesel::sql_query(
        "INSERT INTO story_session_turns (tenant_id, session_id, turn_id, user_id) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (tenant_id, session_id) DO UPDATE SET turn_id = EXCLUDED.turn_id, \
             user_id = EXCLUDED.user_id, started_at = now(), beat_at = now(), \
             cancel_requested = false \
         WHERE story_session_turns.beat_at < now() - interval '30 seconds' \
         RETURNING turn_id",
    )
    .bind::<diesel::sql_types::Uuid, _>(tenant_id)
    .bind::<diesel::sql_types::Uuid, _>(session_id)
    .bind::<diesel::sql_types::Uuid, _>(turn_id)
    .bind::<diesel::sql_types::Uuid, _>(user_id)
    .get_result(conn)
    .await
    .optional()?;
    let claimed = claimed.map(|row| row.turn_id);
    Ok(claimed == Some(turn_id))
}

/// Beats for the running turn; whether a cancel was asked (or the claim is gone).
pub async fn beat(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    session_id: Uuid,
    turn_id: Uuid,
) -> AppResult<bool> {
    let cancel: Option<bool> = diesel::update(turns::table.find((tenant_id, session_id)))
        .filter(turns::turn_id.eq(turn_id))
        .set(turns::beat_at.eq(diesel::dsl::now))
        .returning(turns::cancel_requested)
        .get_result(conn)
        .await
        .optional()?;
    Ok(cancel.unwrap_or(true))
}

/// Ends the turn's claim (inside the transaction that saves it, or after it failed); whether
/// the turn still held it.
pub async fn release(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    session_id: Uuid,
    turn_id: Uuid,
) -> AppResult<bool> {
    let deleted = diesel::delete(turns::table.find((tenant_id, session_id)))
        .filter(turns::turn_id.eq(turn_id))
        .execute(conn)
        .await?;
    Ok(deleted > 0)
}

/// The turn the session runs (its id and who started it), if one does.
pub async fn running(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    session_id: Uuid,
) -> AppResult<Option<(Uuid, Uuid)>> {
    Ok(turns::table
        .find((tenant_id, session_id))
        .filter(diesel::dsl::not(lapsed()))
        .select((turns::turn_id, turns::user_id))
        .first(conn)
        .await
        .optional()?)
}

/// Asks the node running the turn to cancel it; whether there was one.
pub async fn request_cancel(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    session_id: Uuid,
    turn_id: Uuid,
) -> AppResult<bool> {
    let updated = diesel::update(turns::table.find((tenant_id, session_id)))
        .filter(turns::turn_id.eq(turn_id))
        .set(turns::cancel_requested.eq(true))
        .execute(conn)
        .await?;
    Ok(updated > 0)
}
