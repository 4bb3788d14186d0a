//! GraphQL: reading the tenant's assets.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use super::object::{Asset, AssetStatus, AssetType};
use crate::accounts::api::User;
use crate::assets::loaders::AssetLoaders;
use crate::assets::model::AssetRow;
use crate::assets::store::{self, AssetFilter, AssetKey};
use crate::context::ContextExt;
use crate::db::connection::{connection_type, items_select, page_of};
use crate::db::cursor::ConnectionArgs;
use crate::db::keyset::Window;
use crate::db::pagination::{PageRequest, page_type};
use crate::db::parse_id;
use crate::db::search::TsQuery;
use crate::entities::api::EntityRefInput;
use crate::entities::service as entities;
use crate::error::AppResult;

page_type! {
    /// A page of assets.
    pub struct AssetPage {
        total,
        assets: Vec<Asset>,
    }
}

/// What to narrow a list of assets to; every given condition must hold.
#[derive(InputObject, Default)]
pub struct AssetFilterInput {
    /// The kind of file (every upload is an IMAGE).
    pub file_type: Option<AssetType>,
    /// The detected type, e.g. `image/png`.
    pub mime_type: Option<String>,
    /// Assets linked to this entity.
    pub entity: Option<EntityRefInput>,
    /// Assets uploaded by this user.
    pub uploaded_by: Option<ID>,
    /// Assets with this tag among theirs.
    pub tag: Option<String>,
    /// Words of the file name or tags (prefix matching).
    pub search: Option<String>,
    /// Assets with this status.
    pub status: Option<AssetStatus>,
}

/// Assets sharing the same bytes.
#[derive(SimpleObject)]
pub struct DuplicateAssetGroup {
    /// The hex SHA-256 of the bytes they share.
    pub sha256: String,
    /// The size of those bytes, stored once.
    pub size_bytes: i64,
    /// Oldest upload first.
    pub assets: Vec<Asset>,
}

/// Live assets of one detected type.
#[derive(SimpleObject)]
pub struct AssetTypeStats {
    /// The detected type, e.g. `image/png`.
    pub mime_type: String,
    /// How many live assets have it.
    pub count: i64,
    /// Sum of their sizes in bytes.
    pub bytes: i64,
}

/// What the tenant's assets amount to.
#[derive(SimpleObject)]
pub struct AssetStats {
    /// How many live assets the tenant has.
    pub total_assets: i64,
    /// Sum of the live assets' sizes (duplicates counted each time).
    pub total_bytes: i64,
    /// The live assets by detected type.
    pub by_type: Vec<AssetTypeStats>,
    /// How many assets are in the recycle bin.
    pub recycled_assets: i64,
    /// Sum of the recycled assets' sizes in bytes.
    pub recycled_bytes: i64,
    /// Distinct contents stored, live or recycled.
    pub stored_files: i64,
    /// What the storage holds: each content once.
    pub stored_bytes: i64,
}

connection_type! {
    /// Assets, a page at a time by cursor.
    pub struct AssetConnection;
    /// An asset and its cursor.
    pub struct AssetEdge(Asset);
}

/// The store's filter of the live assets `input` asks for (the entity resolved to its row).
async fn live_filter(ctx: &Context<'_>, input: Option<AssetFilterInput>) -> AppResult<AssetFilter> {
    let viewer = ctx.viewer()?;
    let input = input.unwrap_or_default();
    let entity_row_id = match &input.entity {
        Some(entity) => {
            let mut conn = ctx.conn().await?;
            Some(
                entities::live_row_id(
                    &mut conn,
                    viewer.tenant_id,
                    entity.r#type,
                    &entity.entity_id,
                )
                .await?,
            )
        }
        None => None,
    };
    let uploaded_by = input
        .uploaded_by
        .as_ref()
        .map(|id| parse_id("uploadedBy", id))
        .transpose()?;
    Ok(AssetFilter {
        file_type: input.file_type.map(|t| t.as_str().to_owned()),
        mime_type: input.mime_type,
        entity_row_id,
        uploaded_by,
        tag: input.tag,
        search: input.search.as_deref().and_then(TsQuery::parse),
        status: input.status.map(|s| s.as_str().to_owned()),
        recycled: false,
    })
}

/// The recycle bin's filter: every asset in it.
fn recycled_filter() -> AssetFilter {
    AssetFilter {
        recycled: true,
        ..AssetFilter::default()
    }
}

/// The list `filter` chooses, named for its cursors: the bin, or the live assets with every
/// condition (so a cursor works only where it was given out).
fn list_name(filter: &AssetFilter) -> String {
    if filter.recycled {
        return "recycledAssets".into();
    }
    format!(
        "assets/{:?}/{:?}/{:?}/{:?}/{:?}/{:?}/{:?}",
        filter.file_type,
        filter.mime_type,
        filter.entity_row_id,
        filter.uploaded_by,
        filter.tag,
        filter.search.as_ref().map(TsQuery::as_str),
        filter.status,
    )
}

/// Where an asset sits in the list `filter` chooses.
fn key_of(filter: &AssetFilter, row: &AssetRow) -> AssetKey {
    if filter.recycled {
        (row.deleted_at.unwrap_or(row.updated_at), row.id)
    } else {
        (row.created_at, row.id)
    }
}

/// The assets `window` holds of those `filter` chooses, with their uploaders loaded up front
/// when asked for (under `assets`, `edges { node }` or `nodes`).
async fn load_assets(
    ctx: &Context<'_>,
    filter: &AssetFilter,
    window: &Window<AssetKey>,
) -> AppResult<(Option<i64>, Vec<AssetRow>)> {
    let viewer = ctx.viewer()?;
    let mut conn = ctx.conn().await?;
    let (total, rows) = store::list(&mut conn, viewer.tenant_id, filter, window).await?;
    drop(conn);
    if items_select(&ctx.look_ahead(), "assets", "uploadedBy") {
        User::prefetch(ctx, rows.iter().filter_map(|a| a.uploaded_by)).await?;
    }
    Ok((total, rows))
}

/// An offset page of the assets `filter` chooses.
async fn page(ctx: &Context<'_>, filter: AssetFilter, page: PageRequest) -> AppResult<AssetPage> {
    let (total, rows) = load_assets(ctx, &filter, &Window::Offset(page)).await?;
    Ok(AssetPage::new(
        total.unwrap_or_default(),
        page,
        rows.into_iter().map(Asset::from).collect(),
    ))
}

/// A page by cursor of the assets `filter` chooses.
async fn connection(
    ctx: &Context<'_>,
    filter: AssetFilter,
    args: ConnectionArgs,
) -> AppResult<AssetConnection> {
    let cursors = ctx.cursors(list_name(&filter))?;
    let window = cursors.window::<AssetKey>(args)?;
    let (_, rows) = load_assets(ctx, &filter, &Window::Keyset(window.clone())).await?;
    let page = page_of(
        rows,
        &window,
        &cursors,
        |row| key_of(&filter, row),
        Asset::from,
    );
    Ok(page.into())
}

#[derive(Default)]
pub struct AssetQuery;

#[Object]
impl AssetQuery {
    /// One asset of the viewer's tenant, live or in the recycle bin; null when there is none.
    async fn asset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The asset's id.")] id: ID,
    ) -> AppResult<Option<Asset>> {
        ctx.viewer()?;
        let id = parse_id("id", &id)?;
        Ok(
            crate::db::loading::load(&ctx.loaders::<AssetLoaders>().by_id, id)
                .await?
                .map(Asset::from),
        )
    }

    /// The tenant's live assets, newest first, narrowed by `filter`.
    async fn assets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions every listed asset meets; all live assets when absent.")]
        filter: Option<AssetFilterInput>,
        #[graphql(desc = "How many assets to skip: 0 to 10,000, 0 when absent.")] offset: Option<
            i32,
        >,
        #[graphql(desc = "How many assets to return: 1 to 200, 50 when absent.")] limit: Option<
            i32,
        >,
    ) -> AppResult<AssetPage> {
        ctx.viewer()?;
        let request = PageRequest::new(offset, limit)?;
        let filter = live_filter(ctx, filter).await?;
        page(ctx, filter, request).await
    }

    /// The tenant's live assets by cursor, newest first, narrowed by `filter` as `assets` is.
    async fn assets_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions every listed asset meets; all live assets when absent.")]
        filter: Option<AssetFilterInput>,
        #[graphql(
            desc = "How many assets to return after `after`: 1 to 200, 50 when neither \
                          `first` nor `last` is given."
        )]
        first: Option<i32>,
        #[graphql(desc = "The cursor to go on after (an `endCursor`); the start when absent.")]
        after: Option<String>,
        #[graphql(desc = "How many assets to return before `before`: 1 to 200.")] last: Option<i32>,
        #[graphql(
            desc = "The cursor to go back from (a `startCursor`); the end when absent \
                          and `last` is given."
        )]
        before: Option<String>,
    ) -> AppResult<AssetConnection> {
        ctx.viewer()?;
        let filter = live_filter(ctx, filter).await?;
        let args = ConnectionArgs {
            first,
            after,
            last,
            before,
        };
        connection(ctx, filter, args).await
    }

    /// The asset recycle bin, most recently deleted first.
    async fn recycled_assets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many assets to skip: 0 to 10,000, 0 when absent.")] offset: Option<
            i32,
        >,
        #[graphql(desc = "How many assets to return: 1 to 200, 50 when absent.")] limit: Option<
            i32,
        >,
    ) -> AppResult<AssetPage> {
        let request = PageRequest::new(offset, limit)?;
        page(ctx, recycled_filter(), request).await
    }

    /// The asset recycle bin by cursor, most recently deleted first.
    async fn recycled_assets_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "How many assets to return after `after`: 1 to 200, 50 when neither \
                          `first` nor `last` is given."
        )]
        first: Option<i32>,
        #[graphql(desc = "The cursor to go on after (an `endCursor`); the start when absent.")]
        after: Option<String>,
        #[graphql(desc = "How many assets to return before `before`: 1 to 200.")] last: Option<i32>,
        #[graphql(
            desc = "The cursor to go back from (a `startCursor`); the end when absent \
                          and `last` is given."
        )]
        before: Option<String>,
    ) -> AppResult<AssetConnection> {
        let args = ConnectionArgs {
            first,
            after,
            last,
            before,
        };
        connection(ctx, recycled_filter(), args).await
    }

    /// Live assets that share their bytes with another, largest groups first (at most
    /// `limit` groups: 50 by default, 200 at most).
    async fn duplicate_assets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many groups to return: 1 to 200, 50 when absent.")] limit: Option<
            i32,
        >,
    ) -> AppResult<Vec<DuplicateAssetGroup>> {
        let viewer = ctx.viewer()?;
        let request = PageRequest::new(None, limit)?;
        let mut conn = ctx.conn().await?;
        let rows = store::duplicates(&mut conn, viewer.tenant_id, request.limit).await?;
        let mut groups: Vec<DuplicateAssetGroup> = Vec::new();
        for row in rows {
            match groups.last_mut() {
                Some(group) if group.sha256 == row.sha256 => group.assets.push(Asset::from(row)),
                _ => groups.push(DuplicateAssetGroup {
                    sha256: row.sha256.clone(),
                    size_bytes: row.size_bytes,
                    assets: vec![Asset::from(row)],
                }),
            }
        }
        groups.sort_by(|a, b| {
            b.assets
                .len()
                .cmp(&a.assets.len())
                .then(a.sha256.cmp(&b.sha256))
        });
        Ok(groups)
    }

    /// Counts and sizes of the tenant's assets.
    async fn asset_stats(&self, ctx: &Context<'_>) -> AppResult<AssetStats> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        let totals = store::totals(&mut conn, viewer.tenant_id).await?;
        Ok(AssetStats {
            total_assets: totals.by_type.iter().map(|(_, n, _)| n).sum(),
            total_bytes: totals.by_type.iter().map(|(_, _, b)| b).sum(),
            by_type: totals
                .by_type
                .into_iter()
                .map(|(mime_type, count, bytes)| AssetTypeStats {
                    mime_type,
                    count,
                    bytes,
                })
                .collect(),
            recycled_assets: totals.recycled.0,
            recycled_bytes: totals.recycled.1,
            stored_files: totals.stored.0,
            stored_bytes: totals.stored.1,
        })
    }
}
