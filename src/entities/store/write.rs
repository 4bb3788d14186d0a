//! Saving entities beside their content (`save` writes the content): the recycle bin and
//! purges with their revisions, re-validation results, and the reference rows.

use chrono::Utc;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::revisions::RevisionAction;
use crate::db::schema::{entities, entity_references, entity_revisions};
use crate::entities::model::{EntityContent, EntityRow, ReferenceRow};
use crate::entities::references::FoundReference;
use crate::entities::types::EntityType;
use crate::entities::validation::Checked;
use crate::error::AppResult;

/// One write of an entity: who, what, and its checked content.
pub struct Write<'a> {
    pub tenant_id: Uuid,
    pub actor_id: Uuid,
    pub entity_type: EntityType,
    pub content: &'a EntityContent,
    pub checked: &'a Checked,
}

/// Moves a locked entity into or out of the recycle bin. Call inside a transaction.
pub async fn set_recycled(
    conn: &mut AsyncPgConnection,
    current: &EntityRow,
    actor_id: Uuid,
    recycled: bool,
) -> AppResult<EntityRow> {
    let now = Utc::now();
    let row: EntityRow = diesel::update(entities::table.find((current.tenant_id, current.id)))
        .set((
            entities::deleted_at.eq(recycled.then_some(now)),
            entities::deleted_by.eq(recycled.then_some(actor_id)),
            entities::version.eq(entities::version + 1),
            entities::updated_by.eq(actor_id),
            entities::updated_at.eq(now),
        ))
        .returning(EntityRow::as_returning())
        .get_result(conn)
        .await?;
    let action = if recycled {
        RevisionAction::Deleted
    } else {
        RevisionAction::Restored
    };
    record_revision(conn, &row, action, actor_id).await?;
    Ok(row)
}

/// Removes entities for good: their revisions, references and relationships go with them; a
/// tombstone of each stays for sync clients that had it (the change feed says it is gone).
pub async fn purge(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    ids: &[Uuid],
) -> AppResult<usize> {
    Ok(diesel::sql_query(
        "WITH gone AS (
            DELETE FROM entities WHERE tenant_id = $1 AND id = ANY($2)
            RETURNING tenant_id, id, entity_type, entity_id)
         INSERT INTO entity_tombstones (id, tenant_id, row_id, entity_type, entity_id)
         SELECT gen_random_uuid(), tenant_id, id, entity_type, entity_id FROM gone",
    )
    .bind::<diesel::sql_types::Uuid, _>(tenant_id)
    .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(ids)
    .execute(conn)
    .await?)
}

#[derive(QueryableByName)]
struct Purged {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Text)]
    entity_type: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    entity_id: String,
}

/// Purges every recycled entity (of one type, if given) in one statement, leaving their
/// tombstones; returns the row id, type and id of each.
pub async fn purge_recycled(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    entity_type: Option<EntityType>,
) -> AppResult<Vec<(Uuid, String, String)>> {
    let types: Vec<&str> = match entity_type {
        Some(entity_type) => vec![entity_type.slug()],
        None => EntityType::ALL.iter().map(|t| t.slug()).collect(),
    };
    let purged: Vec<Purged> = diesel::sql_query(
        "WITH gone AS (
            DELETE FROM entities
             WHERE tenant_id = $1 AND deleted_at IS NOT NULL AND entity_type = ANY($2)
            RETURNING tenant_id, id, entity_type, entity_id),
         kept AS (
            INSERT INTO entity_tombstones (id, tenant_id, row_id, entity_type, entity_id)
            SELECT gen_random_uuid(), tenant_id, id, entity_type, entity_id FROM gone)
         SELECT id, entity_type, entity_id FROM gone",
    )
    .bind::<diesel::sql_types::Uuid, _>(tenant_id)
    .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(types)
    .load(conn)
    .await?;
    Ok(purged
        .into_iter()
        .map(|p| (p.id, p.entity_type, p.entity_id))
        .collect())
}

/// Stores what a re-validation found, writing only what differs from what is stored (so a
/// bulk run over unchanged entities leaves their rows alone).
pub async fn store_check(
    conn: &mut AsyncPgConnection,
    row: &EntityRow,
    stored_references: &[ReferenceRow],
    checked: &Checked,
) -> AppResult<()> {
    let references_changed = !same_references(stored_references, &checked.references);
    // The row is written whenever its references change too, even with the same errors: its
    // stamp moves, so an edit that read it before does not save over the new reference rows
    // (see `save`).
    if row.schema_errors != checked.schema_errors || references_changed {
        diesel::update(entities::table.find((row.tenant_id, row.id)))
            .set(entities::schema_errors.eq(&checked.schema_errors))
            .execute(conn)
            .await?;
    }
    if references_changed {
        replace_references(conn, row, &checked.references).await?;
    }
    Ok(())
}

/// Whether the stored reference rows already say what the fields hold, in the same order.
fn same_references(stored: &[ReferenceRow], found: &[FoundReference]) -> bool {
    stored.len() == found.len()
        && stored.iter().zip(found).all(|(stored, found)| {
            stored.kind == found.kind
                && stored.target_entity_id == found.entity_id
                && stored.target_types.len() == found.target_types.len()
                && found
                    .target_types
                    .iter()
                    .all(|t| stored.target_types.iter().any(|s| s == t.slug()))
        })
}

/// The next live entities of one type in id order, locked (inside a transaction), for walking
/// a whole type in batches.
pub async fn lock_live_batch(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    entity_type: EntityType,
    after: Uuid,
    limit: i64,
) -> AppResult<Vec<EntityRow>> {
    Ok(entities::table
        .filter(entities::tenant_id.eq(tenant_id))
        .filter(entities::entity_type.eq(entity_type.slug()))
        .filter(entities::deleted_at.is_null())
        .filter(entities::id.gt(after))
        .order(entities::id)
        .limit(limit)
        .select(EntityRow::as_select())
        .for_update()
        .load(conn)
        .await?)
}

/// The stored reference rows of these entities, in field order.
pub async fn stored_references(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    source_ids: &[Uuid],
) -> AppResult<Vec<ReferenceRow>> {
    Ok(references_of(tenant_id, source_ids).load(conn).await?)
}

fn references_of(
    tenant_id: Uuid,
    source_ids: &[Uuid],
) -> entity_references::BoxedQuery<'_, Pg, diesel::dsl::AsSelect<ReferenceRow, Pg>> {
    entity_references::table
        .filter(entity_references::tenant_id.eq(tenant_id))
        .filter(entity_references::source_id.eq_any(source_ids))
        .order((entity_references::source_id, entity_references::position))
        .select(ReferenceRow::as_select())
        .into_boxed()
}

async fn replace_references(
    conn: &mut AsyncPgConnection,
    row: &EntityRow,
    found: &[FoundReference],
) -> AppResult<()> {
    diesel::delete(
        entity_references::table
            .filter(entity_references::tenant_id.eq(row.tenant_id))
            .filter(entity_references::source_id.eq(row.id)),
    )
    .execute(conn)
    .await?;
    if found.is_empty() {
        return Ok(());
    }
    let rows: Vec<ReferenceRow> = found
        .iter()
        .enumerate()
        .map(|(position, reference)| ReferenceRow {
            tenant_id: row.tenant_id,
            source_id: row.id,
            kind: reference.kind.clone(),
            target_types: reference
                .target_types
                .iter()
                .map(|t| t.slug().to_owned())
                .collect(),
            target_entity_id: reference.entity_id.clone(),
            position: i32::try_from(position).unwrap_or(i32::MAX),
        })
        .collect();
    diesel::insert_into(entity_references::table)
        .values(&rows)
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(())
}

async fn record_revision(
    conn: &mut AsyncPgConnection,
    row: &EntityRow,
    action: RevisionAction,
    actor_id: Uuid,
) -> AppResult<()> {
    diesel::insert_into(entity_revisions::table)
        .values((
            entity_revisions::id.eq(Uuid::now_v7()),
            entity_revisions::tenant_id.eq(row.tenant_id),
            entity_revisions::entity_row_id.eq(row.id),
            entity_revisions::version.eq(row.version),
            entity_revisions::action.eq(action.as_str()),
            entity_revisions::actor_id.eq(actor_id),
            entity_revisions::entity_id.eq(&row.entity_id),
            entity_revisions::name.eq(&row.name),
            entity_revisions::status.eq(&row.status),
            entity_revisions::fields.eq(row.fields.value()),
            entity_revisions::markdown_body.eq(&row.markdown_body),
        ))
        .execute(conn)
        .await?;
    Ok(())
}
