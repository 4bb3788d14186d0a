//! Character cards: who a story's characters are (name, personality, speaking style, the
//! system prompt their actor follows), the state schema their state follows, tags and a
//! folder to sort them by.

use async_graphql::{ComplexObject, Context, ID, InputObject, SimpleObject};
use serde::{Deserialize, Serialize};

use super::api::library::{library_api, library_writes, linked};
use super::library::{Body, checked_id, uuids};
use super::model::{Kind, Link};
use super::schemas::{StateSchema, StateSchemaBody, checked_text};
use crate::db::validate_text;
use crate::error::{AppError, AppResult};

const MAX_TAGS: usize = 50;

/// A character card's content.
#[derive(SimpleObject, InputObject, Serialize, Deserialize, Clone, Debug)]
#[graphql(input_name = "CharacterCardInput")]
pub struct CharacterBody {
    /// The character's name (what `{{char}}` becomes): 1 to 100 characters.
    pub name: String,
    /// Who they are (up to 8,000 characters).
    #[serde(default)]
    pub personality: Option<String>,
    /// How they speak and act (up to 4,000 characters).
    #[serde(default)]
    pub style: Option<String>,
    /// What their actor is told first (up to 8,000 characters; `{{char}}`, `{{user}}` and
    /// `{{field}}` are filled in at play).
    #[serde(default)]
    pub system_prompt: Option<String>,
    /// The state schema their state follows.
    #[serde(default)]
    pub schema_id: Option<ID>,
    /// Labels to find them by (up to 50 of 1 to 50 characters, no repeats).
    #[serde(default)]
    #[graphql(default)]
    pub tags: Vec<String>,
    /// Where they are filed (`Villains/Northern`), up to 200 characters.
    #[serde(default)]
    pub folder: Option<String>,
    /// The asset of their cover image (set with `POST /upload/{id}/cover`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[graphql(skip_input)]
    pub cover_asset_id: Option<ID>,
}

impl Body for CharacterBody {
    const KIND: Kind = Kind::Character;

    fn check(&mut self) -> AppResult<()> {
        validate_text("name", &self.name, 100)?;
        self.name = self.name.trim().to_owned();
        if self.name.is_empty() {
            return Err(AppError::bad_field("name", "give the character a name"));
        }
        checked_text("personality", &mut self.personality, 8_000)?;
        checked_text("style", &mut self.style, 4_000)?;
        checked_text("systemPrompt", &mut self.system_prompt, 8_000)?;
        checked_text("folder", &mut self.folder, 200)?;
        if let Some(id) = &self.schema_id {
            self.schema_id = Some(checked_id("schemaId", id)?);
        }
        if self.tags.len() > MAX_TAGS {
            return Err(AppError::bad_field(
                "tags",
                format!("a character takes at most {MAX_TAGS} tags"),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for tag in &mut self.tags {
            validate_text("tags", tag, 50)?;
            *tag = tag.trim().to_owned();
        }
        self.tags
            .retain(|tag| !tag.is_empty() && seen.insert(tag.to_lowercase()));
        Ok(())
    }

    fn links(&self) -> Vec<Link> {
        let schema: Vec<ID> = self.schema_id.iter().cloned().collect();
        Link::each("schemaId", Kind::Schema, &uuids(&schema))
    }

    fn default_name(&self) -> Option<String> {
        Some(self.name.clone())
    }

    fn keep_managed(&mut self, current: &Self) {
        self.cover_asset_id.clone_from(&current.cover_asset_id);
    }
}

library_api! {
    body: CharacterBody, node: CharacterCard,
    node_doc: "A character card: who a character of a story is.",
    query: CharacterCardQuery { one: character_card, many: character_cards },
    mutation: CharacterCardDeletion { delete: delete_character_card },
    connection: CharacterCardConnection, CharacterCardEdge,
    docs: "One character card of the viewer's tenant; null when there is none.",
        "The tenant's character cards by name, a page at a time.",
        "Character cards, a page at a time by cursor.",
        "A character card and its cursor.",
}

library_writes! {
    body: CharacterBody, node: CharacterCard,
    mutation: CharacterCardWrites { create: create_character_card, update: update_character_card },
    docs: "Creates a character card (WORLDBUILDER and above); named after the character when \
           no display name is given.",
        "Changes a character card (WORLDBUILDER and above).",
}

#[ComplexObject]
impl CharacterCard {
    /// The state schema their state follows.
    async fn schema(&self, ctx: &Context<'_>) -> AppResult<Option<StateSchema>> {
        Ok(match &self.body.schema_id {
            Some(id) => linked::<StateSchemaBody>(ctx, id)
                .await?
                .map(StateSchema::from),
            None => None,
        })
    }
}
