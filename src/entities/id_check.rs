//! Whether an entity id can be used in a tenant, and a free one close to it when it cannot.

use async_graphql::SimpleObject;
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::store;
use super::types::EntityType;
use super::validation;
use crate::error::AppResult;

/// How many numbered variants (`id_2` … `id_20`) are tried for a suggestion.
const NUMBERED_SUGGESTIONS: u32 = 20;

/// Whether an entity id can be used.
#[derive(SimpleObject)]
pub struct EntityIdCheck {
    /// The id checked.
    pub entity_id: String,
    /// The id follows the pattern `^[a-z0-9][a-z0-9_]*$`.
    pub valid: bool,
    /// Valid and not taken (a recycled entity keeps its id until purged).
    pub available: bool,
    /// Why it cannot be used, when it cannot.
    pub reason: Option<String>,
    /// A free id close to the one asked for, when it is taken or malformed.
    pub suggestion: Option<String>,
}

/// Checks `entity_id` in the tenant: within one type, or across all types when none is given.
pub async fn check(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    entity_type: Option<EntityType>,
    entity_id: String,
) -> AppResult<EntityIdCheck> {
    if let Some(problem) = validation::entity_id_problem(&entity_id) {
        let suggestion = validation::suggest_entity_id(&entity_id);
        return Ok(EntityIdCheck {
            entity_id,
            valid: false,
            available: false,
            reason: Some(problem),
            suggestion,
        });
    }
    let candidates: Vec<String> = std::iter::once(entity_id.clone())
        .chain((2..=NUMBERED_SUGGESTIONS).map(|n| format!("{entity_id}_{n}")))
        .collect();
    let taken = store::taken_ids(conn, tenant_id, entity_type, &candidates).await?;
    let is_taken = |id: &str| taken.iter().any(|(_, t)| t == id);
    if !is_taken(&entity_id) {
        return Ok(EntityIdCheck {
            entity_id,
            valid: true,
            available: true,
            reason: None,
            suggestion: None,
        });
    }
    let holder = taken
        .iter()
        .find(|(_, t)| *t == entity_id)
        .map(|(entity_type, _)| entity_type.clone())
        .unwrap_or_default();
    Ok(EntityIdCheck {
        reason: Some(format!("`{entity_id}` is already used by a {holder}")),
        suggestion: candidates.into_iter().find(|c| !is_taken(c)),
        entity_id,
        valid: true,
        available: false,
    })
}
