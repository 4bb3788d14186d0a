//! The studio's inventory: its ITEM entities read whole (categories, types and rarities counted,
//! filtered lists), exported as JSON (every field) or Verse (the item subset), and imported
//! from either — previewed, or applied in one transaction through the entities domain (each
//! item validated as any write, announced after the commit).

use std::collections::BTreeMap;

use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use serde_json::{Map, Value, json};

use super::verse::{self, VerseItem};
use crate::auth::{Role, Viewer};
use crate::context::Platform;
use crate::db::pagination::PageRequest;
use crate::entities::service::{
    self as entities, EntityContent, EntityRow, EntityStatus, EntityType, Replaced, TemplateCatalog,
};
use crate::error::{AppError, AppResult};
use crate::teams::service::{self as teams, Permission};

/// Most items read at once (a tenant's inventory past this is read in part, and says so).
pub const MAX_ITEMS: usize = 10_000;
/// Most bytes of JSON an import reads.
pub const MAX_JSON_BYTES: usize = 16 * 1024 * 1024;
const PAGE: i64 = 1_000;

/// The tenant's live items by name (at most [`MAX_ITEMS`]), and whether that is all of them.
pub async fn all_items(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
) -> AppResult<(Vec<EntityRow>, bool)> {
    let mut items = Vec::new();
    loop {
        let page = PageRequest {
            offset: items.len() as i64,
            limit: PAGE,
        };
        let (total, rows) =
            entities::live_of_type(conn, viewer.tenant_id, EntityType::Item, page).await?;
        let last = rows.len() < PAGE as usize;
        items.extend(rows);
        if last || items.len() >= MAX_ITEMS {
            items.truncate(MAX_ITEMS);
            return Ok((items, total as usize <= MAX_ITEMS));
        }
    }
}

fn text_field<'a>(row: &'a EntityRow, key: &str) -> Option<&'a str> {
    row.fields
        .value()
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// What an item list is asked for.
#[derive(Default)]
pub struct ItemFilter {
    pub category: Option<String>,
    pub item_type: Option<String>,
    pub rarity: Option<String>,
}

impl ItemFilter {
    pub fn keeps(&self, row: &EntityRow) -> bool {
        let is = |key: &str, wanted: &Option<String>| {
            wanted
                .as_deref()
                .is_none_or(|w| text_field(row, key).is_some_and(|v| v.eq_ignore_ascii_case(w)))
        };
        is("category", &self.category)
            && is("item_type", &self.item_type)
            && is("rarity", &self.rarity)
    }
}

/// How many items hold each value of `key` ("" for none), by value.
pub fn counted(rows: &[EntityRow], key: &str) -> Vec<(String, usize)> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for row in rows {
        *counts
            .entry(text_field(row, key).unwrap_or_default().to_owned())
            .or_default() += 1;
    }
    counts.into_iter().collect()
}

/// The items as loregraph's JSON (every field and the body).
pub fn to_json(rows: &[EntityRow]) -> Value {
    json!({
        "format": "loregraph.items",
        "version": 1,
        "items": rows.iter().map(|row| json!({
            "id": row.entity_id,
            "name": row.name,
            "status": row.status,
            "fields": row.fields.value(),
            "markdown_body": row.markdown_body,
        })).collect::<Vec<_>>(),
    })
}

/// The items as a Verse module, and what it could not carry.
pub fn to_verse(rows: &[EntityRow]) -> (String, Vec<String>) {
    let items: Vec<VerseItem> = rows
        .iter()
        .map(|row| VerseItem {
            id: row.entity_id.clone(),
            name: row.name.clone(),
            fields: verse::carried_keys()
                .filter_map(|key| Some((key.to_owned(), row.fields.value().get(key)?.clone())))
                .collect(),
        })
        .collect();
    verse::write(&items)
}

/// What an import brings: whole items (JSON), or the Verse subset laid over what the items
/// hold.
pub enum Incoming {
    Whole(Vec<EntityContent>),
    Verse(Vec<VerseItem>),
}

/// Reads loregraph's JSON (`{"items": [...]}` or the bare list).
pub fn read_json(text: &str) -> AppResult<Incoming> {
    if text.len() > MAX_JSON_BYTES {
        return Err(AppError::PayloadTooLarge(format!(
            "an import reads at most {} MiB of JSON",
            MAX_JSON_BYTES >> 20
        )));
    }
    let doc: Value = serde_json::from_str(text)
        .map_err(|e| AppError::bad_field("content", format!("the JSON does not read: {e}")))?;
    let list = match &doc {
        Value::Array(items) => items,
        Value::Object(map) => map
            .get("items")
            .and_then(Value::as_array)
            .ok_or_else(|| AppError::bad_field("content", "the JSON has no `items` list"))?,
        _ => {
            return Err(AppError::bad_field(
                "content",
                "the JSON is not a list of items",
            ));
        }
    };
    if list.len() > MAX_ITEMS {
        return Err(AppError::bad_field(
            "content",
            format!("more than {MAX_ITEMS} items"),
        ));
    }
    let mut problems = Vec::new();
    let mut items = Vec::new();
    for (at, item) in list.iter().enumerate() {
        let text = |key: &str| item.get(key).and_then(Value::as_str).map(str::to_owned);
        let (Some(id), Some(name)) = (text("id"), text("name")) else {
            problems.push(format!("items[{at}] has no id or no name"));
            continue;
        };
        let status = match text("status") {
            None => EntityStatus::default(),
            Some(s) => match EntityStatus::from_slug(&s) {
                Some(status) => status,
                None => {
                    problems.push(format!("items[{at}] ({id}): {s} is not a status"));
                    continue;
                }
            },
        };
        let fields = match item.get("fields") {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(Value::Object(map)) => Value::Object(map.clone()),
            Some(_) => {
                problems.push(format!("items[{at}] ({id}): fields is not a mapping"));
                continue;
            }
        };
        items.push(EntityContent {
            entity_id: id,
            name,
            status,
            fields,
            markdown_body: text("markdown_body").unwrap_or_default(),
        });
    }
    if problems.is_empty() {
        Ok(Incoming::Whole(items))
    } else {
        let more = problems.len().saturating_sub(50);
        problems.truncate(50);
        if more > 0 {
            problems.push(format!("... and {more} more"));
        }
        Err(AppError::bad_field("content", problems.join("; ")))
    }
}

/// Reads a Verse module of item definitions.
pub fn read_verse(text: &str) -> AppResult<Incoming> {
    verse::read(text)
        .map(Incoming::Verse)
        .map_err(|problems| AppError::bad_field("content", problems.join("; ")))
}

/// What happened, or would, to one item.
pub struct ImportedItem {
    pub id: String,
    pub action: ImportAction,
    /// What the item's template says is wrong with it (saved all the same, as any write).
    pub validation_errors: Vec<String>,
}

/// What an import did (or would do) to an item.
#[derive(Clone, Copy, PartialEq, Eq, Debug, async_graphql::Enum)]
pub enum ImportAction {
    /// A new item.
    Created,
    /// An item whose content changes.
    Updated,
    /// An item that already holds this.
    Unchanged,
}

/// A refusal of one item's content, naming the item.
fn named(id: &str, error: AppError) -> AppError {
    match error {
        AppError::BadInput { message, .. } | AppError::Unprocessable { message, .. } => {
            AppError::bad_field("content", format!("{id}: {message}"))
        }
        other => other,
    }
}

/// Imports items: previewed (nothing written), or applied in one transaction (WORLDBUILDER
/// with the team permission to edit items, in both modes).
pub async fn import(
    platform: &Platform,
    catalog: &TemplateCatalog,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    incoming: Incoming,
    apply: bool,
) -> AppResult<Vec<ImportedItem>> {
    viewer.require_role(Role::Worldbuilder)?;
    teams::ensure_allowed(
        conn,
        viewer,
        Permission::EditEntities,
        Some(EntityType::Item.slug()),
    )
    .await?;
    let ids: Vec<&str> = match &incoming {
        Incoming::Whole(items) => items.iter().map(|i| i.entity_id.as_str()).collect(),
        Incoming::Verse(items) => items.iter().map(|i| i.id.as_str()).collect(),
    };
    let mut seen = std::collections::HashSet::new();
    if let Some(twice) = ids.iter().find(|id| !seen.insert(**id)) {
        return Err(AppError::bad_field(
            "content",
            format!("the item {twice} comes twice"),
        ));
    }
    let (outcome, written) = conn
        .transaction::<_, AppError, _>(async |conn| {
            let ids: Vec<(EntityType, String)> = match &incoming {
                Incoming::Whole(items) => items
                    .iter()
                    .map(|i| (EntityType::Item, i.entity_id.clone()))
                    .collect(),
                Incoming::Verse(items) => items
                    .iter()
                    .map(|i| (EntityType::Item, i.id.clone()))
                    .collect(),
            };
            let current = entities::find_by_keys(conn, viewer.tenant_id, &ids, apply).await?;
            let contents: Vec<EntityContent> = match incoming {
                Incoming::Whole(items) => items,
                Incoming::Verse(items) => items
                    .into_iter()
                    .map(|item| {
                        let existing = current.iter().find(|row| row.entity_id == item.id);
                        let mut content = match existing {
                            Some(row) => entities::content_of(row),
                            None => EntityContent {
                                entity_id: item.id.clone(),
                                name: item.name.clone(),
                                status: EntityStatus::default(),
                                fields: Value::Object(Map::new()),
                                markdown_body: String::new(),
                            },
                        };
                        content.name = item.name;
                        if let Value::Object(fields) = &mut content.fields {
                            // What Verse carries is Verse's to say: a field it could have
                            // written and leaves out goes; one it cannot carry stays.
                            for key in verse::carried_keys() {
                                if fields.get(key).is_some_and(|v| verse::carries(key, v)) {
                                    fields.remove(key);
                                }
                            }
                            for (key, value) in item.fields {
                                // `5.0` read back as 5 is the same number: kept as stored.
                                let same_number = fields.get(&key).is_some_and(|old| {
                                    old.is_number() && old.as_f64() == value.as_f64()
                                });
                                if !same_number {
                                    fields.insert(key, value);
                                }
                            }
                        }
                        content
                    })
                    .collect(),
            };
            let mut outcome = Vec::with_capacity(contents.len());
            let mut written = Vec::new();
            for content in contents {
                let existing = current
                    .iter()
                    .find(|row| row.entity_id == content.entity_id)
                    .cloned();
                let id = content.entity_id.clone();
                if existing.as_ref().is_some_and(EntityRow::is_deleted) {
                    return Err(AppError::conflict(format!(
                        "the item {id} is in the recycle bin: restore or purge it first"
                    )));
                }
                if !apply {
                    let content = entities::checked_content(content).map_err(|e| named(&id, e))?;
                    let action = match &existing {
                        None => ImportAction::Created,
                        Some(row) if entities::content_of(row) == content => {
                            ImportAction::Unchanged
                        }
                        Some(_) => ImportAction::Updated,
                    };
                    let validation_errors = entities::schema_errors(
                        catalog,
                        EntityType::Item,
                        &content,
                        existing.as_ref(),
                    );
                    outcome.push(ImportedItem {
                        id,
                        action,
                        validation_errors,
                    });
                    continue;
                }
                let replaced =
                    entities::replace(conn, catalog, viewer, EntityType::Item, content, existing)
                        .await
                        .map_err(|error| named(&id, error))?;
                let action = match &replaced {
                    Replaced::Created(_) => ImportAction::Created,
                    Replaced::Updated(_) => ImportAction::Updated,
                    Replaced::Unchanged(_) => ImportAction::Unchanged,
                };
                outcome.push(ImportedItem {
                    id,
                    action,
                    validation_errors: replaced.row().schema_errors.clone(),
                });
                written.extend(replaced.written());
            }
            Ok((outcome, written))
        })
        .await?;
    for write in written {
        entities::announce(platform, viewer, write);
    }
    Ok(outcome)
}
