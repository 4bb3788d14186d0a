//! Prefetching for lists of entities. A DataLoader batches the loads that arrive within a
//! short window; a long page resolving many nested fields can outlast that window and split a
//! batch, and a short page still waits the window out. So list resolvers look ahead at the
//! fields asked for and load every link of the whole page up front, in one statement per kind
//! and without waiting, into the request's loader caches, where the field resolvers find them.

use std::borrow::Borrow;

use async_graphql::{Context, Lookahead};
use uuid::Uuid;

use crate::accounts::api::User;
use crate::context::ContextExt;
use crate::db::loading::prefetch_many;
use crate::entities::loaders::EntityLoaders;
use crate::entities::loaders::split_by_kind;
use crate::entities::model::EntityRow;
use crate::error::AppResult;

/// Fields of Entity that read all of an entity's references (`references` too, unless every
/// use of it names its `kind`).
const OUTGOING_FIELDS: [&str; 3] = ["validationErrors", "isValid", "relationships"];
const INCOMING_FIELDS: [&str; 2] = ["referencedBy", "relationships"];

/// The fields `references(kind: ...)` asks for across the selection; None when one use of
/// `references` asks for every kind (or its argument cannot be read).
fn referenced_kinds(selection: &Lookahead<'_>) -> Option<Vec<String>> {
    let mut kinds = Vec::new();
    for field in selection.field("references").selection_fields() {
        let arguments = field.arguments().ok()?;
        let kind = arguments.iter().find(|(name, _)| name.as_str() == "kind")?;
        match &kind.1 {
            async_graphql::Value::String(kind) => kinds.push(kind.clone()),
            _ => return None,
        }
    }
    kinds.sort_unstable();
    kinds.dedup();
    Some(kinds)
}

/// Loads what `selection` (the fields of each entity in `rows`) will need.
pub async fn prefetch<R: Borrow<EntityRow>>(
    ctx: &Context<'_>,
    selection: Lookahead<'_>,
    rows: &[R],
) -> AppResult<()> {
    let rows: Vec<&EntityRow> = rows.iter().map(Borrow::borrow).collect();
    if rows.is_empty() || !ctx.caches_loads() {
        return Ok(());
    }
    let wants = |fields: &[&str]| fields.iter().any(|f| selection.field(f).exists());
    let entities = ctx.loaders::<EntityLoaders>();
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();

    let kinds = referenced_kinds(&selection);
    let outgoing = async {
        let all_needed = wants(&OUTGOING_FIELDS) || (kinds.is_none() && wants(&["references"]));
        let kinds = kinds.unwrap_or_default();
        let keys: Vec<(Uuid, String)> = ids
            .iter()
            .flat_map(|id| kinds.iter().map(move |kind| (*id, kind.clone())))
            .collect();
        if all_needed {
            // Everything is read anyway; the per-field lists are cut from it.
            let found = prefetch_many(&entities.outgoing, ids.iter().copied()).await?;
            if !keys.is_empty() {
                let by_source = found
                    .into_iter()
                    .map(|(id, list)| (id, list.as_ref().clone()))
                    .collect();
                entities
                    .outgoing_of_kind
                    .feed_many(split_by_kind(by_source, &keys))
                    .await;
            }
        } else if !keys.is_empty() {
            prefetch_many(&entities.outgoing_of_kind, keys).await?;
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
            User::prefetch(ctx, user_ids).await?;
        }
        AppResult::Ok(())
    };
    futures_util::try_join!(outgoing, incoming, relationships, users)?;
    Ok(())
}
