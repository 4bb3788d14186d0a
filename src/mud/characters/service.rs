//! The rules of characters: creating one (named as chosen or by the generator, for the viewer
//! or a member below them, with the world's starting profile), changing, removing, entering and
//! leaving a world with one, and finding them (NOT_FOUND otherwise).

use std::collections::BTreeMap;

use async_graphql::ID;
use chrono::Utc;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use rand::Rng;
use serde_json::Value;
use uuid::Uuid;

use super::store::{self, CharacterChanges, NewCharacter};
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
use crate::mud::worlds::service::world_or_not_found;
use crate::mud::worlds::store as world_store;

/// How many seeds after the asked one `createCharacter` tries when names are taken.
const NAME_ATTEMPTS: i64 = 32;
/// The largest inventory a character carries, bytes of JSON.
const MAX_INVENTORY_BYTES: usize = 64 * 1024;

/// What `createCharacter` asks for.
pub struct CharacterRequest<'a> {
    pub world_id: &'a str,
    /// A chosen name; without one the generator names it from `seed`.
    pub name: Option<&'a str>,
    pub seed: Option<i64>,
    /// Whom it is for (ADMIN, a member below them); the viewer when absent.
    pub target_username: Option<&'a str>,
}

/// A created character, its world, the seed that named it, and whether the world's axis
/// policy gave it a starting profile.
pub struct Created {
    pub character: CharacterRow,
    pub world: WorldRow,
    pub seed: i64,
    pub seeded: bool,
}

/// Creates a character in a world: named as chosen or by the generator (the next seeds while
/// the name is taken), for the viewer or (ADMIN) a member below them, with the starting
/// profile of the world's axis policy, in one transaction that keeps the policy in force.
pub async fn create(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    request: CharacterRequest<'_>,
) -> AppResult<Created> {
    let chosen_name = request.name.map(validate_character_name).transpose()?;
    let seed = match request.seed {
        Some(seed) if seed < 0 => {
            return Err(AppError::bad_field("seed", "the seed must be at least 0"));
        }
        Some(seed) => seed,
        None => rand::rng().random_range(0..=i64::MAX - NAME_ATTEMPTS),
    };
    let world = world_or_not_found(conn, viewer.tenant_id, request.world_id).await?;
    let owner = character_owner(conn, viewer, request.target_username).await?;
    let (character, seed, seeded) = conn
        .transaction::<_, AppError, _>(async |conn| {
            // The policy stays in force until the seeded profile commits.
            let world = axis_store::world_for_share(conn, world.tenant_id, world.id).await?;
            let (row, seed) =
                insert_named(conn, &world, owner, chosen_name.as_deref(), seed).await?;
            let Some((policy, version)) = axis_store::policy_of(&world)? else {
                return Ok((row, seed, false));
            };
            let row = seed_profile(conn, &world, &policy, &version, &row).await?;
            Ok((row, seed, true))
        })
        .await?;
    Ok(Created {
        character,
        world,
        seed,
        seeded,
    })
}

/// Changes a character's inventory or room: its own player, or WORLDBUILDER and above; a
/// tombstoned one changes no more.
pub async fn update(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: &ID,
    inventory: Option<Value>,
    room_id: Option<&str>,
) -> AppResult<CharacterRow> {
    let character = character_or_not_found(conn, viewer.tenant_id, id).await?;
    if character.user_id != Some(viewer.user_id) {
        viewer.require_role(Role::Worldbuilder)?;
    }
    if character.tombstoned_at.is_some() {
        return Err(AppError::conflict("a tombstoned character cannot change"));
    }
    let mut changes = CharacterChanges::default();
    if let Some(inventory) = inventory {
        if inventory.to_string().len() > MAX_INVENTORY_BYTES {
            return Err(AppError::bad_field(
                "inventory",
                "the inventory is larger than 64 KiB",
            ));
        }
        changes.inventory = Some(inventory);
    }
    if let Some(room_id) = room_id {
        let room = world_store::find_room(conn, viewer.tenant_id, character.world_id, room_id)
            .await?
            .ok_or_else(|| {
                AppError::bad_field("roomId", format!("the world has no room `{room_id}`"))
            })?;
        changes.room_id = Some(Some(room.id));
        changes.moved_at = Some(Some(Utc::now()));
    }
    store::update_character(conn, &character, &changes).await
}

/// How a character is removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Removal {
    /// Keeps its history, detached from its owner and renamed.
    Tombstone,
    /// Removes it and what depends on it.
    Delete,
}

/// Removes a character (the caller checks the role), unbinding the sessions playing it, in one
/// transaction; says what was done.
pub async fn remove(
    conn: &mut AsyncPgConnection,
    character: &CharacterRow,
    removal: Removal,
) -> AppResult<String> {
    conn.transaction::<_, AppError, _>(async |conn| {
        store::unbind_character(conn, character.id).await?;
        Ok(match removal {
            Removal::Tombstone => {
                if character.tombstoned_at.is_some() {
                    return Err(AppError::conflict("the character is already tombstoned"));
                }
                let row = store::tombstone_character(conn, character).await?;
                format!("tombstoned {} as {}", character.name, row.name)
            }
            Removal::Delete => {
                store::delete_character(conn, character).await?;
                format!("deleted {}", character.name)
            }
        })
    })
    .await
}

/// Binds one of the viewer's characters to their session (taking it over from any other
/// session playing it), in an open world. The character stays locked from the check to the
/// binding, so two sessions entering at once take turns and the later one takes it over.
pub async fn enter(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    character_id: &ID,
) -> AppResult<CharacterRow> {
    let session_id = viewer.session_id.ok_or_else(|| {
        AppError::bad_input("entering a world needs a signed-in session, not an API key")
    })?;
    let id = parse_id("characterId", character_id)?;
    conn.transaction::<_, AppError, _>(async |conn| {
        let character = store::lock_character(conn, viewer.tenant_id, id)
            .await?
            .ok_or_else(|| AppError::not_found("character not found"))?;
        if character.user_id != Some(viewer.user_id) {
            return Err(AppError::forbidden("you can play only your own characters"));
        }
        let world = world_store::worlds_by_ids(conn, viewer.tenant_id, &[character.world_id])
            .await?
            .pop()
            .ok_or_else(|| AppError::not_found("world not found"))?;
        if !world.is_active {
            return Err(AppError::conflict(format!(
                "the world `{}` is closed",
                world.world_key
            )));
        }
        store::unbind_character(conn, character.id).await?;
        store::bind_session(conn, session_id, character.id).await?;
        Ok(character)
    })
    .await
}

/// Unbinds the character the viewer's session plays; whether one was bound.
pub async fn leave(conn: &mut AsyncPgConnection, viewer: &Viewer) -> AppResult<bool> {
    let session_id = viewer
        .session_id
        .ok_or_else(|| AppError::bad_input("an API key has no session to leave a world from"))?;
    store::unbind_session(conn, session_id).await
}

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

fn validate_character_name(name: &str) -> AppResult<String> {
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
async fn character_owner(
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
async fn insert_named(
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
async fn seed_profile(
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
