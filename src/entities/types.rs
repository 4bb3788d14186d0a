//! The entity types and statuses, with their spellings in the database, the template package
//! and on disk.

use async_graphql::Enum;
use serde::{Deserialize, Serialize};

/// The kinds of worldbuilding entity.
#[derive(
    Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum EntityType {
    /// A person or creature: who they are, their looks, whom they know, what they want.
    Character,
    /// A place in the world, from a single room to a building or a landmark.
    Location,
    /// A part of a city or region: who governs it, who lives there and what it is like.
    District,
    /// A company or label: its identity, structure, products and reputation.
    Brand,
    /// An organised group with an ideology, leaders, territory and friends and foes.
    Faction,
    /// An object that can be found, carried, used, bought or crafted.
    Item,
    /// A role people are employed in: who offers it, what it takes and where it leads.
    Job,
    /// A task given to the player: objectives, people and places involved, and rewards.
    Quest,
    /// A story arc made of quests, with its cast, places and themes.
    Campaign,
    /// Something that happens in the world: when, where, to whom, and what changes.
    Event,
    /// A conversation or dialogue tree: who speaks, where, and how it branches.
    Dialogue,
    /// An entry in the world's chronology: when, who was involved, what changed.
    Timeline,
    /// A layered visual composition of a character, prop or building, built from slots.
    Assembly,
    /// The visual rules of a universe: palette, lighting, interface and motifs.
    StyleBible,
    /// The world as a whole: genre, setting, themes, tone and canon rules.
    Universe,
    /// A natural or built environment: climate, terrain, life, hazards and feel.
    Biome,
}

impl EntityType {
    pub const ALL: [EntityType; 16] = [
        Self::Character,
        Self::Location,
        Self::District,
        Self::Brand,
        Self::Faction,
        Self::Item,
        Self::Job,
        Self::Quest,
        Self::Campaign,
        Self::Event,
        Self::Dialogue,
        Self::Timeline,
        Self::Assembly,
        Self::StyleBible,
        Self::Universe,
        Self::Biome,
    ];

    /// The spelling in the database, in frontmatter (`entity_type`) and in package file names.
    pub fn slug(self) -> &'static str {
        match self {
            Self::Character => "character",
            Self::Location => "location",
            Self::District => "district",
            Self::Brand => "brand",
            Self::Faction => "faction",
            Self::Item => "item",
            Self::Job => "job",
            Self::Quest => "quest",
            Self::Campaign => "campaign",
            Self::Event => "event",
            Self::Dialogue => "dialogue",
            Self::Timeline => "timeline",
            Self::Assembly => "assembly",
            Self::StyleBible => "style_bible",
            Self::Universe => "universe",
            Self::Biome => "biome",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.slug() == slug)
    }

    /// Human label, singular.
    pub fn label(self) -> &'static str {
        match self {
            Self::Character => "Character",
            Self::Location => "Location",
            Self::District => "District",
            Self::Brand => "Brand",
            Self::Faction => "Faction",
            Self::Item => "Item",
            Self::Job => "Job",
            Self::Quest => "Quest",
            Self::Campaign => "Campaign",
            Self::Event => "Event",
            Self::Dialogue => "Dialogue",
            Self::Timeline => "Timeline",
            Self::Assembly => "Assembly",
            Self::StyleBible => "Style Bible",
            Self::Universe => "Universe",
            Self::Biome => "Biome",
        }
    }

    /// The folder of a StudioBrain project that holds this type's markdown files.
    pub fn folder_name(self) -> &'static str {
        match self {
            Self::Character => "Characters",
            Self::Location => "Locations",
            Self::District => "Districts",
            Self::Brand => "Brands",
            Self::Faction => "Factions",
            Self::Item => "Items",
            Self::Job => "Jobs",
            Self::Quest => "Quests",
            Self::Campaign => "Campaigns",
            Self::Event => "Events",
            Self::Dialogue => "Dialogue",
            Self::Timeline => "Timeline",
            Self::Assembly => "Assemblies",
            Self::StyleBible => "Style Bibles",
            Self::Universe => "Universes",
            Self::Biome => "Biomes",
        }
    }

    /// The file-name prefix of this type's markdown files.
    pub fn file_prefix(self) -> &'static str {
        match self {
            Self::Character => "CH_",
            Self::Location => "LOC_",
            Self::District => "DIST_",
            Self::Brand => "BR_",
            Self::Faction => "FAC_",
            Self::Item => "ITEM_",
            Self::Job => "JOB_",
            Self::Quest => "QST_",
            Self::Campaign => "CAMP_",
            Self::Event => "EVENT_",
            Self::Dialogue => "DLG_",
            Self::Timeline => "TL_",
            Self::Assembly => "ASM_",
            Self::StyleBible => "STYLE_",
            Self::Universe => "UNIV_",
            Self::Biome => "BIO_",
        }
    }
}

/// Where an entity is in its life.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
pub enum EntityStatus {
    /// In use (the status of new entities unless another is given).
    #[default]
    Active,
    /// Still being written.
    Draft,
    /// Kept for the record, no longer in use.
    Archived,
    /// Being phased out.
    Deprecated,
    /// An early version, still being tried out.
    Prototype,
    /// No longer exists in the world's story (the record stays).
    Destroyed,
    /// Set aside until someone looks into it.
    Quarantined,
}

impl EntityStatus {
    pub const ALL: [EntityStatus; 7] = [
        Self::Active,
        Self::Draft,
        Self::Archived,
        Self::Deprecated,
        Self::Prototype,
        Self::Destroyed,
        Self::Quarantined,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Draft => "draft",
            Self::Archived => "archived",
            Self::Deprecated => "deprecated",
            Self::Prototype => "prototype",
            Self::Destroyed => "destroyed",
            Self::Quarantined => "quarantined",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.slug() == slug)
    }
}
