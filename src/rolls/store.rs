//! Queries of the dice domain, always within one tenant.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::dsl::{count_star, sum};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::dice::RollResult;
use super::model::{RollRow, TraitRow};
use crate::db::keyset::{Window, load_window, windowed};
use crate::db::schema::{dice_roll_traits, dice_rolls};
use crate::error::{AppError, AppResult};

/// Which rolls: those of one tenant, narrowed to a user, a character or a campaign.
#[derive(Clone, Copy, Debug)]
pub struct RollFilter {
    pub tenant_id: Uuid,
    pub user_id: Option<Uuid>,
    pub character_row_id: Option<Uuid>,
    pub campaign_row_id: Option<Uuid>,
}

/// Narrows a query whose FROM clause holds `dice_rolls` to the rolls a `RollFilter` selects
/// (boxing it, after any GROUP BY).
macro_rules! in_scope {
    ($query:expr, $filter:expr) => {{
        let filter: &RollFilter = $filter;
        let mut query = $query
            .filter(dice_rolls::tenant_id.eq(filter.tenant_id))
            .into_boxed();
        if let Some(user_id) = filter.user_id {
            query = query.filter(dice_rolls::user_id.eq(user_id));
        }
        if let Some(id) = filter.character_row_id {
            query = query.filter(dice_rolls::character_row_id.eq(id));
        }
        if let Some(id) = filter.campaign_row_id {
            query = query.filter(dice_rolls::campaign_row_id.eq(id));
        }
        query
    }};
}

/// Only the rolls the d10 statistics are about (OTHER stays out).
fn classified() -> diesel::dsl::NotEq<dice_rolls::result, &'static str> {
    dice_rolls::result.ne(RollResult::Other.as_str())
}

/// Stores a roll and its traits in one transaction.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    roll: &RollRow,
    traits: &[TraitRow],
) -> AppResult<RollRow> {
    conn.transaction::<_, AppError, _>(async |conn| {
        let row = diesel::insert_into(dice_rolls::table)
            .values(roll)
            .returning(RollRow::as_returning())
            .get_result(conn)
            .await?;
        if !traits.is_empty() {
            diesel::insert_into(dice_roll_traits::table)
                .values(traits)
                .execute(conn)
                .await?;
        }
        Ok(row)
    })
    .await
}

/// Where a roll sits in the list: when it was made, and its id.
pub type RollKey = (DateTime<Utc>, Uuid);

/// A page of rolls, newest first: an offset page with how many there are in all, or a page
/// by cursor.
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: &RollFilter,
    window: &Window<RollKey>,
) -> AppResult<(Option<i64>, Vec<RollRow>)> {
    let rows = windowed!(
        in_scope!(dice_rolls::table, filter),
        window.clone(),
        desc(dice_rolls::created_at, dice_rolls::id)
    )
    .select(RollRow::as_select());
    load_window(
        conn,
        window,
        rows,
        in_scope!(dice_rolls::table.count(), filter),
    )
    .await
}

/// The traits of these rolls, in their order, by roll.
pub async fn traits_of(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    roll_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<TraitRow>>> {
    let rows: Vec<TraitRow> = dice_roll_traits::table
        .filter(dice_roll_traits::tenant_id.eq(tenant_id))
        .filter(dice_roll_traits::roll_id.eq_any(roll_ids))
        .order((dice_roll_traits::roll_id, dice_roll_traits::position))
        .select(TraitRow::as_select())
        .load(conn)
        .await?;
    let mut by_roll: HashMap<Uuid, Vec<TraitRow>> = HashMap::new();
    for row in rows {
        by_roll.entry(row.roll_id).or_default().push(row);
    }
    Ok(by_roll)
}

/// Counts of classified rolls by result, with the sums the averages need.
#[derive(Default, Debug)]
pub struct Counts {
    pub by_result: HashMap<&'static str, i64>,
    pub rolls: i64,
    pub pool_sum: i64,
    pub difficulty_sum: i64,
    pub with_difficulty: i64,
}

/// One result's rolls, as the statistics query groups them.
#[derive(Queryable)]
struct ResultGroup {
    result: String,
    rolls: i64,
    pool_sum: Option<i64>,
    difficulty_sum: Option<i64>,
    with_difficulty: i64,
}

pub async fn counts(conn: &mut AsyncPgConnection, filter: &RollFilter) -> AppResult<Counts> {
    let groups: Vec<ResultGroup> = in_scope!(
        dice_rolls::table
            .filter(classified())
            .group_by(dice_rolls::result)
            .select((
                dice_rolls::result,
                count_star(),
                sum(dice_rolls::pool),
                sum(dice_rolls::difficulty),
                diesel::dsl::count(dice_rolls::difficulty),
            )),
        filter
    )
    .load(conn)
    .await?;
    let mut counts = Counts::default();
    for ResultGroup {
        result,
        rolls,
        pool_sum,
        difficulty_sum,
        with_difficulty,
    } in groups
    {
        *counts
            .by_result
            .entry(RollResult::from_db(&result).as_str())
            .or_default() += rolls;
        counts.rolls += rolls;
        counts.pool_sum += pool_sum.unwrap_or(0);
        counts.difficulty_sum += difficulty_sum.unwrap_or(0);
        counts.with_difficulty += with_difficulty;
    }
    Ok(counts)
}

/// The most rolled traits among the classified rolls: (name, trait id, uses), most used first.
pub async fn top_traits(
    conn: &mut AsyncPgConnection,
    filter: &RollFilter,
    limit: i64,
) -> AppResult<Vec<(String, Option<String>, i64)>> {
    Ok(in_scope!(
        dice_roll_traits::table
            .inner_join(
                dice_rolls::table.on(dice_rolls::tenant_id
                    .eq(dice_roll_traits::tenant_id)
                    .and(dice_rolls::id.eq(dice_roll_traits::roll_id))),
            )
            .filter(classified())
            .group_by((dice_roll_traits::name, dice_roll_traits::trait_id))
            .select((
                dice_roll_traits::name,
                dice_roll_traits::trait_id,
                count_star(),
            )),
        filter
    )
    .order((count_star().desc(), dice_roll_traits::name.asc()))
    .limit(limit)
    .load(conn)
    .await?)
}
