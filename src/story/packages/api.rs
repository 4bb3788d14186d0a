//! GraphQL of data packages: prepare an export (then download it), prepare an import (then
//! upload into it), commit the import.

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::{Counts, commit_import, prepare_export, prepare_import};
use crate::assets::service::AssetRuntime;
use crate::auth::Role;
use crate::context::ContextExt;
use crate::db::parse_id;
use crate::error::AppResult;

/// How many documents of each kind a package holds.
#[derive(SimpleObject)]
pub struct PackageContents {
    /// Presets.
    pub presets: usize,
    /// State schemas.
    pub schemas: usize,
    /// Lorebooks.
    pub lorebooks: usize,
    /// Player profiles.
    pub player_profiles: usize,
    /// Character cards (with their covers).
    pub characters: usize,
    /// Story resources.
    pub story_resources: usize,
    /// Stories (with their current graph).
    pub stories: usize,
}

impl From<Counts> for PackageContents {
    fn from(counts: Counts) -> Self {
        Self {
            presets: counts.presets,
            schemas: counts.schemas,
            lorebooks: counts.lorebooks,
            player_profiles: counts.player_profiles,
            characters: counts.characters,
            story_resources: counts.story_resources,
            stories: counts.stories,
        }
    }
}

/// A package ready to download.
#[derive(SimpleObject)]
pub struct PackageExport {
    /// The export's id.
    pub export_id: ID,
    /// Where to download it: `GET` this path with the same credentials.
    pub download_path: String,
    /// When it is gone (30 minutes after it was made).
    pub expires_at: DateTime<Utc>,
    /// What it holds.
    pub contents: PackageContents,
}

/// A slot to upload a package into.
#[derive(SimpleObject)]
pub struct PackageImport {
    /// The import's id.
    pub import_id: ID,
    /// Where to upload the ZIP: `POST` its bytes to this path with the same credentials.
    pub upload_path: String,
    /// When it is gone (30 minutes after it was made).
    pub expires_at: DateTime<Utc>,
}

/// What an import brought in.
#[derive(SimpleObject)]
pub struct PackageImportResult {
    /// How many documents of each kind.
    pub contents: PackageContents,
    /// Their ids (kept from the package).
    pub ids: Vec<ID>,
}

#[derive(Default)]
pub struct PackageMutation;

#[Object]
impl PackageMutation {
    /// Packs documents of the story library (presets, state schemas, lorebooks, player
    /// profiles, character cards, story resources, stories; never API connections, groups or
    /// sessions) into a ZIP
    /// to download (WORLDBUILDER and above).
    async fn prepare_export(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The documents to export.")] ids: Vec<ID>,
        #[graphql(
            default = true,
            desc = "Also export what they refer to (a story's resource and schemas; a \
                    resource's cast, lorebooks and seed schemas; a card's schema)."
        )]
        include_dependencies: bool,
    ) -> AppResult<PackageExport> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let ids = ids
            .iter()
            .map(|id| parse_id("ids", id))
            .collect::<AppResult<Vec<_>>>()?;
        let runtime = ctx.part::<AssetRuntime>()?;
        let (slot, counts) =
            prepare_export(ctx.platform(), runtime, viewer, &ids, include_dependencies).await?;
        Ok(PackageExport {
            export_id: ID(slot.id.to_string()),
            download_path: format!("/download/package_export:{}/archive", slot.id),
            expires_at: slot.expires_at,
            contents: counts.into(),
        })
    }

    /// Opens a slot to upload a package into (WORLDBUILDER and above).
    async fn prepare_import(&self, ctx: &Context<'_>) -> AppResult<PackageImport> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let slot = prepare_import(ctx.platform(), viewer).await?;
        Ok(PackageImport {
            import_id: ID(slot.id.to_string()),
            upload_path: format!("/upload/package_import:{}/archive", slot.id),
            expires_at: slot.expires_at,
        })
    }

    /// Validates the uploaded package whole and imports it in one transaction (WORLDBUILDER
    /// and above): a package with a bad manifest or counts, an id the tenant has, a document
    /// that breaks its rules or a reference that resolves nowhere changes nothing.
    async fn commit_import(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The import's id.")] import_id: ID,
    ) -> AppResult<PackageImportResult> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let id = parse_id("importId", &import_id)?;
        let runtime = ctx.part::<AssetRuntime>()?;
        let imported = commit_import(ctx.platform(), runtime, viewer, id).await?;
        ctx.loaders::<crate::story::loaders::StoryLoaders>()
            .forget();
        Ok(PackageImportResult {
            contents: imported.counts.into(),
            ids: imported
                .ids
                .into_iter()
                .map(|id| ID(id.to_string()))
                .collect(),
        })
    }
}
