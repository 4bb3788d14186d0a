//! GraphQL: the inventory. Any member reads the items, their categories and exports;
//! WORLDBUILDER and above import. Items are ITEM entities: they are created, changed and
//! deleted as any entity (`createEntity(type: ITEM, ...)`).

use std::sync::Arc;

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};

use super::service::{self, ImportAction, ImportedItem, ItemFilter};
use crate::context::ContextExt;
use crate::entities::api::Entity;
use crate::entities::service::TemplateBook;
use crate::error::{AppError, AppResult};
use crate::sync::service::ImportMode;

/// Most items one list answers.
const MAX_LISTED: i32 = 500;

/// How items are written.
#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum ItemFormat {
    /// loregraph's JSON: every field and the body (`{"format": "loregraph.items", "items": [...]}`).
    Json,
    /// UEFN Verse item definitions: id, name and the item subset (type, category, rarity,
    /// description, value, base price, weight, stack sizes, game id, tradeable, tags).
    Verse,
}

/// Which items.
#[derive(InputObject, Default)]
pub struct ItemFilterInput {
    /// Items of this category (any case).
    pub category: Option<String>,
    /// Items of this type (`weapon`, `consumable`...).
    pub item_type: Option<String>,
    /// Items of this rarity.
    pub rarity: Option<String>,
}

impl From<ItemFilterInput> for ItemFilter {
    fn from(input: ItemFilterInput) -> Self {
        Self {
            category: input.category,
            item_type: input.item_type,
            rarity: input.rarity,
        }
    }
}

/// A page of items, by name.
#[derive(SimpleObject)]
pub struct ItemList {
    /// How many items the filter keeps.
    pub total: i32,
    /// False when the inventory is larger than is read at once (10,000 items).
    pub complete: bool,
    /// The page's items.
    pub items: Vec<Entity>,
}

/// A value and how many items hold it.
#[derive(SimpleObject)]
pub struct ItemCount {
    /// The value ("" for items that give none).
    pub value: String,
    /// How many items hold it.
    pub count: i32,
}

/// What the inventory holds.
#[derive(SimpleObject)]
pub struct ItemCategories {
    /// Items by `category`.
    pub categories: Vec<ItemCount>,
    /// Items by `item_type`.
    pub item_types: Vec<ItemCount>,
    /// Items by `rarity`.
    pub rarities: Vec<ItemCount>,
    /// False when the inventory is larger than is read at once (10,000 items).
    pub complete: bool,
}

/// Items written out.
#[derive(SimpleObject)]
pub struct ItemExport {
    /// How they are written.
    pub format: ItemFormat,
    /// The JSON or Verse text.
    pub content: String,
    /// How many items it holds.
    pub count: i32,
    /// What the format could not carry (Verse: a weight given as text, a rarity it does not
    /// know).
    pub left_out: Vec<String>,
    /// False when the inventory is larger than is read at once (10,000 items).
    pub complete: bool,
}

/// One item of an import.
#[derive(SimpleObject)]
pub struct ImportedItemResult {
    /// The item's id.
    pub id: String,
    /// What happened to it (or would).
    pub action: ImportAction,
    /// What its template says is wrong with it (saved all the same, as any write).
    pub validation_errors: Vec<String>,
}

/// What an import did, or would do.
#[derive(SimpleObject)]
pub struct ItemImport {
    /// Whether it was written (APPLY).
    pub applied: bool,
    /// Each item.
    pub items: Vec<ImportedItemResult>,
    /// How many are new.
    pub created: i32,
    /// How many change.
    pub updated: i32,
    /// How many already held this.
    pub unchanged: i32,
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn counts(pairs: Vec<(String, usize)>) -> Vec<ItemCount> {
    pairs
        .into_iter()
        .map(|(value, n)| ItemCount {
            value,
            count: count(n),
        })
        .collect()
}

#[derive(Default)]
pub struct InventoryQuery;

#[Object]
impl InventoryQuery {
    /// The tenant's items by name, filtered by category, type or rarity.
    async fn inventory_items(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which items.")] filter: Option<ItemFilterInput>,
        #[graphql(desc = "At most this many (1 to 500; 50 by default).")] limit: Option<i32>,
        #[graphql(desc = "Skip this many first.")] offset: Option<i32>,
    ) -> AppResult<ItemList> {
        let viewer = ctx.viewer()?;
        let limit = limit.unwrap_or(50);
        if !(1..=MAX_LISTED).contains(&limit) || offset.is_some_and(|o| o < 0) {
            return Err(AppError::bad_input(format!(
                "limit is 1 to {MAX_LISTED} and offset 0 or more"
            )));
        }
        let mut conn = ctx.conn().await?;
        let (rows, complete) = service::all_items(&mut conn, viewer).await?;
        let filter = ItemFilter::from(filter.unwrap_or_default());
        let kept: Vec<_> = rows.into_iter().filter(|row| filter.keeps(row)).collect();
        Ok(ItemList {
            total: count(kept.len()),
            complete,
            items: kept
                .into_iter()
                .skip(offset.unwrap_or(0) as usize)
                .take(limit as usize)
                .map(Entity::from)
                .collect(),
        })
    }

    /// The inventory's categories, item types and rarities, each with how many items hold it.
    async fn item_categories(&self, ctx: &Context<'_>) -> AppResult<ItemCategories> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        let (rows, complete) = service::all_items(&mut conn, viewer).await?;
        Ok(ItemCategories {
            categories: counts(service::counted(&rows, "category")),
            item_types: counts(service::counted(&rows, "item_type")),
            rarities: counts(service::counted(&rows, "rarity")),
            complete,
        })
    }

    /// The items (all, or the filter's) as JSON or Verse.
    async fn export_items(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "JSON or VERSE.")] format: ItemFormat,
        #[graphql(desc = "Which items.")] filter: Option<ItemFilterInput>,
    ) -> AppResult<ItemExport> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        let (rows, complete) = service::all_items(&mut conn, viewer).await?;
        drop(conn);
        let filter = ItemFilter::from(filter.unwrap_or_default());
        let rows: Vec<_> = rows.into_iter().filter(|row| filter.keeps(row)).collect();
        let n = count(rows.len());
        let (content, left_out) = tokio::task::spawn_blocking(move || match format {
            ItemFormat::Json => serde_json::to_string_pretty(&service::to_json(&rows))
                .map(|text| (text, Vec::new()))
                .map_err(AppError::internal),
            ItemFormat::Verse => Ok(service::to_verse(&rows)),
        })
        .await
        .map_err(AppError::internal)??;
        Ok(ItemExport {
            format,
            content,
            count: n,
            left_out,
            complete,
        })
    }
}

#[derive(Default)]
pub struct InventoryMutation;

#[Object]
impl InventoryMutation {
    /// Imports items from JSON (whole items) or Verse (the item subset laid over what each
    /// item holds): PREVIEW says what would happen, APPLY writes all or nothing; every item is
    /// validated as any write.
    async fn import_items(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "JSON or VERSE.")] format: ItemFormat,
        #[graphql(desc = "The text (up to 16 MiB of JSON, 4 MiB of Verse, 10,000 items).")]
        content: String,
        #[graphql(desc = "PREVIEW (the default) or APPLY.")] mode: Option<ImportMode>,
    ) -> AppResult<ItemImport> {
        let viewer = ctx.viewer_with(crate::auth::Role::Worldbuilder)?;
        let incoming = tokio::task::spawn_blocking(move || match format {
            ItemFormat::Json => service::read_json(&content),
            ItemFormat::Verse => service::read_verse(&content),
        })
        .await
        .map_err(AppError::internal)??;
        let platform = ctx.platform();
        let catalog = ctx
            .part::<Arc<TemplateBook>>()?
            .for_tenant(&platform.pool, viewer.tenant_id)
            .await?;
        let apply = mode == Some(ImportMode::Apply);
        let mut conn = ctx.conn().await?;
        let items = service::import(platform, &catalog, &mut conn, viewer, incoming, apply).await?;
        let of = |action| count(items.iter().filter(|i| i.action == action).count());
        Ok(ItemImport {
            applied: apply,
            created: of(ImportAction::Created),
            updated: of(ImportAction::Updated),
            unchanged: of(ImportAction::Unchanged),
            items: items
                .into_iter()
                .map(
                    |ImportedItem {
                         id,
                         action,
                         validation_errors,
                     }| ImportedItemResult {
                        id,
                        action,
                        validation_errors,
                    },
                )
                .collect(),
        })
    }
}
