//! The rules of characters: finding them, their names, whom one is made for, naming a new one
//! (chosen, or generated from a seed), and the axis profile it starts with.

use super::store::{self, NewCharacter};
use crate::accounts::service as accounts;
use crate::accounts::service::{ensure_above, member_by_username};
use crate::auth::{Role, Viewer};
use crate::db::parse_id;
use crate::db::validate_text;
use crate::error::{AppError, AppResult};
use crate::mud::axis::policy::{AxisPolicy, DEFAULT_SCORE, seeded_scores};
use crate::mud::axis::store::{self as axis_store, NewAxisEvent};
use crate::mud::model::{CharacterRow, WorldRow};
use crate::mud::names;
use async_graphql::ID;
use diesel_async::AsyncPgConnection;
use std::collections::BTreeMap;
use uuid::Uuid;

/// How many seeds after the asked one `createCharacter` tries when names are taken.
pub const NAME_ATTEMPTS: i64 = 32;

/// A character of the viewer's tenant, or NOT_FOUND.
pub async fn character_or_not_found(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: &ID,
) -> AppResult<CharacterRow> {
    let id = parse_id("characterId", id)?;
    store::find_character(conn, tenant_id, id)
        .await?
        .ok_or_else(|| AppError::not_found("character not found"))
}

pub fn validate_character_name(name: &str) -> AppResult<String> {
    validate_text("name", name, 40)?;
    let name = name.trim();
    if name.chars().count() < 2 || name.chars().any(char::is_control) {
        return Err(AppError::bad_field(
            "name",
            "a character's name has 2 to 40 printable characters",
        ));
    }
    Ok(name.to_owned())
}

/// The user a character is made for: the viewer, or (ADMIN) a member of the tenant below them.
pub async fn character_owner(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    username: Option<&str>,
) -> AppResult<Uuid> {
    let Some(username) = username else {
        return Ok(viewer.user_id);
    };
    let (user, role) = member_by_username(conn, viewer, username).await?;
    if user.id == viewer.user_id {
        return Ok(viewer.user_id);
    }
    // Superusers reach accounts outside the tenant, but a character here is for a member here.
    if accounts::membership(conn, viewer.tenant_id, user.id)
        .await?
        .is_none()
    {
        return Err(AppError::not_found(format!(
            "there is no user `{username}` here"
        )));
    }
    viewer.require_role(Role::Admin)?;
    ensure_above(viewer, user.id, role)?;
    Ok(user.id)
}

/// Inserts a character named `chosen_name`, or named by the generator from `seed` (moving to
/// the next seeds while the world already has the name). Returns it and the seed used.
pub async fn insert_named(
    conn: &mut AsyncPgConnection,
    world: &WorldRow,
    owner: Uuid,
    chosen_name: Option<&str>,
    seed: i64,
) -> AppResult<(CharacterRow, i64)> {
    if let Some(name) = chosen_name {
        let new = NewCharacter {
            world,
            user_id: owner,
            name,
            state_seed: seed,
        };
        return match store::insert_character(conn, new).await? {
            Some(row) => Ok((row, seed)),
            None => Err(AppError::conflict(format!(
                "the world already has a character named `{name}`"
            ))),
        };
    }
    for attempt in seed..seed.saturating_add(NAME_ATTEMPTS) {
        let name = names::generate(attempt.unsigned_abs());
        let new = NewCharacter {
            world,
            user_id: owner,
            name: &name,
            state_seed: attempt,
        };
        if let Some(row) = store::insert_character(conn, new).await? {
            return Ok((row, attempt));
        }
    }
    Err(AppError::conflict(
        "every name these seeds generate is taken in this world; try another seed",
    ))
}

/// Applies the seeded profile to a new character (an event from the default 0.5 to the
/// policy's seeded scores) and makes the resulting snapshot its base state.
pub async fn seed_profile(
    conn: &mut AsyncPgConnection,
    world: &WorldRow,
    policy: &AxisPolicy,
    version: &str,
    character: &CharacterRow,
) -> AppResult<CharacterRow> {
    let deltas = seeded_scores(policy, character.state_seed)
        .into_iter()
        .map(|(axis, score)| (character.id, axis, score - DEFAULT_SCORE))
        .collect();
    let event = NewAxisEvent {
        world,
        event_type: "seeded_profile",
        description: Some("the character's starting axis scores, drawn from its seed"),
        metadata: BTreeMap::from([
            ("seed".to_owned(), character.state_seed.to_string()),
            ("state_version".to_owned(), version.to_owned()),
        ]),
        deltas,
        keep_if_empty: true,
    };
    axis_store::record_event(conn, policy, version, event).await?;
    axis_store::settle_base_state(conn, character).await
}
