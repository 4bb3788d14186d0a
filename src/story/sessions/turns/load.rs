//! What a turn reads before it plays (the session, its story's graph version, cast, schemas,
//! API group, preset, lore, player and recent history: a handful of statements, no
//! connection held while the models answer) and how it saves (one transaction).

use diesel_async::AsyncConnection;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::answers::fill;
use super::context::{self as told, Line, kind_of, of};
use super::director::name_of;
use super::events::Beat;
use super::play::Turn;
use super::store as claims;
use crate::auth::Viewer;
use crate::context::Platform;
use crate::error::{AppError, AppResult};
use crate::story::groups::{AgentRole, ApiGroupBody};
use crate::story::library::{self, Stored};
use crate::story::lorebooks::LorebookBody;
use crate::story::planning::{group, preset};
use crate::story::presets::PresetBody;
use crate::story::profiles::PlayerProfileBody;
use crate::story::sessions::SessionBody;
use crate::story::sessions::messages::store::{self as transcript, NewMessage};
use crate::story::sessions::service::{played, session_bound};
use crate::story::stories::StoryBody;
use crate::story::stories::graph::StoryGraph;
use crate::story::stories::service::Bound;

/// Everything a turn plays with.
pub struct Loaded {
    pub session: Stored<SessionBody>,
    pub story: StoryBody,
    pub graph: StoryGraph,
    pub bound: Bound,
    pub group: ApiGroupBody,
    pub preset: PresetBody,
    pub books: Vec<LorebookBody>,
    /// The transcript's last lines before the turn (the widest window an agent sees).
    pub history: Vec<Line>,
    /// The player's name (what `{{user}}` becomes; "User" without a profile).
    pub player_name: String,
    /// Who the player is, as the models are told.
    pub player_about: String,
}

fn optional(id: Option<&async_graphql::ID>) -> Option<Uuid> {
    id.and_then(|id| Uuid::parse_str(id).ok())
}

/// Loads what a turn of the session plays with.
pub async fn load(platform: &Platform, viewer: &Viewer, session_id: Uuid) -> AppResult<Loaded> {
    let mut conn = platform.pool.get().await?;
    let conn = &mut conn;
    let session = library::get::<SessionBody>(conn, viewer, session_id)
        .await?
        .ok_or_else(|| AppError::not_found("story session not found"))?;
    let (story, graph) = played(conn, viewer, &session.body).await?;
    let bound = session_bound(conn, viewer, &session.body, &story).await?;
    let group = group(conn, viewer, optional(session.body.api_group_id.as_ref())).await?;
    let preset = preset(conn, viewer, optional(session.body.preset_id.as_ref())).await?;
    let books = library::fetch_many::<LorebookBody>(conn, viewer.tenant_id, &bound.lorebook_ids)
        .await?
        .into_iter()
        .map(|book| book.body)
        .collect();
    let window = [AgentRole::Director, AgentRole::Actor, AgentRole::Narrator]
        .into_iter()
        .filter_map(|agent| preset.agent(agent).map(|a| a.history_limit))
        .max()
        .unwrap_or(8);
    let history = transcript::last_lines(conn, viewer.tenant_id, session_id, i64::from(window))
        .await?
        .into_iter()
        .map(|row| Line {
            kind: kind_of(&row.kind),
            speaker_id: row.speaker_id,
            speaker_name: row.speaker_name,
            text: row.text,
        })
        .collect();
    let profile = match optional(session.body.player_profile_id.as_ref()) {
        Some(id) => library::fetch::<PlayerProfileBody>(conn, viewer.tenant_id, id).await?,
        None => None,
    };
    let player_name = profile
        .as_ref()
        .map_or_else(|| "User".to_owned(), |p| p.body.name.clone());
    let mut about = Vec::new();
    if let Some(profile) = &profile {
        about.push(format!("The player is {}.", profile.body.name));
        about.extend(profile.body.description.clone());
    }
    about.extend(session.body.player_description.clone());
    Ok(Loaded {
        story,
        session,
        graph,
        bound,
        group,
        preset,
        books,
        history,
        player_name,
        player_about: about.join("\n"),
    })
}

/// A character's values for its placeholders: its state over its schema's defaults.
pub fn character_values(loaded: &Loaded, body: &SessionBody, id: &str) -> Map<String, Value> {
    let mut values: Map<String, Value> = loaded
        .bound
        .characters
        .get(id)
        .into_iter()
        .flat_map(|schema| &schema.fields)
        .filter_map(|field| Some((field.key.clone(), field.default.as_ref()?.0.clone())))
        .collect();
    if let Some(state) = body.state.characters.0.get(id) {
        values.extend(state.clone());
    }
    values
}

/// An actor's context: who they are, the scene, their state, the shared history, their memory
/// (their last thoughts, this turn's included) and their beat.
pub async fn actor_context(
    platform: &Platform,
    viewer: &Viewer,
    loaded: &Loaded,
    body: &SessionBody,
    id: &str,
    beat: &Beat,
    lines: &[Line],
) -> AppResult<Map<String, Value>> {
    let actor = loaded.preset.agent(AgentRole::Actor);
    let (history_limit, memory_limit) = actor.map_or((8, 8), |a| (a.history_limit, a.memory_limit));
    let mut memory = {
        let mut conn = platform.pool.get().await?;
        transcript::thoughts(
            &mut conn,
            viewer.tenant_id,
            loaded.session.id,
            id,
            i64::from(memory_limit),
        )
        .await?
    };
    memory.extend(
        lines
            .iter()
            .filter(|line| line.is_thought() && line.speaker_id.as_deref() == Some(id))
            .map(|line| line.text.clone()),
    );
    let keep = usize::try_from(memory_limit).unwrap_or(0);
    let memory = memory[memory.len().saturating_sub(keep)..].join("\n");
    let card = loaded
        .bound
        .cards
        .iter()
        .find(|card| card.id.to_string() == id);
    let temporary = body.session_characters.iter().find(|c| c.id.0 == id);
    let profile = match (card, temporary) {
        (Some(card), _) => told::card_profile(&card.body),
        (None, Some(character)) => told::session_profile(character),
        (None, None) => name_of(loaded, body, id),
    };
    let values = character_values(loaded, body, id);
    let name = name_of(loaded, body, id);
    let system_prompt = card
        .and_then(|card| card.body.system_prompt.as_deref())
        .map(|prompt| fill(prompt, Some(&name), &loaded.player_name, &values))
        .unwrap_or_default();
    let here = loaded
        .graph
        .nodes
        .iter()
        .find(|n| n.id == body.state.current_node);
    Ok(of([
        ("character_profile", Value::String(profile)),
        ("character_system_prompt", Value::String(system_prompt)),
        ("scene", Value::String(told::scene(here))),
        ("character_state", Value::Object(values)),
        (
            "shared_history",
            Value::String(told::history(&loaded.history, lines, history_limit)),
        ),
        ("private_memory", Value::String(memory)),
        ("beat", Value::String(told::beat(beat, here))),
    ]))
}

/// Saves the turn: the session (still at the version the turn began from, else CONFLICT) and
/// its transcript lines, and ends the turn's claim — all or nothing.
pub async fn commit(
    turn: &Turn<'_>,
    loaded: &Loaded,
    body: SessionBody,
    lines: &[Line],
) -> AppResult<Stored<SessionBody>> {
    let viewer = turn.viewer;
    let turn_index = body.state.turn_index;
    let rows: Vec<NewMessage<'_>> = lines
        .iter()
        .map(|line| NewMessage {
            turn_index,
            kind: line.kind,
            speaker_id: line.speaker_id.as_deref(),
            speaker_name: line.speaker_name.as_deref(),
            text: &line.text,
        })
        .collect();
    let mut conn = turn.platform.pool.get().await?;
    conn.transaction::<_, AppError, _>(async |conn| {
        let current = library::lock::<SessionBody>(
            conn,
            viewer,
            loaded.session.id,
            Some(loaded.session.version),
        )
        .await?;
        if !claims::release(conn, viewer.tenant_id, loaded.session.id, turn.turn_id).await? {
            return Err(AppError::conflict(
                "the turn's hold on the session lapsed (its node stopped answering): play it again",
            ));
        }
        let stored = library::save(conn, viewer, &current, None, body).await?;
        transcript::append_all(conn, viewer.tenant_id, loaded.session.id, &rows).await?;
        Ok(stored)
    })
    .await
}
