//! The GraphQL Asset type.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Object};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::accounts::api::User;
use crate::assets::loaders::AssetLoaders;
use crate::assets::model::AssetRow;
use crate::context::ContextExt;
use crate::db::loading::load;
use crate::entities::api::Entity;
use crate::error::AppResult;

pub struct Asset(pub Arc<AssetRow>);

impl From<AssetRow> for Asset {
    fn from(row: AssetRow) -> Self {
        Self(Arc::new(row))
    }
}

impl From<Arc<AssetRow>> for Asset {
    fn from(row: Arc<AssetRow>) -> Self {
        Self(row)
    }
}

/// What kind of file an asset is. New uploads are always images; other types may appear on
/// assets brought in from elsewhere.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum AssetType {
    /// An image (every upload is one).
    Image,
    /// A text file.
    Text,
    /// A sound file.
    Audio,
    /// A video file.
    Video,
    /// A document.
    Document,
    /// Any other kind of file.
    Other,
}

impl AssetType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Text => "text",
            Self::Audio => "audio",
            Self::Video => "video",
            Self::Document => "document",
            Self::Other => "other",
        }
    }

    fn from_db(text: &str) -> Self {
        match text {
            "image" => Self::Image,
            "text" => Self::Text,
            "audio" => Self::Audio,
            "video" => Self::Video,
            "document" => Self::Document,
            _ => Self::Other,
        }
    }
}

/// Where an asset is in its review life.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum AssetStatus {
    /// Not ready for use yet.
    Draft,
    /// In use; new uploads start here.
    Active,
    /// Reviewed and approved.
    Approved,
    /// Kept for the record, no longer in use.
    Archived,
}

impl AssetStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Active => "active",
            Self::Approved => "approved",
            Self::Archived => "archived",
        }
    }

    fn from_db(text: &str) -> Self {
        match text {
            "draft" => Self::Draft,
            "approved" => Self::Approved,
            "archived" => Self::Archived,
            _ => Self::Active,
        }
    }
}

/// Whether the processing queue has read the image and made its thumbnail.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum AssetProcessing {
    /// Waiting for the queue (or being processed).
    Pending,
    /// Read, with its thumbnail made.
    Done,
    /// Every attempt failed; `processingError` says why. ADMIN may queue it again.
    Failed,
}

fn public_base<'a>(ctx: &'a Context<'_>) -> Option<&'a str> {
    ctx.platform().config.assets.public_base_url.as_deref()
}

/// How other domains' GraphQL types show assets (an entity's).
impl Asset {
    /// The asset that stands for an entity (by its row id), when one is set.
    pub async fn primary_of_entity(
        ctx: &Context<'_>,
        entity_row_id: Uuid,
    ) -> AppResult<Option<Asset>> {
        Ok(
            load(&ctx.loaders::<AssetLoaders>().of_entity, entity_row_id)
                .await?
                .and_then(|assets| assets.primary.clone())
                .map(Asset::from),
        )
    }

    /// The asset with this id while it is live (null when it is recycled or gone).
    pub async fn live(ctx: &Context<'_>, id: Uuid) -> AppResult<Option<Asset>> {
        Ok(load(&ctx.loaders::<AssetLoaders>().by_id, id)
            .await?
            .filter(|asset| !asset.is_deleted())
            .map(Asset::from))
    }

    /// The live assets linked to an entity (by its row id), the primary one first.
    pub async fn of_entity(ctx: &Context<'_>, entity_row_id: Uuid) -> AppResult<Vec<Asset>> {
        Ok(
            load(&ctx.loaders::<AssetLoaders>().of_entity, entity_row_id)
                .await?
                .map(|assets| assets.all.iter().cloned().map(Asset::from).collect())
                .unwrap_or_default(),
        )
    }
}

/// An uploaded file (seed 000's Asset): an image stored once per content, served at an
/// unguessable URL, linked to the entities it illustrates.
#[Object]
impl Asset {
    /// The asset's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// When the asset was uploaded.
    async fn date_created(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the asset or its metadata last changed.
    async fn date_modified(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// What kind of file it is.
    async fn file_type(&self) -> AssetType {
        AssetType::from_db(&self.0.file_type)
    }

    /// The name the file was uploaded with (data only: never used as a path).
    async fn original_filename(&self) -> &str {
        &self.0.original_filename
    }

    /// Where the bytes are served, with the type read from the bytes: an unguessable address
    /// that answers 404 once the asset is purged (absolute when the server knows its public
    /// address, a path on this server otherwise).
    async fn public_url(&self, ctx: &Context<'_>) -> String {
        self.0.public_url(public_base(ctx))
    }

    /// A PNG at most 256 pixels a side, once processing has made it.
    async fn thumbnail_url(&self, ctx: &Context<'_>) -> Option<String> {
        self.0.thumbnail_url(public_base(ctx))
    }

    /// The id of the user who uploaded it; null once their account is deleted.
    async fn uploaded_by_id(&self) -> Option<ID> {
        self.0.uploaded_by.map(|id| ID(id.to_string()))
    }

    /// The user who uploaded it; null once their account is deleted.
    async fn uploaded_by(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        User::load(ctx, self.0.uploaded_by).await
    }

    /// Detected from the file's bytes, never taken from the upload's declared type.
    async fn mime_type(&self) -> &str {
        &self.0.mime_type
    }

    /// The file's size in bytes.
    async fn size_bytes(&self) -> i64 {
        self.0.size_bytes
    }

    /// Hex SHA-256 of the bytes: assets with the same one share their stored bytes.
    async fn sha256(&self) -> &str {
        &self.0.sha256
    }

    /// The image's width in pixels; null when not known.
    async fn width(&self) -> Option<i32> {
        self.0.width
    }

    /// The image's height in pixels; null when not known.
    async fn height(&self) -> Option<i32> {
        self.0.height
    }

    /// Free labels to find the asset by.
    async fn tags(&self) -> &[String] {
        &self.0.tags
    }

    /// Where the asset is in its review life.
    async fn status(&self) -> AssetStatus {
        AssetStatus::from_db(&self.0.status)
    }

    /// Whether the processing queue has read it and made its thumbnail.
    async fn processing(&self) -> AssetProcessing {
        match self.0.processing.as_str() {
            "done" => AssetProcessing::Done,
            "failed" => AssetProcessing::Failed,
            _ => AssetProcessing::Pending,
        }
    }

    /// Why the last processing attempt failed.
    async fn processing_error(&self) -> Option<&str> {
        self.0.processing_error.as_deref()
    }

    /// When it was moved to the recycle bin; null while it is live.
    async fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.0.deleted_at
    }

    /// Who moved it to the recycle bin; null while it is live.
    async fn deleted_by(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        User::load(ctx, self.0.deleted_by).await
    }

    /// The live entities it is linked to.
    async fn entities(&self, ctx: &Context<'_>) -> AppResult<Vec<Entity>> {
        let ids = load(&ctx.loaders::<AssetLoaders>().entities, self.0.id)
            .await?
            .unwrap_or_default();
        Entity::live_many(ctx, &ids).await
    }
}
