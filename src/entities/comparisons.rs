//! Comparing an entity's versions, or two live entities, within a tenant: loading both sides,
//! then diffing them off the async workers (a diff is CPU work with its own deadline).

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::history::{self, Comparison, Snapshot};
use super::model::{EntityRow, RevisionRow};
use super::store::{self, Bin};
use super::types::EntityType;
use crate::error::{AppError, AppResult};

/// What changed in the tenant's entity (live or recycled) from version `from` to `to`.
pub async fn versions(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    entity_type: EntityType,
    entity_id: &str,
    from: i32,
    to: i32,
) -> AppResult<Comparison> {
    let row = store::find_any(conn, tenant_id, entity_type, entity_id)
        .await?
        .ok_or_else(|| store::not_found(entity_type, entity_id, Bin::Live))?;
    let version = async |conn: &mut AsyncPgConnection, field: &'static str, number: i32| {
        store::revision(conn, &row, number).await?.ok_or_else(|| {
            AppError::bad_field(
                field,
                format!(
                    "{}/{entity_id} has no version {number} (it is at version {})",
                    entity_type.slug(),
                    row.version
                ),
            )
        })
    };
    let old = version(conn, "from", from).await?;
    let new = version(conn, "to", to).await?;
    off_the_runtime(move || {
        history::compare(
            &revision_snapshot(&old),
            &revision_snapshot(&new),
            &format!("version {from}"),
            &format!("version {to}"),
        )
    })
    .await
}

/// What differs between two of the tenant's live entities (of the same or different types).
pub async fn entities(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    left: (EntityType, &str),
    right: (EntityType, &str),
) -> AppResult<Comparison> {
    let mut find = async |(entity_type, entity_id): (EntityType, &str)| {
        store::find_live(conn, tenant_id, entity_type, entity_id)
            .await?
            .ok_or_else(|| store::not_found(entity_type, entity_id, Bin::Live))
    };
    let old = find(left).await?;
    let new = find(right).await?;
    let label = |row: &EntityRow| format!("{}/{}", row.entity_type, row.entity_id);
    off_the_runtime(move || {
        history::compare(
            &entity_snapshot(&old),
            &entity_snapshot(&new),
            &label(&old),
            &label(&new),
        )
    })
    .await
}

/// Diffs run on the blocking pool so they never stall other requests.
async fn off_the_runtime(
    compare: impl FnOnce() -> Comparison + Send + 'static,
) -> AppResult<Comparison> {
    tokio::task::spawn_blocking(compare)
        .await
        .map_err(AppError::internal)
}

/// The parts a comparison looks at, of an entity's row or of one of its revisions (which keep
/// the same columns).
macro_rules! snapshot_of {
    ($row:expr) => {
        Snapshot {
            entity_id: &$row.entity_id,
            name: &$row.name,
            status: &$row.status,
            fields: &$row.fields,
            markdown_body: &$row.markdown_body,
        }
    };
}

fn revision_snapshot(row: &RevisionRow) -> Snapshot<'_> {
    snapshot_of!(row)
}

fn entity_snapshot(row: &EntityRow) -> Snapshot<'_> {
    snapshot_of!(row)
}
