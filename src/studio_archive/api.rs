//! GraphQL of the studio archive: exporting the tenant (in the background, with progress),
//! its exports, and importing an archive.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Object, SimpleObject, Upload};
use chrono::{DateTime, Utc};

use super::service;
use super::store::ExportRow;
use crate::assets::service::AssetRuntime;
use crate::auth::Role;
use crate::context::ContextExt;
use crate::db::parse_id;
use crate::entities::service::TemplateBook;
use crate::error::{AppError, AppResult};

/// Where an export stands.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ExportState {
    /// The archive is being built (see `done` and `total`).
    Running,
    /// Built: download it from `downloadPath` until `expiresAt`.
    Complete,
    /// It failed, or its server stopped while building it (see `error`).
    Failed,
}

pub struct TenantExport(ExportRow);

/// A whole-tenant export: a ZIP of the tenant's entities (as markdown files), relationships,
/// notes, assets with their bytes and settings, with a manifest of every file's checksum.
#[Object]
impl TenantExport {
    /// The export's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Where it stands.
    async fn state(&self) -> ExportState {
        match self.0.state.as_str() {
            "complete" => ExportState::Complete,
            "running" if self.0.is_running() => ExportState::Running,
            _ => ExportState::Failed,
        }
    }

    /// Entities, notes and assets collected so far.
    async fn done(&self) -> i32 {
        self.0.done
    }

    /// Entities, notes and assets to collect in all.
    async fn total(&self) -> i32 {
        self.0.total
    }

    /// Why it failed, when it did.
    async fn error(&self) -> Option<String> {
        match (&self.0.error, self.0.state.as_str()) {
            (Some(error), _) => Some(error.clone()),
            (None, "running") if !self.0.is_running() => {
                Some("the server building it stopped; export again".to_owned())
            }
            _ => None,
        }
    }

    /// The archive's size in bytes, once complete.
    async fn bytes(&self) -> Option<f64> {
        self.0.bytes.map(|bytes| bytes as f64)
    }

    /// The archive's SHA-256 (hex), once complete.
    async fn sha256(&self) -> Option<&str> {
        self.0.sha256.as_deref()
    }

    /// Where to download the archive (`GET`, as an ADMIN of the tenant), once complete.
    async fn download_path(&self) -> Option<String> {
        (self.0.state == "complete").then(|| format!("/api/migration/export/{}", self.0.id))
    }

    /// When it was asked for.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the archive goes away.
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
}

/// How many of each an import wrote.
#[derive(SimpleObject)]
pub struct TenantImport {
    /// Whether the archive was applied (all of it); false when it had problems (none of it).
    pub applied: bool,
    /// What is wrong with the archive (at most 100), when it was not applied.
    pub problems: Vec<String>,
    /// Entities created.
    pub entities: i32,
    /// Relationships drawn.
    pub relationships: i32,
    /// Notes written.
    pub notes: i32,
    /// Assets stored.
    pub assets: i32,
}

impl From<service::ImportOutcome> for TenantImport {
    fn from(outcome: service::ImportOutcome) -> Self {
        let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
        Self {
            applied: outcome.applied,
            problems: outcome.problems,
            entities: count(outcome.counts.entities),
            relationships: count(outcome.counts.relationships),
            notes: count(outcome.counts.notes),
            assets: count(outcome.counts.assets),
        }
    }
}

#[derive(Default)]
pub struct TenantArchiveQuery;

#[Object]
impl TenantArchiveQuery {
    /// One of the tenant's exports (ADMIN).
    async fn tenant_export(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The export's id.")] id: ID,
    ) -> AppResult<TenantExport> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let mut conn = ctx.conn().await?;
        let id = parse_id("id", &id)?;
        Ok(TenantExport(service::find(&mut conn, viewer, id).await?))
    }

    /// The tenant's latest 20 exports not yet expired, newest first (ADMIN).
    async fn tenant_exports(&self, ctx: &Context<'_>) -> AppResult<Vec<TenantExport>> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let mut conn = ctx.conn().await?;
        let rows = service::list(&mut conn, viewer).await?;
        Ok(rows.into_iter().map(TenantExport).collect())
    }
}

#[derive(Default)]
pub struct TenantArchiveMutation;

#[Object]
impl TenantArchiveMutation {
    /// Begins exporting the whole tenant as a ZIP (ADMIN): built in the background, its
    /// progress in `tenantExport(id)`, then downloadable for 24 hours. One at a time.
    async fn export_tenant(&self, ctx: &Context<'_>) -> AppResult<TenantExport> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let templates = ctx
            .part::<Arc<TemplateBook>>()?
            .for_tenant(&ctx.platform().pool, ctx.viewer()?.tenant_id)
            .await?;
        let runtime = ctx.part::<AssetRuntime>()?;
        let row = service::start_export(ctx.platform(), &templates, runtime, viewer).await?;
        Ok(TenantExport(row))
    }

    /// Imports a tenant export into this tenant (ADMIN), over the GraphQL multipart request
    /// (larger archives go to `POST /api/migration/import`): the whole archive is checked
    /// first, then applied in one transaction; with any problem nothing is written and the
    /// problems are listed.
    async fn import_tenant(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The ZIP archive, as a part of the multipart request.")] archive: Upload,
    ) -> AppResult<TenantImport> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let upload = archive.value(ctx).map_err(|_| {
            AppError::bad_field("archive", "the upload is missing from the request")
        })?;
        let bytes = upload.content.to_vec();
        let templates = ctx
            .part::<Arc<TemplateBook>>()?
            .for_tenant(&ctx.platform().pool, ctx.viewer()?.tenant_id)
            .await?;
        let runtime = ctx.part::<AssetRuntime>()?;
        let mut conn = ctx.conn().await?;
        let outcome = service::import(
            ctx.platform(),
            &templates,
            runtime,
            &mut conn,
            viewer,
            bytes,
        )
        .await?;
        Ok(outcome.into())
    }
}
