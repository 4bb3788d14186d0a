//! Queries of entities, their revisions and their reference rows. Every function takes the
//! tenant and never reaches outside it. This file reads entities; `write` saves them (with their
//! references and a revision each time), `revisions` reads the history.

pub mod layouts;
mod revisions;
mod save;
pub mod templates;
mod write;

pub use revisions::*;
pub use save::*;
pub use write::*;

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use chrono::{DateTime, Utc};
use diesel::BoxableExpression;
use diesel::pg::Pg;
use diesel::sql_types::Float;
use serde::{Deserialize, Serialize};

use super::model::EntityRow;
use super::types::{EntityStatus, EntityType};
use crate::db::fragment::Fragment;
use crate::db::keyset::{Keyset, Window, windowed};
use crate::db::lower;
use crate::db::pagination::{PageDsl, PageRequest, load_page};
use crate::db::schema::entities;
use crate::db::search::TsQuery;
use crate::error::{AppError, AppResult};

/// Which entities a list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bin {
    Live,
    Recycled,
}

/// What a list of entities is sorted by.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum EntitySortField {
    /// The display name.
    Name,
    /// When the entity was created.
    CreatedAt,
    /// When the entity was last written.
    #[default]
    UpdatedAt,
}

/// Ascending or descending.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// Smallest first (A to Z, oldest first).
    Asc,
    /// Largest first (Z to A, newest first).
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
            // Ties go as in the connections (`entities_by_key`): the id descending too.
            (Bin::Recycled, None, _) => {
                query.order((entities::deleted_at.desc(), entities::id.desc()))
            }
            (Bin::Live, None, Some(search)) => query.order((
                search.rank().desc(),
                entities::updated_at.desc(),
                entities::id.desc(),
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
    .page(page);
    let rows_query = list_order!(
        entities::table
            .filter(entities::tenant_id.eq(tenant_id))
            .filter(entities::id.eq_any(page_ids))
            .select(EntityRow::as_select())
            .into_boxed(),
        filter,
        sort
    );
    if !with_total {
        return Ok((None, rows_query.load(conn).await?));
    }
    let total = filtered(tenant_id, filter).count();
    let (total, rows) = load_page(conn, rows_query, total).await?;
    Ok((Some(total), rows))
}

/// Where an entity sits in a list: the values of the list's order columns (a search's rank
/// comes first when the list is ordered by relevance).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum EntityKey {
    /// A time (updated, created or deleted) and the row id.
    #[serde(rename = "t")]
    Time(DateTime<Utc>, Uuid),
    /// The lower-cased name and the entity id (unique within the list's one type).
    #[serde(rename = "n")]
    Name(String, String),
    /// The search rank (its bits: exact through JSON), the time of the last change and the row
    /// id.
    #[serde(rename = "r")]
    Rank(u32, DateTime<Utc>, Uuid),
}

impl EntityKey {
    /// The key of a row [`entities_by_key`] loaded, in a list ordered as `filter` and `sort`
    /// say.
    pub fn of(
        (row, rank, lower_name): &(EntityRow, f32, String),
        filter: &ListFilter<'_>,
        sort: Option<(EntitySortField, SortOrder)>,
    ) -> Self {
        match (filter.bin, sort, filter.search) {
            (Bin::Recycled, None, _) => {
                Self::Time(row.deleted_at.unwrap_or(row.updated_at), row.id)
            }
            (Bin::Live, None, Some(_)) => Self::Rank(rank.to_bits(), row.updated_at, row.id),
            (_, sort, _) => match sort.unwrap_or_default().0 {
                EntitySortField::Name => Self::Name(lower_name.clone(), row.entity_id.clone()),
                EntitySortField::CreatedAt => Self::Time(row.created_at, row.id),
                EntitySortField::UpdatedAt => Self::Time(row.updated_at, row.id),
            },
        }
    }
}

fn stale_key() -> AppError {
    AppError::bad_input("the cursor does not belong to this list's order")
}

/// A page of a tenant's entities by cursor, in the order `filter` and `sort` give (as
/// [`list_entities`]), each with its search rank (0 without a search) and its name as the
/// database lower-cases it (the name order's key: Rust's lower case differs in a few scripts).
pub async fn entities_by_key(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    filter: &ListFilter<'_>,
    sort: Option<(EntitySortField, SortOrder)>,
    keyset: &Keyset<EntityKey>,
) -> AppResult<Vec<(EntityRow, f32, String)>> {
    let rank: Box<dyn BoxableExpression<entities::table, Pg, SqlType = Float>> = match filter.search
    {
        Some(search) => search.rank(),
        None => Box::new(Fragment::<Float>::text("0")),
    };
    let query = filtered(tenant_id, filter).select((EntityRow::as_select(), rank, lower_name()));
    let time = |keyset: &Keyset<EntityKey>| {
        keyset.clone().try_map(|key| match key {
            EntityKey::Time(at, id) => Ok((at, id)),
            _ => Err(stale_key()),
        })
    };
    let query = match (filter.bin, sort, filter.search) {
        (Bin::Recycled, None, _) => {
            let window = Window::Keyset(time(keyset)?);
            windowed!(query, window, desc(entities::deleted_at, entities::id))
        }
        (Bin::Live, None, Some(search)) => {
            let window = Window::Keyset(keyset.clone().try_map(|key| match key {
                EntityKey::Rank(rank, at, id) => Ok((f32::from_bits(rank), at, id)),
                _ => Err(stale_key()),
            })?);
            windowed!(
                query,
                window,
                desc(search.rank(), entities::updated_at, entities::id)
            )
        }
        (_, sort, _) => {
            let (field, order) = sort.unwrap_or_default();
            let descending = order == SortOrder::Desc;
            match field {
                EntitySortField::Name => {
                    let window = Window::Keyset(keyset.clone().try_map(|key| match key {
                        EntityKey::Name(name, entity_id) => Ok((name, entity_id)),
                        _ => Err(stale_key()),
                    })?);
                    if descending {
                        windowed!(query, window, desc(lower_name(), entities::entity_id))
                    } else {
                        windowed!(query, window, asc(lower_name(), entities::entity_id))
                    }
                }
                EntitySortField::CreatedAt => {
                    let window = Window::Keyset(time(keyset)?);
                    if descending {
                        windowed!(query, window, desc(entities::created_at, entities::id))
                    } else {
                        windowed!(query, window, asc(entities::created_at, entities::id))
                    }
                }
                EntitySortField::UpdatedAt => {
                    let window = Window::Keyset(time(keyset)?);
                    if descending {
                        windowed!(query, window, desc(entities::updated_at, entities::id))
                    } else {
                        windowed!(query, window, asc(entities::updated_at, entities::id))
                    }
                }
            }
        }
    };
    Ok(query.load(conn).await?)
}

fn lower_name() -> lower<entities::name> {
    lower(entities::name)
}

/// Where a search hit sits in the ranking: its rank, the time of its last change, its row id.
pub type SearchKey = (f32, DateTime<Utc>, Uuid);

/// A [`SearchKey`] as a cursor carries it: the rank's bits, so it comes back exactly.
pub type SealedSearchKey = (u32, DateTime<Utc>, Uuid);

/// The best matches for a search across types, with their rank: an offset page or a page by
/// cursor (best first; equal ranks most recently changed first).
pub async fn search_entities(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    search: &TsQuery,
    types: &[EntityType],
    window: &Window<SearchKey>,
) -> AppResult<Vec<(EntityRow, f32)>> {
    let mut query = entities::table
        .filter(entities::tenant_id.eq(tenant_id))
        .filter(entities::deleted_at.is_null())
        .filter(search.matches())
        .select((EntityRow::as_select(), search.rank()))
        .into_boxed();
    if !types.is_empty() {
        let slugs: Vec<&str> = types.iter().map(|t| t.slug()).collect();
        query = query.filter(entities::entity_type.eq_any(slugs));
    }
    Ok(windowed!(
        query,
        window.clone(),
        desc(search.rank(), entities::updated_at, entities::id)
    )
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

/// The entities (live or recycled) of the tenant with these types and ids; locked for a write
/// when `lock` (inside a transaction). One query per type asked for.
pub async fn find_by_keys(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    keys: &[(EntityType, String)],
    lock: bool,
) -> AppResult<Vec<EntityRow>> {
    let mut rows = Vec::with_capacity(keys.len());
    for entity_type in EntityType::ALL {
        let ids: Vec<&str> = keys
            .iter()
            .filter(|(t, _)| *t == entity_type)
            .map(|(_, id)| id.as_str())
            .collect();
        if ids.is_empty() {
            continue;
        }
        let query = entities::table
            .filter(entities::tenant_id.eq(tenant_id))
            .filter(entities::entity_type.eq(entity_type.slug()))
            .filter(entities::entity_id.eq_any(ids))
            // Locks are taken in one order (type, then id), so two writers of overlapping
            // batches queue behind each other instead of deadlocking.
            .order(entities::entity_id)
            .select(EntityRow::as_select());
        if lock {
            rows.extend(query.for_update().load(conn).await?);
        } else {
            rows.extend(query.load(conn).await?);
        }
    }
    Ok(rows)
}
