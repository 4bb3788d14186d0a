//! Reply suggestions (seed 003 `session.suggest_replies`): the replyer agent, through the
//! session's API group and preset, proposes what the player might say next from the scene, the
//! recent transcript (the preset's history window) and who the player is; 2 to 5 of them
//! (3 by default), trimmed and without repeats.

use std::collections::HashSet;
use std::sync::Arc;

use async_graphql::{Context, ID, Object, SimpleObject};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::SessionBody;
use super::messages::store::last_lines;
use super::service::ensure_owner;
use crate::auth::{Role, Viewer};
use crate::context::{ContextExt, Platform};
use crate::db::parse_id;
use crate::error::{AppError, AppResult};
use crate::llm::service::LlmRuntime;
use crate::story::connections::service as connections;
use crate::story::groups::AgentRole;
use crate::story::library;
use crate::story::planning::{group, preset};
use crate::story::profiles::PlayerProfileBody;
use crate::story::stories::service::graph_version;

/// Suggestions for the player's next reply, and what asking cost.
#[derive(SimpleObject)]
pub struct ReplySuggestions {
    /// The suggestions, without repeats.
    pub suggestions: Vec<String>,
    /// BrainBits taken (0 when not metered).
    pub charged: i64,
    /// The tenant's BrainBits balance afterwards.
    pub balance: i64,
}

fn optional_id(id: Option<&ID>) -> Option<Uuid> {
    id.and_then(|id| Uuid::parse_str(id).ok())
}

/// The replyer's context for a session.
async fn context(
    conn: &mut diesel_async::AsyncPgConnection,
    viewer: &Viewer,
    id: Uuid,
    session: &SessionBody,
    history: i64,
    limit: usize,
) -> AppResult<Map<String, Value>> {
    let story_id = parse_id("storyId", &session.story_id)?;
    let graph = graph_version(conn, viewer, story_id, session.graph_version).await?;
    let scene = graph
        .and_then(|graph| {
            let node = graph
                .nodes
                .into_iter()
                .find(|n| n.id == session.state.current_node)?;
            Some(format!("{}\n{}", node.title, node.scene).trim().to_owned())
        })
        .unwrap_or_default();
    let lines = last_lines(conn, viewer.tenant_id, id, history).await?;
    let transcript: Vec<String> = lines
        .into_iter()
        .map(|line| match line.speaker_name {
            Some(name) => format!("{name}: {}", line.text),
            None => line.text,
        })
        .collect();
    let mut player = Vec::new();
    if let Some(profile) = optional_id(session.player_profile_id.as_ref())
        && let Some(profile) = library::get::<PlayerProfileBody>(conn, viewer, profile).await?
    {
        player.push(format!("The player is {}.", profile.body.name));
        player.extend(profile.body.description);
    }
    player.extend(session.player_description.clone());
    let mut context = Map::new();
    context.insert("scene".into(), Value::String(scene));
    context.insert(
        "session_history".into(),
        Value::String(transcript.join("\n")),
    );
    context.insert("player_profile".into(), Value::String(player.join("\n")));
    context.insert(
        "suggestion_count".into(),
        Value::String(format!("Suggest exactly {limit} replies.")),
    );
    Ok(context)
}

/// The suggestions in the replyer's answer (`{"suggestions": [...]}`, strings or objects with
/// a `text`), trimmed, without repeats (any case), at most `limit`.
fn suggestions(answer: &str, limit: usize) -> Vec<String> {
    let parsed: Value = serde_json::from_str(answer.trim()).unwrap_or(Value::Null);
    let items = parsed
        .get("suggestions")
        .and_then(Value::as_array)
        .cloned()
        .or_else(|| parsed.as_array().cloned())
        .unwrap_or_default();
    let mut seen = HashSet::new();
    items
        .iter()
        .filter_map(|item| item.as_str().or_else(|| item.get("text")?.as_str()))
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty() && seen.insert(text.to_lowercase()))
        .take(limit)
        .collect()
}

/// Suggests the player's next replies in a session (its owner, or a WORLDBUILDER).
pub async fn suggest(
    platform: &Platform,
    runtime: &LlmRuntime,
    viewer: &Viewer,
    id: Uuid,
    limit: i32,
) -> AppResult<ReplySuggestions> {
    if !(2..=5).contains(&limit) {
        return Err(AppError::bad_field("limit", "ask for 2 to 5 suggestions"));
    }
    let limit = usize::try_from(limit).unwrap_or(3);
    let mut conn = platform.pool.get().await?;
    let session = library::get::<SessionBody>(&mut conn, viewer, id)
        .await?
        .ok_or_else(|| AppError::not_found("story session not found"))?;
    ensure_owner(viewer, &session.body)?;
    let group = group(
        &mut conn,
        viewer,
        optional_id(session.body.api_group_id.as_ref()),
    )
    .await?;
    let mut preset = preset(
        &mut conn,
        viewer,
        optional_id(session.body.preset_id.as_ref()),
    )
    .await?;
    let replyer = preset.agent_mut(AgentRole::Replyer);
    let history = i64::from(replyer.history_limit);
    let context = context(&mut conn, viewer, id, &session.body, history, limit).await?;
    let connection_id = parse_id("apiGroupId", group.connection_id(AgentRole::Replyer))?;
    drop(conn);
    let request = replyer.request(&context, true);
    let (reply, _) = connections::call(
        platform,
        runtime,
        viewer,
        connection_id,
        &request,
        "reply_suggestions",
    )
    .await?;
    let suggestions = suggestions(&reply.completion.text, limit);
    if suggestions.is_empty() {
        return Err(AppError::Upstream(
            "the replyer's answer held no suggestions; try again".into(),
        ));
    }
    Ok(ReplySuggestions {
        suggestions,
        charged: reply.charged,
        balance: reply.balance,
    })
}

#[derive(Default)]
pub struct ReplySuggestionMutation;

#[Object]
impl ReplySuggestionMutation {
    /// Suggests what the player might say next in a session (its owner, or a WORLDBUILDER):
    /// `limit` 2 to 5, 3 when absent; from the scene, the recent transcript and the player.
    async fn suggest_replies(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session.")] session_id: ID,
        #[graphql(desc = "How many: 2 to 5; 3 when absent.")] limit: Option<i32>,
    ) -> AppResult<ReplySuggestions> {
        let viewer = ctx.viewer_with(Role::Player)?;
        let id = parse_id("sessionId", &session_id)?;
        let runtime = ctx.part::<Arc<LlmRuntime>>()?;
        suggest(ctx.platform(), runtime, viewer, id, limit.unwrap_or(3)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_trimmed_unrepeated_and_bounded() {
        let answer = r#"{"suggestions": [" Knock again. ", "knock again.", {"text": "Leave."}, "", 7, "Shout."]}"#;
        assert_eq!(suggestions(answer, 3), ["Knock again.", "Leave.", "Shout."]);
        assert_eq!(suggestions(answer, 2), ["Knock again.", "Leave."]);
        assert!(suggestions("not json", 3).is_empty());
    }
}
