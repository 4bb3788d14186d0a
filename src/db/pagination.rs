//! Bounded offset pagination shared by every list: the page request, the `.page(…)` it applies
//! to a query, [`load_page`] that fetches a page with its total in one round trip, and the
//! [`page_type!`] every GraphQL page is declared with.

use diesel::dsl::{Limit, Offset};
use diesel::query_dsl::methods::{LimitDsl, OffsetDsl};
use diesel_async::AsyncPgConnection;
use diesel_async::RunQueryDsl;
use diesel_async::methods::LoadQuery;
use futures_util::future::BoxFuture;

use crate::error::{AppError, AppResult};

pub const DEFAULT_LIMIT: i32 = 50;
pub const MAX_LIMIT: i32 = 200;
/// The deepest an offset page may start. Deeper pages are what cursors are for (a `…Connection`
/// field): an offset walks every row before the page, a cursor goes straight to it.
pub const MAX_OFFSET: i32 = 10_000;

#[derive(Clone, Copy, Debug)]
pub struct PageRequest {
    pub offset: i64,
    pub limit: i64,
}

impl PageRequest {
    /// Defaults to 50; a limit outside 1 to 200, or an offset outside 0 to 10,000, is
    /// BAD_USER_INPUT.
    pub fn new(offset: Option<i32>, limit: Option<i32>) -> AppResult<Self> {
        let offset = offset.unwrap_or(0);
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(0..=MAX_OFFSET).contains(&offset) {
            return Err(AppError::bad_field(
                "offset",
                format!(
                    "offset must be between 0 and {MAX_OFFSET}; a list that grows deeper has a \
                     Connection field beside it, which pages by cursor"
                ),
            ));
        }
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(AppError::bad_field(
                "limit",
                format!("limit must be between 1 and {MAX_LIMIT}"),
            ));
        }
        Ok(Self {
            offset: offset.into(),
            limit: limit.into(),
        })
    }
}

/// `.page(request)` on any query: its offset, then its limit.
pub trait PageDsl: OffsetDsl + Sized
where
    Offset<Self>: LimitDsl,
{
    fn page(self, request: PageRequest) -> Limit<Offset<Self>> {
        self.offset(request.offset).limit(request.limit)
    }
}

impl<Query> PageDsl for Query
where
    Query: OffsetDsl,
    Offset<Query>: LimitDsl,
{
}

/// A page of rows and how many match over all pages. `rows` is the ordered query with its
/// [`PageDsl::page`] applied; `total` counts the same filter. Both statements go out together on
/// the one connection (pipelined), so a page costs one round trip, not two.
///
/// The future is boxed: the compiler cannot prove a generic pipelined future `Send` at the
/// resolvers that await it (its connection borrows are higher-ranked), but it can here.
pub fn load_page<'conn, Row, Rows, Total>(
    conn: &'conn mut AsyncPgConnection,
    rows: Rows,
    total: Total,
) -> BoxFuture<'conn, AppResult<(i64, Vec<Row>)>>
where
    Row: Send + 'conn,
    Rows: LoadQuery<'conn, &'conn AsyncPgConnection, Row> + Send + 'conn,
    Total: LoadQuery<'conn, &'conn AsyncPgConnection, i64> + Send + 'conn,
{
    let shared: &'conn AsyncPgConnection = conn;
    Box::pin(async move {
        let (mut rows_conn, mut total_conn) = (shared, shared);
        let (total, rows) =
            futures_util::try_join!(total.get_result(&mut total_conn), rows.load(&mut rows_conn))?;
        Ok((total, rows))
    })
}

/// Declares a GraphQL page of a list, the one shape every list answers with: `total` (how many
/// match over all pages), the request's `offset` and `limit`, then the page's items under their
/// own name. Each page keeps its own type name and item field in the schema; its constructor
/// takes the total, the [`PageRequest`] and the items.
///
/// Every field has a description in the schema: the macro gives each one; doc comments given on
/// `total` or on the items field are added after the macro's own.
///
/// ```text
/// page_type! {
///     /// A page of notes.
///     pub struct NotePage { total, notes: Vec<Note> }
/// }
/// ```
#[macro_export]
macro_rules! page_type {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(#[$total_meta:meta])* total,
            $(#[$items_meta:meta])* $items:ident: Vec<$item:ty> $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(async_graphql::SimpleObject)]
        pub struct $name {
            /// How many items match, over all pages.
            $(#[$total_meta])*
            pub total: i64,
            /// How many items were skipped before this page.
            pub offset: i64,
            /// The most items this page could hold (the request's limit).
            pub limit: i64,
            /// The items on this page.
            $(#[$items_meta])*
            pub $items: Vec<$item>,
        }

        impl $name {
            pub fn new(
                total: i64,
                page: $crate::db::pagination::PageRequest,
                $items: Vec<$item>,
            ) -> Self {
                Self {
                    total,
                    offset: page.offset,
                    limit: page.limit,
                    $items,
                }
            }
        }
    };
}

/// Importable from here (`use crate::db::pagination::page_type`), beside the page request.
pub use crate::page_type;
