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
    Character,
    Location,
    District,
    Brand,
    Faction,
    Item,
    Job,
    Quest,
    Campaign,
    Event,
    Dialogue,
    Timeline,
    Assembly,
    StyleBible,
    Universe,
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
    #[default]
    Active,
    Draft,
    Archived,
    Deprecated,
    Prototype,
    Destroyed,
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
