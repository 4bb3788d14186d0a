//! GraphQL: image presets. Any member reads them; WORLDBUILDER and above change them.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};

use super::service::{self, PresetDraft};
use super::store::PresetRow;
use crate::auth::Role;
use crate::context::ContextExt;
use crate::db::parse_id;
use crate::entities::api::EntityType;
use crate::error::AppResult;

/// A way to generate a studio's images (seed "Image Presets").
pub struct ImagePreset(PresetRow);

/// A way to generate a studio's images (seed "Image Presets").
#[Object]
impl ImagePreset {
    /// The preset's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Its name (unique in the tenant, in any case).
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The type it is for (null: every type).
    async fn entity_type(&self) -> Option<EntityType> {
        self.0
            .entity_type
            .as_deref()
            .and_then(EntityType::from_slug)
    }
    /// The style the prompt asks for.
    async fn style(&self) -> &str {
        &self.0.style
    }
    /// What the image must not show.
    async fn negative_prompt(&self) -> &str {
        &self.0.negative_prompt
    }
    /// Width in pixels.
    async fn width(&self) -> i32 {
        self.0.width
    }
    /// Height in pixels.
    async fn height(&self) -> i32 {
        self.0.height
    }
    /// Whether it is its type's default (or the default for every type).
    async fn is_default(&self) -> bool {
        self.0.is_default
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A preset as written.
#[derive(InputObject)]
pub struct ImagePresetInput {
    /// 1 to 100 characters, unique in the tenant.
    pub name: String,
    /// The type it is for (left out: every type).
    pub entity_type: Option<EntityType>,
    /// The style the prompt asks for (up to 4,000 characters).
    #[graphql(default)]
    pub style: String,
    /// What the image must not show (up to 4,000 characters).
    #[graphql(default)]
    pub negative_prompt: String,
    /// Width in pixels, 64 to 4096 (1024 by default).
    #[graphql(default = 1024)]
    pub width: i32,
    /// Height in pixels, 64 to 4096 (1024 by default).
    #[graphql(default = 1024)]
    pub height: i32,
    /// Makes it its type's default (the type's other default stops being one).
    #[graphql(default)]
    pub is_default: bool,
}

impl From<ImagePresetInput> for PresetDraft {
    fn from(input: ImagePresetInput) -> Self {
        Self {
            name: input.name,
            entity_type: input.entity_type,
            style: input.style,
            negative_prompt: input.negative_prompt,
            width: input.width,
            height: input.height,
            is_default: input.is_default,
        }
    }
}

#[derive(Default)]
pub struct ImagePresetQuery;

#[Object]
impl ImagePresetQuery {
    /// The tenant's image presets (at most 200): defaults first, then by type (those for
    /// every type last) and name.
    async fn image_presets(&self, ctx: &Context<'_>) -> AppResult<Vec<ImagePreset>> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        Ok(service::list(&mut conn, viewer, None)
            .await?
            .into_iter()
            .map(ImagePreset)
            .collect())
    }

    /// One image preset; NOT_FOUND when the tenant has none with this id.
    async fn image_preset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The preset's id.")] id: ID,
    ) -> AppResult<ImagePreset> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        Ok(ImagePreset(
            service::find(&mut conn, viewer, parse_id("id", &id)?).await?,
        ))
    }

    /// The image styles for a type: its own presets and those for every type, the default
    /// first.
    async fn image_styles(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity type.")] r#type: EntityType,
    ) -> AppResult<Vec<ImagePreset>> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        Ok(service::list(&mut conn, viewer, Some(r#type))
            .await?
            .into_iter()
            .map(ImagePreset)
            .collect())
    }
}

#[derive(Default)]
pub struct ImagePresetMutation;

#[Object]
impl ImagePresetMutation {
    /// Creates an image preset (WORLDBUILDER); CONFLICT when the name is taken.
    async fn create_image_preset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The preset.")] input: ImagePresetInput,
    ) -> AppResult<ImagePreset> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let mut conn = ctx.conn().await?;
        Ok(ImagePreset(
            service::save(&mut conn, viewer, None, input.into()).await?,
        ))
    }

    /// Changes an image preset whole (WORLDBUILDER).
    async fn update_image_preset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The preset's id.")] id: ID,
        #[graphql(desc = "The preset.")] input: ImagePresetInput,
    ) -> AppResult<ImagePreset> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let mut conn = ctx.conn().await?;
        Ok(ImagePreset(
            service::save(&mut conn, viewer, Some(parse_id("id", &id)?), input.into()).await?,
        ))
    }

    /// Deletes an image preset (WORLDBUILDER); true once it is gone.
    async fn delete_image_preset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The preset's id.")] id: ID,
    ) -> AppResult<bool> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let mut conn = ctx.conn().await?;
        service::delete(&mut conn, viewer, parse_id("id", &id)?).await?;
        Ok(true)
    }
}
