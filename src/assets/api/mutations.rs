//! GraphQL: uploading and changing assets.

use async_graphql::{Context, ID, InputObject, Object, Upload};

use super::object::{Asset, AssetStatus};
use crate::assets::loaders::AssetLoaders;
use crate::assets::metadata::{self, AssetUpdate};
use crate::assets::service::{self, AssetRuntime, Attachment};
use crate::auth::Role;
use crate::context::ContextExt;
use crate::db::parse_id;
use crate::entities::api::EntityRefInput;
use crate::entities::service::EntityType;
use crate::error::{AppError, AppResult};

/// Changes to an asset's metadata; what is left out stays as it is.
#[derive(InputObject)]
pub struct UpdateAssetInput {
    /// Replaces the tags (1 to 50 characters each, at most 50; duplicates are dropped).
    pub tags: Option<Vec<String>>,
    /// The new review status.
    pub status: Option<AssetStatus>,
    /// A new display name (1 to 255 characters).
    pub original_filename: Option<String>,
}

/// A multipart upload's file: the multipart parser has read it into memory, refusing it while
/// it streamed once it passed the request's limits.
fn read_upload(ctx: &Context<'_>, file: &Upload) -> AppResult<service::Upload> {
    let value = file
        .value(ctx)
        .map_err(|_| AppError::bad_field("file", "the upload is missing from the request"))?;
    let max_bytes = ctx.platform().config.assets.max_bytes;
    if value.content.len() > max_bytes {
        return Err(service::too_large(max_bytes));
    }
    Ok(service::Upload {
        filename: value.filename,
        bytes: value.content,
    })
}

#[derive(Default)]
pub struct AssetMutation;

#[Object]
impl AssetMutation {
    /// Uploads an image (PNG, JPEG, GIF or WEBP, recognised from its bytes) over the GraphQL
    /// multipart request spec; with `entityType` and `entityId` it is linked to that entity
    /// (as its primary asset when `primary`). Other files → UNSUPPORTED_MEDIA_TYPE; files over
    /// the size limit or images of absurd dimensions → PAYLOAD_TOO_LARGE. WORLDBUILDER.
    async fn upload_asset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The file, as a part of the multipart request.")] file: Upload,
        #[graphql(desc = "The type of the entity to link it to (with `entityId`).")]
        entity_type: Option<EntityType>,
        #[graphql(desc = "The id of the entity to link it to (with `entityType`).")]
        entity_id: Option<String>,
        #[graphql(default, desc = "Make it that entity's primary asset.")] primary: bool,
    ) -> AppResult<Asset> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let attach = match (entity_type, entity_id) {
            (Some(entity_type), Some(entity_id)) => Some(Attachment {
                entity_type,
                entity_id,
                primary,
            }),
            (None, None) => None,
            _ => {
                return Err(AppError::bad_input(
                    "give both entityType and entityId, or neither",
                ));
            }
        };
        let upload = read_upload(ctx, &file)?;
        let row = service::upload(
            ctx.platform(),
            ctx.part::<AssetRuntime>()?,
            viewer,
            upload,
            attach,
        )
        .await?;
        ctx.loaders::<AssetLoaders>().forget();
        Ok(Asset::from(row))
    }

    /// Changes an asset's tags, status or display name. WORLDBUILDER.
    async fn update_asset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The asset's id.")] id: ID,
        #[graphql(desc = "The changes; what is absent stays.")] input: UpdateAssetInput,
    ) -> AppResult<Asset> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let id = parse_id("id", &id)?;
        let update = AssetUpdate {
            tags: input.tags,
            status: input.status.map(AssetStatus::as_str),
            original_filename: input.original_filename.as_deref(),
        };
        let mut conn = ctx.conn().await?;
        let row = metadata::update(&mut conn, viewer, id, update).await?;
        ctx.loaders::<AssetLoaders>().forget();
        Ok(Asset::from(row))
    }

    /// Moves an asset into the recycle bin: it leaves lists and entities, its URL keeps
    /// working until it is purged. WORLDBUILDER.
    async fn delete_asset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The asset's id.")] id: ID,
    ) -> AppResult<bool> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        service::set_recycled(&ctx.platform().pool, viewer, parse_id("id", &id)?, true).await?;
        ctx.loaders::<AssetLoaders>().forget();
        Ok(true)
    }

    /// Brings an asset back from the recycle bin, with its links. WORLDBUILDER.
    async fn restore_asset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The recycled asset's id.")] id: ID,
    ) -> AppResult<Asset> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let row = service::set_recycled(&ctx.platform().pool, viewer, parse_id("id", &id)?, false)
            .await?;
        ctx.loaders::<AssetLoaders>().forget();
        Ok(Asset::from(row))
    }

    /// Removes a recycled asset for good; its bytes go once no other asset shares them, and
    /// its URL answers 404. ADMIN.
    async fn purge_asset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The recycled asset's id.")] id: ID,
    ) -> AppResult<bool> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        service::purge(
            ctx.platform(),
            ctx.part::<AssetRuntime>()?,
            viewer,
            parse_id("id", &id)?,
        )
        .await?;
        ctx.loaders::<AssetLoaders>().forget();
        Ok(true)
    }

    /// Purges every asset in the recycle bin; returns how many went. ADMIN.
    async fn empty_asset_recycle_bin(&self, ctx: &Context<'_>) -> AppResult<i32> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let purged =
            service::empty_recycle_bin(ctx.platform(), ctx.part::<AssetRuntime>()?, viewer).await?;
        ctx.loaders::<AssetLoaders>().forget();
        Ok(i32::try_from(purged).unwrap_or(i32::MAX))
    }

    /// Links a live asset to a live entity (as its primary asset when `primary`, replacing
    /// the previous one). WORLDBUILDER.
    async fn link_asset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The asset's id.")] id: ID,
        #[graphql(desc = "The entity to link it to.")] entity: EntityRefInput,
        #[graphql(default, desc = "Make it the entity's primary asset.")] primary: bool,
    ) -> AppResult<Asset> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let asset_id = parse_id("id", &id)?;
        let asset = service::link(
            &ctx.platform().pool,
            viewer,
            asset_id,
            entity.r#type,
            &entity.entity_id,
            primary,
        )
        .await?;
        ctx.loaders::<AssetLoaders>().forget();
        Ok(Asset::from(asset))
    }

    /// Removes the link between an asset and an entity; false when there was none.
    /// WORLDBUILDER.
    async fn unlink_asset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The asset's id.")] id: ID,
        #[graphql(desc = "The entity to unlink it from.")] entity: EntityRefInput,
    ) -> AppResult<bool> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let id = parse_id("id", &id)?;
        let mut conn = ctx.conn().await?;
        let removed =
            metadata::unlink(&mut conn, viewer, id, entity.r#type, &entity.entity_id).await?;
        ctx.loaders::<AssetLoaders>().forget();
        Ok(removed)
    }
}
