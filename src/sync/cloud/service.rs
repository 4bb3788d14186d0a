//! Cloud sync for desktop clients: a client keeps its own copy of the tenant's entities as
//! markdown files and exchanges changes. `pull` gives every change after a cursor, in order;
//! `push` applies each pushed change whose base version is current and keeps a conflict
//! (base, theirs, ours) for each that is not; `resolve` settles a conflict once. Nothing is
//! ever overwritten silently, and a retried push applies nothing twice.

use chrono::Utc;
use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::store::{self, ConflictRow};
use crate::auth::{Role, Viewer};
use crate::context::Platform;
use crate::entities::service::{
    self as entities, EntityContent, EntityRow, EntityStatus, EntityType, TemplateCatalog, Written,
};
use crate::error::{AppError, AppResult};
use crate::events::{EventPayload, SyncSummary};
use crate::sync::entity_file::{self, project_path};

pub use super::feed::{Change, ChangeAction, MAX_PULL, pull};

/// One change a client pushes.
pub struct PushedChange {
    /// The client's id for the change: a retry with the same id applies nothing twice.
    pub change_id: String,
    pub entity_type: EntityType,
    pub entity_id: String,
    /// The version the client's copy was at; none for an entity the client created.
    pub base_version: Option<i32>,
    /// The entity's file, or none to delete it.
    pub content: Option<String>,
}

/// What a pushed change did.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PushStatus {
    /// Applied: the entity is at `version`.
    Applied,
    /// Its base was not current: kept as a conflict (`conflictId`), nothing changed.
    Conflict,
    /// Refused (see `errors`): nothing changed.
    Rejected,
}

/// The outcome of one pushed change (kept as its receipt).
#[derive(async_graphql::SimpleObject, Clone, Debug, Serialize, Deserialize)]
pub struct PushResult {
    /// The client's id for the change.
    pub change_id: String,
    /// Applied, conflict, or rejected.
    pub status: PushStatus,
    /// The entity's version after an applied change.
    pub version: Option<i32>,
    /// The conflict kept, for a change whose base was not current.
    pub conflict_id: Option<Uuid>,
    /// Why a change was rejected.
    pub errors: Vec<String>,
    /// True when this change was pushed before and this is its first answer again.
    #[serde(default)]
    pub replayed: bool,
}

/// Most changes one push takes.
pub const MAX_PUSH: usize = 500;
const MAX_ID_CHARS: usize = 128;

/// Applies a client's changes (WORLDBUILDER), each in its own transaction with its receipt.
pub async fn push(
    platform: &Platform,
    templates: &TemplateCatalog,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    client_id: &str,
    changes: Vec<PushedChange>,
) -> AppResult<Vec<PushResult>> {
    viewer.require_role(Role::Worldbuilder)?;
    if client_id.is_empty() || client_id.chars().count() > MAX_ID_CHARS {
        return Err(AppError::bad_field(
            "clientId",
            "give a client id of 1 to 128 characters",
        ));
    }
    if changes.is_empty() || changes.len() > MAX_PUSH {
        return Err(AppError::bad_field(
            "changes",
            format!("push 1 to {MAX_PUSH} changes at a time"),
        ));
    }
    if let Some(bad) = changes
        .iter()
        .find(|c| c.change_id.is_empty() || c.change_id.chars().count() > MAX_ID_CHARS)
    {
        return Err(AppError::bad_field(
            "changeId",
            format!(
                "`{}` is not a change id: 1 to 128 characters",
                bad.change_id
            ),
        ));
    }
    let mut results = Vec::with_capacity(changes.len());
    let mut summary = SyncSummary {
        source: "push".into(),
        created: 0,
        updated: 0,
        deleted: 0,
        conflicts: 0,
        unchanged: 0,
    };
    for change in changes {
        if let Some(receipt) =
            store::receipt(conn, viewer.tenant_id, viewer.user_id, &change.change_id).await?
        {
            let mut result: PushResult = serde_json::from_value(receipt)
                .map_err(|error| AppError::internal(anyhow::anyhow!("a push receipt: {error}")))?;
            result.replayed = true;
            results.push(result);
            continue;
        }
        let (result, written) = conn
            .transaction::<_, AppError, _>(async |conn| {
                let (result, written) = apply(templates, conn, viewer, client_id, &change).await?;
                store::record_receipt(
                    conn,
                    viewer.tenant_id,
                    viewer.user_id,
                    &change.change_id,
                    &serde_json::to_value(&result).map_err(AppError::internal)?,
                )
                .await?;
                Ok((result, written))
            })
            .await?;
        match result.status {
            PushStatus::Conflict => summary.conflicts += 1,
            PushStatus::Applied if written.is_none() => summary.unchanged += 1,
            _ => {}
        }
        if let Some((written, action)) = written {
            match action {
                ChangeAction::Created => summary.created += 1,
                ChangeAction::Deleted => summary.deleted += 1,
                _ => summary.updated += 1,
            }
            entities::announce(platform, viewer, written);
        }
        results.push(result);
    }
    if summary.created + summary.updated + summary.deleted + summary.conflicts > 0 {
        platform.events.publish(
            viewer.tenant_id,
            Some(viewer.user_id),
            EventPayload::SyncCompleted(summary),
        );
    }
    Ok(results)
}

fn rejected(change_id: &str, errors: Vec<String>) -> PushResult {
    PushResult {
        change_id: change_id.to_owned(),
        status: PushStatus::Rejected,
        version: None,
        conflict_id: None,
        errors,
        replayed: false,
    }
}

fn applied(change_id: &str, version: Option<i32>) -> PushResult {
    PushResult {
        change_id: change_id.to_owned(),
        status: PushStatus::Applied,
        version,
        conflict_id: None,
        errors: Vec::new(),
        replayed: false,
    }
}

/// A pushed file read as the entity the change names.
fn read_content(
    entity_type: EntityType,
    entity_id: &str,
    text: &str,
) -> Result<EntityContent, Vec<String>> {
    let file = entity_file::read(&project_path(entity_type, entity_id), text)
        .map_err(|problems| problems.into_iter().map(|p| p.message).collect::<Vec<_>>())?;
    if file.entity_type != entity_type || file.content.entity_id != entity_id {
        return Err(vec![format!(
            "the file is {}/{}, not {}/{entity_id}",
            file.entity_type.slug(),
            file.content.entity_id,
            entity_type.slug()
        )]);
    }
    Ok(file.content)
}

type Applied = (PushResult, Option<(Written, ChangeAction)>);

async fn apply(
    templates: &TemplateCatalog,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    client_id: &str,
    change: &PushedChange,
) -> AppResult<Applied> {
    let key = (change.entity_type, change.entity_id.clone());
    let current = entities::find_by_keys(conn, viewer.tenant_id, &[key], true)
        .await?
        .pop();
    let live = current.as_ref().filter(|row| !row.is_deleted());
    let ours = match &change.content {
        Some(text) => match read_content(change.entity_type, &change.entity_id, text) {
            Ok(content) => Some(content),
            Err(errors) => return Ok((rejected(&change.change_id, errors), None)),
        },
        None => None,
    };
    let base_current = match (change.base_version, live) {
        (None, None) => current.is_none() || ours.is_none(),
        (Some(base), Some(row)) => row.version == base,
        // Deleting what is already gone (recycled or purged) is done.
        (Some(_), None) => ours.is_none(),
        (None, Some(_)) => false,
    };
    // The same content as is here is no conflict, whatever its base: both sides agree (a
    // client's stale push of what another already wrote; Drive echoing a write-back).
    let agrees = match (&ours, live) {
        (Some(ours), Some(row)) => entities::checked_content(ours.clone())
            .is_ok_and(|ours| entities::content_of(row) == ours),
        _ => false,
    };
    if !base_current && !agrees {
        let id = keep_conflict(templates, conn, viewer, client_id, change, live).await?;
        return Ok((
            PushResult {
                change_id: change.change_id.clone(),
                status: PushStatus::Conflict,
                version: live.map(|row| row.version),
                conflict_id: Some(id),
                errors: Vec::new(),
                replayed: false,
            },
            None,
        ));
    }
    write(
        templates,
        conn,
        viewer,
        change.entity_type,
        ours,
        live.cloned(),
    )
    .await
    .map(|(version, written)| (applied(&change.change_id, version), written))
}

/// Writes `ours` over `live` (creating, replacing, or — for none — deleting it).
async fn write(
    templates: &TemplateCatalog,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    entity_type: EntityType,
    ours: Option<EntityContent>,
    live: Option<EntityRow>,
) -> AppResult<(Option<i32>, Option<(Written, ChangeAction)>)> {
    match (ours, live) {
        (Some(content), live) => {
            let created = live.is_none();
            let replaced =
                entities::replace(conn, templates, viewer, entity_type, content, live).await?;
            let version = replaced.row().version;
            let action = if created {
                ChangeAction::Created
            } else {
                ChangeAction::Updated
            };
            Ok((Some(version), replaced.written().map(|w| (w, action))))
        }
        (None, Some(row)) => {
            let written = entities::recycle(conn, viewer, &row).await?;
            Ok((None, Some((written, ChangeAction::Deleted))))
        }
        (None, None) => Ok((None, None)),
    }
}

fn render(templates: &TemplateCatalog, row: &EntityRow) -> String {
    let entity_type = row.kind();
    entity_file::render(
        templates.type_template(entity_type),
        entity_type,
        &entities::content_of(row),
        row.created_at,
        row.updated_at,
    )
}

async fn keep_conflict(
    templates: &TemplateCatalog,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    client_id: &str,
    change: &PushedChange,
    live: Option<&EntityRow>,
) -> AppResult<Uuid> {
    let base_content = match (change.base_version, live) {
        (Some(version), Some(row)) => {
            entities::revision(conn, row, version)
                .await?
                .map(|revision| {
                    let entity_type = row.kind();
                    let content = EntityContent {
                        entity_id: revision.entity_id,
                        name: revision.name,
                        status: EntityStatus::from_slug(&revision.status).unwrap_or_default(),
                        fields: revision.fields,
                        markdown_body: revision.markdown_body,
                    };
                    entity_file::render(
                        templates.type_template(entity_type),
                        entity_type,
                        &content,
                        row.created_at,
                        revision.created_at,
                    )
                })
        }
        _ => None,
    };
    let id = Uuid::now_v7();
    store::insert_conflict(
        conn,
        &ConflictRow {
            id,
            tenant_id: viewer.tenant_id,
            entity_type: change.entity_type.slug().to_owned(),
            entity_id: change.entity_id.clone(),
            base_version: change.base_version,
            base_content,
            theirs_version: live.map(|row| row.version),
            theirs_content: live.map(|row| render(templates, row)),
            ours_content: change.content.clone(),
            pushed_by: Some(viewer.user_id),
            client_id: client_id.to_owned(),
            created_at: Utc::now(),
            resolved_at: None,
            resolved_by: None,
            resolution: None,
        },
    )
    .await?;
    Ok(id)
}

/// Which side a conflict's resolution keeps.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ConflictPick {
    /// The pushed change (the client's side).
    Ours,
    /// What the server had (nothing is written).
    Theirs,
    /// A merged file given with the resolution.
    Merged,
}

impl ConflictPick {
    fn as_str(self) -> &'static str {
        match self {
            Self::Ours => "ours",
            Self::Theirs => "theirs",
            Self::Merged => "merged",
        }
    }
}

/// Settles an open conflict once (WORLDBUILDER): OURS writes the pushed change over whatever
/// the entity is now, MERGED writes `content`, THEIRS keeps the entity as it is.
pub async fn resolve(
    platform: &Platform,
    templates: &TemplateCatalog,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: Uuid,
    pick: ConflictPick,
    merged: Option<String>,
) -> AppResult<ConflictRow> {
    viewer.require_role(Role::Worldbuilder)?;
    if (pick == ConflictPick::Merged) != merged.is_some() {
        return Err(AppError::bad_field(
            "content",
            "give `content` with MERGED, and only with MERGED",
        ));
    }
    let (row, written) = conn
        .transaction::<_, AppError, _>(async |conn| {
            let conflict = store::lock_conflict(conn, viewer.tenant_id, id)
                .await?
                .ok_or_else(|| AppError::not_found("conflict not found"))?;
            if conflict.resolved_at.is_some() {
                return Err(AppError::conflict(format!(
                    "the conflict was already resolved ({})",
                    conflict.resolution.as_deref().unwrap_or("?")
                )));
            }
            let entity_type = EntityType::from_slug(&conflict.entity_type)
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("a conflict's type")))?;
            let text = match pick {
                ConflictPick::Theirs => None,
                ConflictPick::Ours => Some(conflict.ours_content.clone()),
                ConflictPick::Merged => Some(merged.clone()),
            };
            let mut written = None;
            if let Some(text) = text {
                let ours = match text {
                    Some(text) => Some(
                        read_content(entity_type, &conflict.entity_id, &text)
                            .map_err(|errors| AppError::bad_field("content", errors.join("; ")))?,
                    ),
                    None => None,
                };
                let key = (entity_type, conflict.entity_id.clone());
                let current = entities::find_by_keys(conn, viewer.tenant_id, &[key], true)
                    .await?
                    .pop();
                if let Some(row) = &current
                    && row.is_deleted()
                    && ours.is_some()
                {
                    return Err(AppError::conflict(format!(
                        "{}/{} is in the recycle bin: restore it first",
                        row.entity_type, row.entity_id
                    )));
                }
                let live = current.filter(|row| !row.is_deleted());
                written = write(templates, conn, viewer, entity_type, ours, live)
                    .await?
                    .1
                    .map(|(written, _)| written);
            }
            let row =
                store::mark_resolved(conn, viewer.tenant_id, id, viewer.user_id, pick.as_str())
                    .await?;
            Ok((row, written))
        })
        .await?;
    if let Some(written) = written {
        entities::announce(platform, viewer, written);
    }
    Ok(row)
}

/// The tenant's conflicts (open ones unless `include_resolved`).
pub use super::store::conflicts;
