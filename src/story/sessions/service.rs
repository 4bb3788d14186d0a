//! Starting sessions and changing their variables: a session starts at its story's start node
//! with the schemas' defaults (on the story's current graph version, the tenant's default API
//! group and preset unless others are named); its variables change only by the six state
//! operations, each checked against the story's schemas and cast, all or none, one version on.

use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::state::{self, is_variable_operation};
use super::{SessionBody, turns};
use crate::auth::{Role, Viewer};
use crate::error::{AppError, AppResult};
use crate::story::library::{self, Stored};
use crate::story::store;
use crate::story::stories::StoryBody;
use crate::story::stories::graph::{StateOperation, StoryGraph};
use crate::story::stories::service::{Bound, bound, graph_version};

/// Most variable operations one update takes.
const MAX_OPERATIONS: usize = 100;

/// What a session is started with.
pub struct SessionStart {
    pub story_id: Uuid,
    pub player_profile_id: Option<async_graphql::ID>,
    pub api_group_id: Option<async_graphql::ID>,
    pub preset_id: Option<async_graphql::ID>,
}

fn id(uuid: Uuid) -> async_graphql::ID {
    async_graphql::ID(uuid.to_string())
}

/// Starts a session of a story the viewer reads (PLAYER and above).
pub async fn start(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    start: SessionStart,
) -> AppResult<Stored<SessionBody>> {
    viewer.require_role(Role::Player)?;
    conn.transaction::<_, AppError, _>(async |conn| {
        let story = library::get::<StoryBody>(conn, viewer, start.story_id)
            .await?
            .ok_or_else(|| AppError::not_found("story not found"))?;
        let bound = bound(conn, viewer, &story.body).await?;
        let state = state::initial(&story.body.graph, &bound.bindings())?;
        let (default_group, default_preset) = store::settings(conn, viewer.tenant_id).await?;
        let body = SessionBody {
            story_id: id(story.id),
            graph_version: story.body.graph_version,
            owner_id: id(viewer.user_id),
            player_profile_id: start.player_profile_id,
            player_description: None,
            api_group_id: start.api_group_id.or(default_group.map(id)),
            preset_id: start.preset_id.or(default_preset.map(id)),
            world_schema_id: story.body.world_schema_id.clone(),
            player_schema_id: story.body.player_schema_id.clone(),
            state,
            session_characters: Vec::new(),
        };
        library::insert(conn, viewer, Some(&story.display_name), body).await
    })
    .await
}

/// The session locked for a change by its owner or a WORLDBUILDER (inside the caller's
/// transaction: what is written next takes turns with the session's other writes).
pub async fn owned(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: Uuid,
    expected_version: Option<i32>,
) -> AppResult<Stored<SessionBody>> {
    let session = library::lock::<SessionBody>(conn, viewer, id, expected_version).await?;
    ensure_owner(viewer, &session.body)?;
    // A running turn saves the session as it found it plus the turn: a change made meanwhile
    // would be lost, or would cost the turn. One waits for the other.
    if turns::store::running(conn, viewer.tenant_id, id)
        .await?
        .is_some()
    {
        return Err(AppError::conflict(
            "a turn is running in this session: wait for it to end, or cancel it",
        ));
    }
    Ok(session)
}

/// Refuses (FORBIDDEN) a viewer who is neither the session's owner nor a WORLDBUILDER.
pub fn ensure_owner(viewer: &Viewer, session: &SessionBody) -> AppResult<()> {
    if session.owner_id.0 != viewer.user_id.to_string() && viewer.role < Role::Worldbuilder {
        return Err(AppError::forbidden(
            "only who started the session, or a WORLDBUILDER, may change or play it",
        ));
    }
    Ok(())
}

/// What a session's state is checked against: its story's cast and the characters it brought
/// in, and the schemas it started with.
pub async fn session_bound(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    session: &SessionBody,
    story: &StoryBody,
) -> AppResult<Bound> {
    let mut bound_story = story.clone();
    bound_story.world_schema_id = session.world_schema_id.clone();
    bound_story.player_schema_id = session.player_schema_id.clone();
    let mut bound = bound(conn, viewer, &bound_story).await?;
    bound
        .cast
        .extend(session.session_characters.iter().map(|c| c.id.clone()));
    Ok(bound)
}

/// The session locked for a change by its owner or a WORLDBUILDER, with the graph it plays.
pub async fn writable(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: Uuid,
    expected_version: Option<i32>,
) -> AppResult<(Stored<SessionBody>, StoryGraph, StoryBody)> {
    let session = owned(conn, viewer, id, expected_version).await?;
    let (story, graph) = played(conn, viewer, &session.body).await?;
    Ok((session, graph, story))
}

/// The story a session plays and the graph version it plays.
pub async fn played(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    session: &SessionBody,
) -> AppResult<(StoryBody, StoryGraph)> {
    let story_id = crate::db::parse_id("storyId", &session.story_id)?;
    let story = library::get::<StoryBody>(conn, viewer, story_id)
        .await?
        .ok_or_else(|| AppError::not_found("the session's story is gone"))?;
    let graph = graph_version(conn, viewer, story_id, session.graph_version)
        .await?
        .ok_or_else(|| AppError::not_found("the session's graph version is gone"))?;
    Ok((story.body, graph))
}

/// Changes a session's variables by `operations` (the six state operations only), all or
/// none.
pub async fn update_variables(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: Uuid,
    expected_version: Option<i32>,
    operations: &[StateOperation],
) -> AppResult<Stored<SessionBody>> {
    if operations.len() > MAX_OPERATIONS {
        return Err(AppError::bad_field(
            "operations",
            format!("at most {MAX_OPERATIONS} operations at once"),
        ));
    }
    if let Some(other) = operations.iter().find(|op| !is_variable_operation(op)) {
        return Err(AppError::bad_field(
            "operations",
            format!(
                "{:?} is not a variable update: only the six Set/Remove state operations are",
                other.op
            ),
        ));
    }
    conn.transaction::<_, AppError, _>(async |conn| {
        let (session, graph, story) = writable(conn, viewer, id, expected_version).await?;
        let bound = session_bound(conn, viewer, &session.body, &story).await?;
        let mut body = session.body.clone();
        for operation in operations {
            state::apply(&mut body.state, operation, &graph, &bound.bindings())?;
        }
        library::save(conn, viewer, &session, None, body).await
    })
    .await
}

/// What may change of a session's settings: each `Some` replaces (a `Some(None)` clears).
#[derive(Default)]
pub struct SessionSettings {
    pub player_profile_id: Option<Option<async_graphql::ID>>,
    pub player_description: Option<Option<String>>,
    pub api_group_id: Option<async_graphql::ID>,
    pub preset_id: Option<async_graphql::ID>,
}

/// Changes a session's player profile, player description, API group or preset (its owner, or a
/// WORLDBUILDER); each reference must name a document of its kind in the tenant.
pub async fn update_settings(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: Uuid,
    expected_version: Option<i32>,
    change: SessionSettings,
) -> AppResult<Stored<SessionBody>> {
    conn.transaction::<_, AppError, _>(async |conn| {
        let (session, _, _) = writable(conn, viewer, id, expected_version).await?;
        let mut body = session.body.clone();
        if let Some(profile) = change.player_profile_id {
            body.player_profile_id = profile;
        }
        if let Some(description) = change.player_description {
            body.player_description = description;
        }
        if let Some(group) = change.api_group_id {
            body.api_group_id = Some(group);
        }
        if let Some(preset) = change.preset_id {
            body.preset_id = Some(preset);
        }
        library::save(conn, viewer, &session, None, body).await
    })
    .await
}

/// Renames a session (its owner, or a WORLDBUILDER).
pub async fn rename(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: Uuid,
    expected_version: Option<i32>,
    display_name: &str,
) -> AppResult<Stored<SessionBody>> {
    conn.transaction::<_, AppError, _>(async |conn| {
        let session = owned(conn, viewer, id, expected_version).await?;
        let body = session.body.clone();
        library::save(conn, viewer, &session, Some(display_name), body).await
    })
    .await
}

/// Deletes a session (its owner, or a WORLDBUILDER).
pub async fn delete(conn: &mut AsyncPgConnection, viewer: &Viewer, id: Uuid) -> AppResult<()> {
    conn.transaction::<_, AppError, _>(async |conn| {
        writable(conn, viewer, id, None).await?;
        store::delete(conn, viewer.tenant_id, id).await
    })
    .await
}
