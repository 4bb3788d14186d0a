//! GraphQL: importing and exporting markdown files, the one-file operations, and
//! `syncCompleted`.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, SimpleObject, Subscription, Upload};
use futures_util::Stream;

use super::service::{
    self, FixedMarkdown, FormattedMarkdown, FrontmatterCheck, ImportMode, ImportReport,
};
use crate::auth::Role;
use crate::context::ContextExt;
use crate::context::subscriptions::tenant_events;
use crate::entities::api::Entity;
use crate::entities::service::{EntityType, TemplateBook, TemplateCatalog};
use crate::error::{AppError, AppResult};
use crate::events::{EventPayload, kinds};

/// A markdown file to import.
#[derive(InputObject)]
pub struct MarkdownFileInput {
    /// Its path in the project folder (`Characters/CH_rex.md`): its name may give the type
    /// (by prefix) and the id.
    pub path: String,
    /// The file's text: YAML frontmatter between `---` lines, then the Markdown body.
    pub content: String,
}

/// An entity as its markdown file.
#[derive(SimpleObject)]
pub struct MarkdownExport {
    /// `<file_prefix><entity_id>.md`.
    pub file_name: String,
    /// Where it sits in a project folder: `<folder>/<file name>`.
    pub path: String,
    /// The file's text.
    pub content: String,
}

/// What a synchronisation of markdown files did.
#[derive(SimpleObject)]
pub struct SyncCompleted {
    /// What synchronised: IMPORT (an import was applied), WATCHER, PUSH.
    pub source: String,
    /// Entities created.
    pub created: i32,
    /// Entities changed.
    pub updated: i32,
    /// Entities deleted.
    pub deleted: i32,
    /// Changes that conflicted and were kept aside.
    pub conflicts: i32,
    /// Files whose entity already had their content.
    pub unchanged: i32,
    /// The event's place in the tenant's event log (resume with `since`).
    pub sequence: ID,
}

/// The templates in force for the viewer's tenant as the request began.
async fn templates(ctx: &Context<'_>) -> AppResult<Arc<TemplateCatalog>> {
    ctx.part::<Arc<TemplateBook>>()?
        .for_tenant(&ctx.platform().pool, ctx.viewer()?.tenant_id)
        .await
}

#[derive(Default)]
pub struct SyncQuery;

#[Object]
impl SyncQuery {
    /// A live entity as its markdown file: its own keys (id, entity_type, name, status, the
    /// dates), its fields in its template's order, then its body.
    async fn export_entity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity's type.")] r#type: EntityType,
        #[graphql(desc = "The entity's id.")] entity_id: String,
    ) -> AppResult<MarkdownExport> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        let file = service::export(
            templates(ctx).await?.as_ref(),
            &mut conn,
            viewer,
            r#type,
            &entity_id,
        )
        .await?;
        Ok(MarkdownExport {
            file_name: file.file_name,
            path: file.path,
            content: file.content,
        })
    }

    /// Checks a markdown file's frontmatter as an import would (YAML errors with line and
    /// column; the type's schema errors key by key), writing nothing.
    async fn validate_frontmatter(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The file's text.")] content: String,
    ) -> AppResult<FrontmatterCheck> {
        ctx.viewer()?;
        let templates = ctx
            .part::<Arc<TemplateBook>>()?
            .for_tenant(&ctx.platform().pool, ctx.viewer()?.tenant_id)
            .await?;
        off_workers(move || Ok(service::validate(&templates, &content))).await
    }

    /// A markdown file in the normal form (formatting it again changes nothing).
    async fn format_markdown(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The file's text.")] content: String,
    ) -> AppResult<FormattedMarkdown> {
        ctx.viewer()?;
        let templates = ctx
            .part::<Arc<TemplateBook>>()?
            .for_tenant(&ctx.platform().pool, ctx.viewer()?.tenant_id)
            .await?;
        off_workers(move || {
            service::format(&templates, &content)
                .map_err(|p| AppError::bad_field("content", p.to_string()))
        })
        .await
    }

    /// The common fixes made on a file of `type` (given as `content`, or the stored entity
    /// `entityId`): its type and id keys, the status' spelling, lists given as text, dates
    /// written another way, missing required keys with the template's defaults. Nothing is
    /// saved: import the fixed content to keep it.
    async fn fix_validation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity's type.")] r#type: EntityType,
        #[graphql(desc = "A stored entity to fix (give this or `content`).")] entity_id: Option<
            String,
        >,
        #[graphql(desc = "A file's text to fix (give this or `entityId`).")] content: Option<
            String,
        >,
    ) -> AppResult<FixedMarkdown> {
        let viewer = ctx.viewer()?;
        // One catalog from the export to the fix, whatever a reload does meanwhile.
        let templates = templates(ctx).await?;
        let content = match (entity_id, content) {
            (Some(entity_id), None) => {
                let mut conn = ctx.conn().await?;
                service::export(&templates, &mut conn, viewer, r#type, &entity_id)
                    .await?
                    .content
            }
            (None, Some(content)) => content,
            _ => {
                return Err(AppError::bad_input("give either `entityId` or `content`"));
            }
        };
        off_workers(move || {
            service::fix(&templates, r#type, &content)
                .map_err(|p| AppError::bad_field("content", p.to_string()))
        })
        .await
    }
}

/// Runs CPU work on a file (YAML, schema checks) on a blocking thread.
async fn off_workers<T: Send + 'static>(
    work: impl FnOnce() -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| AppError::internal(anyhow::anyhow!("a file operation failed: {error}")))?
}

impl std::fmt::Display for service::FileProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        crate::markdown::file::FileError {
            message: self.message.clone(),
            line: self.line,
            column: self.column,
        }
        .fmt(f)
    }
}

#[derive(Default)]
pub struct SyncMutation;

#[Object]
impl SyncMutation {
    /// Imports markdown files (WORLDBUILDER): each read as an entity (its type from
    /// `entity_type` or the file name's prefix; its id from `id`, `<type>_id` or the file
    /// name). PREVIEW reports per file what would be created or updated, the changed keys and
    /// the validation errors, writing nothing; APPLY writes every file in one transaction —
    /// all or none: any file with errors writes nothing — and raises `syncCompleted`.
    async fn import_markdown(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The files (1 to 2,000; a ZIP archive takes more).")] files: Vec<
            MarkdownFileInput,
        >,
        #[graphql(desc = "PREVIEW or APPLY.")] mode: ImportMode,
    ) -> AppResult<ImportReport> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let mut conn = ctx.conn().await?;
        let files = files.into_iter().map(|f| (f.path, f.content)).collect();
        let report = service::import_files(
            ctx.platform(),
            templates(ctx).await?.as_ref(),
            &mut conn,
            viewer,
            mode,
            files,
        )
        .await?;
        forget_entities(ctx, &report);
        Ok(report)
    }

    /// Imports a project folder uploaded as a ZIP archive over the GraphQL multipart request
    /// (WORLDBUILDER): its `.md` files as `importMarkdown` would (READMEs, hidden folders and
    /// other files are skipped and listed); entries with unsafe paths, links, or over the size
    /// limits are reported per file. Up to 20,000 entries.
    async fn import_markdown_archive(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The ZIP archive, as a part of the multipart request.")] archive: Upload,
        #[graphql(desc = "PREVIEW or APPLY.")] mode: ImportMode,
    ) -> AppResult<ImportReport> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let upload = archive.value(ctx).map_err(|_| {
            AppError::bad_field("archive", "the upload is missing from the request")
        })?;
        let mut conn = ctx.conn().await?;
        let report = service::import_archive(
            ctx.platform(),
            templates(ctx).await?.as_ref(),
            &mut conn,
            viewer,
            mode,
            upload.content,
        )
        .await?;
        forget_entities(ctx, &report);
        Ok(report)
    }
}

/// After an applied import, entities this request loaded before are stale.
fn forget_entities(ctx: &Context<'_>, report: &ImportReport) {
    if report.applied {
        Entity::forget_loaded(ctx);
    }
}

#[derive(Default)]
pub struct SyncSubscription;

#[Subscription]
impl SyncSubscription {
    /// The tenant's markdown synchronisations as they complete (applied imports; later the
    /// watched folder and clients' pushes).
    async fn sync_completed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Resume after this `sequence` (the last one seen).")] since: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = SyncCompleted> + use<>> {
        ctx.viewer()?;
        Ok(tenant_events(ctx, since, kinds::SYNC_COMPLETED, |event| {
            let EventPayload::SyncCompleted(summary) = &event.payload else {
                return None;
            };
            Some(SyncCompleted {
                source: summary.source.to_ascii_uppercase(),
                created: summary.created,
                updated: summary.updated,
                deleted: summary.deleted,
                conflicts: summary.conflicts,
                unchanged: summary.unchanged,
                sequence: ID(event.seq.to_string()),
            })
        })
        .await?)
    }
}
