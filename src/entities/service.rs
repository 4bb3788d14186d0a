//! What other domains may ask of entities: the one way in from outside it (ARCHITECTURE.md).

/// Removes revisions past their retention, keeping each entity's newest, and recycled entities
/// past their tenant's recycle-bin retention (the retention sweeper, a cleanup by an ADMIN).
pub use super::retention::{RecycleExpiry, prune_revisions, purge_expired};

/// The sixteen entity types, which other domains name when they point at an entity.
pub use super::types::EntityType;

/// Finding and locking an entity that another domain attaches something to (an asset, a note,
/// a roll, a world's universe), and the error that says it is not there.
pub use super::store::{Bin, entities_by_row_ids, find_any, find_live, lock, not_found};

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

/// An entity's row and content, its type and status, as other domains read and write them.
pub use super::model::{EntityContent, EntityRow};
pub use super::types::EntityStatus;

/// The templates in force: the one runtime part every reader of entity files needs.
pub use super::templates::{TemplateBook, TemplateCatalog, TypeTemplate};

/// Writing entities whole as files give them (imports), in the caller's transaction.
pub use super::replace::{
    Replaced, Written, announce, checked_content, recycle, replace, schema_errors,
};

/// An entity's revision at a version (a sync conflict's base).
pub use super::store::revision;

/// An entity's content as a row holds it.
pub use super::writes::content_of;

/// A page of the tenant's live entities of one type, by name, and how many there are (what a
/// share of a whole type shows).
pub async fn live_of_type(
    conn: &mut diesel_async::AsyncPgConnection,
    tenant_id: uuid::Uuid,
    entity_type: EntityType,
    page: crate::db::pagination::PageRequest,
) -> crate::error::AppResult<(i64, Vec<EntityRow>)> {
    use super::store::{EntitySortField, ListFilter, SortOrder, list_entities};
    let filter = ListFilter {
        entity_type: Some(entity_type),
        status: None,
        search: None,
        bin: Bin::Live,
    };
    let sort = Some((EntitySortField::Name, SortOrder::Asc));
    let (total, rows) = list_entities(conn, tenant_id, &filter, sort, page, true).await?;
    Ok((total.unwrap_or_default(), rows))
}

/// How many live and recycled entities of each type the tenant holds (types it has none of
/// are left out): (type slug, live, recycled).
pub async fn counts_by_type(
    conn: &mut diesel_async::AsyncPgConnection,
    tenant_id: uuid::Uuid,
) -> crate::error::AppResult<Vec<(String, i64, i64)>> {
    use diesel::sql_types::{BigInt, Text};
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = Text)]
        entity_type: String,
        #[diesel(sql_type = BigInt)]
        live: i64,
        #[diesel(sql_type = BigInt)]
        recycled: i64,
    }
    let counts: Vec<Count> = diesel::sql_query(
        "SELECT entity_type, count(*) FILTER (WHERE deleted_at IS NULL) AS live, \
           count(*) FILTER (WHERE deleted_at IS NOT NULL) AS recycled \
         FROM entities WHERE tenant_id = $1 GROUP BY entity_type",
    )
    .bind::<diesel::sql_types::Uuid, _>(tenant_id)
    .load(conn)
    .await?;
    Ok(counts
        .into_iter()
        .map(|c| (c.entity_type, c.live, c.recycled))
        .collect())
}

/// A whole tenant's export and import: live entities a page at a time, the relationships
/// drawn between them, and drawing one in an import's transaction.
pub use super::portable::{DrawnRelationship, drawn_relationships, live_page, relate};

/// The live entities whose fields name any of these ids (an assembly's children name it as
/// their parent).
pub use super::links::incoming_references;

/// Finding many entities by type and id at once (locked inside a transaction when asked).
pub use super::store::find_by_keys;

/// The rules of an entity id and a name, for readers of files that carry them; an id as a name.
pub use super::templates::generate::title_case;
pub use super::validation::{
    entity_id_problem, suggest_entity_id, validate_name, validate_relationship,
};
