//! The history of an entity: what each write did, and its revisions.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::keyset::{Window, load_window, windowed};
use crate::db::schema::entity_revisions;
use crate::entities::model::{EntityRow, RevisionRow};
use crate::error::AppResult;

/// What the write a revision records did.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum RevisionAction {
    /// The entity was created.
    Created,
    /// The entity was changed.
    Updated,
    /// The entity was moved to the recycle bin.
    Deleted,
    /// The entity was brought back from the recycle bin.
    Restored,
    /// The entity was given a new id.
    Renamed,
}

impl RevisionAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Deleted => "deleted",
            Self::Restored => "restored",
            Self::Renamed => "renamed",
        }
    }

    pub fn from_db(text: &str) -> Self {
        match text {
            "created" => Self::Created,
            "deleted" => Self::Deleted,
            "restored" => Self::Restored,
            "renamed" => Self::Renamed,
            _ => Self::Updated,
        }
    }
}

fn of_entity(row: &EntityRow) -> entity_revisions::BoxedQuery<'static, Pg> {
    entity_revisions::table
        .filter(entity_revisions::tenant_id.eq(row.tenant_id))
        .filter(entity_revisions::entity_row_id.eq(row.id))
        .into_boxed()
}

/// Where a revision sits in its entity's history: its version, and its id (the version is
/// unique within one entity, so the id never breaks a tie; it is there because a key has at
/// least two columns).
pub type RevisionKey = (i32, Uuid);

/// An entity's revisions, newest first: an offset page with the total, or a page by cursor.
pub async fn revisions(
    conn: &mut AsyncPgConnection,
    row: &EntityRow,
    window: &Window<RevisionKey>,
) -> AppResult<(Option<i64>, Vec<RevisionRow>)> {
    let rows = windowed!(
        of_entity(row),
        window.clone(),
        desc(entity_revisions::version, entity_revisions::id)
    )
    .select(RevisionRow::as_select());
    load_window(conn, window, rows, of_entity(row).count()).await
}

pub async fn revision(
    conn: &mut AsyncPgConnection,
    row: &EntityRow,
    version: i32,
) -> AppResult<Option<RevisionRow>> {
    Ok(entity_revisions::table
        .filter(entity_revisions::tenant_id.eq(row.tenant_id))
        .filter(entity_revisions::entity_row_id.eq(row.id))
        .filter(entity_revisions::version.eq(version))
        .select(RevisionRow::as_select())
        .first(conn)
        .await
        .optional()?)
}
