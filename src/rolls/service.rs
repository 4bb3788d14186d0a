//! The rolls' rules: what a roll may name, rolling its dice or checking those rolled at the
//! table, and which rolls a scope selects (entities named by id, within the viewer's tenant).

use chrono::Utc;
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::dice::Pool;
use super::model::{RollRow, TraitRow};
use super::store::{self, RollFilter};
use crate::auth::Viewer;
use crate::db::validate_text;
use crate::entities::service::{self as entities, EntityType};
use crate::error::{AppError, AppResult};

/// A roll may name at most this many traits.
const MAX_TRAITS: usize = 20;

/// A roll to make (or, with `dice`, to record as rolled at the table).
pub struct RollRequest<'a> {
    pub pool: i32,
    pub die_size: i32,
    pub difficulty: Option<i32>,
    /// Each trait's name and, optionally, its id in the client's own system.
    pub traits: Vec<(String, Option<String>)>,
    /// The entityId of the tenant's CHARACTER it was made for.
    pub character_id: Option<&'a str>,
    /// The entityId of the tenant's CAMPAIGN it was made in.
    pub campaign_id: Option<&'a str>,
    /// The faces rolled at the table; rolled here when absent.
    pub dice: Option<Vec<i32>>,
}

/// Rolls (or records) the viewer's roll, classified by the rules, with its traits in order.
pub async fn roll(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    request: RollRequest<'_>,
) -> AppResult<(RollRow, Vec<TraitRow>)> {
    let dice_pool = Pool::new(request.pool, request.die_size, request.difficulty)?;
    validate_traits(&request.traits)?;
    let physical = request.dice.is_some();
    let dice = match request.dice {
        Some(dice) => {
            dice_pool.check_rolled(&dice)?;
            dice
        }
        None => dice_pool.roll(),
    };
    let tally = dice_pool.classify(&dice);
    let character_row_id = match request.character_id {
        Some(id) => {
            Some(entity_row_id(conn, viewer, "characterId", EntityType::Character, id).await?)
        }
        None => None,
    };
    let campaign_row_id = match request.campaign_id {
        Some(id) => {
            Some(entity_row_id(conn, viewer, "campaignId", EntityType::Campaign, id).await?)
        }
        None => None,
    };
    let id = Uuid::now_v7();
    let row = RollRow {
        id,
        tenant_id: viewer.tenant_id,
        user_id: Some(viewer.user_id),
        character_row_id,
        campaign_row_id,
        die_size: request.die_size,
        pool: request.pool,
        difficulty: request.difficulty,
        dice,
        physical,
        successes: tally.successes,
        failures: tally.failures,
        botches: tally.botches,
        criticals: tally.criticals,
        total: tally.total,
        result: tally.result.as_str().to_owned(),
        created_at: Utc::now(),
    };
    let traits: Vec<TraitRow> = request
        .traits
        .into_iter()
        .zip(0..)
        .map(|((name, trait_id), position)| TraitRow {
            roll_id: id,
            tenant_id: row.tenant_id,
            position,
            name: name.trim().to_owned(),
            trait_id,
        })
        .collect();
    let row = store::insert(conn, &row, &traits).await?;
    Ok((row, traits))
}

fn validate_traits(traits: &[(String, Option<String>)]) -> AppResult<()> {
    if traits.len() > MAX_TRAITS {
        return Err(AppError::bad_field(
            "traits",
            format!("a roll names at most {MAX_TRAITS} traits"),
        ));
    }
    for (name, trait_id) in traits {
        validate_text("traits", name, 100)?;
        if name.trim().is_empty() {
            return Err(AppError::bad_field("traits", "a trait needs a name"));
        }
        if let Some(id) = trait_id {
            validate_text("traits", id, 100)?;
        }
    }
    Ok(())
}

/// Whose rolls: one user's, those made for a CHARACTER or in a CAMPAIGN (by entityId), or the
/// whole tenant's.
#[derive(Clone, Copy, Debug)]
pub enum Scope<'a> {
    User(Uuid),
    Character(&'a str),
    Campaign(&'a str),
    Tenant,
}

/// The filter that selects a scope's rolls in the viewer's tenant; NOT_FOUND for an entity
/// the tenant does not have.
pub async fn filter(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    scope: Scope<'_>,
) -> AppResult<RollFilter> {
    let mut filter = RollFilter {
        tenant_id: viewer.tenant_id,
        user_id: None,
        character_row_id: None,
        campaign_row_id: None,
    };
    match scope {
        Scope::User(user_id) => filter.user_id = Some(user_id),
        Scope::Character(id) => {
            filter.character_row_id =
                Some(entity_row_id(conn, viewer, "characterId", EntityType::Character, id).await?);
        }
        Scope::Campaign(id) => {
            filter.campaign_row_id =
                Some(entity_row_id(conn, viewer, "campaignId", EntityType::Campaign, id).await?);
        }
        Scope::Tenant => {}
    }
    Ok(filter)
}

/// The row id of the viewer's tenant's live entity of `entity_type` called `entity_id`;
/// NOT_FOUND naming the argument otherwise.
async fn entity_row_id(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    field: &'static str,
    entity_type: EntityType,
    entity_id: &str,
) -> AppResult<Uuid> {
    entities::find_live(conn, viewer.tenant_id, entity_type, entity_id)
        .await?
        .map(|row| row.id)
        .ok_or_else(|| {
            AppError::not_found(format!(
                "`{field}`: there is no {entity_type:?} `{entity_id}` here"
            ))
        })
}
