//! The tenant's story defaults: the API group and preset a story uses when it names none.
//! Set explicitly (the reference derives them from sort order, which surprises people);
//! deleting the default group or preset clears it.

use async_graphql::{Context, ID, Object, SimpleObject};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::api::library::linked;
use super::groups::{ApiGroup, ApiGroupBody};
use super::model::Kind;
use super::store;
use crate::auth::{Role, Viewer};
use crate::context::ContextExt;
use crate::db::parse_id;
use crate::error::{AppError, AppResult};

/// The tenant's story defaults.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct StoryConfig {
    /// The API group stories use when they name none.
    pub default_api_group_id: Option<ID>,
    /// The preset stories use when they name none.
    pub default_preset_id: Option<ID>,
}

#[async_graphql::ComplexObject]
impl StoryConfig {
    /// The default API group (WORLDBUILDER and above see it).
    async fn default_api_group(&self, ctx: &Context<'_>) -> AppResult<Option<ApiGroup>> {
        Ok(match &self.default_api_group_id {
            Some(id) => linked::<ApiGroupBody>(ctx, id).await?.map(ApiGroup::from),
            None => None,
        })
    }
}

pub fn config_of((group, preset): (Option<Uuid>, Option<Uuid>)) -> StoryConfig {
    StoryConfig {
        default_api_group_id: group.map(|id| ID(id.to_string())),
        default_preset_id: preset.map(|id| ID(id.to_string())),
    }
}

/// Sets both defaults (None clears one) after checking each names a document of its kind in
/// the tenant (WORLDBUILDER and above).
pub async fn set_defaults(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    api_group_id: Option<Uuid>,
    preset_id: Option<Uuid>,
) -> AppResult<(Option<Uuid>, Option<Uuid>)> {
    viewer.require_role(Role::Worldbuilder)?;
    conn.transaction::<_, AppError, _>(async |conn| {
        let ids: Vec<Uuid> = api_group_id.into_iter().chain(preset_id).collect();
        let found = store::kinds_of(conn, viewer.tenant_id, &ids).await?;
        for (field, id, kind) in [
            ("defaultApiGroupId", api_group_id, Kind::ApiGroup),
            ("defaultPresetId", preset_id, Kind::Preset),
        ] {
            let Some(id) = id else { continue };
            let fits = found
                .iter()
                .any(|(found, found_kind)| *found == id && found_kind == kind.as_str());
            if !fits {
                return Err(AppError::bad_field(
                    field,
                    format!("{id} is not a {} of this tenant", kind.label()),
                ));
            }
        }
        store::put_settings(conn, viewer.tenant_id, api_group_id, preset_id).await?;
        Ok((api_group_id, preset_id))
    })
    .await
}

#[derive(Default)]
pub struct StoryConfigQuery;

#[Object]
impl StoryConfigQuery {
    /// The tenant's story defaults.
    async fn story_config(&self, ctx: &Context<'_>) -> AppResult<StoryConfig> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        Ok(config_of(
            store::settings(&mut conn, viewer.tenant_id).await?,
        ))
    }
}

#[derive(Default)]
pub struct StoryConfigMutation;

#[Object]
impl StoryConfigMutation {
    /// Sets the tenant's story defaults (WORLDBUILDER and above); an absent id clears that
    /// default.
    async fn update_story_config(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The API group stories use when they name none.")]
        default_api_group_id: Option<ID>,
        #[graphql(desc = "The preset stories use when they name none.")] default_preset_id: Option<
            ID,
        >,
    ) -> AppResult<StoryConfig> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let group = default_api_group_id
            .map(|id| parse_id("defaultApiGroupId", &id))
            .transpose()?;
        let preset = default_preset_id
            .map(|id| parse_id("defaultPresetId", &id))
            .transpose()?;
        let mut conn = ctx.conn().await?;
        Ok(config_of(
            set_defaults(&mut conn, viewer, group, preset).await?,
        ))
    }
}
