//! GraphQL: the lists of entities by cursor (Relay connections): a type's entities in any of
//! its sorts, the recycle bin, the recently changed, and the search hits. They go as deep as
//! the list does at the same cost per page, and a page stays put when rows are added before it.

use async_graphql::{Context, Lookahead, Object};

use super::object::Entity;
use super::prefetch::prefetch;
use super::search::{SearchHit, snippet};
use crate::context::ContextExt;
use crate::db::connection::{connection_type, page_of};
use crate::db::cursor::ConnectionArgs;
use crate::db::keyset::Window;
use crate::db::search::TsQuery;
use crate::entities::model::EntityRow;
use crate::entities::store::{self, Bin, EntityKey, EntitySortField, ListFilter, SortOrder};
use crate::entities::types::{EntityStatus, EntityType};
use crate::error::{AppError, AppResult};

connection_type! {
    /// Entities, a page at a time by cursor.
    pub struct EntityConnection;
    /// An entity and its cursor.
    pub struct EntityEdge(Entity);
}

connection_type! {
    /// Search hits, best first, a page at a time by cursor.
    pub struct SearchHitConnection;
    /// A search hit and its cursor.
    pub struct SearchHitEdge(SearchHit);
}

/// Runs `prefetch` for the entities under a connection's `edges { node }` and `nodes`, and
/// under `field` of each node (`entity` of a search hit) when given.
async fn prefetch_nodes(
    ctx: &Context<'_>,
    field: Option<&str>,
    rows: &[&EntityRow],
) -> AppResult<()> {
    let connection = ctx.look_ahead();
    let selections: [Lookahead<'_>; 2] = [
        connection.field("edges").field("node"),
        connection.field("nodes"),
    ];
    for selection in selections {
        let selection = match field {
            Some(field) => selection.field(field),
            None => selection,
        };
        if selection.exists() {
            prefetch(ctx, selection, rows).await?;
        }
    }
    Ok(())
}

/// One page by cursor of the viewer's entities that `filter` and `sort` choose. `list` names
/// the list for its cursors (with the filter and sort, so a cursor works only where it was
/// given out).
async fn entity_connection(
    ctx: &Context<'_>,
    list: String,
    filter: &ListFilter<'_>,
    sort: Option<(EntitySortField, SortOrder)>,
    args: ConnectionArgs,
) -> AppResult<EntityConnection> {
    let viewer = ctx.viewer()?;
    let cursors = ctx.cursors(list)?;
    let window = cursors.window::<EntityKey>(args)?;
    let mut conn = ctx.conn().await?;
    let rows = store::entities_by_key(&mut conn, viewer.tenant_id, filter, sort, &window).await?;
    // Hand the connection back first: the prefetch takes its own.
    drop(conn);
    let entity_rows: Vec<&EntityRow> = rows.iter().map(|(row, _, _)| row).collect();
    prefetch_nodes(ctx, None, &entity_rows).await?;
    let page = page_of(
        rows,
        &window,
        &cursors,
        |row| EntityKey::of(row, filter, sort),
        |(row, _, _)| Entity::from(row),
    );
    Ok(page.into())
}

#[derive(Default)]
pub struct EntityConnectionQuery;

#[Object]
impl EntityConnectionQuery {
    /// Live entities of one type by cursor: as `entities` (filters, sorts, search by
    /// relevance), for lists of any depth. Use it to walk a list or scroll it endlessly; use
    /// `entities` to jump to page N of a short list.
    #[allow(clippy::too_many_arguments)]
    async fn entities_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The type to list.")] r#type: EntityType,
        #[graphql(desc = "Words to look for (full-text search, prefix matching).")] search: Option<
            String,
        >,
        #[graphql(desc = "Only entities with this status.")] status: Option<EntityStatus>,
        #[graphql(desc = "What to sort by; UPDATED_AT when only `sortOrder` is given.")]
        sort_by: Option<EntitySortField>,
        #[graphql(desc = "Which way to sort; DESC when only `sortBy` is given.")]
        sort_order: Option<SortOrder>,
        #[graphql(desc = "How many entities to return after `after`: 1 to 200, 50 when \
                          neither `first` nor `last` is given.")]
        first: Option<i32>,
        #[graphql(desc = "The cursor to go on after (an `endCursor`); the start when absent.")]
        after: Option<String>,
        #[graphql(desc = "How many entities to return before `before`: 1 to 200.")] last: Option<
            i32,
        >,
        #[graphql(
            desc = "The cursor to go back from (a `startCursor`); the end when absent \
                          and `last` is given."
        )]
        before: Option<String>,
    ) -> AppResult<EntityConnection> {
        let search = search.as_deref().and_then(TsQuery::parse);
        let sort = match (sort_by, sort_order) {
            (None, None) => None,
            (field, order) => Some((field.unwrap_or_default(), order.unwrap_or_default())),
        };
        let list = format!(
            "entities/{}/{:?}/{:?}/{}",
            r#type.slug(),
            status,
            sort,
            search.as_ref().map(TsQuery::as_str).unwrap_or_default()
        );
        let filter = ListFilter {
            entity_type: Some(r#type),
            status,
            search: search.as_ref(),
            bin: Bin::Live,
        };
        let args = ConnectionArgs {
            first,
            after,
            last,
            before,
        };
        entity_connection(ctx, list, &filter, sort, args).await
    }

    /// Entities in the recycle bin by cursor, most recently deleted first.
    async fn recycled_entities_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only entities of this type; every type when absent.")] r#type: Option<
            EntityType,
        >,
        #[graphql(desc = "How many entities to return after `after`: 1 to 200, 50 when \
                          neither `first` nor `last` is given.")]
        first: Option<i32>,
        #[graphql(desc = "The cursor to go on after (an `endCursor`); the start when absent.")]
        after: Option<String>,
        #[graphql(desc = "How many entities to return before `before`: 1 to 200.")] last: Option<
            i32,
        >,
        #[graphql(
            desc = "The cursor to go back from (a `startCursor`); the end when absent \
                          and `last` is given."
        )]
        before: Option<String>,
    ) -> AppResult<EntityConnection> {
        let list = format!(
            "recycled/{}",
            r#type.map(EntityType::slug).unwrap_or_default()
        );
        let filter = ListFilter {
            entity_type: r#type,
            status: None,
            search: None,
            bin: Bin::Recycled,
        };
        let args = ConnectionArgs {
            first,
            after,
            last,
            before,
        };
        entity_connection(ctx, list, &filter, None, args).await
    }

    /// Live entities of every type by cursor, most recently changed first (`recent`, as deep
    /// as it goes).
    async fn recent_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many entities to return after `after`: 1 to 200, 50 when \
                          neither `first` nor `last` is given.")]
        first: Option<i32>,
        #[graphql(desc = "The cursor to go on after (an `endCursor`); the start when absent.")]
        after: Option<String>,
        #[graphql(desc = "How many entities to return before `before`: 1 to 200.")] last: Option<
            i32,
        >,
        #[graphql(
            desc = "The cursor to go back from (a `startCursor`); the end when absent \
                          and `last` is given."
        )]
        before: Option<String>,
    ) -> AppResult<EntityConnection> {
        let filter = ListFilter {
            entity_type: None,
            status: None,
            search: None,
            bin: Bin::Live,
        };
        let sort = Some((EntitySortField::UpdatedAt, SortOrder::Desc));
        let args = ConnectionArgs {
            first,
            after,
            last,
            before,
        };
        entity_connection(ctx, "recent".into(), &filter, sort, args).await
    }

    /// Search hits by cursor: as `search`, for as many pages as there are matches.
    #[allow(clippy::too_many_arguments)]
    async fn search_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The words to look for.")] query: String,
        #[graphql(desc = "Only entities of these types; every type when absent or empty.")]
        types: Option<Vec<EntityType>>,
        #[graphql(
            desc = "How many hits to return after `after`: 1 to 200, 50 when neither \
                          `first` nor `last` is given."
        )]
        first: Option<i32>,
        #[graphql(desc = "The cursor to go on after (an `endCursor`); the start when absent.")]
        after: Option<String>,
        #[graphql(desc = "How many hits to return before `before`: 1 to 200.")] last: Option<i32>,
        #[graphql(
            desc = "The cursor to go back from (a `startCursor`); the end when absent \
                          and `last` is given."
        )]
        before: Option<String>,
    ) -> AppResult<SearchHitConnection> {
        let viewer = ctx.viewer()?;
        let parsed = TsQuery::require("query", &query)?;
        let mut types = types.unwrap_or_default();
        types.sort_unstable_by_key(|t| t.slug());
        types.dedup();
        let slugs: Vec<&str> = types.iter().map(|t| t.slug()).collect();
        let cursors = ctx.cursors(format!("search/{}/{}", parsed.as_str(), slugs.join(",")))?;
        let window = cursors
            .window::<store::SealedSearchKey>(ConnectionArgs {
                first,
                after,
                last,
                before,
            })?
            .try_map(|(bits, at, id)| Ok::<_, AppError>((f32::from_bits(bits), at, id)))?;
        let mut conn = ctx.conn().await?;
        let rows = store::search_entities(
            &mut conn,
            viewer.tenant_id,
            &parsed,
            &types,
            &Window::Keyset(window.clone()),
        )
        .await?;
        drop(conn);
        let entity_rows: Vec<&EntityRow> = rows.iter().map(|(row, _)| row).collect();
        prefetch_nodes(ctx, Some("entity"), &entity_rows).await?;
        let page = page_of(
            rows,
            &window,
            &cursors,
            |(row, rank)| (rank.to_bits(), row.updated_at, row.id),
            |(row, rank)| SearchHit {
                snippet: snippet(&row.markdown_body, &query),
                entity: Entity::from(row),
                rank,
            },
        );
        Ok(page.into())
    }
}
