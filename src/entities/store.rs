//! Queries of entities, their revisions and their reference rows. Every function takes the
//! tenant and never reaches outside it.

use chrono::Utc;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{EntityContent, EntityRow, ReferenceRow, RevisionRow};
use super::references::FoundReference;
use super::types::{EntityStatus, EntityType};
use super::validation::Checked;
use crate::db::lower;
use crate::db::pagination::PageRequest;
use crate::db::schema::{entities, entity_references, entity_revisions};
use crate::db::search::TsQuery;
use crate::error::{AppError, AppResult};

/// What the write a revision records did.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum RevisionAction {
    Created,
    Updated,
    Deleted,
    Restored,
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

/// Which entities a list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bin {
    Live,
    Recycled,
}

/// What a list of entities is sorted by.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum EntitySortField {
    Name,
    CreatedAt,
    #[default]
    UpdatedAt,
}

/// Ascending or descending.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum SortOrder {
    Asc,
    #[default]
    Desc,
}

pub struct ListFilter<'a> {
    pub entity_type: Option<EntityType>,
    pub status: Option<EntityStatus>,
    pub search: Option<&'a TsQuery>,
    pub bin: Bin,
}

type BoxedEntities<'a> = entities::BoxedQuery<'a, diesel::pg::Pg>;

fn filtered<'a>(tenant_id: Uuid, filter: &ListFilter<'a>) -> BoxedEntities<'a> {
    let mut query = entities::table
        .filter(entities::tenant_id.eq(tenant_id))
        .into_boxed();
    query = match filter.bin {
        Bin::Live => query.filter(entities::deleted_at.is_null()),
        Bin::Recycled => query.filter(entities::deleted_at.is_not_null()),
    };
    if let Some(entity_type) = filter.entity_type {
        query = query.filter(entities::entity_type.eq(entity_type.slug()));
    }
    if let Some(status) = filter.status {
        query = query.filter(entities::status.eq(status.slug()));
    }
    if let Some(search) = filter.search {
        query = query.filter(search.matches());
    }
    query
}

/// Orders a boxed query over `entities` the way a list asks. A macro, because the page-of-ids
/// query and the whole-rows query it feeds are different types.
macro_rules! list_order {
    ($query:expr, $filter:expr, $sort:expr) => {{
        let query = $query;
        match ($filter.bin, $sort, $filter.search) {
            (Bin::Recycled, None, _) => query.order((entities::deleted_at.desc(), entities::id)),
            (Bin::Live, None, Some(search)) => query.order((
                search.rank().desc(),
                entities::updated_at.desc(),
                entities::id,
            )),
            (_, sort, _) => {
                let (field, order) = sort.unwrap_or_default();
                match (field, order == SortOrder::Asc) {
                    (EntitySortField::Name, true) => {
                        query.order((lower_name().asc(), entities::entity_id.asc()))
                    }
                    (EntitySortField::Name, false) => {
                        query.order((lower_name().desc(), entities::entity_id.desc()))
                    }
                    (EntitySortField::CreatedAt, true) => {
                        query.order((entities::created_at.asc(), entities::id.asc()))
                    }
                    (EntitySortField::CreatedAt, false) => {
                        query.order((entities::created_at.desc(), entities::id.desc()))
                    }
                    (EntitySortField::UpdatedAt, true) => {
                        query.order((entities::updated_at.asc(), entities::id.asc()))
                    }
                    (EntitySortField::UpdatedAt, false) => {
                        query.order((entities::updated_at.desc(), entities::id.desc()))
                    }
                }
            }
        }
    }};
}

/// One page of a tenant's entities and, when `with_total`, how many the filter matches. With a
/// search and no explicit sort, the best matches come first.
pub async fn list_entities(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    filter: &ListFilter<'_>,
    sort: Option<(EntitySortField, SortOrder)>,
    page: PageRequest,
    with_total: bool,
) -> AppResult<(Option<i64>, Vec<EntityRow>)> {
    // A deferred join: the page's ids come off the index alone (a deep offset skips index
    // entries, not whole rows), then only those rows are read, in the same order.
    let page_ids = list_order!(
        filtered(tenant_id, filter).select(entities::id),
        filter,
        sort
    )
    .offset(page.offset)
    .limit(page.limit);
    let rows_query = list_order!(
        entities::table
            .filter(entities::id.eq_any(page_ids))
            .select(EntityRow::as_select())
            .into_boxed(),
        filter,
        sort
    );
    if !with_total {
        return Ok((None, rows_query.load(conn).await?));
    }
    // Both statements go out together on the one connection (pipelined): one round trip.
    let shared: &AsyncPgConnection = conn;
    let rows = rows_query.load(&mut &*shared);
    let total = filtered(tenant_id, filter)
        .count()
        .get_result::<i64>(&mut &*shared);
    let (total, rows) = futures_util::try_join!(total, rows)?;
    Ok((Some(total), rows))
}

fn lower_name() -> lower<entities::name> {
    lower(entities::name)
}

/// The best matches for a search across types, with their rank.
pub async fn search_entities(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    search: &TsQuery,
    types: &[EntityType],
    limit: i64,
) -> AppResult<Vec<(EntityRow, f32)>> {
    let mut query = entities::table
        .filter(entities::tenant_id.eq(tenant_id))
        .filter(entities::deleted_at.is_null())
        .filter(search.matches())
        .into_boxed();
    if !types.is_empty() {
        let slugs: Vec<&str> = types.iter().map(|t| t.slug()).collect();
        query = query.filter(entities::entity_type.eq_any(slugs));
    }
    Ok(query
        .select((EntityRow::as_select(), search.rank()))
        .order((search.rank().desc(), entities::updated_at.desc()))
        .limit(limit)
        .load(conn)
        .await?)
}

/// Recently changed live entities of every type.
pub async fn recent_entities(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    limit: i64,
) -> AppResult<Vec<EntityRow>> {
    Ok(entities::table
        .filter(entities::tenant_id.eq(tenant_id))
        .filter(entities::deleted_at.is_null())
        .order((entities::updated_at.desc(), entities::id.desc()))
        .limit(limit)
        .select(EntityRow::as_select())
        .load(conn)
        .await?)
}

/// A live entity by type and id.
pub async fn find_live(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    entity_type: EntityType,
    entity_id: &str,
) -> AppResult<Option<EntityRow>> {
    Ok(find_any(conn, tenant_id, entity_type, entity_id)
        .await?
        .filter(|row| !row.is_deleted()))
}

/// An entity by type and id, live or in the recycle bin.
pub async fn find_any(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    entity_type: EntityType,
    entity_id: &str,
) -> AppResult<Option<EntityRow>> {
    Ok(entities::table
        .filter(entities::tenant_id.eq(tenant_id))
        .filter(entities::entity_type.eq(entity_type.slug()))
        .filter(entities::entity_id.eq(entity_id))
        .select(EntityRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Locks an entity for a write (inside a transaction); NOT_FOUND names what was asked for.
pub async fn lock(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    entity_type: EntityType,
    entity_id: &str,
    bin: Bin,
) -> AppResult<EntityRow> {
    let row: Option<EntityRow> = entities::table
        .filter(entities::tenant_id.eq(tenant_id))
        .filter(entities::entity_type.eq(entity_type.slug()))
        .filter(entities::entity_id.eq(entity_id))
        .select(EntityRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?;
    match row {
        Some(row) if row.is_deleted() == (bin == Bin::Recycled) => Ok(row),
        _ => Err(not_found(entity_type, entity_id, bin)),
    }
}

pub fn not_found(entity_type: EntityType, entity_id: &str, bin: Bin) -> AppError {
    match bin {
        Bin::Live => AppError::not_found(format!(
            "Entity not found: {}/{entity_id}",
            entity_type.slug()
        )),
        Bin::Recycled => AppError::not_found(format!(
            "Entity not in the recycle bin: {}/{entity_id}",
            entity_type.slug()
        )),
    }
}

/// Entities by row id, live or not (callers decide what to show).
pub async fn entities_by_row_ids(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    ids: &[Uuid],
) -> AppResult<Vec<EntityRow>> {
    Ok(entities::table
        .filter(entities::tenant_id.eq(tenant_id))
        .filter(entities::id.eq_any(ids))
        .select(EntityRow::as_select())
        .load(conn)
        .await?)
}

/// Which of these ids are taken in the tenant, by type (live or recycled).
pub async fn taken_ids(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    entity_type: Option<EntityType>,
    entity_ids: &[String],
) -> AppResult<Vec<(String, String)>> {
    let mut query = entities::table
        .filter(entities::tenant_id.eq(tenant_id))
        .filter(entities::entity_id.eq_any(entity_ids))
        .into_boxed();
    if let Some(entity_type) = entity_type {
        query = query.filter(entities::entity_type.eq(entity_type.slug()));
    }
    Ok(query
        .select((entities::entity_type, entities::entity_id))
        .load(conn)
        .await?)
}

pub struct Write<'a> {
    pub tenant_id: Uuid,
    pub actor_id: Uuid,
    pub entity_type: EntityType,
    pub content: &'a EntityContent,
    pub checked: &'a Checked,
}

/// The columns a write sets from the entity's content.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = entities)]
struct ContentColumns<'a> {
    entity_id: &'a str,
    name: &'a str,
    status: &'a str,
    fields: &'a serde_json::Value,
    markdown_body: &'a str,
    schema_errors: &'a [String],
}

impl<'a> Write<'a> {
    fn columns(&self) -> ContentColumns<'a> {
        ContentColumns {
            entity_id: &self.content.entity_id,
            name: &self.content.name,
            status: self.content.status.slug(),
            fields: &self.content.fields,
            markdown_body: &self.content.markdown_body,
            schema_errors: &self.checked.schema_errors,
        }
    }
}

/// Inserts a new entity with its references and first revision. Call inside a transaction.
pub async fn insert(conn: &mut AsyncPgConnection, write: Write<'_>) -> AppResult<EntityRow> {
    let id = Uuid::now_v7();
    let row: EntityRow = diesel::insert_into(entities::table)
        .values((
            entities::id.eq(id),
            entities::tenant_id.eq(write.tenant_id),
            entities::entity_type.eq(write.entity_type.slug()),
            write.columns(),
            entities::created_by.eq(write.actor_id),
            entities::updated_by.eq(write.actor_id),
        ))
        .returning(EntityRow::as_returning())
        .get_result(conn)
        .await
        .map_err(|error| duplicate_or(error, write.entity_type, &write.content.entity_id))?;
    replace_references(conn, &row, &write.checked.references).await?;
    record_revision(conn, &row, RevisionAction::Created, write.actor_id).await?;
    Ok(row)
}

fn duplicate_or(
    error: diesel::result::Error,
    entity_type: EntityType,
    entity_id: &str,
) -> AppError {
    match AppError::from(error) {
        AppError::Conflict(_) => AppError::conflict(format!(
            "Entity already exists: {}/{entity_id}",
            entity_type.slug()
        )),
        other => other,
    }
}

/// Saves new content over a locked entity: bumps its version, refreshes its references (when
/// they changed: most edits touch no reference) and records a revision. Call inside a
/// transaction.
pub async fn save(
    conn: &mut AsyncPgConnection,
    current: &EntityRow,
    write: Write<'_>,
    action: RevisionAction,
) -> AppResult<EntityRow> {
    // The update and the read of the stored references go out together (pipelined).
    let shared: &AsyncPgConnection = conn;
    let update = diesel::update(entities::table.find(current.id))
        .set((
            write.columns(),
            entities::version.eq(entities::version + 1),
            entities::updated_by.eq(write.actor_id),
            entities::updated_at.eq(Utc::now()),
        ))
        .returning(EntityRow::as_returning())
        .get_result::<EntityRow>(&mut &*shared);
    let ids = [current.id];
    let stored = references_of(current.tenant_id, &ids).load::<ReferenceRow>(&mut &*shared);
    let (row, stored) = futures_util::join!(update, stored);
    let row =
        row.map_err(|error| duplicate_or(error, write.entity_type, &write.content.entity_id))?;
    if !same_references(&stored?, &write.checked.references) {
        replace_references(conn, &row, &write.checked.references).await?;
    }
    record_revision(conn, &row, action, write.actor_id).await?;
    Ok(row)
}

/// Moves a locked entity into or out of the recycle bin. Call inside a transaction.
pub async fn set_recycled(
    conn: &mut AsyncPgConnection,
    current: &EntityRow,
    actor_id: Uuid,
    recycled: bool,
) -> AppResult<EntityRow> {
    let now = Utc::now();
    let row: EntityRow = diesel::update(entities::table.find(current.id))
        .set((
            entities::deleted_at.eq(recycled.then_some(now)),
            entities::deleted_by.eq(recycled.then_some(actor_id)),
            entities::version.eq(entities::version + 1),
            entities::updated_by.eq(actor_id),
            entities::updated_at.eq(now),
        ))
        .returning(EntityRow::as_returning())
        .get_result(conn)
        .await?;
    let action = if recycled {
        RevisionAction::Deleted
    } else {
        RevisionAction::Restored
    };
    record_revision(conn, &row, action, actor_id).await?;
    Ok(row)
}

/// Removes entities for good: their revisions, references and relationships go with them.
pub async fn purge(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    ids: &[Uuid],
) -> AppResult<usize> {
    Ok(diesel::delete(
        entities::table
            .filter(entities::tenant_id.eq(tenant_id))
            .filter(entities::id.eq_any(ids)),
    )
    .execute(conn)
    .await?)
}

/// Purges every recycled entity (of one type, if given) in one statement; returns the row id,
/// type and id of each.
pub async fn purge_recycled(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    entity_type: Option<EntityType>,
) -> AppResult<Vec<(Uuid, String, String)>> {
    let types: Vec<&str> = match entity_type {
        Some(entity_type) => vec![entity_type.slug()],
        None => EntityType::ALL.iter().map(|t| t.slug()).collect(),
    };
    Ok(diesel::delete(
        entities::table
            .filter(entities::tenant_id.eq(tenant_id))
            .filter(entities::deleted_at.is_not_null())
            .filter(entities::entity_type.eq_any(types)),
    )
    .returning((entities::id, entities::entity_type, entities::entity_id))
    .get_results(conn)
    .await?)
}

/// Stores what a re-validation found, writing only what differs from what is stored (so a
/// bulk run over unchanged entities leaves their rows alone).
pub async fn store_check(
    conn: &mut AsyncPgConnection,
    row: &EntityRow,
    stored_references: &[ReferenceRow],
    checked: &Checked,
) -> AppResult<()> {
    if row.schema_errors != checked.schema_errors {
        diesel::update(entities::table.find(row.id))
            .set(entities::schema_errors.eq(&checked.schema_errors))
            .execute(conn)
            .await?;
    }
    if !same_references(stored_references, &checked.references) {
        replace_references(conn, row, &checked.references).await?;
    }
    Ok(())
}

/// Whether the stored reference rows already say what the fields hold, in the same order.
fn same_references(stored: &[ReferenceRow], found: &[FoundReference]) -> bool {
    stored.len() == found.len()
        && stored.iter().zip(found).all(|(stored, found)| {
            stored.kind == found.kind
                && stored.target_entity_id == found.entity_id
                && stored.target_types.len() == found.target_types.len()
                && found
                    .target_types
                    .iter()
                    .all(|t| stored.target_types.iter().any(|s| s == t.slug()))
        })
}

/// The next live entities of one type in id order, locked (inside a transaction), for walking
/// a whole type in batches.
pub async fn lock_live_batch(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    entity_type: EntityType,
    after: Uuid,
    limit: i64,
) -> AppResult<Vec<EntityRow>> {
    Ok(entities::table
        .filter(entities::tenant_id.eq(tenant_id))
        .filter(entities::entity_type.eq(entity_type.slug()))
        .filter(entities::deleted_at.is_null())
        .filter(entities::id.gt(after))
        .order(entities::id)
        .limit(limit)
        .select(EntityRow::as_select())
        .for_update()
        .load(conn)
        .await?)
}

/// The stored reference rows of these entities, in field order.
pub async fn stored_references(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    source_ids: &[Uuid],
) -> AppResult<Vec<ReferenceRow>> {
    Ok(references_of(tenant_id, source_ids).load(conn).await?)
}

fn references_of(
    tenant_id: Uuid,
    source_ids: &[Uuid],
) -> entity_references::BoxedQuery<'_, Pg, diesel::dsl::AsSelect<ReferenceRow, Pg>> {
    entity_references::table
        .filter(entity_references::tenant_id.eq(tenant_id))
        .filter(entity_references::source_id.eq_any(source_ids))
        .order((entity_references::source_id, entity_references::position))
        .select(ReferenceRow::as_select())
        .into_boxed()
}

async fn replace_references(
    conn: &mut AsyncPgConnection,
    row: &EntityRow,
    found: &[FoundReference],
) -> AppResult<()> {
    diesel::delete(entity_references::table.filter(entity_references::source_id.eq(row.id)))
        .execute(conn)
        .await?;
    if found.is_empty() {
        return Ok(());
    }
    let rows: Vec<ReferenceRow> = found
        .iter()
        .enumerate()
        .map(|(position, reference)| ReferenceRow {
            tenant_id: row.tenant_id,
            source_id: row.id,
            kind: reference.kind.clone(),
            target_types: reference
                .target_types
                .iter()
                .map(|t| t.slug().to_owned())
                .collect(),
            target_entity_id: reference.entity_id.clone(),
            position: i32::try_from(position).unwrap_or(i32::MAX),
        })
        .collect();
    diesel::insert_into(entity_references::table)
        .values(&rows)
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(())
}

async fn record_revision(
    conn: &mut AsyncPgConnection,
    row: &EntityRow,
    action: RevisionAction,
    actor_id: Uuid,
) -> AppResult<()> {
    diesel::insert_into(entity_revisions::table)
        .values((
            entity_revisions::id.eq(Uuid::now_v7()),
            entity_revisions::tenant_id.eq(row.tenant_id),
            entity_revisions::entity_row_id.eq(row.id),
            entity_revisions::version.eq(row.version),
            entity_revisions::action.eq(action.as_str()),
            entity_revisions::actor_id.eq(actor_id),
            entity_revisions::entity_id.eq(&row.entity_id),
            entity_revisions::name.eq(&row.name),
            entity_revisions::status.eq(&row.status),
            entity_revisions::fields.eq(row.fields.value()),
            entity_revisions::markdown_body.eq(&row.markdown_body),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// An entity's revisions, newest first.
pub async fn revisions(
    conn: &mut AsyncPgConnection,
    row: &EntityRow,
    page: PageRequest,
) -> AppResult<(i64, Vec<RevisionRow>)> {
    let base = entity_revisions::table
        .filter(entity_revisions::tenant_id.eq(row.tenant_id))
        .filter(entity_revisions::entity_row_id.eq(row.id));
    let total = base.count().get_result(conn).await?;
    let rows = base
        .order(entity_revisions::version.desc())
        .offset(page.offset)
        .limit(page.limit)
        .select(RevisionRow::as_select())
        .load(conn)
        .await?;
    Ok((total, rows))
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
