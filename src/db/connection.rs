//! Relay connections: the GraphQL shape of a keyset page (`edges { cursor node }`, `nodes`,
//! `pageInfo`), declared per list by [`connection_type!`], and [`page_of`], which turns the rows
//! a windowed query fetched into that page.

use async_graphql::{Lookahead, SimpleObject};

use super::cursor::CursorScope;
use super::keyset::Keyset;

/// Where a page sits in its list, and the cursors to go on from it.
#[derive(SimpleObject, Clone, Debug)]
pub struct PageInfo {
    /// Whether items follow this page (paging forward: known exactly; paging backward: true
    /// when the page was asked for `before` a cursor).
    pub has_next_page: bool,
    /// Whether items precede this page (paging backward: known exactly; paging forward: true
    /// when the page was asked for `after` a cursor).
    pub has_previous_page: bool,
    /// The cursor of the page's first item; null when the page is empty.
    pub start_cursor: Option<String>,
    /// The cursor of the page's last item (pass it as `after` for the next page); null when
    /// the page is empty.
    pub end_cursor: Option<String>,
}

/// Whether a list's items select `field`, wherever the answer holds them: under `items` (an
/// offset page), `edges { node }` or `nodes` (a connection). Resolvers ask it to prefetch a
/// link once for the whole page.
pub fn items_select(look_ahead: &Lookahead<'_>, items: &str, field: &str) -> bool {
    [
        look_ahead.field(items),
        look_ahead.field("edges").field("node"),
        look_ahead.field("nodes"),
    ]
    .iter()
    .any(|selection| selection.field(field).exists())
}

/// A page's items in list order, each with its cursor, and where the page sits.
pub struct Page<Node> {
    pub edges: Vec<(String, Node)>,
    pub page_info: PageInfo,
}

/// Makes the page out of the rows a windowed query fetched for `window` (one more than the
/// page when the list goes on; in reverse order when paging backward): `key` gives a row's
/// cursor key, `node` its GraphQL value.
pub fn page_of<Row, K, Node>(
    mut rows: Vec<Row>,
    window: &Keyset<impl Sized>,
    cursors: &CursorScope,
    key: impl Fn(&Row) -> K,
    node: impl FnMut(Row) -> Node,
) -> Page<Node>
where
    K: serde::Serialize,
{
    let more = rows.len() as i64 > window.limit;
    rows.truncate(usize::try_from(window.limit).unwrap_or(usize::MAX));
    if window.backward {
        rows.reverse();
    }
    let cursors: Vec<String> = rows.iter().map(|row| cursors.seal(&key(row))).collect();
    let asked_from_cursor = window.key.is_some();
    let page_info = PageInfo {
        has_next_page: if window.backward {
            asked_from_cursor
        } else {
            more
        },
        has_previous_page: if window.backward {
            more
        } else {
            asked_from_cursor
        },
        start_cursor: cursors.first().cloned(),
        end_cursor: cursors.last().cloned(),
    };
    Page {
        edges: cursors
            .into_iter()
            .zip(rows.into_iter().map(node))
            .collect(),
        page_info,
    }
}

/// Declares the connection and edge types of one list; the connection is built with
/// `XConnection::from(page)` from what [`page_of`] made.
///
/// ```text
/// connection_type! {
///     /// The tenant's notes, a page at a time by cursor.
///     pub struct NoteConnection;
///     /// A note and its cursor.
///     pub struct NoteEdge(Note);
/// }
/// ```
#[macro_export]
macro_rules! connection_type {
    (
        $(#[$meta:meta])*
        pub struct $connection:ident;
        $(#[$edge_meta:meta])*
        pub struct $edge:ident($node:ty);
    ) => {
        $(#[$edge_meta])*
        #[derive(async_graphql::SimpleObject)]
        pub struct $edge {
            /// Where this item sits in the list: pass it as `after` to go on past it, or as
            /// `before` to go back from it.
            pub cursor: String,
            /// The item.
            pub node: $node,
        }

        pub struct $connection {
            edges: Vec<$edge>,
            page_info: $crate::db::connection::PageInfo,
        }

        $(#[$meta])*
        #[async_graphql::Object]
        impl $connection {
            /// The page's items in list order, each with its cursor.
            async fn edges(&self) -> &[$edge] {
                &self.edges
            }

            /// The page's items in list order, without their cursors.
            async fn nodes(&self) -> Vec<&$node> {
                self.edges.iter().map(|edge| &edge.node).collect()
            }

            /// Where this page sits in the list, and the cursors to go on from it.
            async fn page_info(&self) -> &$crate::db::connection::PageInfo {
                &self.page_info
            }
        }

        impl From<$crate::db::connection::Page<$node>> for $connection {
            fn from(page: $crate::db::connection::Page<$node>) -> Self {
                Self {
                    edges: page
                        .edges
                        .into_iter()
                        .map(|(cursor, node)| $edge { cursor, node })
                        .collect(),
                    page_info: page.page_info,
                }
            }
        }
    };
}

/// Importable from here, beside the page it builds on.
pub use crate::connection_type;
