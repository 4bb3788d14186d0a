//! Where a session stands (seed 003 `session.get_runtime_snapshot`): its scene, who is in
//! it, its state and its own characters, in one read — what a client draws the game from, and
//! what a finished turn hands back.

use std::collections::HashMap;

use async_graphql::{Context, ID, Object, SimpleObject};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::SessionBody;
use super::characters::SessionCharacter;
use super::state::SessionState;
use super::turns::store as running_turns;
use crate::auth::{Role, Viewer};
use crate::context::ContextExt;
use crate::db::parse_id;
use crate::error::{AppError, AppResult};
use crate::story::characters::CharacterBody;
use crate::story::library::{self, Stored, uuids};
use crate::story::stories::graph::{StoryGraph, StoryNode};
use crate::story::stories::service::graph_version;

/// Someone in the scene.
#[derive(SimpleObject, Clone, Debug)]
pub struct SceneCharacter {
    /// A character card's id, or a session character's.
    pub id: ID,
    /// Their name (their id when their card is gone).
    pub name: String,
    /// Brought in by this session (a session character), not of the story's cast.
    pub temporary: bool,
}

/// A session as it stands.
#[derive(SimpleObject, Clone, Debug)]
pub struct SessionSnapshot {
    /// The session.
    pub session_id: ID,
    /// Its version (changes with every turn and every edit).
    pub version: i32,
    /// The story played.
    pub story_id: ID,
    /// The graph version it plays.
    pub graph_version: i32,
    /// Turns played.
    pub turn_index: i32,
    /// The scene the player is in (null if its graph version is gone).
    pub current_node: Option<StoryNode>,
    /// Who is in the scene, in order.
    pub scene_characters: Vec<SceneCharacter>,
    /// The state: node, cast, world, player and character values.
    pub state: SessionState,
    /// The characters the session brought in.
    pub session_characters: Vec<SessionCharacter>,
    /// Whether a turn is running now.
    pub turn_running: bool,
}

/// The snapshot of `session` on `graph`, with the cast's names.
pub fn build(
    session: &Stored<SessionBody>,
    graph: Option<&StoryGraph>,
    names: &HashMap<String, String>,
    turn_running: bool,
) -> SessionSnapshot {
    let body = &session.body;
    let scene_characters = body
        .state
        .active_characters
        .iter()
        .map(|id| {
            let temporary = body.session_characters.iter().find(|c| c.id == *id);
            SceneCharacter {
                id: id.clone(),
                name: temporary
                    .map(|c| c.name.clone())
                    .or_else(|| names.get(&id.0).cloned())
                    .unwrap_or_else(|| id.0.clone()),
                temporary: temporary.is_some(),
            }
        })
        .collect();
    SessionSnapshot {
        session_id: ID(session.id.to_string()),
        version: session.version,
        story_id: body.story_id.clone(),
        graph_version: body.graph_version,
        turn_index: body.state.turn_index,
        current_node: graph.and_then(|graph| {
            graph
                .nodes
                .iter()
                .find(|node| node.id == body.state.current_node)
                .cloned()
        }),
        scene_characters,
        state: body.state.clone(),
        session_characters: body.session_characters.clone(),
        turn_running,
    }
}

/// The names of the story's characters in `session`'s scene.
pub async fn cast_names(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    session: &SessionBody,
) -> AppResult<HashMap<String, String>> {
    let ids = uuids(&session.state.active_characters);
    Ok(
        library::fetch_many::<CharacterBody>(conn, viewer.tenant_id, &ids)
            .await?
            .into_iter()
            .map(|card| (card.id.to_string(), card.body.name))
            .collect(),
    )
}

/// The snapshot of a session the viewer reads.
pub async fn snapshot(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<SessionSnapshot> {
    let session = library::get::<SessionBody>(conn, viewer, id)
        .await?
        .ok_or_else(|| AppError::not_found("story session not found"))?;
    let story_id = parse_id("storyId", &session.body.story_id)?;
    let graph = graph_version(conn, viewer, story_id, session.body.graph_version).await?;
    let names = cast_names(conn, viewer, &session.body).await?;
    let running = running_turns::running(conn, viewer.tenant_id, id)
        .await?
        .is_some();
    Ok(build(&session, graph.as_ref(), &names, running))
}

/// A session's variables (seed 003 `session.get_variables`).
#[derive(SimpleObject, Clone, Debug)]
pub struct SessionVariables {
    /// The world's values (a JSON object).
    pub world: async_graphql::Json<serde_json::Map<String, serde_json::Value>>,
    /// The player's values (a JSON object).
    pub player: async_graphql::Json<serde_json::Map<String, serde_json::Value>>,
    /// Each character's values, by character id (a JSON object of objects).
    pub characters: async_graphql::Json<
        std::collections::BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
    >,
}

#[derive(Default)]
pub struct SessionSnapshotQuery;

#[Object]
impl SessionSnapshotQuery {
    /// Where a session stands: its scene, who is in it, its state and its own characters
    /// (every member reads it).
    async fn session_snapshot(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session.")] session_id: ID,
    ) -> AppResult<SessionSnapshot> {
        let viewer = ctx.viewer_with(Role::Player)?;
        let id = parse_id("sessionId", &session_id)?;
        let mut conn = ctx.conn().await?;
        snapshot(&mut conn, viewer, id).await
    }

    /// A session's variables: the world's, the player's and each character's values (every
    /// member reads them; `updateSessionVariables` changes them).
    async fn session_variables(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session.")] session_id: ID,
    ) -> AppResult<SessionVariables> {
        let viewer = ctx.viewer_with(Role::Player)?;
        let id = parse_id("sessionId", &session_id)?;
        let mut conn = ctx.conn().await?;
        let state = library::get::<SessionBody>(&mut conn, viewer, id)
            .await?
            .ok_or_else(|| AppError::not_found("story session not found"))?
            .body
            .state;
        Ok(SessionVariables {
            world: state.world,
            player: state.player,
            characters: state.characters,
        })
    }
}
