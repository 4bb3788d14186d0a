//! GraphQL of the admin tools.

use std::sync::Arc;

use async_graphql::{Context, Json, Object, SimpleObject};
use serde_json::Value;

use super::backups::{self, Backups};
use super::{query, statistics};
use crate::auth::Role;
use crate::context::ContextExt;
use crate::entities::api::EntityType;
use crate::entities::service as entities;
use crate::error::AppResult;

/// One table of the database in numbers.
#[derive(SimpleObject)]
pub struct TableStatistics {
    /// The table's name.
    pub name: String,
    /// Its live rows, as PostgreSQL's statistics count them (an estimate between analyses).
    pub rows: i64,
    /// Its size on disk with its indexes and TOAST, in bytes.
    pub total_bytes: i64,
    /// Its indexes' size, in bytes.
    pub index_bytes: i64,
}

/// The database in numbers (every tenant's rows together).
#[derive(SimpleObject)]
pub struct DatabaseStatistics {
    /// The database's size on disk, in bytes.
    pub database_bytes: i64,
    /// The share of block reads served from PostgreSQL's buffers (0 to 1) since its statistics
    /// were reset; null before any read.
    pub cache_hit_ratio: Option<f64>,
    /// Connections open to the database now.
    pub connections: i64,
    /// PostgreSQL's version.
    pub server_version: String,
    /// Its tables, largest first.
    pub tables: Vec<TableStatistics>,
}

/// How many entities of one type the tenant holds.
#[derive(SimpleObject)]
pub struct EntityCount {
    /// The type.
    pub entity_type: EntityType,
    /// Live entities.
    pub live: i64,
    /// Entities in the recycle bin.
    pub recycled: i64,
}

/// What a read-only query answered.
#[derive(SimpleObject)]
pub struct ReadOnlyQueryResult {
    /// The columns, in order (empty when no row came back).
    pub columns: Vec<String>,
    /// Each row's values in the columns' order, as JSON (at most 500 rows).
    pub rows: Vec<Json<Vec<Value>>>,
    /// How many rows came back.
    pub row_count: i32,
    /// True when there were more rows (or more than 1 MiB) than were kept.
    pub truncated: bool,
    /// How long the query took, in milliseconds.
    pub elapsed_ms: f64,
}

/// Where a backup stands.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum BackupState {
    /// `pg_dump` is writing it.
    Running,
    /// Written whole; restorable with `loregraph backup restore <name>`.
    Complete,
    /// It failed (see `error`); nothing of it was kept.
    Failed,
}

/// A backup of the whole database (every tenant's), in PostgreSQL's custom format.
#[derive(SimpleObject)]
pub struct Backup {
    /// Its file name in the backup folder, e.g. `loregraph-20261207T140509Z.dump`.
    pub name: String,
    /// Where it stands.
    pub state: BackupState,
    /// When it began.
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// Its size in bytes, once complete.
    pub bytes: Option<f64>,
    /// Why it failed, when it did.
    pub error: Option<String>,
}

impl From<backups::Backup> for Backup {
    fn from(backup: backups::Backup) -> Self {
        Self {
            name: backup.name,
            state: match backup.state {
                backups::BackupState::Running => BackupState::Running,
                backups::BackupState::Complete => BackupState::Complete,
                backups::BackupState::Failed => BackupState::Failed,
            },
            started_at: backup.started_at,
            bytes: backup.bytes.map(|bytes| bytes as f64),
            error: backup.error,
        }
    }
}

#[derive(Default)]
pub struct AdminQuery;

#[Object]
impl AdminQuery {
    /// The database in numbers: its size, each table's rows and bytes, the cache hit ratio,
    /// its connections (SUPERUSER: they cover every tenant).
    async fn database_statistics(&self, ctx: &Context<'_>) -> AppResult<DatabaseStatistics> {
        let viewer = ctx.viewer_with(Role::Superuser)?;
        let mut conn = ctx.conn().await?;
        let (totals, tables) = statistics::database(&mut conn, viewer).await?;
        Ok(DatabaseStatistics {
            database_bytes: totals.database_bytes,
            cache_hit_ratio: totals.cache_hit_ratio,
            connections: totals.connections,
            server_version: totals.server_version,
            tables: tables
                .into_iter()
                .map(|table| TableStatistics {
                    name: table.name,
                    rows: table.rows,
                    total_bytes: table.total_bytes,
                    index_bytes: table.index_bytes,
                })
                .collect(),
        })
    }

    /// The database's backups, newest first: the one under way, the last that failed, and the
    /// complete ones kept in the backup folder (SUPERUSER).
    async fn backups(&self, ctx: &Context<'_>) -> AppResult<Vec<Backup>> {
        let viewer = ctx.viewer_with(Role::Superuser)?;
        let backups = ctx.part::<Arc<Backups>>()?.list(viewer).await?;
        Ok(backups.into_iter().map(Backup::from).collect())
    }

    /// Your tenant's entities counted by type (every type, zeros included).
    async fn entity_counts(&self, ctx: &Context<'_>) -> AppResult<Vec<EntityCount>> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        let counts = entities::counts_by_type(&mut conn, viewer.tenant_id).await?;
        Ok(EntityType::ALL
            .into_iter()
            .map(|entity_type| {
                let (live, recycled) = counts
                    .iter()
                    .find(|(slug, _, _)| slug == entity_type.slug())
                    .map_or((0, 0), |(_, live, recycled)| (*live, *recycled));
                EntityCount {
                    entity_type,
                    live,
                    recycled,
                }
            })
            .collect())
    }
}

#[derive(Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    /// Begins a backup of the whole database with `pg_dump` into the backup folder
    /// (SUPERUSER); it runs in the background: `backups` shows it running, then complete or
    /// failed. One at a time. The oldest beyond the kept number are removed after it.
    async fn create_backup(&self, ctx: &Context<'_>) -> AppResult<Backup> {
        let viewer = ctx.viewer_with(Role::Superuser)?;
        Ok(ctx.part::<Arc<Backups>>()?.start(viewer).await?.into())
    }

    /// Removes a complete backup from the backup folder (SUPERUSER).
    async fn delete_backup(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The backup's name, as `backups` lists it.")] name: String,
    ) -> AppResult<bool> {
        let viewer = ctx.viewer_with(Role::Superuser)?;
        ctx.part::<Arc<Backups>>()?.delete(viewer, &name).await?;
        Ok(true)
    }

    /// Runs one read-only SELECT (or WITH, VALUES, TABLE) on the database (SUPERUSER only):
    /// in a READ ONLY transaction, as a role that reads no secrets, for at most 5 seconds, at
    /// most 500 rows. A mutation so that no link or cross-site page can run it.
    async fn run_read_only_query(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The query: one statement, up to 20,000 characters.")] sql: String,
    ) -> AppResult<ReadOnlyQueryResult> {
        let viewer = ctx.viewer_with(Role::Superuser)?;
        let mut conn = ctx.conn().await?;
        let answer = query::run(&mut conn, viewer, &sql).await?;
        Ok(ReadOnlyQueryResult {
            row_count: i32::try_from(answer.rows.len()).unwrap_or(i32::MAX),
            columns: answer.columns,
            rows: answer.rows.into_iter().map(Json).collect(),
            truncated: answer.truncated,
            elapsed_ms: answer.elapsed.as_secs_f64() * 1000.0,
        })
    }
}
