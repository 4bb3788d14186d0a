//! SQL of session transcripts, within one tenant.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::keyset::{Window, load_window, windowed};
use crate::db::schema::story_session_messages as messages;
use crate::error::AppResult;

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = messages, check_for_backend(diesel::pg::Pg))]
pub struct MessageRow {
    pub sequence: i32,
    pub turn_index: i32,
    pub kind: String,
    pub speaker_id: Option<String>,
    pub speaker_name: Option<String>,
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The kind of line an actor's private thought is.
pub const THOUGHT: &str = "thought";

/// A message to append.
pub struct NewMessage<'a> {
    pub turn_index: i32,
    pub kind: &'a str,
    pub speaker_id: Option<&'a str>,
    pub speaker_name: Option<&'a str>,
    pub text: &'a str,
}

/// The sequence the session's next line takes.
async fn next_sequence(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    session_id: Uuid,
) -> AppResult<i32> {
    let last: Option<i32> = messages::table
        .filter(messages::tenant_id.eq(tenant_id))
        .filter(messages::session_id.eq(session_id))
        .select(diesel::dsl::max(messages::sequence))
        .first(conn)
        .await?;
    Ok(last.unwrap_or(0) + 1)
}

/// Appends a message after the session's last (the caller holds the session's lock).
pub async fn append(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    session_id: Uuid,
    new: NewMessage<'_>,
) -> AppResult<MessageRow> {
    let first = next_sequence(conn, tenant_id, session_id).await?;
    Ok(diesel::insert_into(messages::table)
        .values((
            messages::tenant_id.eq(tenant_id),
            messages::session_id.eq(session_id),
            messages::sequence.eq(first),
            messages::turn_index.eq(new.turn_index),
            messages::kind.eq(new.kind),
            messages::speaker_id.eq(new.speaker_id),
            messages::speaker_name.eq(new.speaker_name),
            messages::text.eq(new.text),
        ))
        .returning(MessageRow::as_returning())
        .get_result(conn)
        .await?)
}

/// Changes a message's text or speaker's name; None when there is no such message.
pub async fn update(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    session_id: Uuid,
    sequence: i32,
    text: Option<&str>,
    speaker_name: Option<&str>,
) -> AppResult<Option<MessageRow>> {
    let target = messages::table.find((tenant_id, session_id, sequence));
    Ok(diesel::update(target)
        .set((
            text.map(|text| messages::text.eq(text.to_owned())),
            speaker_name.map(|name| messages::speaker_name.eq(Some(name.to_owned()))),
            messages::updated_at.eq(Utc::now()),
        ))
        .returning(MessageRow::as_returning())
        .get_result(conn)
        .await
        .optional()?)
}

/// Deletes a message; whether there was one.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    session_id: Uuid,
    sequence: i32,
) -> AppResult<bool> {
    let deleted = diesel::delete(messages::table.find((tenant_id, session_id, sequence)))
        .execute(conn)
        .await?;
    Ok(deleted > 0)
}

/// Where a message sits in its transcript: its turn, then its sequence.
pub type MessageKey = (i32, i32);

fn of_session<'a>(tenant_id: Uuid, session_id: Uuid) -> messages::BoxedQuery<'a, diesel::pg::Pg> {
    messages::table
        .filter(messages::tenant_id.eq(tenant_id))
        .filter(messages::session_id.eq(session_id))
        .into_boxed()
}

/// A window of the transcript, by turn and sequence.
pub async fn list(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    session_id: Uuid,
    window: &Window<MessageKey>,
) -> AppResult<Vec<MessageRow>> {
    let rows = windowed!(
        of_session(tenant_id, session_id),
        window.clone(),
        asc(messages::turn_index, messages::sequence)
    )
    .select(MessageRow::as_select());
    let (_, rows) = load_window(
        conn,
        window,
        rows,
        of_session(tenant_id, session_id).count(),
    )
    .await?;
    Ok(rows)
}

/// The session's last `count` lines of shared history (actors' thoughts left out), oldest
/// first.
pub async fn last_lines(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    session_id: Uuid,
    count: i64,
) -> AppResult<Vec<MessageRow>> {
    let mut rows: Vec<MessageRow> = of_session(tenant_id, session_id)
        .filter(messages::kind.ne(THOUGHT))
        .order((messages::turn_index.desc(), messages::sequence.desc()))
        .limit(count)
        .select(MessageRow::as_select())
        .load(conn)
        .await?;
    rows.reverse();
    Ok(rows)
}

/// The last `count` thoughts of one speaker (their memory), oldest first.
pub async fn thoughts(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    session_id: Uuid,
    speaker_id: &str,
    count: i64,
) -> AppResult<Vec<String>> {
    let mut texts: Vec<String> = of_session(tenant_id, session_id)
        .filter(messages::kind.eq(THOUGHT))
        .filter(messages::speaker_id.eq(speaker_id))
        .order(messages::sequence.desc())
        .limit(count)
        .select(messages::text)
        .load(conn)
        .await?;
    texts.reverse();
    Ok(texts)
}

/// Appends `lines` after the session's last, in order, in one statement (the caller holds the
/// session's lock).
pub async fn append_all(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    session_id: Uuid,
    lines: &[NewMessage<'_>],
) -> AppResult<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let first = next_sequence(conn, tenant_id, session_id).await?;
    let rows: Vec<_> = lines
        .iter()
        .zip(first..)
        .map(|(line, sequence)| {
            (
                messages::tenant_id.eq(tenant_id),
                messages::session_id.eq(session_id),
                messages::sequence.eq(sequence),
                messages::turn_index.eq(line.turn_index),
                messages::kind.eq(line.kind),
                messages::speaker_id.eq(line.speaker_id),
                messages::speaker_name.eq(line.speaker_name),
                messages::text.eq(line.text),
            )
        })
        .collect();
    diesel::insert_into(messages::table)
        .values(rows)
        .execute(conn)
        .await?;
    Ok(())
}
