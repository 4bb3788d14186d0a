//! What every kind's GraphQL shares: a document's own facts ([`DocumentMeta`]), loading a
//! referenced document ([`linked`]), lists by cursor ([`list_page`]), and [`library_api!`],
//! which declares a kind's `x(id)`, `xs(...)` and `deleteX(id)` and its connection type.

use std::collections::HashMap;

use async_graphql::{Context, ID, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::auth::Role;
use crate::context::ContextExt;
use crate::db::connection::{Page, page_of};
use crate::db::cursor::ConnectionArgs;
use crate::db::keyset::Window;
use crate::db::loading::{load, load_many};
use crate::db::validate_text;
use crate::error::AppResult;
use crate::story::library::{self, Body, Stored};
use crate::story::loaders::StoryLoaders;

/// What every document of the story library has.
#[derive(SimpleObject, Clone, Debug)]
pub struct DocumentMeta {
    /// The document's id.
    pub id: ID,
    /// Its name in lists (1 to 200 characters).
    pub display_name: String,
    /// Counts the document's changes from 1; give it as `expectedVersion` to change only
    /// what you read.
    pub version: i32,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl DocumentMeta {
    pub fn of<B>(document: &Stored<B>) -> Self {
        Self {
            id: ID(document.id.to_string()),
            display_name: document.display_name.clone(),
            version: document.version,
            created_at: document.created_at,
            updated_at: document.updated_at,
        }
    }
}

/// A referenced document of kind `B` (through the request's loader); None when it is gone or
/// another kind, or the viewer may not read it.
pub async fn linked<B: Body>(ctx: &Context<'_>, id: &ID) -> AppResult<Option<Stored<B>>> {
    let viewer = ctx.viewer()?;
    if viewer.require_role(B::READ_ROLE).is_err() {
        return Ok(None);
    }
    let Ok(id) = Uuid::parse_str(id) else {
        return Ok(None);
    };
    let loaders = ctx.loaders::<StoryLoaders>();
    match load(&loaders.documents, id).await? {
        Some(row) => Stored::decode((*row).clone()),
        None => Ok(None),
    }
}

/// Each of `ids` that is still a readable `B`, in order (one batch through the loader).
pub async fn linked_all<B: Body>(ctx: &Context<'_>, ids: &[ID]) -> AppResult<Vec<Stored<B>>> {
    let mut found = linked_many::<B>(ctx, ids).await?;
    Ok(ids
        .iter()
        .filter_map(|id| Uuid::parse_str(id).ok())
        .filter_map(|id| found.remove(&id))
        .collect())
}

/// Those of `ids` that are readable `B`s, by id (one batch through the loader).
pub async fn linked_many<B: Body>(
    ctx: &Context<'_>,
    ids: &[ID],
) -> AppResult<HashMap<Uuid, Stored<B>>> {
    let viewer = ctx.viewer()?;
    if viewer.require_role(B::READ_ROLE).is_err() {
        return Ok(HashMap::new());
    }
    let ids: Vec<Uuid> = ids
        .iter()
        .filter_map(|id| Uuid::parse_str(id).ok())
        .collect();
    let loaders = ctx.loaders::<StoryLoaders>();
    let rows = load_many(&loaders.documents, ids).await?;
    let mut found = HashMap::with_capacity(rows.len());
    for (id, row) in rows {
        if let Some(document) = Stored::decode((*row).clone())? {
            found.insert(id, document);
        }
    }
    Ok(found)
}

/// Creates a document as the viewer (WORLDBUILDER and above).
pub async fn create<B: Body>(
    ctx: &Context<'_>,
    display_name: Option<&str>,
    body: B,
) -> AppResult<Stored<B>> {
    let viewer = ctx.viewer_with(Role::Worldbuilder)?;
    let mut conn = ctx.conn().await?;
    library::create(&mut conn, viewer, display_name, body).await
}

/// Changes a document as the viewer (WORLDBUILDER and above) in one transaction: `change`
/// gets the current body and returns the new one; the request's loaders forget what they held.
pub async fn change<B: Body>(
    ctx: &Context<'_>,
    id: &ID,
    expected_version: Option<i32>,
    display_name: Option<&str>,
    change: impl FnOnce(B) -> AppResult<B> + Send,
) -> AppResult<Stored<B>> {
    let viewer = ctx.viewer_with(Role::Worldbuilder)?;
    let id = crate::db::parse_id("id", id)?;
    let mut conn = ctx.conn().await?;
    let stored = library::update(
        &mut conn,
        viewer,
        id,
        expected_version,
        display_name,
        change,
    )
    .await?;
    ctx.loaders::<StoryLoaders>().forget();
    Ok(stored)
}

/// A page of `B`s by name, by cursor (cursors bound to the kind and the search).
pub async fn list_page<B: Body, N>(
    ctx: &Context<'_>,
    search: Option<String>,
    args: ConnectionArgs,
    node: impl FnMut(Stored<B>) -> N,
) -> AppResult<Page<N>> {
    if let Some(search) = &search {
        validate_text("search", search, 200)?;
    }
    let viewer = ctx.viewer()?;
    let cursors = ctx.cursors(format!(
        "story/{}/{}",
        B::KIND.as_str(),
        search.as_deref().map(str::trim).unwrap_or_default()
    ))?;
    let window = cursors.window(args)?;
    let mut conn = ctx.conn().await?;
    let (_, rows) = library::list::<B>(
        &mut conn,
        viewer,
        search.as_deref(),
        &Window::Keyset(window.clone()),
    )
    .await?;
    let mut node = node;
    Ok(page_of(
        rows,
        &window,
        &cursors,
        |listed| listed.key.clone(),
        |listed| node(listed.document),
    ))
}

/// Declares a kind's GraphQL: its node (the document's facts and its body's fields), its
/// connection type, `x(id)` and `xs(search, first, after, last, before)` (in `query`), and
/// `deleteX(id)` (in `mutation`). `library_writes!` adds the create and the update of kinds
/// whose input is their body.
///
/// `node` is built `From<Stored<body>>` and is `#[graphql(complex)]` (the kind may add
/// resolved fields in a `#[ComplexObject]` impl).
#[macro_export]
macro_rules! library_api {
    (
        body: $body:ty, node: $node:ident, node_doc: $node_doc:tt,
        query: $query:ident { one: $one:ident, many: $many:ident },
        mutation: $mutation:ident { delete: $delete:ident },
        connection: $connection:ident, $edge:ident,
        docs: $one_doc:tt, $many_doc:tt, $connection_doc:tt, $edge_doc:tt,
    ) => {
        #[doc = $node_doc]
        #[derive(async_graphql::SimpleObject)]
        #[graphql(complex)]
        pub struct $node {
            #[graphql(flatten)]
            pub document: $crate::story::api::library::DocumentMeta,
            #[graphql(flatten)]
            pub body: $body,
        }

        impl From<$crate::story::library::Stored<$body>> for $node {
            fn from(stored: $crate::story::library::Stored<$body>) -> Self {
                Self {
                    document: $crate::story::api::library::DocumentMeta::of(&stored),
                    body: stored.body,
                }
            }
        }

        $crate::db::connection::connection_type! {
            #[doc = $connection_doc]
            pub struct $connection;
            #[doc = $edge_doc]
            pub struct $edge($node);
        }

        #[derive(Default)]
        pub struct $query;

        #[async_graphql::Object]
        impl $query {
            #[doc = $one_doc]
            async fn $one(
                &self,
                ctx: &async_graphql::Context<'_>,
                #[graphql(desc = "Its id.")] id: async_graphql::ID,
            ) -> $crate::error::AppResult<Option<$node>> {
                use $crate::context::ContextExt as _;
                let viewer = ctx.viewer()?;
                let id = $crate::db::parse_id("id", &id)?;
                let mut conn = ctx.conn().await?;
                Ok($crate::story::library::get::<$body>(&mut conn, viewer, id)
                    .await?
                    .map($node::from))
            }

            #[doc = $many_doc]
            async fn $many(
                &self,
                ctx: &async_graphql::Context<'_>,
                #[graphql(desc = "Only those whose display name contains this (any case).")]
                                                                        search: Option<String>,
                #[graphql(desc = "How many to return after `after`: 1 to 200, 50 when neither \
                                  `first` nor `last` is given.")]
                first: Option<i32>,
                #[graphql(desc = "The cursor to go on after (an `endCursor`); the start when \
                                  absent.")]
                after: Option<String>,
                #[graphql(desc = "How many to return before `before`: 1 to 200.")] last: Option<
                    i32,
                >,
                #[graphql(desc = "The cursor to go back from (a `startCursor`); the end when \
                                  absent and `last` is given.")]
                before: Option<String>,
            ) -> $crate::error::AppResult<$connection> {
                let args = $crate::db::cursor::ConnectionArgs {
                    first,
                    after,
                    last,
                    before,
                };
                Ok($crate::story::api::library::list_page::<$body, $node>(
                    ctx,
                    search,
                    args,
                    $node::from,
                )
                .await?
                .into())
            }
        }

        #[derive(Default)]
        pub struct $mutation;

        #[async_graphql::Object]
        impl $mutation {
            /// Deletes it (WORLDBUILDER and above); CONFLICT naming what still refers to it.
            async fn $delete(
                &self,
                ctx: &async_graphql::Context<'_>,
                #[graphql(desc = "Its id.")] id: async_graphql::ID,
            ) -> $crate::error::AppResult<bool> {
                use $crate::context::ContextExt as _;
                let viewer = ctx.viewer_with($crate::auth::Role::Worldbuilder)?;
                let id = $crate::db::parse_id("id", &id)?;
                let mut conn = ctx.conn().await?;
                $crate::story::library::delete::<$body>(&mut conn, viewer, id).await?;
                ctx.loaders::<$crate::story::loaders::StoryLoaders>()
                    .forget();
                Ok(true)
            }
        }
    };
}

pub use crate::library_api;

/// Declares the create and the update of a kind whose input is its body:
/// `create(displayName, input)` and `update(id, expectedVersion, displayName, input)` (the
/// body replaced whole when `input` is given), in `mutation`.
#[macro_export]
macro_rules! library_writes {
    (
        body: $body:ty, node: $node:ident,
        mutation: $mutation:ident { create: $create:ident, update: $update:ident },
        docs: $create_doc:tt, $update_doc:tt,
    ) => {
        #[derive(Default)]
        pub struct $mutation;

        #[async_graphql::Object]
        impl $mutation {
            #[doc = $create_doc]
            async fn $create(
                &self,
                ctx: &async_graphql::Context<'_>,
                #[graphql(desc = "Its name in lists: 1 to 200 characters.")] display_name: Option<
                    String,
                >,
                #[graphql(desc = "What it holds.")] input: $body,
            ) -> $crate::error::AppResult<$node> {
                let stored =
                    $crate::story::api::library::create(ctx, display_name.as_deref(), input)
                        .await?;
                Ok($node::from(stored))
            }

            #[doc = $update_doc]
            async fn $update(
                &self,
                ctx: &async_graphql::Context<'_>,
                #[graphql(desc = "Its id.")] id: async_graphql::ID,
                #[graphql(desc = "Change it only if it is still at this version (CONFLICT \
                                  otherwise).")]
                expected_version: Option<i32>,
                #[graphql(desc = "A new name: 1 to 200 characters.")] display_name: Option<String>,
                #[graphql(desc = "What it holds now (replaced whole); unchanged when absent.")]
                input: Option<$body>,
            ) -> $crate::error::AppResult<$node> {
                let stored = $crate::story::api::library::change::<$body>(
                    ctx,
                    &id,
                    expected_version,
                    display_name.as_deref(),
                    |current| {
                        Ok(match input {
                            Some(mut new) => {
                                $crate::story::library::Body::keep_managed(&mut new, &current);
                                new
                            }
                            None => current,
                        })
                    },
                )
                .await?;
                Ok($node::from(stored))
            }
        }
    };
}

pub use crate::library_writes;
