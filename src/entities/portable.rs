//! What a whole-tenant export reads and its import writes: the live entities a page at a
//! time, the relationships drawn by hand between them (references come from the fields and
//! are rebuilt by every write), and drawing one inside the import's transaction.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use uuid::Uuid;

use super::links;
use super::model::EntityRow;
use super::writes::ensure_may;
use crate::auth::Viewer;
use crate::db::schema::entities;
use crate::error::AppResult;
use crate::teams::service::Permission;

/// The tenant's live entities after the row `after` (in row-id order), `limit` at most.
pub async fn live_page(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> AppResult<Vec<EntityRow>> {
    let mut query = entities::table
        .filter(entities::tenant_id.eq(tenant_id))
        .filter(entities::deleted_at.is_null())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(entities::id.gt(after));
    }
    Ok(query
        .order(entities::id)
        .limit(limit)
        .select(EntityRow::as_select())
        .load(conn)
        .await?)
}

/// A relationship drawn by hand, by its ends' types and ids.
#[derive(QueryableByName, Clone, Debug)]
pub struct DrawnRelationship {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub source_type: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub source_id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub target_type: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub target_id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub kind: String,
    #[diesel(sql_type = diesel::sql_types::Jsonb)]
    pub attributes: Value,
}

/// Every relationship drawn between two live entities of the tenant, oldest first.
pub async fn drawn_relationships(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
) -> AppResult<Vec<DrawnRelationship>> {
    Ok(diesel::sql_query(
        "SELECT s.entity_type AS source_type, s.entity_id AS source_id, \
                t.entity_type AS target_type, t.entity_id AS target_id, r.kind, r.attributes \
         FROM entity_relationships r \
         JOIN entities s ON s.tenant_id = r.tenant_id AND s.id = r.source_id \
         JOIN entities t ON t.tenant_id = r.tenant_id AND t.id = r.target_id \
         WHERE r.tenant_id = $1 AND s.deleted_at IS NULL AND t.deleted_at IS NULL \
         ORDER BY r.created_at, r.id",
    )
    .bind::<diesel::sql_types::Uuid, _>(tenant_id)
    .load(conn)
    .await?)
}

/// Draws a relationship between two rows of the viewer's tenant in the caller's transaction,
/// checked as `createRelationship` checks one (announced by the caller after it commits,
/// with the entities it wrote).
pub async fn relate(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    source: &EntityRow,
    target: &EntityRow,
    kind: &str,
    attributes: &Value,
) -> AppResult<()> {
    let (kind, attributes) =
        super::validation::validate_relationship(kind, Some(attributes.clone()))?;
    let source_type = super::types::EntityType::from_slug(&source.entity_type);
    if let Some(source_type) = source_type {
        ensure_may(conn, viewer, Permission::EditEntities, source_type).await?;
    }
    links::insert_relationship(
        conn,
        viewer.tenant_id,
        source,
        target,
        &kind,
        &attributes,
        viewer.user_id,
    )
    .await?;
    Ok(())
}
