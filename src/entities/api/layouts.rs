//! GraphQL: form layouts. Anyone reads a type's layout (the package's, or the viewer's tenant's
//! own when signed in); WORLDBUILDER and above change their tenant's.

use std::sync::Arc;

use async_graphql::{Context, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::accounts::api::User;
use crate::context::ContextExt;
use crate::entities::layouts::{self, LayoutInForce};
use crate::entities::store::layouts::LayoutRow;
use crate::entities::templates::{TemplateBook, TemplateSource};
use crate::entities::types::EntityType;
use crate::error::AppResult;

/// The form layout of a type: sections of fields with their widgets.
#[derive(SimpleObject)]
pub struct EntityLayout {
    /// The type laid out.
    pub entity_type: EntityType,
    /// The layout (a JSON object of sections, each with its fields and their widgets).
    pub layout: Json<Value>,
    /// Where the layout came from.
    pub source: TemplateSource,
    /// The tenant's newest version of its layout of the type (0 when it never changed it):
    /// pass it as `expectedVersion` when changing the layout.
    pub version: i32,
}

impl From<LayoutInForce> for EntityLayout {
    fn from(layout: LayoutInForce) -> Self {
        Self {
            entity_type: layout.entity_type,
            layout: Json(layout.layout),
            source: layout.source,
            version: layout.version,
        }
    }
}

/// One version of a tenant's layout of a type.
pub struct EntityLayoutVersion(LayoutRow);

/// One version of a tenant's layout of a type.
#[Object]
impl EntityLayoutVersion {
    /// The version, from 1.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// The layout of this version; null for a reset (the package's layout back in force).
    async fn layout(&self) -> Option<Json<&Value>> {
        self.0.layout.as_ref().map(Json)
    }

    /// When it was made.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// Who made it (null once their account is gone).
    async fn created_by(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        match self.0.created_by {
            Some(id) => User::load(ctx, Some(id)).await,
            None => Ok(None),
        }
    }
}

#[derive(Default)]
pub struct LayoutQuery;

#[Object]
impl LayoutQuery {
    /// A type's form layout: the viewer's tenant's own when it has one, else the package's (or
    /// the built-in one). Public: without sign-in, the package's.
    async fn entity_layout(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity type.")] r#type: EntityType,
    ) -> AppResult<EntityLayout> {
        let templates = ctx.part::<Arc<TemplateBook>>()?.current();
        let Ok(viewer) = ctx.viewer() else {
            let template = templates.type_template(r#type);
            return Ok(EntityLayout {
                entity_type: r#type,
                layout: Json(template.layout.clone()),
                source: template.layout_source,
                version: 0,
            });
        };
        let mut conn = ctx.conn().await?;
        Ok(
            layouts::layout(&mut conn, &templates, viewer.tenant_id, r#type)
                .await?
                .into(),
        )
    }

    /// Every type's form layout in force for the viewer's tenant.
    async fn entity_layouts(&self, ctx: &Context<'_>) -> AppResult<Vec<EntityLayout>> {
        let viewer = ctx.viewer()?;
        let templates = ctx.part::<Arc<TemplateBook>>()?.current();
        let mut conn = ctx.conn().await?;
        Ok(layouts::layouts(&mut conn, &templates, viewer.tenant_id)
            .await?
            .into_iter()
            .map(EntityLayout::from)
            .collect())
    }

    /// The versions of the viewer's tenant's layout of a type, newest first (the last 100).
    async fn entity_layout_history(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity type.")] r#type: EntityType,
    ) -> AppResult<Vec<EntityLayoutVersion>> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        Ok(layouts::history(&mut conn, viewer, r#type)
            .await?
            .into_iter()
            .map(EntityLayoutVersion)
            .collect())
    }
}

#[derive(Default)]
pub struct LayoutMutation;

#[Object]
impl LayoutMutation {
    /// Makes a layout the tenant's for a type, as a new version (WORLDBUILDER): an object
    /// whose `sections` each list `fields` naming their `key` (256 KiB, 200 sections, 2,000
    /// fields at most).
    async fn update_layout(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity type.")] r#type: EntityType,
        #[graphql(desc = "The layout.")] layout: Json<Value>,
        #[graphql(
            desc = "The `version` the change was made on (0 when the tenant had none): a layout changed meanwhile is a CONFLICT. Absent: saved over whatever is there."
        )]
        expected_version: Option<i32>,
    ) -> AppResult<EntityLayout> {
        let viewer = ctx.viewer()?;
        let templates = ctx.part::<Arc<TemplateBook>>()?.current();
        let mut conn = ctx.conn().await?;
        Ok(layouts::update(
            &mut conn,
            &templates,
            viewer,
            r#type,
            &layout.0,
            expected_version,
        )
        .await?
        .into())
    }

    /// Puts the package's (or the built-in) layout of a type back in force for the tenant, as a
    /// new version that keeps the history (WORLDBUILDER).
    async fn reset_layout(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity type.")] r#type: EntityType,
    ) -> AppResult<EntityLayout> {
        let viewer = ctx.viewer()?;
        let templates = ctx.part::<Arc<TemplateBook>>()?.current();
        let mut conn = ctx.conn().await?;
        Ok(layouts::reset(&mut conn, &templates, viewer, r#type)
            .await?
            .into())
    }

    /// Forgets the tenant's layout of a type with all its versions (WORLDBUILDER). False when
    /// it had none.
    async fn delete_layout(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity type.")] r#type: EntityType,
    ) -> AppResult<bool> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        layouts::delete(&mut conn, viewer, r#type).await
    }
}
