//! GraphQL: rolling dice, the roll history and RollStatistics. Every member of a tenant rolls
//! and sees the tenant's rolls; nothing crosses tenants.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::dice::RollResult;
use super::model::{RollRow, TraitRow};
use super::service::{self, RollRequest, Scope};
use super::store::{self, RollFilter, RollKey};
use crate::accounts::api::User;
use crate::auth::Viewer;
use crate::context::ContextExt;
use crate::db::connection::{connection_type, page_of};
use crate::db::cursor::ConnectionArgs;
use crate::db::keyset::Window;
use crate::db::pagination::{PageRequest, page_type};
use crate::db::parse_id;
use crate::entities::api::Entity;
use crate::error::{AppError, AppResult};

const MAX_TOP_TRAITS: i32 = 50;

pub struct DiceRoll {
    row: RollRow,
    traits: Vec<TraitRow>,
}

/// A roll of a dice pool.
#[Object]
impl DiceRoll {
    /// The roll's id.
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }

    /// Sides of each die (10 for the d10 rules).
    async fn die_size(&self) -> i32 {
        self.row.die_size
    }

    /// How many dice were rolled (1 to 100).
    async fn pool(&self) -> i32 {
        self.row.pool
    }

    /// The face a die must reach to succeed; null when none was given (the roll is OTHER).
    async fn difficulty(&self) -> Option<i32> {
        self.row.difficulty
    }

    /// The faces rolled, in order.
    async fn dice(&self) -> &[i32] {
        &self.row.dice
    }

    /// Rolled at the table and recorded, rather than rolled by the server.
    async fn physical(&self) -> bool {
        self.row.physical
    }

    /// Dice at or above the difficulty (tens aside).
    async fn successes(&self) -> i32 {
        self.row.successes
    }

    /// Dice from 2 to below the difficulty.
    async fn failures(&self) -> i32 {
        self.row.failures
    }

    /// Ones rolled (before tens cancel them).
    async fn botches(&self) -> i32 {
        self.row.botches
    }

    /// Tens rolled (before ones cancel them).
    async fn criticals(&self) -> i32 {
        self.row.criticals
    }

    /// Successes + 2 × criticals − botches once ones and tens cancel; the faces' sum for OTHER.
    async fn total(&self) -> i32 {
        self.row.total
    }

    /// How the roll came out.
    async fn result(&self) -> RollResult {
        RollResult::from_db(&self.row.result)
    }

    /// The traits the roll was made with, in the order given.
    async fn traits(&self) -> Vec<RollTrait> {
        self.traits
            .iter()
            .map(|t| RollTrait {
                name: t.name.clone(),
                trait_id: t.trait_id.clone(),
            })
            .collect()
    }

    /// Who rolled (null once their account is deleted).
    async fn user(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        User::load(ctx, self.row.user_id).await
    }

    /// The CHARACTER entity rolled for, while it is live.
    async fn character(&self, ctx: &Context<'_>) -> AppResult<Option<Entity>> {
        live_entity(ctx, self.row.character_row_id).await
    }

    /// The CAMPAIGN entity rolled in, while it is live.
    async fn campaign(&self, ctx: &Context<'_>) -> AppResult<Option<Entity>> {
        live_entity(ctx, self.row.campaign_row_id).await
    }

    /// When the roll was made.
    async fn rolled_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
}

async fn live_entity(ctx: &Context<'_>, row_id: Option<Uuid>) -> AppResult<Option<Entity>> {
    Entity::live(ctx, row_id).await
}

/// A trait a roll was made with.
#[derive(SimpleObject, InputObject, Clone)]
#[graphql(input_name = "RollTraitInput")]
pub struct RollTrait {
    /// 1 to 100 characters.
    pub name: String,
    /// The trait's id in the client's own system, if it has one.
    pub trait_id: Option<String>,
}

page_type! {
    /// A page of rolls, newest first.
    pub struct DiceRollPage {
        total,
        rolls: Vec<DiceRoll>,
    }
}

connection_type! {
    /// Rolls, newest first, a page at a time by cursor.
    pub struct DiceRollConnection;
    /// A roll and its cursor.
    pub struct DiceRollEdge(DiceRoll);
}

/// The rolls `window` holds of those `filter` selects, each with its traits.
async fn load_rolls(
    conn: &mut AsyncPgConnection,
    filter: &RollFilter,
    window: &Window<RollKey>,
) -> AppResult<(Option<i64>, Vec<DiceRoll>)> {
    let (total, rows) = store::list(conn, filter, window).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut traits = store::traits_of(conn, filter.tenant_id, &ids).await?;
    let rolls = rows
        .into_iter()
        .map(|row| DiceRoll {
            traits: traits.remove(&row.id).unwrap_or_default(),
            row,
        })
        .collect();
    Ok((total, rolls))
}

/// A trait among the most rolled.
#[derive(SimpleObject)]
pub struct TopTrait {
    /// The trait's name.
    pub name: String,
    /// How many rolls in scope were made with it.
    pub usage_count: i64,
    /// The trait's id in the client's own system, if it has one.
    pub trait_id: Option<String>,
}

/// Aggregated d10 roll statistics (seed 000): counts by result over the classified rolls in
/// scope (OTHER rolls stay out), plain means, and each percentage as count / total × 100
/// (0 without rolls).
#[derive(SimpleObject)]
pub struct RollStatistics {
    /// How many rolls came out BOTCH.
    pub botches: i64,
    /// How many rolls came out SUCCESS.
    pub successes: i64,
    /// How many rolls came out FAILURE.
    pub failures: i64,
    /// How many rolls came out CRITICAL.
    pub criticals: i64,
    /// How many classified rolls are in scope.
    pub total_rolls: i64,
    /// Null without rolls.
    pub average_difficulty: Option<f64>,
    /// Null without rolls.
    pub average_pool: Option<f64>,
    /// The most rolled traits, most used first.
    pub top_traits: Vec<TopTrait>,
    /// `successes` / `totalRolls` × 100.
    pub success_percentage: f64,
    /// `failures` / `totalRolls` × 100.
    pub failure_percentage: f64,
    /// `botches` / `totalRolls` × 100.
    pub botch_percentage: f64,
    /// `criticals` / `totalRolls` × 100.
    pub criticals_percentage: f64,
}

/// Whose rolls.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum RollScope {
    /// One user's (`userId`, or the viewer's).
    User,
    /// Those made for one CHARACTER entity (`characterId`).
    Character,
    /// Those made in one CAMPAIGN entity (`campaignId`).
    Campaign,
    /// The whole tenant's.
    Tenant,
}

/// The scope its arguments name (each scope needs its own).
fn scope_of<'a>(
    viewer: &Viewer,
    scope: RollScope,
    user_id: Option<&ID>,
    character_id: Option<&'a str>,
    campaign_id: Option<&'a str>,
) -> AppResult<Scope<'a>> {
    let required = |field: &'static str| {
        AppError::bad_field(field, format!("the {scope:?} scope needs `{field}`"))
    };
    Ok(match scope {
        RollScope::User => Scope::User(match user_id {
            Some(id) => parse_id("userId", id)?,
            None => viewer.user_id,
        }),
        RollScope::Character => {
            Scope::Character(character_id.ok_or_else(|| required("characterId"))?)
        }
        RollScope::Campaign => Scope::Campaign(campaign_id.ok_or_else(|| required("campaignId"))?),
        RollScope::Tenant => Scope::Tenant,
    })
}

/// The filter of the scope its arguments name, in the viewer's tenant.
async fn scope_filter(
    ctx: &Context<'_>,
    conn: &mut AsyncPgConnection,
    scope: RollScope,
    user_id: Option<ID>,
    character_id: Option<String>,
    campaign_id: Option<String>,
) -> AppResult<RollFilter> {
    let viewer = ctx.viewer()?;
    let scope = scope_of(
        viewer,
        scope,
        user_id.as_ref(),
        character_id.as_deref(),
        campaign_id.as_deref(),
    )?;
    service::filter(conn, viewer, scope).await
}

fn percentage(count: i64, total: i64) -> f64 {
    if total == 0 {
        0.0
    } else {
        count as f64 / total as f64 * 100.0
    }
}

fn mean(sum: i64, count: i64) -> Option<f64> {
    (count > 0).then(|| sum as f64 / count as f64)
}

#[derive(Default)]
pub struct RollQuery;

#[Object]
impl RollQuery {
    /// Rolls in a scope, newest first.
    #[allow(clippy::too_many_arguments)]
    async fn dice_rolls(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default_with = "RollScope::Tenant",
            desc = "Whose rolls to list; the whole tenant's when absent."
        )]
        scope: RollScope,
        #[graphql(desc = "For USER: the user's id; the viewer's when absent.")] user_id: Option<ID>,
        #[graphql(desc = "For CHARACTER: the CHARACTER entity's entityId.")] character_id: Option<
            String,
        >,
        #[graphql(desc = "For CAMPAIGN: the CAMPAIGN entity's entityId.")] campaign_id: Option<
            String,
        >,
        #[graphql(desc = "How many rolls to skip: 0 to 10,000, 0 when absent.")] offset: Option<
            i32,
        >,
        #[graphql(desc = "How many rolls to return: 1 to 200, 50 when absent.")] limit: Option<i32>,
    ) -> AppResult<DiceRollPage> {
        let page = PageRequest::new(offset, limit)?;
        let mut conn = ctx.conn().await?;
        let filter =
            scope_filter(ctx, &mut conn, scope, user_id, character_id, campaign_id).await?;
        let (total, rolls) = load_rolls(&mut conn, &filter, &Window::Offset(page)).await?;
        Ok(DiceRollPage::new(total.unwrap_or_default(), page, rolls))
    }

    /// Rolls in a scope by cursor, newest first (as `diceRolls`, as deep as the list goes).
    #[allow(clippy::too_many_arguments)]
    async fn dice_rolls_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default_with = "RollScope::Tenant",
            desc = "Whose rolls to list; the whole tenant's when absent."
        )]
        scope: RollScope,
        #[graphql(desc = "For USER: the user's id; the viewer's when absent.")] user_id: Option<ID>,
        #[graphql(desc = "For CHARACTER: the CHARACTER entity's entityId.")] character_id: Option<
            String,
        >,
        #[graphql(desc = "For CAMPAIGN: the CAMPAIGN entity's entityId.")] campaign_id: Option<
            String,
        >,
        #[graphql(
            desc = "How many rolls to return after `after`: 1 to 200, 50 when neither \
                          `first` nor `last` is given."
        )]
        first: Option<i32>,
        #[graphql(desc = "The cursor to go on after (an `endCursor`); the start when absent.")]
        after: Option<String>,
        #[graphql(desc = "How many rolls to return before `before`: 1 to 200.")] last: Option<i32>,
        #[graphql(
            desc = "The cursor to go back from (a `startCursor`); the end when absent \
                          and `last` is given."
        )]
        before: Option<String>,
    ) -> AppResult<DiceRollConnection> {
        let mut conn = ctx.conn().await?;
        let filter =
            scope_filter(ctx, &mut conn, scope, user_id, character_id, campaign_id).await?;
        // The rolls a scope selects are those of its user, character or campaign.
        let cursors = ctx.cursors(format!(
            "diceRolls/{:?}/{:?}/{:?}",
            filter.user_id, filter.character_row_id, filter.campaign_row_id
        ))?;
        let window = cursors.window::<RollKey>(ConnectionArgs {
            first,
            after,
            last,
            before,
        })?;
        let (_, rolls) = load_rolls(&mut conn, &filter, &Window::Keyset(window.clone())).await?;
        let page = page_of(
            rolls,
            &window,
            &cursors,
            |roll| (roll.row.created_at, roll.row.id),
            |roll| roll,
        );
        Ok(page.into())
    }

    /// Statistics of the d10 rolls in a scope (default: the viewer's own).
    async fn roll_statistics(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default_with = "RollScope::User",
            desc = "Whose rolls to count; the viewer's own when absent."
        )]
        scope: RollScope,
        #[graphql(desc = "For USER: the user's id; the viewer's when absent.")] user_id: Option<ID>,
        #[graphql(desc = "For CHARACTER: the CHARACTER entity's entityId.")] character_id: Option<
            String,
        >,
        #[graphql(desc = "For CAMPAIGN: the CAMPAIGN entity's entityId.")] campaign_id: Option<
            String,
        >,
        #[graphql(
            default = 5,
            desc = "How many of the most rolled traits to list: 0 to 50."
        )]
        top_traits: i32,
    ) -> AppResult<RollStatistics> {
        if !(0..=MAX_TOP_TRAITS).contains(&top_traits) {
            return Err(AppError::bad_field(
                "topTraits",
                format!("topTraits must be between 0 and {MAX_TOP_TRAITS}"),
            ));
        }
        let mut conn = ctx.conn().await?;
        let filter =
            scope_filter(ctx, &mut conn, scope, user_id, character_id, campaign_id).await?;
        let counts = store::counts(&mut conn, &filter).await?;
        let top = if top_traits == 0 {
            Vec::new()
        } else {
            store::top_traits(&mut conn, &filter, top_traits.into()).await?
        };
        let count = |result: RollResult| {
            counts
                .by_result
                .get(result.as_str())
                .copied()
                .unwrap_or_default()
        };
        let total = counts.rolls;
        Ok(RollStatistics {
            botches: count(RollResult::Botch),
            successes: count(RollResult::Success),
            failures: count(RollResult::Failure),
            criticals: count(RollResult::Critical),
            total_rolls: total,
            average_difficulty: mean(counts.difficulty_sum, counts.with_difficulty),
            average_pool: mean(counts.pool_sum, total),
            top_traits: top
                .into_iter()
                .map(|(name, trait_id, usage_count)| TopTrait {
                    name,
                    usage_count,
                    trait_id,
                })
                .collect(),
            success_percentage: percentage(count(RollResult::Success), total),
            failure_percentage: percentage(count(RollResult::Failure), total),
            botch_percentage: percentage(count(RollResult::Botch), total),
            criticals_percentage: percentage(count(RollResult::Critical), total),
        })
    }
}

#[derive(Default)]
pub struct RollMutation;

#[Object]
impl RollMutation {
    /// Rolls `pool` dice of `dieSize` sides against `difficulty` (d10 pools are classified by
    /// the rules; others are OTHER) and records the roll. `dice` records faces rolled at the
    /// table instead of rolling. `characterId` / `campaignId` are entityIds of the tenant's
    /// CHARACTER / CAMPAIGN entities.
    #[allow(clippy::too_many_arguments)]
    async fn roll_dice(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many dice to roll: 1 to 100.")] pool: i32,
        #[graphql(desc = "The face a die must reach to succeed: 2 up to `dieSize`.")]
        difficulty: Option<i32>,
        #[graphql(default = 10, desc = "Sides of each die: 2 to 1000.")] die_size: i32,
        #[graphql(default, desc = "The traits rolled with, at most 20.")] traits: Vec<RollTrait>,
        #[graphql(desc = "The entityId of the CHARACTER entity rolled for.")] character_id: Option<
            String,
        >,
        #[graphql(desc = "The entityId of the CAMPAIGN entity rolled in.")] campaign_id: Option<
            String,
        >,
        #[graphql(desc = "Faces rolled at the table, one per die, to record instead of rolling.")]
        dice: Option<Vec<i32>>,
    ) -> AppResult<DiceRoll> {
        let viewer = ctx.viewer()?;
        let request = RollRequest {
            pool,
            die_size,
            difficulty,
            traits: traits.into_iter().map(|t| (t.name, t.trait_id)).collect(),
            character_id: character_id.as_deref(),
            campaign_id: campaign_id.as_deref(),
            dice,
        };
        let mut conn = ctx.conn().await?;
        let (row, traits) = service::roll(&mut conn, viewer, request).await?;
        Ok(DiceRoll { row, traits })
    }
}
