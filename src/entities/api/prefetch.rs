//! Prefetching for lists of entities. A DataLoader batches the loads that arrive within a
//! short window; a long page resolving many nested fields can outlast that window and split a
//! batch, and a short page still waits the window out. So list resolvers look ahead at the
//! fields asked for and load every link of the whole page up front, in one statement per kind
//! and without waiting, into the request's loader caches, where the field resolvers find them.

use std::borrow::Borrow;

use async_graphql::{Context, Lookahead};
use uuid::Uuid;

use crate::entities::model::EntityRow;
use crate::error::AppResult;
use crate::graphql::context::ContextExt;
use crate::graphql::loaders::prefetch_many;

/// Fields of Entity that read each loader.
const OUTGOING_FIELDS: [&str; 4] = ["validationErrors", "isValid", "references", "relationships"];
const INCOMING_FIELDS: [&str; 2] = ["referencedBy", "relationships"];

/// Loads what `selection` (the fields of each entity in `rows`) will need.
pub async fn prefetch<R: Borrow<EntityRow>>(
    ctx: &Context<'_>,
    selection: Lookahead<'_>,
    rows: &[R],
) -> AppResult<()> {
    let rows: Vec<&EntityRow> = rows.iter().map(Borrow::borrow).collect();
    let loaders = ctx.loaders();
    if rows.is_empty() || !loaders.caches() {
        return Ok(());
    }
    let wants = |fields: &[&str]| fields.iter().any(|f| selection.field(f).exists());
    let entities = loaders.entities();
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();

    let outgoing = async {
        if wants(&OUTGOING_FIELDS) {
            prefetch_many(&entities.outgoing, ids.iter().copied()).await?;
        }
        AppResult::Ok(())
    };
    let incoming = async {
        if wants(&INCOMING_FIELDS) {
            let keys = rows.iter().map(|r| (r.kind(), r.entity_id.clone()));
            prefetch_many(&entities.incoming, keys).await?;
        }
        AppResult::Ok(())
    };
    let relationships = async {
        if wants(&["relationships"]) {
            let found = prefetch_many(&entities.relationships, ids.iter().copied()).await?;
            let far_ends = found
                .values()
                .flat_map(|list| list.iter())
                .flat_map(|r| [r.source_id, r.target_id])
                .filter(|id| !ids.contains(id));
            prefetch_many(&entities.by_row, far_ends).await?;
        }
        AppResult::Ok(())
    };
    let users = async {
        let mut user_ids: Vec<Uuid> = Vec::new();
        for (field, pick) in [
            (
                "createdBy",
                (|r: &EntityRow| r.created_by) as fn(&EntityRow) -> Option<Uuid>,
            ),
            ("updatedBy", |r| r.updated_by),
            ("deletedBy", |r| r.deleted_by),
        ] {
            if selection.field(field).exists() {
                user_ids.extend(rows.iter().filter_map(|r| pick(r)));
            }
        }
        if !user_ids.is_empty() {
            prefetch_many(&loaders.users, user_ids).await?;
        }
        AppResult::Ok(())
    };
    futures_util::try_join!(outgoing, incoming, relationships, users)?;
    Ok(())
}
