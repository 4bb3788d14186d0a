//! Session characters (seed 003 `session_character.*`): people the director brings into a
//! session's scenes when the story's cast has no one for the part — a guard, a stranger. They
//! live in the session only (the story and its graph are untouched), are played by the actor
//! like the cast, and enter and leave the scene as the director or the player moves them.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::SessionBody;
use super::service::{owned, session_bound, writable};
use super::state;
use crate::auth::{Role, Viewer};
use crate::context::ContextExt;
use crate::db::{parse_id, validate_text};
use crate::error::{AppError, AppResult};
use crate::story::library::{self, Stored};
use crate::story::loaders::StoryLoaders;
use crate::story::schemas::checked_text;
use crate::story::stories::graph::{StateOperation, StateOperationType};

/// Most characters one session brings in.
pub const MAX_SESSION_CHARACTERS: usize = 50;

/// A character of one session only.
#[derive(SimpleObject, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SessionCharacter {
    /// Unique in the session (not a character card's id).
    pub id: ID,
    /// Their name (1 to 100 characters).
    pub name: String,
    /// Who they are (up to 4,000 characters).
    #[serde(default)]
    pub personality: Option<String>,
    /// How they look and what they are doing (up to 4,000 characters).
    #[serde(default)]
    pub description: Option<String>,
    /// The turn that brought them in.
    pub created_turn: i32,
}

impl SessionCharacter {
    /// A new character brought in on `turn`.
    pub fn new(
        name: &str,
        personality: Option<String>,
        description: Option<String>,
        turn: i32,
    ) -> AppResult<Self> {
        let mut character = Self {
            id: ID(Uuid::now_v7().to_string()),
            name: name.to_owned(),
            personality,
            description,
            created_turn: turn,
        };
        character.check()?;
        Ok(character)
    }

    fn check(&mut self) -> AppResult<()> {
        validate_text("name", &self.name, 100)?;
        self.name = self.name.trim().to_owned();
        if self.name.is_empty() {
            return Err(AppError::bad_field("name", "a character needs a name"));
        }
        checked_text("personality", &mut self.personality, 4_000)?;
        checked_text("description", &mut self.description, 4_000)
    }
}

/// Checks every session character (a stored session's rules).
pub fn check_all(characters: &mut [SessionCharacter]) -> AppResult<()> {
    if characters.len() > MAX_SESSION_CHARACTERS {
        return Err(AppError::bad_field(
            "sessionCharacters",
            format!("a session holds at most {MAX_SESSION_CHARACTERS} characters of its own"),
        ));
    }
    characters.iter_mut().try_for_each(SessionCharacter::check)
}

/// A session character as read: with whether they are in the scene.
#[derive(SimpleObject)]
pub struct SessionCharacterView {
    #[graphql(flatten)]
    pub character: SessionCharacter,
    /// Whether they are in the current scene.
    pub in_scene: bool,
}

fn view(body: &SessionBody, character: &SessionCharacter) -> SessionCharacterView {
    SessionCharacterView {
        character: character.clone(),
        in_scene: body.state.active_characters.contains(&character.id),
    }
}

/// A change to a session character: only what is given changes (blank clears).
#[derive(InputObject, Default)]
pub struct SessionCharacterUpdate {
    /// Their name (1 to 100 characters).
    pub name: Option<String>,
    /// Who they are (up to 4,000 characters).
    pub personality: Option<String>,
    /// How they look (up to 4,000 characters).
    pub description: Option<String>,
}

async fn readable(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    session_id: Uuid,
) -> AppResult<Stored<SessionBody>> {
    library::get::<SessionBody>(conn, viewer, session_id)
        .await?
        .ok_or_else(|| AppError::not_found("story session not found"))
}

fn position(body: &SessionBody, id: &ID) -> AppResult<usize> {
    body.session_characters
        .iter()
        .position(|c| c.id == *id)
        .ok_or_else(|| AppError::not_found("no such character in this session"))
}

/// Changes a session in its own transaction (its owner, or a WORLDBUILDER; not while a turn
/// runs).
async fn change(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    session_id: Uuid,
    edit: impl FnOnce(&mut SessionBody) -> AppResult<()> + Send,
) -> AppResult<Stored<SessionBody>> {
    conn.transaction::<_, AppError, _>(async |conn| {
        let session = owned(conn, viewer, session_id, None).await?;
        let mut body = session.body.clone();
        edit(&mut body)?;
        library::save(conn, viewer, &session, None, body).await
    })
    .await
}

/// Moves a character (of the cast or the session) into or out of the scene, without touching
/// the graph.
async fn move_in_scene(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    session_id: Uuid,
    character_id: ID,
    op: StateOperationType,
) -> AppResult<Stored<SessionBody>> {
    conn.transaction::<_, AppError, _>(async |conn| {
        let (session, graph, story) = writable(conn, viewer, session_id, None).await?;
        let bound = session_bound(conn, viewer, &session.body, &story).await?;
        let mut body = session.body.clone();
        let operation = StateOperation::on_character(op, character_id);
        state::apply(&mut body.state, &operation, &graph, &bound.bindings())?;
        library::save(conn, viewer, &session, None, body).await
    })
    .await
}

#[derive(Default)]
pub struct SessionCharacterQuery;

#[Object]
impl SessionCharacterQuery {
    /// The characters a session brought in (every member reads them).
    async fn session_characters(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session.")] session_id: ID,
    ) -> AppResult<Vec<SessionCharacterView>> {
        Ok(read(ctx, &session_id, |_| true).await?)
    }

    /// One character a session brought in; null when there is none.
    async fn session_character(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session.")] session_id: ID,
        #[graphql(desc = "The character.")] id: ID,
    ) -> AppResult<Option<SessionCharacterView>> {
        Ok(read(ctx, &session_id, |c| c.id == id).await?.pop())
    }
}

/// The session's characters that `wanted` picks, as read.
async fn read(
    ctx: &Context<'_>,
    session_id: &ID,
    wanted: impl Fn(&SessionCharacter) -> bool,
) -> AppResult<Vec<SessionCharacterView>> {
    let viewer = ctx.viewer_with(Role::Player)?;
    let id = parse_id("sessionId", session_id)?;
    let mut conn = ctx.conn().await?;
    let session = readable(&mut conn, viewer, id).await?;
    Ok(session
        .body
        .session_characters
        .iter()
        .filter(|c| wanted(c))
        .map(|c| view(&session.body, c))
        .collect())
}

#[derive(Default)]
pub struct SessionCharacterMutation;

#[Object]
impl SessionCharacterMutation {
    /// Changes a session character's name, personality or description (the session's owner,
    /// or a WORLDBUILDER).
    async fn update_session_character(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session.")] session_id: ID,
        #[graphql(desc = "The character.")] id: ID,
        #[graphql(desc = "What changes.")] input: SessionCharacterUpdate,
    ) -> AppResult<SessionCharacterView> {
        let viewer = ctx.viewer_with(Role::Player)?;
        let session_id = parse_id("sessionId", &session_id)?;
        let mut conn = ctx.conn().await?;
        let target = id.clone();
        let stored = change(&mut conn, viewer, session_id, move |body| {
            let index = position(body, &target)?;
            let character = &mut body.session_characters[index];
            if let Some(name) = input.name {
                character.name = name;
            }
            if let Some(personality) = input.personality {
                character.personality = Some(personality);
            }
            if let Some(description) = input.description {
                character.description = Some(description);
            }
            character.check()
        })
        .await?;
        ctx.loaders::<StoryLoaders>().forget();
        let index = position(&stored.body, &id)?;
        Ok(view(&stored.body, &stored.body.session_characters[index]))
    }

    /// Removes a session character (and from the scene); whether there was one.
    async fn delete_session_character(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session.")] session_id: ID,
        #[graphql(desc = "The character.")] id: ID,
    ) -> AppResult<bool> {
        let viewer = ctx.viewer_with(Role::Player)?;
        let session_id = parse_id("sessionId", &session_id)?;
        let mut conn = ctx.conn().await?;
        change(&mut conn, viewer, session_id, |body| {
            let index = position(body, &id)?;
            body.session_characters.remove(index);
            body.state.active_characters.retain(|c| *c != id);
            body.state.characters.0.remove(&id.0);
            Ok(())
        })
        .await?;
        ctx.loaders::<StoryLoaders>().forget();
        Ok(true)
    }

    /// Brings a character of the story's cast or of the session into the scene (the graph is
    /// not changed; the session's owner, or a WORLDBUILDER).
    async fn enter_scene(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session.")] session_id: ID,
        #[graphql(desc = "The character.")] character_id: ID,
    ) -> AppResult<Vec<ID>> {
        scene(
            ctx,
            session_id,
            character_id,
            StateOperationType::AddActiveCharacter,
        )
        .await
    }

    /// Takes a character out of the scene (the graph is not changed; the session's owner, or
    /// a WORLDBUILDER).
    async fn leave_scene(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session.")] session_id: ID,
        #[graphql(desc = "The character.")] character_id: ID,
    ) -> AppResult<Vec<ID>> {
        scene(
            ctx,
            session_id,
            character_id,
            StateOperationType::RemoveActiveCharacter,
        )
        .await
    }
}

/// Moves a character in or out; the scene's characters afterwards.
async fn scene(
    ctx: &Context<'_>,
    session_id: ID,
    character_id: ID,
    op: StateOperationType,
) -> AppResult<Vec<ID>> {
    let viewer = ctx.viewer_with(Role::Player)?;
    let session_id = parse_id("sessionId", &session_id)?;
    let mut conn = ctx.conn().await?;
    let stored = move_in_scene(&mut conn, viewer, session_id, character_id, op).await?;
    ctx.loaders::<StoryLoaders>().forget();
    Ok(stored.body.state.active_characters)
}
