//! Rows of the assemblies domain: a filled slot and the assets in it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{assembly_slot_assets, assembly_slots};

/// A slot an assembly fills: where it sits and how it is drawn.
#[derive(Queryable, Selectable, Clone, Debug, PartialEq)]
#[diesel(table_name = assembly_slots, check_for_backend(diesel::pg::Pg))]
pub struct SlotRow {
    pub tenant_id: Uuid,
    pub assembly_row_id: Uuid,
    pub slot_group: String,
    pub slot_name: String,
    pub position: i32,
    pub offset_x: f64,
    pub offset_y: f64,
    pub scale: f64,
    pub rotation: f64,
    pub z_index: Option<i32>,
    pub overlay_mode: Option<String>,
    pub updated_by: Option<Uuid>,
    pub updated_at: DateTime<Utc>,
}

impl SlotRow {
    /// `group.name`, as locks and rules name a slot.
    pub fn path(&self) -> String {
        format!("{}.{}", self.slot_group, self.slot_name)
    }
}

/// An asset in a slot, under a variant key ('' for the slot's default image).
#[derive(Queryable, Selectable, Insertable, Clone, Debug, PartialEq)]
#[diesel(table_name = assembly_slot_assets, check_for_backend(diesel::pg::Pg))]
pub struct SlotAssetRow {
    pub tenant_id: Uuid,
    pub assembly_row_id: Uuid,
    pub slot_group: String,
    pub slot_name: String,
    pub variant_key: String,
    pub asset_id: Uuid,
}

/// How a slot's image is placed (transformSlot): every part optional, a part left out is kept.
#[derive(Clone, Debug, Default)]
pub struct Transform {
    pub offset_x: Option<f64>,
    pub offset_y: Option<f64>,
    pub scale: Option<f64>,
    pub rotation: Option<f64>,
    /// `Some(None)`: back to the definition's.
    pub z_index: Option<Option<i32>>,
    pub overlay_mode: Option<Option<String>>,
}
