//! The notes' rules: what a note may say, who may write one, and who may change it (its
//! author, WORLDBUILDER and above, or an ADMIN).

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::store::{self, NoteChanges};
use crate::auth::{Role, Viewer};
use crate::db::{MAX_MARKDOWN_CHARS, validate_text};
use crate::entities::service::{self as entities, EntityType};
use crate::error::{AppError, AppResult};
use crate::teams::service::{self as teams, Permission};

/// A note's row, as an export reads it.
pub use super::model::NoteRow;
/// How many notes the tenant holds (the dashboard's count), and its notes a page at a time (a
/// whole-tenant export).
pub use super::store::{count, page_after};

/// An entity a note is attached to, by type and id.
#[derive(Clone, Copy, Debug)]
pub struct Attachment<'a> {
    pub entity_type: EntityType,
    pub entity_id: &'a str,
}

/// What happens to a note's attachment when it changes.
#[derive(Clone, Copy, Debug)]
pub enum Reattach<'a> {
    Keep,
    Detach,
    To(Attachment<'a>),
}

/// A change to a note: only what is given changes.
#[derive(Clone, Copy, Debug)]
pub struct NoteUpdate<'a> {
    pub title: Option<&'a str>,
    pub content: Option<&'a str>,
    pub attachment: Reattach<'a>,
}

/// Seed 000: a title of 3 to 50 characters.
fn validate_title(title: &str) -> AppResult<String> {
    validate_text("title", title, usize::MAX)?;
    let title = title.trim();
    let length = title.chars().count();
    if !(3..=50).contains(&length) {
        return Err(AppError::bad_field(
            "title",
            "the title must have 3 to 50 characters",
        ));
    }
    Ok(title.to_owned())
}

/// Seed 000: content of at least 3 characters.
fn validate_content(content: &str) -> AppResult<String> {
    validate_text("content", content, MAX_MARKDOWN_CHARS)?;
    if content.trim().chars().count() < 3 {
        return Err(AppError::bad_field(
            "content",
            "the content must have at least 3 characters",
        ));
    }
    Ok(content.to_owned())
}

/// Writes a note as the viewer (WORLDBUILDER and above: PLAYERs play, chat and read notes, as
/// seed 002's role table has it).
pub async fn create(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    title: &str,
    content: &str,
    attachment: Option<Attachment<'_>>,
) -> AppResult<NoteRow> {
    viewer.require_role(Role::Worldbuilder)?;
    let title = validate_title(title)?;
    let content = validate_content(content)?;
    teams::ensure_allowed(conn, viewer, Permission::WriteNotes, None).await?;
    let entity_row_id = match attachment {
        Some(attachment) => Some(attached_row_id(conn, viewer, attachment).await?),
        None => None,
    };
    store::insert(
        conn,
        viewer.tenant_id,
        viewer.user_id,
        entity_row_id,
        &title,
        &content,
    )
    .await
}

/// Changes a note the viewer may change.
pub async fn update(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: Uuid,
    update: NoteUpdate<'_>,
) -> AppResult<NoteRow> {
    let mut changes = NoteChanges {
        title: update.title.map(validate_title).transpose()?,
        content: update.content.map(validate_content).transpose()?,
        entity_row_id: None,
    };
    let note = writable(conn, viewer, id).await?;
    changes.entity_row_id = match update.attachment {
        Reattach::Keep => None,
        Reattach::Detach => Some(None),
        Reattach::To(attachment) => Some(Some(attached_row_id(conn, viewer, attachment).await?)),
    };
    store::update(conn, &note, changes).await
}

/// Deletes a note the viewer may change.
pub async fn delete(conn: &mut AsyncPgConnection, viewer: &Viewer, id: Uuid) -> AppResult<()> {
    let note = writable(conn, viewer, id).await?;
    store::delete(conn, &note).await
}

/// A note the viewer may change: their own (WORLDBUILDER and above), or any as ADMIN.
async fn writable(conn: &mut AsyncPgConnection, viewer: &Viewer, id: Uuid) -> AppResult<NoteRow> {
    viewer.require_role(Role::Worldbuilder)?;
    teams::ensure_allowed(conn, viewer, Permission::WriteNotes, None).await?;
    let note = store::find(conn, viewer.tenant_id, id)
        .await?
        .ok_or_else(|| AppError::not_found("note not found"))?;
    if note.author_id != Some(viewer.user_id) && viewer.role < Role::Admin {
        return Err(AppError::forbidden(
            "only the note's author or an ADMIN may change it",
        ));
    }
    Ok(note)
}

async fn attached_row_id(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    attachment: Attachment<'_>,
) -> AppResult<Uuid> {
    entities::live_row_id(
        conn,
        viewer.tenant_id,
        attachment.entity_type,
        attachment.entity_id,
    )
    .await
}
