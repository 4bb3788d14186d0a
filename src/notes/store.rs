//! Queries of the notes domain, always within one tenant.

use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::NoteRow;
use crate::db::pagination::{PageDsl, PageRequest, load_page};
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
    Ok(diesel::update(notes::table.find(note.id))
        .set((&changes, notes::updated_at.eq(Utc::now())))
        .returning(NoteRow::as_returning())
        .get_result(conn)
        .await?)
}

pub async fn delete(conn: &mut AsyncPgConnection, note: &NoteRow) -> AppResult<()> {
    diesel::delete(notes::table.find(note.id))
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

/// A page of notes, most recently changed first, and the total the filter matches.
pub async fn list(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    filter: &NoteFilter<'_>,
    page: PageRequest,
) -> AppResult<(i64, Vec<NoteRow>)> {
    let rows = filtered(tenant_id, filter)
        .order((notes::updated_at.desc(), notes::id.desc()))
        .page(page)
        .select(NoteRow::as_select());
    load_page(conn, rows, filtered(tenant_id, filter).count()).await
}
