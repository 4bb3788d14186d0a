//! Queries of the notes domain, always within one tenant.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::NoteRow;
use crate::db::keyset::{Window, load_window, windowed};
use crate::db::schema::notes;
use crate::db::search::TsQuery;
use crate::error::AppResult;

pub async fn insert(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    author_id: Uuid,
    entity_row_id: Option<Uuid>,
    title: &str,
    content: &str,
) -> AppResult<NoteRow> {
    Ok(diesel::insert_into(notes::table)
        .values((
            notes::id.eq(Uuid::now_v7()),
            notes::tenant_id.eq(tenant_id),
            notes::author_id.eq(author_id),
            notes::entity_row_id.eq(entity_row_id),
            notes::title.eq(title),
            notes::content.eq(content),
        ))
        .returning(NoteRow::as_returning())
        .get_result(conn)
        .await?)
}

pub async fn find(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> AppResult<Option<NoteRow>> {
    Ok(notes::table
        .filter(notes::tenant_id.eq(tenant_id))
        .filter(notes::id.eq(id))
        .select(NoteRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = notes)]
pub struct NoteChanges {
    pub title: Option<String>,
    pub content: Option<String>,
    pub entity_row_id: Option<Option<Uuid>>,
}

pub async fn update(
    conn: &mut AsyncPgConnection,
    note: &NoteRow,
    changes: NoteChanges,
) -> AppResult<NoteRow> {
    Ok(diesel::update(notes::table.find((note.tenant_id, note.id)))
        .set((&changes, notes::updated_at.eq(Utc::now())))
        .returning(NoteRow::as_returning())
        .get_result(conn)
        .await?)
}

/// The tenant's notes after the note `after` (in id order), `limit` at most: an export's pages.
pub async fn page_after(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> AppResult<Vec<NoteRow>> {
    let mut query = notes::table
        .filter(notes::tenant_id.eq(tenant_id))
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(notes::id.gt(after));
    }
    Ok(query
        .order(notes::id)
        .limit(limit)
        .select(NoteRow::as_select())
        .load(conn)
        .await?)
}

/// How many notes the tenant holds.
pub async fn count(conn: &mut AsyncPgConnection, tenant_id: Uuid) -> AppResult<i64> {
    Ok(notes::table
        .filter(notes::tenant_id.eq(tenant_id))
        .count()
        .get_result(conn)
        .await?)
}

pub async fn delete(conn: &mut AsyncPgConnection, note: &NoteRow) -> AppResult<()> {
    diesel::delete(notes::table.find((note.tenant_id, note.id)))
        .execute(conn)
        .await?;
    Ok(())
}

pub struct NoteFilter<'a> {
    pub entity_row_id: Option<Uuid>,
    pub author_id: Option<Uuid>,
    pub search: Option<&'a TsQuery>,
}

fn filtered<'a>(tenant_id: Uuid, filter: &NoteFilter<'a>) -> notes::BoxedQuery<'a, diesel::pg::Pg> {
    let mut query = notes::table
        .filter(notes::tenant_id.eq(tenant_id))
        .into_boxed();
    if let Some(entity) = filter.entity_row_id {
        query = query.filter(notes::entity_row_id.eq(entity));
    }
    if let Some(author) = filter.author_id {
        query = query.filter(notes::author_id.eq(author));
    }
    if let Some(search) = filter.search {
        query = query.filter(search.matches_on("notes"));
    }
    query
}

/// Where a note sits in the list: when it last changed, and its id.
pub type NoteKey = (DateTime<Utc>, Uuid);

/// A page of notes, most recently changed first: an offset page with the total the filter
/// matches, or a page by cursor.
pub async fn list(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    filter: &NoteFilter<'_>,
    window: &Window<NoteKey>,
) -> AppResult<(Option<i64>, Vec<NoteRow>)> {
    let rows = windowed!(
        filtered(tenant_id, filter),
        window.clone(),
        desc(notes::updated_at, notes::id)
    )
    .select(NoteRow::as_select());
    load_window(conn, window, rows, filtered(tenant_id, filter).count()).await
}
