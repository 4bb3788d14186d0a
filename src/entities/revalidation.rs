//! Checking every entity again (after the templates change): each one's validity and its
//! reference rows brought up to date, a batch at a time, and a report of what was found.

use std::collections::HashMap;

use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use uuid::Uuid;

use super::links::{self, ResolvedReference};
use super::model::{EntityRow, ReferenceRow};
use super::store;
use super::templates::TemplateCatalog;
use super::types::EntityType;
use super::writes::{check, content_of};
use crate::auth::Viewer;
use crate::error::{AppError, AppResult};

/// The outcome of re-validating entities in bulk.
#[derive(Default)]
pub struct ValidationReport {
    pub checked: usize,
    pub valid: usize,
    pub invalid: usize,
    /// The first invalid entities, with their errors.
    pub examples: Vec<(EntityRow, Vec<String>)>,
}

const VALIDATION_BATCH: i64 = 500;
const VALIDATION_EXAMPLES: usize = 100;

/// Re-runs the templates in force over every live entity of the given types, storing what
/// changed (templates may have changed since the entities were saved). Each batch is locked
/// while it is checked, so a concurrent write is never overwritten with older results.
pub async fn validate_all(
    templates: &TemplateCatalog,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    types: &[EntityType],
) -> AppResult<ValidationReport> {
    let mut report = ValidationReport::default();
    for &entity_type in types {
        let mut after = Some(Uuid::nil());
        while let Some(from) = after {
            after = validate_batch(
                templates,
                conn,
                viewer.tenant_id,
                entity_type,
                from,
                &mut report,
            )
            .await?;
        }
    }
    Ok(report)
}

/// [`validate_all`]'s step: the next batch of a type's live entities after the id `after`,
/// added to `report`; the id to go on after (None when there were no more).
pub async fn validate_batch(
    templates: &TemplateCatalog,
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    entity_type: EntityType,
    after: Uuid,
    report: &mut ValidationReport,
) -> AppResult<Option<Uuid>> {
    let batch = conn
        .transaction::<_, AppError, _>(async |conn| {
            let mut batch =
                store::lock_live_batch(conn, tenant_id, entity_type, after, VALIDATION_BATCH)
                    .await?;
            let ids: Vec<Uuid> = batch.iter().map(|r| r.id).collect();
            let mut stored: HashMap<Uuid, Vec<ReferenceRow>> = HashMap::new();
            for reference in store::stored_references(conn, tenant_id, &ids).await? {
                stored
                    .entry(reference.source_id)
                    .or_default()
                    .push(reference);
            }
            for row in &mut batch {
                let checked = check(templates, entity_type, &content_of(row), Some(row));
                let own = stored.get(&row.id).map(Vec::as_slice).unwrap_or_default();
                store::store_check(conn, row, own, &checked).await?;
                row.schema_errors = checked.schema_errors;
            }
            Ok(batch)
        })
        .await?;
    let Some(last) = batch.last() else {
        return Ok(None);
    };
    let next = last.id;
    let ids: Vec<Uuid> = batch.iter().map(|r| r.id).collect();
    let resolved =
        links::resolve_outgoing(links::outgoing_references(conn, tenant_id, &ids).await?);
    for row in batch {
        let errors = entity_errors(
            &row,
            resolved.get(&row.id).map(Vec::as_slice).unwrap_or_default(),
        );
        report.checked += 1;
        if errors.is_empty() {
            report.valid += 1;
        } else {
            report.invalid += 1;
            if report.examples.len() < VALIDATION_EXAMPLES {
                report.examples.push((row, errors));
            }
        }
    }
    Ok(Some(next))
}

/// An entity's validation errors: what its schema check stored, then each reference that does
/// not name a live entity.
pub fn entity_errors(row: &EntityRow, references: &[ResolvedReference]) -> Vec<String> {
    let mut errors = row.schema_errors.clone();
    errors.extend(references.iter().filter_map(ResolvedReference::error));
    errors
}
