//! GraphQL of cloud sync.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::service::{self, Change, ChangeAction, ConflictPick, PushResult, PushedChange};
use super::store::{ConflictRow, FeedKey};
use crate::auth::Role;
use crate::context::ContextExt;
use crate::db::pagination::{PageRequest, page_type};
use crate::entities::api::Entity;
use crate::entities::service::{EntityType, TemplateBook};
use crate::error::{AppError, AppResult};

/// One change of the tenant's entities, in the order they happened.
#[derive(SimpleObject)]
pub struct SyncChange {
    /// The entity's row id: stable across renames (the key a client should keep).
    pub row_id: ID,
    /// The entity's type.
    pub entity_type: EntityType,
    /// The entity's id after the change.
    pub entity_id: String,
    /// For RENAMED: the id it had before.
    pub previous_entity_id: Option<String>,
    /// What happened.
    pub action: ChangeAction,
    /// The entity's version after the change (none for PURGED).
    pub version: Option<i32>,
    /// The entity's markdown file after the change; null for DELETED and PURGED.
    pub content: Option<String>,
    /// When it happened.
    pub at: DateTime<Utc>,
}

/// A pull: the changes after the cursor given, and the cursor to pull from next.
#[derive(SimpleObject)]
pub struct SyncPull {
    /// The changes, oldest first.
    pub changes: Vec<SyncChange>,
    /// Give this as `since` next time (the same as given when there was nothing new).
    pub cursor: String,
    /// Whether more changes are waiting (pull again at once).
    pub has_more: bool,
}

/// One change a client pushes: the entity's file, or `deleted`.
#[derive(InputObject)]
pub struct PushChangeInput {
    /// The client's id for this change (1 to 128 characters): a push retried with the same id
    /// applies nothing twice and answers as the first time did.
    pub change_id: String,
    /// The entity's type.
    pub r#type: EntityType,
    /// The entity's id.
    pub entity_id: String,
    /// The version the client's copy was at (from a pull or a previous push); omit for an
    /// entity the client created.
    pub base_version: Option<i32>,
    /// The entity's markdown file (give this, or `deleted: true`).
    pub content: Option<String>,
    /// The client deleted the entity.
    #[graphql(default)]
    pub deleted: bool,
}

/// A pushed change whose base was not current: the three versions, kept until someone picks.
#[derive(SimpleObject)]
pub struct SyncConflict {
    /// The conflict's id.
    pub id: ID,
    /// The entity's type.
    pub entity_type: Option<EntityType>,
    /// The entity's id.
    pub entity_id: String,
    /// The version the push was based on.
    pub base_version: Option<i32>,
    /// The entity's file at that version (null when unknown or the push created it).
    pub base_content: Option<String>,
    /// The server's version when the push came.
    pub theirs_version: Option<i32>,
    /// The server's file then (null when the entity was gone).
    pub theirs_content: Option<String>,
    /// The pushed file (null when the client deleted the entity).
    pub ours_content: Option<String>,
    /// The client that pushed.
    pub client_id: String,
    /// When the push came.
    pub created_at: DateTime<Utc>,
    /// When it was resolved (null while open).
    pub resolved_at: Option<DateTime<Utc>>,
    /// OURS, THEIRS or MERGED once resolved.
    pub resolution: Option<String>,
}

page_type! {
    /// A page of sync conflicts.
    pub struct SyncConflictPage {
        total,
        conflicts: Vec<SyncConflict>,
    }
}

fn conflict_object(row: ConflictRow) -> SyncConflict {
    SyncConflict {
        id: ID(row.id.to_string()),
        entity_type: EntityType::from_slug(&row.entity_type),
        entity_id: row.entity_id,
        base_version: row.base_version,
        base_content: row.base_content,
        theirs_version: row.theirs_version,
        theirs_content: row.theirs_content,
        ours_content: row.ours_content,
        client_id: row.client_id,
        created_at: row.created_at,
        resolved_at: row.resolved_at,
        resolution: row.resolution.map(|r| r.to_ascii_uppercase()),
    }
}

fn sync_change(change: Change) -> SyncChange {
    SyncChange {
        row_id: ID(change.row_id.to_string()),
        entity_type: change.entity_type,
        entity_id: change.entity_id,
        previous_entity_id: change.previous_entity_id,
        action: change.action,
        version: change.version,
        content: change.content,
        at: change.at,
    }
}

const FEED: &str = "syncChanges";

#[derive(Default)]
pub struct CloudSyncQuery;

#[Object]
impl CloudSyncQuery {
    /// Every change to the tenant's entities after `since` (from the beginning without it),
    /// oldest first: creations, edits, deletions, restores, renames and purges, each once.
    /// Changes of writes still in progress wait until they have committed, so a cursor never
    /// has a change appear behind it.
    async fn pull_changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The `cursor` of the previous pull.")] since: Option<String>,
        #[graphql(desc = "At most this many changes (1 to 500).", default = 200)] limit: i32,
    ) -> AppResult<SyncPull> {
        let viewer = ctx.viewer()?;
        let cursors = ctx.cursors(FEED)?;
        let after: Option<FeedKey> = since
            .as_deref()
            .map(|cursor| cursors.open("since", cursor))
            .transpose()?;
        let mut conn = ctx.conn().await?;
        let templates = ctx
            .part::<Arc<TemplateBook>>()?
            .for_tenant(&ctx.platform().pool, ctx.viewer()?.tenant_id)
            .await?;
        let (changes, has_more) =
            service::pull(&templates, &mut conn, viewer, after, i64::from(limit)).await?;
        let cursor = match changes.last() {
            Some(last) => cursors.seal(&last.key),
            None => match since {
                Some(since) => since,
                None => cursors.seal(&(0i64, Uuid::nil())),
            },
        };
        Ok(SyncPull {
            changes: changes.into_iter().map(sync_change).collect(),
            cursor,
            has_more,
        })
    }

    /// The tenant's sync conflicts, oldest first (the open ones unless `includeResolved`).
    async fn sync_conflicts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Also the resolved ones (default false).")] include_resolved: Option<bool>,
        #[graphql(desc = "Rows to skip (0 to 10,000).")] offset: Option<i32>,
        #[graphql(desc = "Rows to return (1 to 200).")] limit: Option<i32>,
    ) -> AppResult<SyncConflictPage> {
        let viewer = ctx.viewer()?;
        let page = PageRequest::new(offset, limit)?;
        let mut conn = ctx.conn().await?;
        let (total, rows) = service::conflicts(
            &mut conn,
            viewer.tenant_id,
            include_resolved.unwrap_or(false),
            page,
        )
        .await?;
        Ok(SyncConflictPage::new(
            total,
            page,
            rows.into_iter().map(conflict_object).collect(),
        ))
    }
}

#[derive(Default)]
pub struct CloudSyncMutation;

#[Object]
impl CloudSyncMutation {
    /// A desktop client's changes (WORLDBUILDER): each applied when its `baseVersion` is the
    /// entity's version (or it creates a new entity), else kept as a conflict with the base,
    /// the server's and the pushed version — nothing is overwritten. Each change is its own
    /// transaction; a change id seen before answers as it did then.
    async fn push_changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The client's id (1 to 128 characters), kept with its conflicts.")]
        client_id: String,
        #[graphql(desc = "The changes (1 to 500), applied in order.")] changes: Vec<
            PushChangeInput,
        >,
    ) -> AppResult<Vec<PushResult>> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let mut pushed = Vec::with_capacity(changes.len());
        for change in changes {
            if change.deleted == change.content.is_some() {
                return Err(AppError::bad_field(
                    "changes",
                    format!(
                        "change `{}`: give `content` or `deleted: true`, not both or neither",
                        change.change_id
                    ),
                ));
            }
            pushed.push(PushedChange {
                change_id: change.change_id,
                entity_type: change.r#type,
                entity_id: change.entity_id,
                base_version: change.base_version,
                content: change.content,
            });
        }
        let mut conn = ctx.conn().await?;
        let results = service::push(
            ctx.platform(),
            ctx.part::<Arc<TemplateBook>>()?
                .for_tenant(&ctx.platform().pool, viewer.tenant_id)
                .await?
                .as_ref(),
            &mut conn,
            viewer,
            &client_id,
            pushed,
        )
        .await?;
        Entity::forget_loaded(ctx);
        Ok(results)
    }

    /// Settles an open conflict once (WORLDBUILDER): OURS writes the pushed version over the
    /// entity as it is now, MERGED writes `content`, THEIRS keeps the server's. A resolved
    /// conflict cannot be resolved again (CONFLICT).
    async fn resolve_conflict(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The conflict.")] id: ID,
        #[graphql(desc = "Which version wins.")] pick: ConflictPick,
        #[graphql(desc = "The merged file, with MERGED.")] content: Option<String>,
    ) -> AppResult<SyncConflict> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let id = Uuid::parse_str(&id).map_err(|_| AppError::not_found("conflict not found"))?;
        let mut conn = ctx.conn().await?;
        let row = service::resolve(
            ctx.platform(),
            ctx.part::<Arc<TemplateBook>>()?
                .for_tenant(&ctx.platform().pool, viewer.tenant_id)
                .await?
                .as_ref(),
            &mut conn,
            viewer,
            id,
            pick,
            content,
        )
        .await?;
        Entity::forget_loaded(ctx);
        Ok(conflict_object(row))
    }
}
