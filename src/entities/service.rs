//! What other domains may ask of entities: the one way in from outside it (ARCHITECTURE.md).

/// Removes revisions past their retention, keeping each entity's newest (the retention
/// sweeper).
pub use super::retention::prune_revisions;

/// The sixteen entity types, which other domains name when they point at an entity.
pub use super::types::EntityType;

/// Finding and locking an entity that another domain attaches something to (an asset, a note,
/// a roll, a world's universe), and the error that says it is not there.
pub use super::store::{Bin, find_live, lock, not_found};

/// The row id of the live entity of `entity_type` called `entity_id` in the tenant; NOT_FOUND
/// otherwise (an entity another domain attaches something to, named by type and id).
pub async fn live_row_id(
    conn: &mut diesel_async::AsyncPgConnection,
    tenant_id: uuid::Uuid,
    entity_type: EntityType,
    entity_id: &str,
) -> crate::error::AppResult<uuid::Uuid> {
    find_live(conn, tenant_id, entity_type, entity_id)
        .await?
        .map(|row| row.id)
        .ok_or_else(|| not_found(entity_type, entity_id, Bin::Live))
}
