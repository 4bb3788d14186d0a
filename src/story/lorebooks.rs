//! Lorebooks: entries of world knowledge a turn draws in when their keywords come up (or
//! always, for a few base entries). The matching itself belongs to play (part two); here the
//! entries are kept, each with an id unique in its book.

use async_graphql::{ComplexObject, Context, ID, InputObject, Object, SimpleObject};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::api::library::{change, create, library_api};
use super::library::Body;
use super::model::Kind;
use super::schemas::{checked_key, checked_text};
use crate::db::validate_text;
use crate::error::{AppError, AppResult};

/// Most entries one lorebook holds.
const MAX_ENTRIES: usize = 1_000;
const MAX_KEYWORDS: usize = 50;

/// One entry of a lorebook.
#[derive(SimpleObject, Serialize, Deserialize, Clone, Debug)]
pub struct LorebookEntry {
    /// Unique in its lorebook.
    pub entry_id: ID,
    /// 1 to 200 characters.
    pub title: String,
    /// What a turn is told (up to 20,000 characters).
    pub content: String,
    /// Words that draw the entry in when they come up (any case; up to 50 of 1 to 100
    /// characters).
    pub keywords: Vec<String>,
    /// Off: never drawn in.
    pub enabled: bool,
    /// Drawn in every turn (at most four such entries are used).
    pub always_include: bool,
}

/// A new lorebook entry.
#[derive(InputObject, Clone, Debug)]
pub struct LorebookEntryInput {
    /// Its id in the lorebook (1 to 64 letters, digits, `_`, `-` or `.`); a new UUID when
    /// absent.
    pub entry_id: Option<ID>,
    /// 1 to 200 characters.
    pub title: String,
    /// What a turn is told (up to 20,000 characters).
    pub content: String,
    /// Words that draw the entry in (up to 50).
    #[graphql(default)]
    pub keywords: Vec<String>,
    /// Off: never drawn in.
    #[graphql(default = true)]
    pub enabled: bool,
    /// Drawn in every turn.
    #[graphql(default)]
    pub always_include: bool,
}

/// A change to a lorebook entry: only what is given changes.
#[derive(InputObject, Clone, Debug, Default)]
pub struct LorebookEntryUpdate {
    /// 1 to 200 characters.
    pub title: Option<String>,
    /// Up to 20,000 characters.
    pub content: Option<String>,
    /// Replaces the keywords.
    pub keywords: Option<Vec<String>>,
    /// On or off.
    pub enabled: Option<bool>,
    /// Drawn in every turn, or not.
    pub always_include: Option<bool>,
}

impl LorebookEntryInput {
    fn into_entry(self) -> LorebookEntry {
        LorebookEntry {
            entry_id: self
                .entry_id
                .unwrap_or_else(|| ID(Uuid::now_v7().to_string())),
            title: self.title,
            content: self.content,
            keywords: self.keywords,
            enabled: self.enabled,
            always_include: self.always_include,
        }
    }
}

/// A lorebook's content.
#[derive(SimpleObject, Serialize, Deserialize, Clone, Debug, Default)]
pub struct LorebookBody {
    /// What the lorebook covers (up to 2,000 characters).
    #[serde(default)]
    pub description: Option<String>,
    /// Its entries, in order.
    #[serde(default)]
    pub entries: Vec<LorebookEntry>,
}

impl Body for LorebookBody {
    const KIND: Kind = Kind::Lorebook;
    const MAX_BYTES: usize = 4 * 1024 * 1024;

    fn check(&mut self) -> AppResult<()> {
        checked_text("description", &mut self.description, 2_000)?;
        if self.entries.len() > MAX_ENTRIES {
            return Err(AppError::bad_field(
                "entries",
                format!("a lorebook holds at most {MAX_ENTRIES} entries"),
            ));
        }
        let mut ids = std::collections::HashSet::new();
        for entry in &mut self.entries {
            check_entry(entry)?;
            if !ids.insert(entry.entry_id.0.clone()) {
                return Err(AppError::conflict(format!(
                    "the lorebook already has an entry `{}`",
                    entry.entry_id.0
                )));
            }
        }
        Ok(())
    }
}

fn check_entry(entry: &mut LorebookEntry) -> AppResult<()> {
    entry.entry_id = ID(checked_key("entryId", &entry.entry_id)?);
    validate_text("title", &entry.title, 200)?;
    entry.title = entry.title.trim().to_owned();
    if entry.title.is_empty() {
        return Err(AppError::bad_field("title", "give the entry a title"));
    }
    validate_text("content", &entry.content, 20_000)?;
    if entry.keywords.len() > MAX_KEYWORDS {
        return Err(AppError::bad_field(
            "keywords",
            format!("an entry takes at most {MAX_KEYWORDS} keywords"),
        ));
    }
    for keyword in &mut entry.keywords {
        validate_text("keywords", keyword, 100)?;
        *keyword = keyword.trim().to_owned();
    }
    entry.keywords.retain(|keyword| !keyword.is_empty());
    Ok(())
}

library_api! {
    body: LorebookBody, node: Lorebook,
    node_doc: "A lorebook: world knowledge drawn into turns by keyword.",
    query: LorebookQuery { one: lorebook, many: lorebooks },
    mutation: LorebookDeletion { delete: delete_lorebook },
    connection: LorebookConnection, LorebookEdge,
    docs: "One lorebook of the viewer's tenant; null when there is none.",
        "The tenant's lorebooks by name, a page at a time.",
        "Lorebooks, a page at a time by cursor.",
        "A lorebook and its cursor.",
}

#[ComplexObject]
impl Lorebook {
    /// One entry; null when there is none with this id.
    async fn entry(
        &self,
        #[graphql(desc = "The entry's id.")] entry_id: ID,
    ) -> Option<&LorebookEntry> {
        self.body
            .entries
            .iter()
            .find(|entry| entry.entry_id == entry_id)
    }
}

#[derive(Default)]
pub struct LorebookWrites;

#[Object]
impl LorebookWrites {
    /// Creates a lorebook, with entries if given (WORLDBUILDER and above).
    async fn create_lorebook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Its name in lists: 1 to 200 characters.")] display_name: String,
        #[graphql(desc = "What it covers (up to 2,000 characters).")] description: Option<String>,
        #[graphql(desc = "Its first entries (up to 1,000).")] entries: Option<
            Vec<LorebookEntryInput>,
        >,
    ) -> AppResult<Lorebook> {
        let body = LorebookBody {
            description,
            entries: entries
                .unwrap_or_default()
                .into_iter()
                .map(LorebookEntryInput::into_entry)
                .collect(),
        };
        Ok(create(ctx, Some(&display_name), body).await?.into())
    }

    /// Renames a lorebook or changes its description (WORLDBUILDER and above).
    async fn update_lorebook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Its id.")] id: ID,
        #[graphql(desc = "Change it only if it is still at this version (CONFLICT otherwise).")]
        expected_version: Option<i32>,
        #[graphql(desc = "A new name: 1 to 200 characters.")] display_name: Option<String>,
        #[graphql(desc = "A new description; blank removes it.")] description: Option<String>,
    ) -> AppResult<Lorebook> {
        let changed = change(
            ctx,
            &id,
            expected_version,
            display_name.as_deref(),
            |mut body: LorebookBody| {
                if description.is_some() {
                    body.description = description;
                }
                Ok(body)
            },
        )
        .await?;
        Ok(changed.into())
    }

    /// Adds an entry at the end of a lorebook (WORLDBUILDER and above); CONFLICT when its id
    /// is taken.
    async fn create_lorebook_entry(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The lorebook's id.")] lorebook_id: ID,
        #[graphql(desc = "The new entry.")] input: LorebookEntryInput,
    ) -> AppResult<Lorebook> {
        Ok(
            change::<LorebookBody>(ctx, &lorebook_id, None, None, |mut body| {
                if body.entries.len() >= MAX_ENTRIES {
                    return Err(AppError::bad_field(
                        "lorebookId",
                        format!("a lorebook holds at most {MAX_ENTRIES} entries"),
                    ));
                }
                body.entries.push(input.into_entry());
                Ok(body)
            })
            .await?
            .into(),
        )
    }

    /// Changes an entry (WORLDBUILDER and above).
    async fn update_lorebook_entry(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The lorebook's id.")] lorebook_id: ID,
        #[graphql(desc = "The entry's id.")] entry_id: ID,
        #[graphql(desc = "The changes; what is absent stays.")] input: LorebookEntryUpdate,
    ) -> AppResult<Lorebook> {
        Ok(
            change::<LorebookBody>(ctx, &lorebook_id, None, None, |mut body| {
                let entry = entry_mut(&mut body, &entry_id)?;
                if let Some(title) = input.title {
                    entry.title = title;
                }
                if let Some(content) = input.content {
                    entry.content = content;
                }
                if let Some(keywords) = input.keywords {
                    entry.keywords = keywords;
                }
                if let Some(enabled) = input.enabled {
                    entry.enabled = enabled;
                }
                if let Some(always) = input.always_include {
                    entry.always_include = always;
                }
                Ok(body)
            })
            .await?
            .into(),
        )
    }

    /// Removes an entry (WORLDBUILDER and above).
    async fn delete_lorebook_entry(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The lorebook's id.")] lorebook_id: ID,
        #[graphql(desc = "The entry's id.")] entry_id: ID,
    ) -> AppResult<Lorebook> {
        Ok(
            change::<LorebookBody>(ctx, &lorebook_id, None, None, |mut body| {
                entry_mut(&mut body, &entry_id)?;
                body.entries.retain(|entry| entry.entry_id != entry_id);
                Ok(body)
            })
            .await?
            .into(),
        )
    }
}

fn entry_mut<'a>(body: &'a mut LorebookBody, entry_id: &ID) -> AppResult<&'a mut LorebookEntry> {
    body.entries
        .iter_mut()
        .find(|entry| entry.entry_id == *entry_id)
        .ok_or_else(|| AppError::not_found("the lorebook has no such entry"))
}
