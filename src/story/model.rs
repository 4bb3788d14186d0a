//! The story library's rows: documents of eight kinds, and the links between them.

use async_graphql::Enum;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::story_documents;

/// What a document of the story library is.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// An API connection (a provider, its base URL, key and model).
    ApiConnection,
    /// One API connection per agent role.
    ApiGroup,
    /// Generation settings and prompt modules per agent.
    Preset,
    /// A state schema: the fields of world, player or character state.
    Schema,
    /// A lorebook and its entries.
    Lorebook,
    /// Who the player is.
    PlayerProfile,
    /// A character card.
    Character,
    /// What a story is generated from: its concept, cast, lorebooks and seed schemas.
    StoryResource,
    /// A story: its resource, its state schemas and its graph of scenes.
    Story,
    /// A player's run through a story.
    Session,
    /// A story being drafted by the architect, section by section.
    StoryDraft,
}

impl Kind {
    /// The name the database keeps.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ApiConnection => "api_connection",
            Kind::ApiGroup => "api_group",
            Kind::Preset => "preset",
            Kind::Schema => "schema",
            Kind::Lorebook => "lorebook",
            Kind::PlayerProfile => "player_profile",
            Kind::Character => "character",
            Kind::StoryResource => "story_resource",
            Kind::Story => "story",
            Kind::Session => "session",
            Kind::StoryDraft => "story_draft",
        }
    }

    pub fn parse(name: &str) -> Option<Kind> {
        KINDS.into_iter().find(|kind| kind.as_str() == name)
    }

    /// The kind's name in a sentence.
    pub fn label(self) -> &'static str {
        match self {
            Kind::ApiConnection => "API connection",
            Kind::ApiGroup => "API group",
            Kind::Preset => "preset",
            Kind::Schema => "state schema",
            Kind::Lorebook => "lorebook",
            Kind::PlayerProfile => "player profile",
            Kind::Character => "character card",
            Kind::StoryResource => "story resource",
            Kind::Story => "story",
            Kind::Session => "story session",
            Kind::StoryDraft => "story draft",
        }
    }
}

pub const KINDS: [Kind; 11] = [
    Kind::ApiConnection,
    Kind::ApiGroup,
    Kind::Preset,
    Kind::Schema,
    Kind::Lorebook,
    Kind::PlayerProfile,
    Kind::Character,
    Kind::StoryResource,
    Kind::Story,
    Kind::Session,
    Kind::StoryDraft,
];

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = story_documents, check_for_backend(diesel::pg::Pg))]
pub struct DocumentRow {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub kind: String,
    pub display_name: String,
    pub body: serde_json::Value,
    pub version: i32,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A reference from one document to another, through one of its slots (`schema`,
/// `characters` at position 2, the `planner` of an API group...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub slot: &'static str,
    pub position: i32,
    pub to_id: Uuid,
    /// What the referenced document must be.
    pub to_kind: Kind,
}

impl Link {
    pub fn one(slot: &'static str, to_kind: Kind, to_id: Uuid) -> Self {
        Self {
            slot,
            position: 0,
            to_id,
            to_kind,
        }
    }

    /// Links through `slot` to each of `ids`, in order.
    pub fn each(slot: &'static str, to_kind: Kind, ids: &[Uuid]) -> Vec<Self> {
        ids.iter()
            .zip(0..)
            .map(|(id, position)| Self {
                slot,
                position,
                to_id: *id,
                to_kind,
            })
            .collect()
    }
}

/// A document that refers to another.
#[derive(Clone, Debug)]
pub struct Referrer {
    pub kind: Kind,
    pub id: Uuid,
    pub display_name: String,
}
