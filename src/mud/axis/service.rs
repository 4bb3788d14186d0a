//! The rules of axis state that change it: putting a world's policy in force, and applying an
//! event's deltas to a character under the policy in force (locked in one order everywhere:
//! the world, then the characters).

use std::collections::BTreeMap;

use async_graphql::ID;
use diesel_async::AsyncConnection;

use super::policy::AxisPolicy;
use super::store::{self as axis_store, AxisDelta, AxisEventRow, NewAxisEvent};
use crate::auth::Viewer;
use crate::context::Platform;
use crate::error::{AppError, AppResult};
use crate::mud::characters::service::character_or_not_found;
use crate::mud::model::WorldRow;
use crate::mud::worlds::service::world_or_not_found;

/// Puts a (validated) axis policy in force in one of the viewer's tenant's worlds.
pub async fn set_policy(
    platform: &Platform,
    viewer: &Viewer,
    world_id: &str,
    policy: &AxisPolicy,
) -> AppResult<WorldRow> {
    let mut conn = platform.pool.get().await?;
    let world = world_or_not_found(&mut conn, viewer.tenant_id, world_id).await?;
    conn.transaction::<_, AppError, _>(async |conn| {
        axis_store::set_policy(conn, &world, policy).await
    })
    .await
}

/// An event to apply to one character (its input already checked).
pub struct AxisEventRequest<'a> {
    pub event_type: &'a str,
    pub description: Option<&'a str>,
    pub metadata: BTreeMap<String, String>,
    /// (axis, delta) pairs.
    pub deltas: Vec<(String, f64)>,
}

/// Applies an event's deltas to a character of the viewer's tenant in one transaction, under
/// its world's policy (CONFLICT without one). Returns the world and what was recorded.
pub async fn apply_event(
    platform: &Platform,
    viewer: &Viewer,
    character_id: &ID,
    request: AxisEventRequest<'_>,
) -> AppResult<(WorldRow, Option<(AxisEventRow, Vec<AxisDelta>)>)> {
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
            event_type: request.event_type,
            description: request.description,
            metadata: request.metadata,
            deltas,
            keep_if_empty: true,
        };
        let recorded = axis_store::record_event(conn, &policy, &version, event).await?;
        Ok((world, recorded))
    })
    .await
}
