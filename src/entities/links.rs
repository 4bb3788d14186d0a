//! Queries of the links between entities: references found in fields and relationships drawn
//! by hand. Each takes a whole batch of entities, so loaders and graph walks cost one statement
//! per batch.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use uuid::Uuid;

use super::model::{EntityRow, ReferenceRow, RelationshipRow};
use super::validation::{Dangling, reference_error};
use crate::db::schema::{entities, entity_references, entity_relationships};
use crate::error::{AppError, AppResult};

/// The references held by these entities, each with the entity it names when one exists
/// (live or recycled; a reference can name several types, so one reference may come with
/// several candidates: callers keep the ones whose type it targets).
pub async fn outgoing_references(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    source_ids: &[Uuid],
) -> AppResult<Vec<(ReferenceRow, Option<EntityRow>)>> {
    outgoing_references_of(conn, tenant_id, source_ids, None).await
}

/// `outgoing_references`, only those held in the fields `kinds` when given: a page that shows
/// two kinds of link need not read (and resolve) every reference of its entities.
pub async fn outgoing_references_of(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    source_ids: &[Uuid],
    kinds: Option<&[String]>,
) -> AppResult<Vec<(ReferenceRow, Option<EntityRow>)>> {
    let mut query = entity_references::table
        .left_join(
            entities::table.on(entities::tenant_id
                .eq(entity_references::tenant_id)
                .and(entities::entity_id.eq(entity_references::target_entity_id))),
        )
        .filter(entity_references::tenant_id.eq(tenant_id))
        .filter(entity_references::source_id.eq_any(source_ids))
        .into_boxed();
    if let Some(kinds) = kinds {
        query = query.filter(entity_references::kind.eq_any(kinds));
    }
    Ok(query
        .order((entity_references::source_id, entity_references::position))
        .select((ReferenceRow::as_select(), Option::<EntityRow>::as_select()))
        .load(conn)
        .await?)
}

/// The references naming any of these ids, each with the live entity holding it (at most
/// `limit`, when given). A reference that may name several types resolves to the first of them
/// with a live entity of that id (as `resolve_outgoing` does): its `target_types` are cut down
/// to the types it can still mean.
pub async fn incoming_references(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    target_entity_ids: &[String],
    limit: Option<i64>,
) -> AppResult<Vec<(ReferenceRow, EntityRow)>> {
    let mut rows = referrer_rows(conn, tenant_id, target_entity_ids, limit).await?;
    let ambiguous: Vec<String> = rows
        .iter()
        .filter(|(r, _)| r.target_types.len() > 1)
        .map(|(r, _)| r.target_entity_id.clone())
        .collect();
    if ambiguous.is_empty() {
        return Ok(rows);
    }
    let live: HashSet<(String, String)> = entities::table
        .filter(entities::tenant_id.eq(tenant_id))
        .filter(entities::deleted_at.is_null())
        .filter(entities::entity_id.eq_any(&ambiguous))
        .select((entities::entity_type, entities::entity_id))
        .load(conn)
        .await?
        .into_iter()
        .collect();
    for (reference, _) in &mut rows {
        let first_live = reference
            .target_types
            .iter()
            .position(|t| live.contains(&(t.clone(), reference.target_entity_id.clone())));
        if let Some(first) = first_live {
            reference.target_types = vec![reference.target_types[first].clone()];
        }
    }
    Ok(rows)
}

async fn referrer_rows(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    target_entity_ids: &[String],
    limit: Option<i64>,
) -> AppResult<Vec<(ReferenceRow, EntityRow)>> {
    Ok(entity_references::table
        .inner_join(
            entities::table.on(entities::tenant_id
                .eq(entity_references::tenant_id)
                .and(entities::id.eq(entity_references::source_id))),
        )
        .filter(entity_references::tenant_id.eq(tenant_id))
        .filter(entity_references::target_entity_id.eq_any(target_entity_ids))
        .filter(entities::deleted_at.is_null())
        .order((
            entities::entity_type,
            entities::entity_id,
            entity_references::position,
        ))
        .select((ReferenceRow::as_select(), EntityRow::as_select()))
        .limit(limit.unwrap_or(i64::MAX))
        .load(conn)
        .await?)
}

/// Explicit relationships starting or ending at any of these entities (at most `limit`, when
/// given).
pub async fn relationships_touching(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    entity_ids: &[Uuid],
    limit: Option<i64>,
) -> AppResult<Vec<RelationshipRow>> {
    Ok(entity_relationships::table
        .filter(entity_relationships::tenant_id.eq(tenant_id))
        .filter(
            entity_relationships::source_id
                .eq_any(entity_ids)
                .or(entity_relationships::target_id.eq_any(entity_ids)),
        )
        .order(entity_relationships::created_at)
        .select(RelationshipRow::as_select())
        .limit(limit.unwrap_or(i64::MAX))
        .load(conn)
        .await?)
}

pub async fn insert_relationship(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    source: &EntityRow,
    target: &EntityRow,
    kind: &str,
    attributes: &Value,
    actor_id: Uuid,
) -> AppResult<RelationshipRow> {
    diesel::insert_into(entity_relationships::table)
        .values((
            entity_relationships::id.eq(Uuid::now_v7()),
            entity_relationships::tenant_id.eq(tenant_id),
            entity_relationships::source_id.eq(source.id),
            entity_relationships::target_id.eq(target.id),
            entity_relationships::kind.eq(kind),
            entity_relationships::attributes.eq(attributes),
            entity_relationships::created_by.eq(actor_id),
        ))
        .returning(RelationshipRow::as_returning())
        .get_result(conn)
        .await
        .map_err(|error| match AppError::from(error) {
            AppError::Conflict(_) => AppError::conflict(format!(
                "a `{kind}` relationship from {}/{} to {}/{} already exists",
                source.entity_type, source.entity_id, target.entity_type, target.entity_id
            )),
            other => other,
        })
}

/// Deletes an explicit relationship; returns it, or None when there was none.
pub async fn delete_relationship(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> AppResult<Option<RelationshipRow>> {
    Ok(diesel::delete(
        entity_relationships::table
            .filter(entity_relationships::tenant_id.eq(tenant_id))
            .filter(entity_relationships::id.eq(id)),
    )
    .returning(RelationshipRow::as_returning())
    .get_result(conn)
    .await
    .optional()?)
}

/// The entities holding references to an id of `entity_type`, locked for rewriting. Recycled
/// ones are included, so their references are still right when they are restored.
pub async fn lock_referrers(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    entity_type: &str,
    entity_id: &str,
) -> AppResult<Vec<EntityRow>> {
    let sources = entity_references::table
        .filter(entity_references::tenant_id.eq(tenant_id))
        .filter(entity_references::target_entity_id.eq(entity_id))
        .filter(entity_references::target_types.contains(vec![entity_type.to_owned()]))
        .select(entity_references::source_id);
    Ok(entities::table
        .filter(entities::tenant_id.eq(tenant_id))
        .filter(entities::id.eq_any(sources))
        .order(entities::id)
        .select(EntityRow::as_select())
        .for_update()
        .load(conn)
        .await?)
}

/// Live entities of the tenant for the whole-universe graph, optionally of some types.
pub async fn graph_nodes(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    types: &[String],
    limit: i64,
) -> AppResult<Vec<EntityRow>> {
    let mut query = entities::table
        .filter(entities::tenant_id.eq(tenant_id))
        .filter(entities::deleted_at.is_null())
        .into_boxed();
    if !types.is_empty() {
        query = query.filter(entities::entity_type.eq_any(types));
    }
    Ok(query
        .order((entities::updated_at.desc(), entities::id))
        .limit(limit)
        .select(EntityRow::as_select())
        .load(conn)
        .await?)
}

/// A reference with what it resolves to.
#[derive(Clone, Debug)]
pub struct ResolvedReference {
    pub kind: String,
    pub entity_id: String,
    pub target_types: Vec<String>,
    /// The live entity it names, if any.
    pub target: Option<Arc<EntityRow>>,
    /// The type of a recycled entity it names, when it names no live one.
    pub recycled_type: Option<String>,
}

impl ResolvedReference {
    /// The validation error of a reference that names no live entity.
    pub fn error(&self) -> Option<String> {
        if self.target.is_some() {
            return None;
        }
        let why = match &self.recycled_type {
            Some(entity_type) => Dangling::Recycled(entity_type),
            None => Dangling::Missing,
        };
        Some(reference_error(
            &self.kind,
            &self.entity_id,
            &self.target_types,
            why,
        ))
    }
}

/// Groups the rows of `outgoing_references` by source entity, keeping for each reference the
/// candidate whose type it targets.
pub fn resolve_outgoing(
    rows: Vec<(ReferenceRow, Option<EntityRow>)>,
) -> HashMap<Uuid, Vec<ResolvedReference>> {
    let mut by_source: HashMap<Uuid, Vec<ResolvedReference>> = HashMap::new();
    let mut positions: HashMap<(Uuid, String, String), usize> = HashMap::new();
    for (reference, candidate) in rows {
        let list = by_source.entry(reference.source_id).or_default();
        let key = (
            reference.source_id,
            reference.kind.clone(),
            reference.target_entity_id.clone(),
        );
        let index = match positions.get(&key) {
            Some(index) => *index,
            None => {
                positions.insert(key, list.len());
                list.push(ResolvedReference {
                    kind: reference.kind.clone(),
                    entity_id: reference.target_entity_id.clone(),
                    target_types: reference.target_types.clone(),
                    target: None,
                    recycled_type: None,
                });
                list.len() - 1
            }
        };
        let resolved = &mut list[index];
        if let Some(candidate) = candidate.filter(|c| reference.targets(&c.entity_type)) {
            if candidate.is_deleted() {
                resolved.recycled_type.get_or_insert(candidate.entity_type);
            } else {
                // When ids collide across the targeted types, the type listed first wins,
                // whatever order the rows came in.
                let rank = |row: &EntityRow| {
                    resolved
                        .target_types
                        .iter()
                        .position(|t| *t == row.entity_type)
                };
                let better = resolved
                    .target
                    .as_ref()
                    .is_none_or(|current| rank(&candidate) < rank(current));
                if better {
                    resolved.target = Some(Arc::new(candidate));
                }
            }
        }
    }
    by_source
}
