//! GraphQL: reading the tenant's assets.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use super::object::{Asset, AssetStatus, AssetType};
use crate::accounts::api::User;
use crate::assets::loaders::AssetLoaders;
use crate::assets::store::{self, AssetFilter};
use crate::context::ContextExt;
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

async fn page(ctx: &Context<'_>, filter: AssetFilter, page: PageRequest) -> AppResult<AssetPage> {
    let viewer = ctx.viewer()?;
    let mut conn = ctx.conn().await?;
    let (total, rows) = store::list(&mut conn, viewer.tenant_id, &filter, page).await?;
    drop(conn);
    if ctx
        .look_ahead()
        .field("assets")
        .field("uploadedBy")
        .exists()
    {
        User::prefetch(ctx, rows.iter().filter_map(|a| a.uploaded_by)).await?;
    }
    Ok(AssetPage::new(
        total,
        page,
        rows.into_iter().map(Asset::from).collect(),
    ))
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
        #[graphql(desc = "How many assets to skip; 0 when absent.")] offset: Option<i32>,
        #[graphql(desc = "How many assets to return: 1 to 200, 50 when absent.")] limit: Option<
            i32,
        >,
    ) -> AppResult<AssetPage> {
        let viewer = ctx.viewer()?;
        let request = PageRequest::new(offset, limit)?;
        let filter = filter.unwrap_or_default();
        let entity_row_id = match &filter.entity {
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
        let uploaded_by = filter
            .uploaded_by
            .as_ref()
            .map(|id| parse_id("uploadedBy", id))
            .transpose()?;
        let filter = AssetFilter {
            file_type: filter.file_type.map(|t| t.as_str().to_owned()),
            mime_type: filter.mime_type,
            entity_row_id,
            uploaded_by,
            tag: filter.tag,
            search: filter.search.as_deref().and_then(TsQuery::parse),
            status: filter.status.map(|s| s.as_str().to_owned()),
            recycled: false,
        };
        page(ctx, filter, request).await
    }

    /// The asset recycle bin, most recently deleted first.
    async fn recycled_assets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many assets to skip; 0 when absent.")] offset: Option<i32>,
        #[graphql(desc = "How many assets to return: 1 to 200, 50 when absent.")] limit: Option<
            i32,
        >,
    ) -> AppResult<AssetPage> {
        let request = PageRequest::new(offset, limit)?;
        let filter = AssetFilter {
            recycled: true,
            ..AssetFilter::default()
        };
        page(ctx, filter, request).await
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
