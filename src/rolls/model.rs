//! Rows of the dice domain.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{dice_roll_traits, dice_rolls};

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = dice_rolls, check_for_backend(diesel::pg::Pg))]
pub struct RollRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub user_id: Option<Uuid>,
    pub character_row_id: Option<Uuid>,
    pub campaign_row_id: Option<Uuid>,
    pub die_size: i32,
    pub pool: i32,
    pub difficulty: Option<i32>,
    pub dice: Vec<i32>,
    pub physical: bool,
    pub successes: i32,
    pub failures: i32,
    pub botches: i32,
    pub criticals: i32,
    pub total: i32,
    pub result: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = dice_roll_traits, check_for_backend(diesel::pg::Pg))]
pub struct TraitRow {
    pub roll_id: Uuid,
    pub tenant_id: Uuid,
    pub position: i32,
    pub name: String,
    pub trait_id: Option<String>,
}
