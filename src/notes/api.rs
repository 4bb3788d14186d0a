//! GraphQL: notes. Every member of a tenant reads its notes and writes their own; ADMIN may
//! also change or delete anyone's.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};

use super::model::NoteRow;
use super::service::{self, Attachment, NoteUpdate, Reattach};
use super::store::{self, NoteFilter};
use crate::accounts::api::User;
use crate::auth::Role;
use crate::context::ContextExt;
use crate::db::connection::{connection_type, items_select, page_of};
use crate::db::cursor::ConnectionArgs;
use crate::db::keyset::Window;
use crate::db::pagination::{PageRequest, page_type};
use crate::db::parse_id;
use crate::db::search::TsQuery;
use crate::entities::api::Entity;
use crate::entities::api::EntityRefInput;
use crate::entities::service as entities;
use crate::error::{AppError, AppResult};

pub struct Note(NoteRow);

/// A markdown note: session notes, backstories, campaign information.
#[Object]
impl Note {
    /// The note's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// 3 to 50 characters.
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// Markdown, at least 3 characters.
    async fn content(&self) -> &str {
        &self.0.content
    }

    /// When the note was written.
    async fn date_created(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the note was last changed.
    async fn date_modified(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// Who wrote it (null once their account is deleted).
    async fn author(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        User::load(ctx, self.0.author_id).await
    }

    /// The entity it is attached to, while that entity is live.
    async fn entity(&self, ctx: &Context<'_>) -> AppResult<Option<Entity>> {
        Entity::live(ctx, self.0.entity_row_id).await
    }
}

page_type! {
    /// A page of notes.
    pub struct NotePage {
        total,
        notes: Vec<Note>,
    }
}

/// A new note.
#[derive(InputObject)]
pub struct CreateNoteInput {
    /// 3 to 50 characters.
    pub title: String,
    /// Markdown, at least 3 characters.
    pub content: String,
    /// Attach the note to this entity.
    pub entity: Option<EntityRefInput>,
}

/// Only what is given changes.
#[derive(InputObject)]
pub struct UpdateNoteInput {
    /// A new title: 3 to 50 characters.
    pub title: Option<String>,
    /// New Markdown content, at least 3 characters.
    pub content: Option<String>,
    /// Attach the note to this entity instead.
    pub entity: Option<EntityRefInput>,
    /// Detach the note from its entity.
    #[graphql(default)]
    pub detach: bool,
}

#[derive(Default)]
pub struct NoteQuery;

#[Object]
impl NoteQuery {
    /// One note of the viewer's tenant; null when there is none.
    async fn note(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The note's id.")] id: ID,
    ) -> AppResult<Option<Note>> {
        let viewer = ctx.viewer()?;
        let id = parse_id("id", &id)?;
        let mut conn = ctx.conn().await?;
        Ok(store::find(&mut conn, viewer.tenant_id, id)
            .await?
            .map(Note))
    }

    /// The tenant's notes, most recently changed first: those attached to one entity, only
    /// the viewer's own, or matching a full-text search (prefix matching), as asked.
    async fn notes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only notes attached to this entity (none when it is not live).")]
        entity: Option<EntityRefInput>,
        #[graphql(default, desc = "Only the viewer's own notes.")] mine: bool,
        #[graphql(desc = "Words to look for (full-text search, prefix matching).")] search: Option<
            String,
        >,
        #[graphql(desc = "How many notes to skip: 0 to 10,000, 0 when absent.")] offset: Option<
            i32,
        >,
        #[graphql(desc = "How many notes to return: 1 to 200, 50 when absent.")] limit: Option<i32>,
    ) -> AppResult<NotePage> {
        let page = PageRequest::new(offset, limit)?;
        let filter = NotesAsked {
            entity,
            mine,
            search,
        };
        let (total, rows) = load_notes(ctx, filter, &Window::Offset(page)).await?;
        Ok(NotePage::new(
            total.unwrap_or_default(),
            page,
            rows.into_iter().map(Note).collect(),
        ))
    }

    /// The tenant's notes by cursor, most recently changed first, filtered as `notes` is.
    #[allow(clippy::too_many_arguments)]
    async fn notes_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only notes attached to this entity (none when it is not live).")]
        entity: Option<EntityRefInput>,
        #[graphql(default, desc = "Only the viewer's own notes.")] mine: bool,
        #[graphql(desc = "Words to look for (full-text search, prefix matching).")] search: Option<
            String,
        >,
        #[graphql(
            desc = "How many notes to return after `after`: 1 to 200, 50 when neither \
                          `first` nor `last` is given."
        )]
        first: Option<i32>,
        #[graphql(desc = "The cursor to go on after (an `endCursor`); the start when absent.")]
        after: Option<String>,
        #[graphql(desc = "How many notes to return before `before`: 1 to 200.")] last: Option<i32>,
        #[graphql(
            desc = "The cursor to go back from (a `startCursor`); the end when absent \
                          and `last` is given."
        )]
        before: Option<String>,
    ) -> AppResult<NoteConnection> {
        // The cursors are bound to the filters, as every list's are.
        let cursors = ctx.cursors(format!(
            "notes/{}/{mine}/{}",
            entity
                .as_ref()
                .map(|e| format!("{}:{}", e.r#type.slug(), e.entity_id))
                .unwrap_or_default(),
            search
                .as_deref()
                .and_then(TsQuery::parse)
                .map(|q| q.as_str().to_owned())
                .unwrap_or_default()
        ))?;
        let window = cursors.window(ConnectionArgs {
            first,
            after,
            last,
            before,
        })?;
        let filter = NotesAsked {
            entity,
            mine,
            search,
        };
        let (_, rows) = load_notes(ctx, filter, &Window::Keyset(window.clone())).await?;
        Ok(page_of(
            rows,
            &window,
            &cursors,
            |note| (note.updated_at, note.id),
            Note,
        )
        .into())
    }
}

connection_type! {
    /// Notes, a page at a time by cursor.
    pub struct NoteConnection;
    /// A note and its cursor.
    pub struct NoteEdge(Note);
}

/// What a list of notes was asked to hold.
struct NotesAsked {
    entity: Option<EntityRefInput>,
    mine: bool,
    search: Option<String>,
}

/// The notes `window` holds of those asked for, with what their authors and entities will
/// need loaded up front (under `notes`, `edges { node }` or `nodes`).
async fn load_notes(
    ctx: &Context<'_>,
    asked: NotesAsked,
    window: &Window<store::NoteKey>,
) -> AppResult<(Option<i64>, Vec<NoteRow>)> {
    let viewer = ctx.viewer()?;
    let mut conn = ctx.conn().await?;
    let entity_row_id = match &asked.entity {
        Some(entity) => {
            let found = entities::find_live(
                &mut conn,
                viewer.tenant_id,
                entity.r#type,
                &entity.entity_id,
            )
            .await?;
            match found {
                Some(row) => Some(row.id),
                // Notes of an entity that is not live: none.
                None => return Ok((Some(0), Vec::new())),
            }
        }
        None => None,
    };
    let search = asked.search.as_deref().and_then(TsQuery::parse);
    let filter = NoteFilter {
        entity_row_id,
        author_id: asked.mine.then_some(viewer.user_id),
        search: search.as_ref(),
    };
    let (total, rows) = store::list(&mut conn, viewer.tenant_id, &filter, window).await?;
    drop(conn);
    // Each link once for the page, however many places of the answer ask for it.
    let look_ahead = ctx.look_ahead();
    if items_select(&look_ahead, "notes", "author") {
        User::prefetch(ctx, rows.iter().filter_map(|n| n.author_id)).await?;
    }
    if items_select(&look_ahead, "notes", "entity") {
        Entity::prefetch(ctx, rows.iter().filter_map(|n| n.entity_row_id)).await?;
    }
    Ok((total, rows))
}

#[derive(Default)]
pub struct NoteMutation;

#[Object]
impl NoteMutation {
    /// Writes a note (WORLDBUILDER and above: PLAYERs play, chat and read notes, as seed 002's
    /// role table has it).
    async fn create_note(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new note.")] input: CreateNoteInput,
    ) -> AppResult<Note> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let mut conn = ctx.conn().await?;
        let attachment = input.entity.as_ref().map(attachment);
        let note =
            service::create(&mut conn, viewer, &input.title, &input.content, attachment).await?;
        Ok(Note(note))
    }

    /// Changes a note (its author, WORLDBUILDER and above; or ADMIN).
    async fn update_note(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The note's id.")] id: ID,
        #[graphql(desc = "The changes; what is absent stays.")] input: UpdateNoteInput,
    ) -> AppResult<Note> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let id = parse_id("id", &id)?;
        let attachment = match (&input.entity, input.detach) {
            (Some(_), true) => {
                return Err(AppError::bad_input(
                    "give either `entity` or `detach`, not both",
                ));
            }
            (Some(entity), false) => Reattach::To(attachment(entity)),
            (None, true) => Reattach::Detach,
            (None, false) => Reattach::Keep,
        };
        let update = NoteUpdate {
            title: input.title.as_deref(),
            content: input.content.as_deref(),
            attachment,
        };
        let mut conn = ctx.conn().await?;
        Ok(Note(service::update(&mut conn, viewer, id, update).await?))
    }

    /// Deletes a note (its author, WORLDBUILDER and above; or ADMIN).
    async fn delete_note(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The note's id.")] id: ID,
    ) -> AppResult<bool> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let id = parse_id("id", &id)?;
        let mut conn = ctx.conn().await?;
        service::delete(&mut conn, viewer, id).await?;
        Ok(true)
    }
}

fn attachment(entity: &EntityRefInput) -> Attachment<'_> {
    Attachment {
        entity_type: entity.r#type,
        entity_id: &entity.entity_id,
    }
}
