//! GraphQL of project folders.

use std::sync::Arc;

use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::service::{self, WatchState};
use super::sync::FolderSyncResult;
use super::watcher::Folders;
use crate::auth::Role;
use crate::context::ContextExt;
use crate::entities::service::EntityType;
use crate::error::AppResult;
use crate::sync::report::FileReport;

/// The tenant's project folder and its watcher.
#[derive(SimpleObject)]
pub struct ProjectFolderStatus {
    /// Whether a folder is bound.
    pub bound: bool,
    /// The folder, relative to the server's projects root.
    pub path: Option<String>,
    /// When it was bound.
    pub bound_at: Option<DateTime<Utc>>,
    /// Whether this node is watching it.
    pub running: bool,
    /// What the watcher is doing (null when this node does not watch it).
    pub state: Option<WatchState>,
    /// What went wrong last, if anything (the folder missing, a failed sync).
    pub message: Option<String>,
    /// Changed files gathered and not yet synchronised.
    pub pending_changes: i32,
    /// The last synchronisation.
    pub last_result: Option<FolderSyncResult>,
}

/// What importing the folder would change.
#[derive(SimpleObject)]
pub struct FolderChanges {
    /// The files that would create or change an entity, or cannot be imported.
    pub files: Vec<FileReport>,
    /// Files the folder held that are gone: their entities would go to the recycle bin.
    pub deleted: Vec<String>,
}

fn folders<'a>(ctx: &'a Context<'_>) -> AppResult<&'a Arc<Folders>> {
    ctx.part::<Arc<Folders>>()
}

#[derive(Default)]
pub struct FolderQuery;

#[Object]
impl FolderQuery {
    /// The tenant's project folder: where it is, and what its watcher is doing.
    async fn sync_status(&self, ctx: &Context<'_>) -> AppResult<ProjectFolderStatus> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        let status = service::status(folders(ctx)?, &mut conn, viewer).await?;
        let watch = status.watch;
        Ok(ProjectFolderStatus {
            bound: status.folder.is_some(),
            path: status.folder.as_ref().map(|f| f.path.clone()),
            bound_at: status.folder.as_ref().map(|f| f.bound_at),
            running: watch.is_some(),
            state: watch.as_ref().map(|w| w.state),
            message: watch.as_ref().and_then(|w| w.message.clone()),
            pending_changes: watch.as_ref().map_or(0, |w| w.pending),
            last_result: watch.and_then(|w| w.last),
        })
    }

    /// What importing the folder would change, writing nothing (WORLDBUILDER).
    async fn check_changes(&self, ctx: &Context<'_>) -> AppResult<FolderChanges> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let mut conn = ctx.conn().await?;
        let (report, deleted) = service::check(folders(ctx)?, &mut conn, viewer).await?;
        Ok(FolderChanges {
            files: report.files,
            deleted,
        })
    }
}

#[derive(Default)]
pub struct FolderMutation;

#[Object]
impl FolderMutation {
    /// Binds the tenant to a folder under the server's projects root (ADMIN): its files are
    /// imported, then kept in sync both ways.
    async fn bind_project_folder(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The folder, relative to the projects root.")] path: String,
    ) -> AppResult<ProjectFolderStatus> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let mut conn = ctx.conn().await?;
        let row = service::bind(folders(ctx)?, &mut conn, viewer, &path).await?;
        Ok(ProjectFolderStatus {
            bound: true,
            path: Some(row.path),
            bound_at: Some(row.bound_at),
            running: true,
            state: Some(WatchState::Starting),
            message: None,
            pending_changes: 0,
            last_result: None,
        })
    }

    /// Stops keeping the project folder in sync (ADMIN); files and entities stay.
    async fn unbind_project_folder(&self, ctx: &Context<'_>) -> AppResult<bool> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let mut conn = ctx.conn().await?;
        service::unbind(folders(ctx)?, &mut conn, viewer).await
    }

    /// Imports what changed in the folder now (WORLDBUILDER), as the watcher would.
    async fn import_changes(&self, ctx: &Context<'_>) -> AppResult<FolderSyncResult> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let mut conn = ctx.conn().await?;
        service::import_changes(folders(ctx)?, &mut conn, viewer, false).await
    }

    /// Re-reads every file of the folder (WORLDBUILDER): a full re-sync.
    async fn refresh_all(&self, ctx: &Context<'_>) -> AppResult<FolderSyncResult> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let mut conn = ctx.conn().await?;
        service::import_changes(folders(ctx)?, &mut conn, viewer, true).await
    }

    /// Writes one entity to its file in the folder now (WORLDBUILDER); the file's path.
    async fn save_to_markdown(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity's type.")] r#type: EntityType,
        #[graphql(desc = "The entity's id.")] entity_id: String,
    ) -> AppResult<String> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let mut conn = ctx.conn().await?;
        service::save_entity(folders(ctx)?, &mut conn, viewer, r#type, &entity_id).await
    }

    /// Reads one entity from its file in the folder now (WORLDBUILDER).
    async fn load_from_markdown(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity's type.")] r#type: EntityType,
        #[graphql(desc = "The entity's id.")] entity_id: String,
    ) -> AppResult<FolderSyncResult> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let mut conn = ctx.conn().await?;
        let result =
            service::load_entity(folders(ctx)?, &mut conn, viewer, r#type, &entity_id).await?;
        crate::entities::api::Entity::forget_loaded(ctx);
        Ok(result)
    }
}
