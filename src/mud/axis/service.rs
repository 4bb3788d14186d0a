//! The rules of axis state that change it: putting a world's policy in force, and applying an
//! event's deltas to a character under the policy in force (locked in one order everywhere:
//! the world, then the characters).

use std::collections::BTreeMap;

use async_graphql::ID;
use diesel_async::AsyncConnection;

use super::policy::AxisPolicy;
use super::store::{self as axis_store, AxisDelta, AxisEventRow, NewAxisEvent};
use crate::auth::{Role, Viewer};
use crate::context::Platform;
use crate::error::{AppError, AppResult};
use crate::mud::characters::service::character_or_not_found;
use crate::mud::model::WorldRow;
use crate::mud::worlds::service::{validate_key, world_or_not_found};

/// Puts a (validated) axis policy in force in one of the viewer's tenant's worlds.
pub async fn set_policy(
    platform: &Platform,
    viewer: &Viewer,
    world_id: &str,
    policy: &AxisPolicy,
) -> AppResult<WorldRow> {
    viewer.require_role(Role::Worldbuilder)?;
    let mut conn = platform.pool.get().await?;
    let world = world_or_not_found(&mut conn, viewer.tenant_id, world_id).await?;
    conn.transaction::<_, AppError, _>(async |conn| {
        axis_store::set_policy(conn, &world, policy).await
    })
    .await
}

/// Most metadata entries an event carries.
const MAX_METADATA: usize = 32;
/// Most deltas one event applies.
const MAX_DELTAS: usize = 64;
/// Longest description, bytes.
const MAX_DESCRIPTION_BYTES: usize = 1024;

/// An event to apply to one character.
pub struct AxisEventRequest<'a> {
    /// A key: 1 to 64 lower-case letters, digits, `_` or `-`.
    pub event_type: &'a str,
    /// At most 1024 bytes.
    pub description: Option<&'a str>,
    /// At most 32 (key, value) entries: keys of 1 to 64 bytes, values of at most 1024.
    pub metadata: Vec<(String, String)>,
    /// 1 to 64 (axis, delta) pairs.
    pub deltas: Vec<(String, f64)>,
}

/// The request's event type and metadata, once its every bound is checked.
fn checked(request: &mut AxisEventRequest<'_>) -> AppResult<(String, BTreeMap<String, String>)> {
    let event_type = validate_key("eventType", request.event_type)?;
    let metadata = std::mem::take(&mut request.metadata);
    if metadata.len() > MAX_METADATA {
        return Err(AppError::bad_field("metadata", "at most 32 entries"));
    }
    let metadata = metadata
        .into_iter()
        .map(|(key, value)| {
            if key.is_empty() || key.len() > 64 || value.len() > 1024 {
                return Err(AppError::bad_field(
                    "metadata",
                    "keys have 1 to 64 bytes, values at most 1024",
                ));
            }
            Ok((key, value))
        })
        .collect::<AppResult<_>>()?;
    if request.deltas.is_empty() || request.deltas.len() > MAX_DELTAS {
        return Err(AppError::bad_field("deltas", "give 1 to 64 deltas"));
    }
    if request
        .description
        .is_some_and(|description| description.len() > MAX_DESCRIPTION_BYTES)
    {
        return Err(AppError::bad_field("description", "at most 1024 bytes"));
    }
    Ok((event_type, metadata))
}

/// Applies an event's deltas to a character of the viewer's tenant in one transaction, under
/// its world's policy (CONFLICT without one). Returns the world and what was recorded.
pub async fn apply_event(
    platform: &Platform,
    viewer: &Viewer,
    character_id: &ID,
    mut request: AxisEventRequest<'_>,
) -> AppResult<(WorldRow, Option<(AxisEventRow, Vec<AxisDelta>)>)> {
    viewer.require_role(Role::Worldbuilder)?;
    let (event_type, metadata) = checked(&mut request)?;
    let mut conn = platform.pool.get().await?;
    let character = character_or_not_found(&mut conn, viewer.tenant_id, character_id).await?;
    let deltas = request
        .deltas
        .into_iter()
        .map(|(axis, delta)| (character.id, axis, delta))
        .collect();
    conn.transaction::<_, AppError, _>(async |conn| {
        let world = axis_store::world_for_share(conn, viewer.tenant_id, character.world_id).await?;
        let (policy, version) = axis_store::policy_of(&world)?.ok_or_else(|| {
            AppError::conflict(format!(
                "the world `{}` has no axis policy",
                world.world_key
            ))
        })?;
        axis_store::lock_characters(conn, viewer.tenant_id, &[character.id]).await?;
        let event = NewAxisEvent {
            world: &world,
            event_type: &event_type,
            description: request.description,
            metadata,
            deltas,
            keep_if_empty: true,
        };
        let recorded = axis_store::record_event(conn, &policy, &version, event).await?;
        Ok((world, recorded))
    })
    .await
}
