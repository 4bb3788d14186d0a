//! Bounded offset pagination shared by every list.

use crate::error::{AppError, AppResult};

pub const DEFAULT_LIMIT: i32 = 50;
pub const MAX_LIMIT: i32 = 200;

#[derive(Clone, Copy, Debug)]
pub struct PageRequest {
    pub offset: i64,
    pub limit: i64,
}

impl PageRequest {
    /// Defaults to 50; a limit above 200 or a negative value is BAD_USER_INPUT.
    pub fn new(offset: Option<i32>, limit: Option<i32>) -> AppResult<Self> {
        let offset = offset.unwrap_or(0);
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if offset < 0 {
            return Err(AppError::bad_field("offset", "offset must not be negative"));
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

/// Declares a GraphQL page of a list, the one shape every list answers with: `total` (how many
/// match over all pages), the request's `offset` and `limit`, then the page's items under their
/// own name. Each page keeps its own type name and item field in the schema; its constructor
/// takes the total, the [`PageRequest`] and the items.
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
            $(#[$total_meta])*
            pub total: i64,
            pub offset: i64,
            pub limit: i64,
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
