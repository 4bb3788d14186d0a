//! Each session's `run` conversation, in PostgreSQL so whichever node serves the session sees it.
//! A conversation is keyed by its owner: the session, or the API key, that holds it.

use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::client::ChatMessage;
use crate::auth::Viewer;
use crate::db::schema::ollama_conversations;
use crate::error::{AppError, AppResult};

/// The most messages a conversation keeps (the oldest go first).
pub const MAX_MESSAGES: usize = 40;
/// The most text a conversation keeps, bytes; the newest exchange is kept whatever its size.
pub const MAX_CONVERSATION_BYTES: usize = 256 * 1024;

#[derive(Queryable, Selectable, Debug)]
#[diesel(table_name = ollama_conversations, check_for_backend(diesel::pg::Pg))]
pub struct ConversationRow {
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub server_url: String,
    pub model: String,
    pub messages: serde_json::Value,
}

/// Who a conversation belongs to: the viewer's session, or their API key.
pub fn owner_key(viewer: &Viewer) -> AppResult<Uuid> {
    viewer
        .session_id
        .or(viewer.api_key_id)
        .ok_or_else(|| AppError::bad_input("Ollama conversations need a session or an API key"))
}

/// The conversation `viewer` holds with `model` on `server`, oldest message first; empty when
/// they hold none, or one with another server or model, or one from another tenant (a session
/// may switch tenants).
pub async fn conversation(
    conn: &mut AsyncPgConnection,
    owner_key: Uuid,
    viewer: &Viewer,
    server: &str,
    model: &str,
) -> AppResult<Vec<ChatMessage>> {
    let row = ollama_conversations::table
        .find((viewer.tenant_id, owner_key))
        .select(ConversationRow::as_select())
        .first(conn)
        .await
        .optional()?;
    let Some(row) = row.filter(|row| {
        row.tenant_id == viewer.tenant_id
            && row.user_id == viewer.user_id
            && row.server_url == server
            && row.model == model
    }) else {
        return Ok(Vec::new());
    };
    Ok(
        serde_json::from_value(row.messages).unwrap_or_else(|error| {
            tracing::warn!(%owner_key, %error, "an unreadable Ollama conversation starts afresh");
            Vec::new()
        }),
    )
}

/// Keeps the last [`MAX_MESSAGES`] messages within [`MAX_CONVERSATION_BYTES`], starting with a
/// user message, and never dropping the newest exchange (the last two messages).
pub fn bounded(mut messages: Vec<ChatMessage>) -> Vec<ChatMessage> {
    let mut bytes: usize = messages.iter().map(|m| m.content.len()).sum();
    let mut drop = 0;
    while messages.len() - drop > 2
        && (messages.len() - drop > MAX_MESSAGES
            || bytes > MAX_CONVERSATION_BYTES
            || messages[drop].role != "user")
    {
        bytes -= messages[drop].content.len();
        drop += 1;
    }
    messages.drain(..drop);
    messages
}

/// Stores `messages` as the owner's conversation, replacing whatever they held.
pub async fn save(
    conn: &mut AsyncPgConnection,
    owner_key: Uuid,
    viewer: &Viewer,
    server: &str,
    model: &str,
    messages: &[ChatMessage],
) -> AppResult<()> {
    let messages = serde_json::to_value(messages).map_err(AppError::internal)?;
    diesel::insert_into(ollama_conversations::table)
        .values((
            ollama_conversations::owner_key.eq(owner_key),
            ollama_conversations::tenant_id.eq(viewer.tenant_id),
            ollama_conversations::user_id.eq(viewer.user_id),
            ollama_conversations::server_url.eq(server),
            ollama_conversations::model.eq(model),
            ollama_conversations::messages.eq(messages),
        ))
        .on_conflict((
            ollama_conversations::tenant_id,
            ollama_conversations::owner_key,
        ))
        .do_update()
        .set((
            ollama_conversations::user_id.eq(excluded(ollama_conversations::user_id)),
            ollama_conversations::server_url.eq(excluded(ollama_conversations::server_url)),
            ollama_conversations::model.eq(excluded(ollama_conversations::model)),
            ollama_conversations::messages.eq(excluded(ollama_conversations::messages)),
            ollama_conversations::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Forgets the owner's conversation; whether there was one.
pub async fn clear(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    owner_key: Uuid,
) -> AppResult<bool> {
    let deleted = diesel::delete(ollama_conversations::table.find((tenant_id, owner_key)))
        .execute(conn)
        .await?;
    Ok(deleted > 0)
}

/// Removes conversations untouched for `idle_secs`, and those whose session ended or whose key
/// was revoked (nobody can continue them), `limit` at most; how many.
pub async fn prune_conversations(
    conn: &mut AsyncPgConnection,
    idle_secs: f64,
    limit: i64,
) -> AppResult<usize> {
    Ok(diesel::sql_query(
        "DELETE FROM ollama_conversations WHERE (tenant_id, owner_key) IN ( \
           SELECT c.tenant_id, c.owner_key FROM ollama_conversations c \
           WHERE c.updated_at < now() - make_interval(secs => $1) \
              OR (NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = c.owner_key \
                    AND s.revoked_at IS NULL AND (s.expires_at IS NULL OR s.expires_at > now())) \
                  AND NOT EXISTS (SELECT 1 FROM api_keys k WHERE k.id = c.owner_key \
                    AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now()))) \
           LIMIT $2)",
    )
    .bind::<diesel::sql_types::Double, _>(idle_secs)
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .execute(conn)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(n: usize, size: usize) -> [ChatMessage; 2] {
        [
            ChatMessage::user(format!("q{n}")),
            ChatMessage {
                role: "assistant".into(),
                content: format!("a{n}{}", "x".repeat(size)),
            },
        ]
    }

    #[test]
    fn conversations_keep_the_newest_messages() {
        let messages: Vec<ChatMessage> = (0..30).flat_map(|n| exchange(n, 0)).collect();
        let kept = bounded(messages);
        assert_eq!(kept.len(), MAX_MESSAGES);
        assert_eq!(kept[0].content, "q10");
        assert_eq!(kept[39].content, "a29");

        let messages: Vec<ChatMessage> = (0..4).flat_map(|n| exchange(n, 100 * 1024)).collect();
        let kept = bounded(messages);
        assert_eq!(kept.len(), 4, "two exchanges of 100 KiB fit in 256 KiB");
        assert_eq!(kept[0].content, "q2");

        let huge: Vec<ChatMessage> = (0..2).flat_map(|n| exchange(n, 1024 * 1024)).collect();
        let kept = bounded(huge);
        assert_eq!(kept.len(), 2, "the newest exchange is always kept");
        assert_eq!(kept[0].content, "q1");
    }
}
