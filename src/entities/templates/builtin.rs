//! loregraph's built-in template for each of the sixteen entity types, as const data.
//!
//! Only the per-type frontmatter fields are listed here; the shared base fields (id, name,
//! status, dates, tags, ...) are added by the generator. Field names, shapes and vocabularies
//! follow the StudioBrain template package (its JSON Schemas, `field_config` entity selectors and
//! form layouts), so entities written for that package fit these templates and their id fields
//! feed the relationship graph.

use super::spec::*;
use crate::entities::types::EntityType::{self, *};

/// Keys of a quest objective, shared by the primary and secondary objective lists.
const OBJECTIVE_FIELDS: &[FieldSpec] = &[
    text(
        "objective_id",
        "Identifier of the objective within the quest.",
    ),
    text("objective", "What the player has to do."),
    text("description", "Longer wording of the objective."),
    text(
        "type",
        "Kind of objective, such as location, collect or rescue.",
    ),
    text(
        "target",
        "What the objective is about, such as a place or a thing.",
    ),
    integer("quantity", "How many are needed."),
    boolean("optional", "Whether the objective may be skipped."),
    boolean("completed", "Whether the objective is done."),
];

/// An item id with a quantity, as quest and campaign rewards list them.
const ITEM_REWARD_FIELDS: &[FieldSpec] = &[
    reference("item_id", &[Item], "The item given.").required(),
    integer("quantity", "How many are given."),
];

/// A faction id with the role it plays, as quests and campaigns list them.
const FACTION_ROLE_FIELDS: &[FieldSpec] = &[
    reference("faction_id", &[Faction], "The faction involved.").required(),
    text(
        "role",
        "The part the faction plays, such as allied or antagonist.",
    ),
];

const CHARACTER: BuiltinTemplate = BuiltinTemplate {
    entity_type: Character,
    description: "A person or creature: who they are, their looks, whom they know, what they want.",
    category: "entity",
    sections: &[
        Section {
            title: "Identity",
            fields: &[
                text("nickname", "What people call the character."),
                integer("age", "Age in years at the present of the story."),
                one_of(
                    "gender",
                    &["male", "female", "non-binary", "other"],
                    "The character's gender.",
                ),
                one_of(
                    "species",
                    &["human", "zombie", "animal", "other"],
                    "What kind of being the character is.",
                ),
                integer("birth_year", "Year the character was born."),
                one_of(
                    "narrative_importance",
                    &["main", "major", "minor"],
                    "How central the character is to the story.",
                ),
            ],
        },
        Section {
            title: "Appearance",
            fields: &[
                text("height", "How tall the character is."),
                one_of(
                    "build",
                    &[
                        "slim", "average", "muscular", "heavyset", "petite", "sturdy",
                    ],
                    "Body type.",
                ),
                object(
                    "hair_color",
                    &[
                        text("name", "Name of the colour."),
                        text("hex", "The colour as a hex code."),
                    ],
                    "Hair colour, named and as hex.",
                ),
                object(
                    "eye_color",
                    &[
                        text("name", "Name of the colour."),
                        text("hex", "The colour as a hex code."),
                    ],
                    "Eye colour, named and as hex.",
                ),
                text_list(
                    "distinguishing_features",
                    "Physical features that make the character recognisable.",
                ),
            ],
        },
        Section {
            title: "Affiliations",
            fields: &[
                reference(
                    "primary_location",
                    &[Location],
                    "Where the character is usually found.",
                ),
                reference_list(
                    "secondary_locations",
                    &[Location],
                    "Other places the character frequents.",
                ),
                reference(
                    "faction",
                    &[Faction],
                    "The faction the character belongs to.",
                ),
                reference_list("job", &[Job], "The jobs the character holds, usually one."),
                reference_list(
                    "associated_brands",
                    &[Brand],
                    "Brands the character works for, owns or promotes.",
                ),
                reference_list("inventory_items", &[Item], "Items the character carries."),
            ],
        },
        Section {
            title: "Relationships",
            fields: &[
                object_list(
                    "family",
                    &[
                        reference("character_id", &[Character], "The relative.").required(),
                        one_of(
                            "relationship",
                            &[
                                "parent",
                                "child",
                                "sibling",
                                "spouse",
                                "cousin",
                                "grandparent",
                                "grandchild",
                                "uncle_aunt",
                                "family",
                            ],
                            "How they are related.",
                        ),
                    ],
                    "Relatives.",
                ),
                object_list(
                    "friends",
                    &[
                        reference("character_id", &[Character], "The friend.").required(),
                        one_of(
                            "relationship_type",
                            &[
                                "acquaintance",
                                "casual",
                                "friend",
                                "close",
                                "best_friend",
                                "ally",
                                "mentor",
                            ],
                            "How close they are.",
                        ),
                    ],
                    "Friends and allies.",
                ),
                object_list(
                    "enemies",
                    &[
                        reference("character_id", &[Character], "The enemy.").required(),
                        one_of(
                            "relationship_type",
                            &["rival", "competitor", "antagonist", "hostile", "nemesis"],
                            "What kind of enmity it is.",
                        ),
                    ],
                    "Rivals and enemies.",
                ),
                object_list(
                    "romantic",
                    &[
                        reference("character_id", &[Character], "The romantic interest.")
                            .required(),
                        one_of(
                            "relationship_type",
                            &[
                                "interested",
                                "crush",
                                "dating",
                                "partner",
                                "spouse",
                                "ex",
                                "complicated",
                            ],
                            "Where the romance stands.",
                        ),
                    ],
                    "Romantic relationships.",
                ),
            ],
        },
        Section {
            title: "Personality",
            fields: &[
                text_list("personality_traits", "Core traits of the character."),
                text_list("fears", "What the character is afraid of."),
                text_list("motivations", "What the character wants."),
                text_list("secrets", "What the character hides."),
                text(
                    "defining_moment_summary",
                    "One line on the event that shaped the character.",
                ),
            ],
        },
        Section {
            title: "Story",
            fields: &[
                text_list("primary_skills", "What the character is best at."),
                text_list(
                    "story_function",
                    "The roles the character plays in the story.",
                ),
                text_list(
                    "dialogue_samples",
                    "Typical lines that capture the character's voice.",
                ),
            ],
        },
    ],
    body_headings: &[
        "Background",
        "Personality",
        "Defining Moment",
        "Dialogue & Speech Patterns",
        "Relationships",
        "Story Role",
    ],
};

const LOCATION: BuiltinTemplate = BuiltinTemplate {
    entity_type: Location,
    description: "A place in the world, from a single room to a building or a landmark.",
    category: "entity",
    sections: &[
        Section {
            title: "Identity",
            fields: &[
                text(
                    "location_type",
                    "What kind of place it is, such as retail or residential.",
                )
                .required(),
                text("description", "A short description of the place."),
                one_of(
                    "narrative_importance",
                    &["minor", "moderate", "major", "critical"],
                    "How central the place is to the story.",
                ),
                integer("founded_year", "Year the place was established."),
            ],
        },
        Section {
            title: "Geography",
            fields: &[
                reference(
                    "parent_location",
                    &[District, Location],
                    "The district or larger place this one lies in.",
                ),
                reference(
                    "district",
                    &[District],
                    "The district the place belongs to.",
                ),
                text("address", "Street address."),
                one_of(
                    "size",
                    &["small", "medium", "large", "massive"],
                    "How big the place is.",
                ),
                boolean("enterable", "Whether the place can be entered."),
                reference_list(
                    "connected_locations",
                    &[Location],
                    "Places directly reachable from here.",
                ),
                text_list("notable_features", "Features that stand out."),
            ],
        },
        Section {
            title: "Atmosphere",
            fields: &[
                text("atmosphere", "The mood of the place."),
                one_of(
                    "lighting",
                    &["bright", "normal", "dim", "dark"],
                    "How well lit the place is.",
                ),
                text_list("ambient_sounds", "Sounds heard there."),
                one_of(
                    "threat_level",
                    &["safe", "low", "moderate", "high", "extreme"],
                    "How dangerous the place is.",
                ),
            ],
        },
        Section {
            title: "Population and Control",
            fields: &[
                object_list(
                    "primary_npcs",
                    &[
                        reference("character_id", &[Character], "The character.").required(),
                        text("role", "What they do there, such as vendor or guard."),
                        text("schedule", "When they are there."),
                    ],
                    "Characters found at the place.",
                ),
                reference(
                    "faction_control",
                    &[Faction],
                    "The faction that controls the place.",
                ),
                one_of(
                    "faction_relationship",
                    &["headquarters", "outpost", "contested", "neutral"],
                    "What the place is to the controlling faction.",
                ),
                object_list(
                    "vendors",
                    &[
                        reference("vendor_id", &[Character], "The character who sells.").required(),
                        text("vendor_type", "What kind of vendor they are."),
                        text("hours", "When they trade."),
                    ],
                    "Characters who trade at the place.",
                ),
            ],
        },
        Section {
            title: "Commerce",
            fields: &[
                reference("primary_brand", &[Brand], "The main brand operating here."),
                object_list(
                    "associated_brands",
                    &[
                        reference("brand_id", &[Brand], "The brand.").required(),
                        text(
                            "presence",
                            "How the brand shows, such as signage or products.",
                        ),
                    ],
                    "Brands present at the place.",
                ),
                text_list("services_offered", "Services available here."),
                one_of(
                    "price_range",
                    &["budget", "moderate", "expensive", "luxury"],
                    "How expensive the place is.",
                ),
                reference_list(
                    "items_available",
                    &[Item],
                    "Items to be found or bought here.",
                ),
            ],
        },
        Section {
            title: "Secrets",
            fields: &[text_list(
                "hidden_secrets",
                "Things a visitor can discover.",
            )],
        },
    ],
    body_headings: &[
        "Description",
        "Atmosphere",
        "Historical Context",
        "Points of Interest",
        "NPC Interactions",
        "Hazards and Threats",
        "Story Significance",
        "Secrets",
    ],
};

const DISTRICT: BuiltinTemplate = BuiltinTemplate {
    entity_type: District,
    description: "A part of a city or region: who governs it, who lives there and what it is like.",
    category: "entity",
    sections: &[
        Section {
            title: "Identity",
            fields: &[
                one_of(
                    "district_type",
                    &[
                        "commercial",
                        "residential",
                        "industrial",
                        "financial",
                        "entertainment",
                        "government",
                        "medical",
                        "educational",
                        "mixed",
                        "mixed_use",
                        "slums",
                        "abandoned",
                        "military",
                    ],
                    "What the district is mostly used for.",
                )
                .required(),
                text("description", "A short description of the district."),
                one_of(
                    "narrative_importance",
                    &["minor", "moderate", "major", "central"],
                    "How central the district is to the story.",
                ),
            ],
        },
        Section {
            title: "Geography",
            fields: &[
                reference(
                    "parent_location",
                    &[Location],
                    "The city or region the district is part of.",
                ),
                one_of(
                    "size_category",
                    &["small", "medium", "large", "massive"],
                    "How big the district is.",
                ),
                object_list(
                    "boundaries",
                    &[
                        text("point", "Direction of the boundary, such as north."),
                        text("description", "What marks the boundary."),
                    ],
                    "What bounds the district on each side.",
                ),
                integer("population_count", "How many people live there."),
            ],
        },
        Section {
            title: "Governance",
            fields: &[
                reference(
                    "governing_faction",
                    &[Faction],
                    "The faction that governs the district.",
                ),
                reference(
                    "controlling_faction",
                    &[Faction],
                    "The faction in control, as older package entities name it.",
                ),
                object_list(
                    "district_council",
                    &[
                        reference("character_id", &[Character], "The council member.").required(),
                        one_of(
                            "role",
                            &[
                                "district_leader",
                                "security_chief",
                                "council_member",
                                "administrator",
                                "public_relations",
                            ],
                            "Their seat on the council.",
                        ),
                    ],
                    "The people who run the district.",
                ),
                reference_list(
                    "factions_present",
                    &[Faction],
                    "Factions active in the district.",
                ),
                text_list("laws_regulations", "Local laws and rules."),
            ],
        },
        Section {
            title: "Economy",
            fields: &[
                text_list("primary_industries", "What the district lives on."),
                one_of(
                    "economic_status",
                    &["thriving", "stable", "declining", "collapsed"],
                    "How the local economy is doing.",
                ),
                text_list("major_employers", "The biggest employers."),
            ],
        },
        Section {
            title: "Places",
            fields: &[
                reference_list("locations", &[Location], "Places within the district."),
                reference_list(
                    "landmark_locations",
                    &[Location],
                    "The district's landmarks.",
                ),
            ],
        },
        Section {
            title: "Conditions",
            fields: &[
                text("atmosphere", "The mood of the district."),
                text("architecture_style", "How the district is built."),
                one_of(
                    "crime_rate",
                    &[
                        "very_low",
                        "low",
                        "moderate",
                        "high",
                        "very_high",
                        "extreme",
                        "rampant",
                    ],
                    "How much crime there is.",
                ),
                one_of(
                    "outbreak_impact",
                    &["minimal", "moderate", "severe", "catastrophic"],
                    "How hard the district was hit by the outbreak.",
                ),
                text(
                    "current_status",
                    "The district's present state, such as contested.",
                ),
                one_of(
                    "zombie_density",
                    &["none", "low", "moderate", "high", "extreme"],
                    "How many zombies roam there.",
                ),
            ],
        },
    ],
    body_headings: &[
        "Description",
        "History",
        "Landmarks",
        "Inhabitants",
        "Current Situation",
    ],
};

const BRAND: BuiltinTemplate = BuiltinTemplate {
    entity_type: Brand,
    description: "A company or label: its identity, structure, products and reputation.",
    category: "entity",
    sections: &[
        Section {
            title: "Identity",
            fields: &[
                text("description", "A short description of the brand."),
                text("tagline", "The brand's slogan."),
                one_of(
                    "industry",
                    &[
                        "food_service",
                        "retail",
                        "technology",
                        "healthcare",
                        "finance",
                        "manufacturing",
                        "entertainment",
                        "energy",
                        "transportation",
                        "education",
                        "other",
                    ],
                    "The industry the brand works in.",
                )
                .required(),
                one_of(
                    "market_position",
                    &["market_leader", "competitor", "niche", "startup"],
                    "Where the brand stands in its market.",
                ),
                integer("founded", "Year the brand was founded."),
                one_of(
                    "quality_tier",
                    &["budget", "mid_range", "premium", "luxury"],
                    "The brand's price and quality level.",
                ),
            ],
        },
        Section {
            title: "Values and Messaging",
            fields: &[
                text_list("brand_values", "What the brand claims to stand for."),
                text("target_audience", "Whom the brand sells to."),
                text_list("slogans", "Advertising slogans."),
                object(
                    "color_palette",
                    &[
                        text("primary", "Primary colour as hex."),
                        text("secondary", "Secondary colour as hex."),
                        text("accent", "Accent colour as hex."),
                    ],
                    "The brand's colours.",
                ),
            ],
        },
        Section {
            title: "Corporate Structure",
            fields: &[
                reference("parent_company", &[Brand], "The brand that owns this one."),
                reference_list("subsidiaries", &[Brand], "Brands this one owns."),
                reference(
                    "headquarters",
                    &[Location],
                    "Where the brand is headquartered.",
                ),
                object_list(
                    "key_personnel",
                    &[
                        reference("character_id", &[Character], "The person.").required(),
                        one_of(
                            "job_role",
                            &[
                                "ceo",
                                "cfo",
                                "coo",
                                "marketing_director",
                                "founder",
                                "board_member",
                            ],
                            "Their role in the company.",
                        ),
                        text("status", "Whether they still hold the role."),
                    ],
                    "Important people of the company.",
                ),
                reference_list("job_positions", &[Job], "Jobs the brand offers."),
                integer("employee_count", "How many people the brand employs."),
            ],
        },
        Section {
            title: "Products and Presence",
            fields: &[
                reference(
                    "signature_product",
                    &[Item],
                    "The product the brand is known for.",
                ),
                object_list(
                    "brand_items",
                    &[
                        reference("item_id", &[Item], "The product.").required(),
                        text(
                            "relationship",
                            "How the brand relates to it, such as produces.",
                        ),
                    ],
                    "Items the brand makes or sells.",
                ),
                reference_list("retail_locations", &[Location], "The brand's stores."),
            ],
        },
        Section {
            title: "Relationships",
            fields: &[
                reference_list(
                    "competitor_brands",
                    &[Brand],
                    "Brands competing with this one.",
                ),
                reference_list("partner_brands", &[Brand], "Brands working with this one."),
                object_list(
                    "affiliated_characters",
                    &[
                        reference("character_id", &[Character], "The person.").required(),
                        text("relationship", "How they are tied, such as spokesperson."),
                    ],
                    "People tied to the brand.",
                ),
            ],
        },
        Section {
            title: "Story",
            fields: &[
                one_of(
                    "public_opinion",
                    &["beloved", "positive", "mixed", "negative", "hated"],
                    "What the public thinks of the brand.",
                ),
                text_list("dark_secrets", "What the brand hides."),
                text("story_significance", "What the brand means for the story."),
            ],
        },
    ],
    body_headings: &[
        "Brand Overview",
        "Corporate History",
        "Products and Services",
        "Marketing Strategy",
        "Public Perception",
        "Dark Secrets and Conspiracies",
        "Key Personnel",
    ],
};

const FACTION: BuiltinTemplate = BuiltinTemplate {
    entity_type: Faction,
    description: "An organised group with an ideology, leaders, territory and friends and foes.",
    category: "entity",
    sections: &[
        Section {
            title: "Identity",
            fields: &[
                text("description", "A short description of the faction."),
                one_of(
                    "faction_type",
                    &[
                        "military",
                        "corporate",
                        "criminal",
                        "religious",
                        "political",
                        "mercenary",
                        "cult",
                        "rebel",
                        "tribal",
                        "civilian",
                        "other",
                    ],
                    "What kind of group it is.",
                ),
                text("motto", "The faction's motto or rallying cry."),
                date("founding_date", "When the faction was founded."),
                text("ideology", "The faction's ideology in a few words."),
                text(
                    "defining_moment_summary",
                    "One line on the event that shaped the faction.",
                ),
            ],
        },
        Section {
            title: "Leadership",
            fields: &[
                reference("leader", &[Character], "The faction's leader."),
                object_list(
                    "leadership",
                    &[
                        reference("character_id", &[Character], "The leader.").required(),
                        one_of(
                            "role",
                            &["supreme_leader", "second_command", "advisor", "officer"],
                            "Their place in the leadership.",
                        ),
                        text("title", "The title they go by."),
                    ],
                    "The people at the top.",
                ),
                reference_list("members", &[Character], "Notable members."),
                text(
                    "hierarchy_type",
                    "How the faction is organised, such as military.",
                ),
                integer("member_count", "How many members the faction has."),
            ],
        },
        Section {
            title: "Territory",
            fields: &[
                reference("headquarters", &[Location], "The faction's main base."),
                reference_list(
                    "controlled_territories",
                    &[Location, District],
                    "Places the faction controls.",
                ),
                one_of(
                    "influence_level",
                    &["minor", "moderate", "major", "dominant"],
                    "How much sway the faction has.",
                ),
            ],
        },
        Section {
            title: "Relations",
            fields: &[
                object_list(
                    "allies",
                    &[
                        reference("faction_id", &[Faction], "The allied faction.").required(),
                        text("relationship", "The kind of alliance."),
                        integer("trust_level", "Trust from 1 to 10."),
                    ],
                    "Allied factions.",
                ),
                object_list(
                    "enemies",
                    &[
                        reference("faction_id", &[Faction], "The enemy faction.").required(),
                        text("relationship", "The kind of conflict."),
                        integer("hostility_level", "Hostility from 1 to 10."),
                    ],
                    "Enemy factions.",
                ),
                object_list(
                    "neutral",
                    &[
                        reference("faction_id", &[Faction], "The neutral faction.").required(),
                        text("relationship", "How they deal with each other."),
                        integer("trust_level", "Trust from 1 to 10."),
                    ],
                    "Factions the faction neither fights nor allies with.",
                ),
                reference_list(
                    "allied_factions",
                    &[Faction],
                    "Allied factions, as a plain list of ids.",
                ),
                reference_list(
                    "enemy_factions",
                    &[Faction],
                    "Enemy factions, as a plain list of ids.",
                ),
            ],
        },
        Section {
            title: "Beliefs and Capabilities",
            fields: &[
                text_list("core_beliefs", "What the faction believes."),
                text_list("goals", "What the faction wants to achieve."),
                one_of(
                    "resource_level",
                    &["scarce", "adequate", "well-supplied", "abundant"],
                    "How well supplied the faction is.",
                ),
                integer("military_force", "How many fighters the faction can field."),
                one_of(
                    "equipment_quality",
                    &["poor", "adequate", "good", "excellent"],
                    "How good the faction's equipment is.",
                ),
                text_list("weaknesses", "Where the faction is vulnerable."),
                text_list("common_phrases", "Things members typically say."),
            ],
        },
    ],
    body_headings: &[
        "Description",
        "History",
        "Ideology and Beliefs",
        "Defining Moment",
        "Leadership Structure",
        "Territory and Control",
        "Relations with Other Factions",
        "Common Phrases & Faction Voice",
        "Weaknesses and Vulnerabilities",
    ],
};

const ITEM: BuiltinTemplate = BuiltinTemplate {
    entity_type: Item,
    description: "An object that can be found, carried, used, bought or crafted.",
    category: "entity",
    sections: &[
        Section {
            title: "Identity",
            fields: &[
                one_of(
                    "item_type",
                    &[
                        "weapon",
                        "consumable",
                        "key_item",
                        "material",
                        "collectible",
                        "cosmetic",
                        "currency",
                    ],
                    "The item's primary classification.",
                )
                .required(),
                text("description", "What the item is and what it is for."),
                text("tagline", "A short catchy description."),
                text(
                    "category",
                    "Subcategory within the item type, such as melee.",
                ),
                one_of(
                    "rarity",
                    &["common", "uncommon", "rare", "epic", "legendary", "unique"],
                    "How rare the item is.",
                ),
                text("lore_significance", "What the item means in the lore."),
            ],
        },
        Section {
            title: "Economy",
            fields: &[
                number("value", "Base monetary value."),
                number("base_price", "Price in game currency."),
                integer("stack_size", "How many fit in one stack."),
                boolean("tradeable", "Whether the item can be traded."),
                reference("brand_id", &[Brand], "The brand that makes the item."),
                text("product_line", "The product line within the brand."),
            ],
        },
        Section {
            title: "Availability",
            fields: &[
                reference_list(
                    "spawn_locations",
                    &[Location, District],
                    "Places where the item can be found.",
                ),
                reference_list("vendors", &[Character], "Characters who sell the item."),
                text_list("drop_sources", "Ids of whatever drops the item."),
                reference_list(
                    "required_quests",
                    &[Quest],
                    "Quests needed to unlock or use the item.",
                ),
                reference_list(
                    "faction_restrictions",
                    &[Faction],
                    "Factions whose members may use the item.",
                ),
            ],
        },
        Section {
            title: "Mechanics",
            fields: &[
                boolean("usable", "Whether the item can be used."),
                boolean("consumable", "Whether using the item uses it up."),
                boolean("quest_item", "Whether the item belongs to a quest."),
                number("damage", "Base damage for weapons."),
                number("defense", "Defense value for armour."),
                integer("level_requirement", "Minimum level to use the item."),
                object(
                    "crafting_recipe",
                    &[
                        boolean("craftable", "Whether the item can be crafted."),
                        object_list(
                            "required_items",
                            &[
                                reference("item_id", &[Item], "The ingredient.").required(),
                                integer("quantity", "How many are needed."),
                            ],
                            "Ingredients.",
                        ),
                        text(
                            "crafting_station",
                            "Where it is crafted, such as a workbench.",
                        ),
                    ],
                    "How the item is crafted.",
                ),
            ],
        },
    ],
    body_headings: &[
        "Overview",
        "Physical Description",
        "Lore & History",
        "Mechanics & Usage",
        "Acquisition Methods",
        "Related Items",
    ],
};

const JOB: BuiltinTemplate = BuiltinTemplate {
    entity_type: Job,
    description: "A role people are employed in: who offers it, what it takes and where it leads.",
    category: "entity",
    sections: &[
        Section {
            title: "Identity",
            fields: &[
                one_of(
                    "job_category",
                    &[
                        "technical",
                        "service",
                        "management",
                        "security",
                        "creative",
                        "labor",
                        "sales",
                    ],
                    "The broad kind of work.",
                )
                .required(),
                text("description", "What the job involves."),
                one_of(
                    "employment_type",
                    &[
                        "full_time",
                        "part_time",
                        "contract",
                        "seasonal",
                        "volunteer",
                    ],
                    "How the job is held.",
                ),
                one_of(
                    "experience_level",
                    &["entry", "mid", "senior", "executive"],
                    "How senior the job is.",
                ),
                text("salary_range", "What the job pays."),
                text("education_level", "The schooling the job asks for."),
            ],
        },
        Section {
            title: "Organization",
            fields: &[
                reference(
                    "primary_brand",
                    &[Brand],
                    "The brand that mainly offers the job.",
                ),
                object_list(
                    "associated_brands",
                    &[
                        reference("brand_id", &[Brand], "The brand.").required(),
                        text("title_variation", "What that brand calls the job."),
                    ],
                    "Other brands offering the job.",
                ),
                reference(
                    "faction_controlled",
                    &[Faction],
                    "The faction that controls the job.",
                ),
                reference(
                    "employer",
                    &[Character, Brand],
                    "The person or brand employing.",
                ),
                reference_list("npc_holders", &[Character], "Characters who hold the job."),
            ],
        },
        Section {
            title: "Work",
            fields: &[
                text_list("required_skills", "Skills the job needs."),
                text_list("daily_tasks", "What the job holder does each day."),
                text_list("key_responsibilities", "What the job holder answers for."),
                reference("location", &[Location], "Where the job is performed."),
                object_list(
                    "work_locations",
                    &[
                        reference("location_id", &[Location], "The workplace.").required(),
                        text("frequency", "How often the work is there, such as primary."),
                    ],
                    "Places where the job is done.",
                ),
            ],
        },
        Section {
            title: "Career",
            fields: &[
                reference_list("entry_positions", &[Job], "Jobs that lead to this one."),
                reference_list("advancement_paths", &[Job], "Jobs this one leads to."),
                reference_list("lateral_moves", &[Job], "Jobs at the same level."),
                reference_list("reports_to", &[Job], "Superior positions."),
                reference_list("manages", &[Job], "Subordinate positions."),
                reference_list("collaborates_with", &[Job], "Peer positions."),
            ],
        },
        Section {
            title: "Story",
            fields: &[text_list(
                "story_hooks",
                "Plot opportunities the job creates.",
            )],
        },
    ],
    body_headings: &[
        "Job Description",
        "Responsibilities",
        "Requirements",
        "Career Path",
        "Workplace Culture",
        "Story Integration",
    ],
};

const QUEST: BuiltinTemplate = BuiltinTemplate {
    entity_type: Quest,
    description: "A task given to the player: objectives, people and places involved, and rewards.",
    category: "entity",
    sections: &[
        Section {
            title: "Identity",
            fields: &[
                one_of(
                    "quest_type",
                    &[
                        "main",
                        "side",
                        "daily",
                        "faction",
                        "hidden",
                        "fetch",
                        "escort",
                        "investigation",
                    ],
                    "What kind of quest it is.",
                )
                .required(),
                text("description", "What the quest is about."),
                text(
                    "quest_category",
                    "Theme of the quest, such as investigation.",
                ),
                one_of(
                    "priority_level",
                    &["low", "normal", "medium", "high", "critical"],
                    "How pressing the quest is.",
                ),
                integer("required_level", "Minimum level to take the quest."),
            ],
        },
        Section {
            title: "Prerequisites",
            fields: &[
                reference(
                    "parent_campaign",
                    &[Campaign],
                    "The campaign the quest belongs to.",
                ),
                reference_list(
                    "prerequisite_quests",
                    &[Quest],
                    "Quests to finish before this one.",
                ),
                reference_list("required_items", &[Item], "Items needed for the quest."),
            ],
        },
        Section {
            title: "Objectives",
            fields: &[
                object_list("primary_objectives", OBJECTIVE_FIELDS, "What must be done."),
                object_list(
                    "secondary_objectives",
                    OBJECTIVE_FIELDS,
                    "Optional extra goals.",
                ),
                text_list("completion_criteria", "When the quest counts as done."),
                text_list("failure_conditions", "What makes the quest fail."),
            ],
        },
        Section {
            title: "Characters",
            fields: &[
                reference("quest_giver", &[Character], "Who gives the quest."),
                reference_list("key_npcs", &[Character], "Characters the quest involves."),
                reference_list(
                    "target_characters",
                    &[Character],
                    "Characters the quest is aimed at.",
                ),
                object_list(
                    "involved_factions",
                    FACTION_ROLE_FIELDS,
                    "Factions taking part in the quest.",
                ),
                object_list(
                    "dialogue_trees",
                    &[
                        reference("tree_id", &[Dialogue], "The dialogue."),
                        text("trigger", "When the dialogue plays, such as quest_start."),
                    ],
                    "Dialogues of the quest.",
                ),
            ],
        },
        Section {
            title: "Locations",
            fields: &[
                reference("starting_location", &[Location], "Where the quest starts."),
                reference_list(
                    "quest_locations",
                    &[Location],
                    "Places the quest leads through.",
                ),
                reference("destination_location", &[Location], "Where the quest ends."),
            ],
        },
        Section {
            title: "Rewards",
            fields: &[
                integer("experience_reward", "Experience granted on completion."),
                integer("currency_reward", "Money granted on completion."),
                object_list(
                    "item_rewards",
                    ITEM_REWARD_FIELDS,
                    "Items granted on completion.",
                ),
                object_list(
                    "reputation_changes",
                    &[
                        reference("faction_id", &[Faction], "The faction.").required(),
                        integer("change", "How much reputation changes."),
                    ],
                    "Reputation gained or lost with factions.",
                ),
            ],
        },
    ],
    body_headings: &[
        "Overview",
        "Objectives",
        "Walkthrough",
        "Rewards",
        "Hints and Tips",
    ],
};

const CAMPAIGN: BuiltinTemplate = BuiltinTemplate {
    entity_type: Campaign,
    description: "A story arc made of quests, with its cast, places and themes.",
    category: "entity",
    sections: &[
        Section {
            title: "Identity",
            fields: &[
                one_of(
                    "campaign_type",
                    &["main_story", "side_story", "dlc", "seasonal"],
                    "What kind of campaign it is.",
                )
                .required(),
                text("description", "What the campaign is about."),
                text("narrative_summary", "The campaign's story in brief."),
                text("tone", "The campaign's tone."),
                text_list("themes", "Themes the campaign explores."),
                integer("chapter_count", "How many chapters the campaign has."),
                one_of(
                    "difficulty_level",
                    &["easy", "normal", "hard", "nightmare"],
                    "How hard the campaign is.",
                ),
            ],
        },
        Section {
            title: "Cast",
            fields: &[
                reference_list(
                    "protagonist_characters",
                    &[Character],
                    "The campaign's protagonists.",
                ),
                reference_list(
                    "supporting_characters",
                    &[Character],
                    "The supporting cast.",
                ),
                reference_list(
                    "antagonist_characters",
                    &[Character],
                    "The campaign's antagonists.",
                ),
                object_list(
                    "involved_factions",
                    FACTION_ROLE_FIELDS,
                    "Factions taking part in the campaign.",
                ),
            ],
        },
        Section {
            title: "Locations",
            fields: &[
                reference(
                    "starting_location",
                    &[Location],
                    "Where the campaign starts.",
                ),
                reference_list(
                    "primary_locations",
                    &[Location, District],
                    "The main places of the campaign.",
                ),
                reference_list(
                    "secondary_locations",
                    &[Location, District],
                    "Other places the campaign visits.",
                ),
            ],
        },
        Section {
            title: "Structure",
            fields: &[
                reference_list("quests", &[Quest], "Quests that are part of the campaign."),
                reference_list("quest_sequence", &[Quest], "The main quests, in order."),
                reference_list("optional_quests", &[Quest], "Optional side quests."),
                reference_list("related_events", &[Event], "Events tied to the campaign."),
                text_list("main_objectives", "What the campaign is driving at."),
                boolean("branching_paths", "Whether the story branches."),
                boolean(
                    "multiple_endings",
                    "Whether the campaign has several endings.",
                ),
            ],
        },
        Section {
            title: "Rewards and Schedule",
            fields: &[
                integer("experience_reward", "Experience granted on completion."),
                object_list(
                    "item_rewards",
                    ITEM_REWARD_FIELDS,
                    "Items granted on completion.",
                ),
                date("start_date", "When the campaign becomes available."),
                date("end_date", "When the campaign stops being available."),
            ],
        },
    ],
    body_headings: &[
        "Summary",
        "Backstory",
        "Story Arc",
        "Key Events",
        "Epilogue",
    ],
};

const EVENT: BuiltinTemplate = BuiltinTemplate {
    entity_type: Event,
    description: "Something that happens in the world: when, where, to whom, and what changes.",
    category: "entity",
    sections: &[
        Section {
            title: "Identity",
            fields: &[
                one_of(
                    "event_type",
                    &["world", "local", "personal", "faction", "seasonal"],
                    "What kind of event it is.",
                )
                .required(),
                text("description", "What happens."),
                one_of(
                    "event_scope",
                    &["global", "region", "district", "location", "personal"],
                    "How far the event reaches.",
                ),
                one_of(
                    "narrative_importance",
                    &["minor", "moderate", "major", "critical"],
                    "How central the event is to the story.",
                ),
                one_of(
                    "player_participation",
                    &["required", "optional", "automatic"],
                    "Whether the player takes part.",
                ),
            ],
        },
        Section {
            title: "Timing",
            fields: &[
                one_of(
                    "trigger_type",
                    &["scheduled", "random", "conditional", "manual"],
                    "What sets the event off.",
                ),
                text(
                    "trigger_probability",
                    "The chance of a random event, such as 25%.",
                ),
                date("date", "The day the event takes place."),
                text(
                    "start_time",
                    "When the event starts, as an ISO date and time.",
                ),
                text("end_time", "When the event ends, as an ISO date and time."),
                text("duration", "How long the event lasts."),
                boolean("recurring", "Whether the event repeats."),
                one_of(
                    "recurrence_pattern",
                    &["daily", "weekly", "monthly", "seasonal"],
                    "How often a recurring event repeats.",
                ),
            ],
        },
        Section {
            title: "Involved",
            fields: &[
                reference("location", &[Location], "Where the event takes place."),
                reference_list("participants", &[Character], "Characters taking part."),
                reference_list("factions_involved", &[Faction], "Factions taking part."),
                reference_list(
                    "affected_locations",
                    &[Location, District],
                    "Places the event affects.",
                ),
                reference_list(
                    "affected_characters",
                    &[Character],
                    "Characters the event affects.",
                ),
                reference_list(
                    "affected_factions",
                    &[Faction],
                    "Factions the event affects.",
                ),
                reference_list(
                    "related_campaigns",
                    &[Campaign],
                    "Campaigns tied to the event.",
                ),
                reference_list("related_quests", &[Quest], "Quests tied to the event."),
            ],
        },
        Section {
            title: "Phases and Outcomes",
            fields: &[
                object_list(
                    "event_phases",
                    &[
                        integer("phase", "Number of the phase."),
                        text("name", "Name of the phase."),
                        text("duration", "How long the phase lasts."),
                        text("description", "What happens in the phase."),
                    ],
                    "The stages the event goes through.",
                ),
                object_list(
                    "story_consequences",
                    &[
                        text("consequence", "What changes."),
                        text("description", "How it changes."),
                    ],
                    "What the event changes in the story.",
                ),
                text(
                    "notification_text",
                    "The message shown when the event begins.",
                ),
            ],
        },
    ],
    body_headings: &[
        "Summary",
        "Background Lore",
        "Details",
        "Event Script",
        "Aftermath",
    ],
};

const DIALOGUE: BuiltinTemplate = BuiltinTemplate {
    entity_type: Dialogue,
    description: "A conversation or dialogue tree: who speaks, where, and how it branches.",
    category: "entity",
    sections: &[
        Section {
            title: "Identity",
            fields: &[
                one_of(
                    "tree_type",
                    &[
                        "conversation",
                        "monologue",
                        "interrogation",
                        "negotiation",
                        "cinematic",
                    ],
                    "What kind of dialogue it is.",
                ),
                text("description", "What the dialogue is about."),
                text("atmosphere", "The mood of the scene, such as tense."),
                text(
                    "dialogue_type",
                    "How the dialogue runs, such as scripted or ambient.",
                ),
                text("trigger_condition", "What starts the dialogue."),
            ],
        },
        Section {
            title: "Speakers",
            fields: &[
                reference_list(
                    "participants",
                    &[Character],
                    "Characters taking part; the player may be listed as player.",
                )
                .required(),
                reference("primary_speaker", &[Character], "The main speaker."),
            ],
        },
        Section {
            title: "Context",
            fields: &[
                reference("quest_id", &[Quest], "The quest the dialogue belongs to."),
                reference(
                    "campaign_id",
                    &[Campaign],
                    "The campaign the dialogue belongs to.",
                ),
                reference(
                    "event_id",
                    &[Event],
                    "The event that triggers the dialogue.",
                ),
                reference(
                    "location_id",
                    &[Location],
                    "Where the dialogue takes place.",
                ),
                reference(
                    "quest_link",
                    &[Quest],
                    "The quest the dialogue is tied to, as older package entities name it.",
                ),
            ],
        },
        Section {
            title: "Tree",
            fields: &[
                one_of(
                    "branching_complexity",
                    &["simple", "medium", "complex"],
                    "How much the dialogue branches.",
                ),
                text("estimated_duration", "How long the dialogue takes."),
                integer("max_depth", "The most exchanges on any path."),
                boolean("multiple_paths", "Whether the dialogue branches."),
                text("root_node", "Id of the starting node."),
                integer("ending_count", "How many endings the dialogue has."),
                object_list(
                    "reputation_effects",
                    &[
                        reference("faction_id", &[Faction], "The faction."),
                        text("path", "The path that causes the change."),
                        integer("change", "How much reputation changes."),
                    ],
                    "Reputation changes the dialogue can cause.",
                ),
            ],
        },
        Section {
            title: "Script",
            fields: &[
                text("dialogue_script", "The dialogue itself."),
                text(
                    "implementation_notes",
                    "Notes for implementing the dialogue.",
                ),
            ],
        },
    ],
    body_headings: &[
        "Context and Setup",
        "Dialogue Flow",
        "Dialogue Endings",
        "Implementation Notes",
    ],
};

const TIMELINE: BuiltinTemplate = BuiltinTemplate {
    entity_type: Timeline,
    description: "An entry in the world's chronology: when, who was involved, what changed.",
    category: "entity",
    sections: &[
        Section {
            title: "Entry",
            fields: &[
                one_of(
                    "entry_type",
                    &["event", "milestone", "era", "chapter"],
                    "What kind of entry it is.",
                )
                .required(),
                text("description", "What happened."),
                one_of(
                    "importance_level",
                    &["minor", "moderate", "major", "critical"],
                    "How much the entry matters.",
                ),
                integer(
                    "sequence_order",
                    "Order within a sequence of related entries.",
                ),
            ],
        },
        Section {
            title: "Timing",
            fields: &[
                text(
                    "timestamp",
                    "When it happened, as an ISO date or date and time.",
                ),
                integer("game_year", "The in-story year."),
                text(
                    "game_date",
                    "The in-story date in words, such as June 15, 1998.",
                ),
            ],
        },
        Section {
            title: "Context",
            fields: &[
                reference(
                    "campaign_id",
                    &[Campaign],
                    "The campaign the entry belongs to.",
                ),
                reference("quest_id", &[Quest], "The quest the entry belongs to."),
                reference("event_id", &[Event], "The event the entry records."),
                reference(
                    "dialogue_id",
                    &[Dialogue],
                    "The dialogue the entry records.",
                ),
                reference(
                    "parent_timeline_id",
                    &[Timeline],
                    "The timeline this entry nests in.",
                ),
                reference(
                    "timeline_id",
                    &[Timeline],
                    "The timeline this entry belongs to.",
                ),
            ],
        },
        Section {
            title: "Involved",
            fields: &[
                reference_list("characters_involved", &[Character], "Characters involved."),
                reference_list("locations_involved", &[Location], "Places involved."),
                reference_list("factions_involved", &[Faction], "Factions involved."),
                reference_list("brands_involved", &[Brand], "Brands involved."),
            ],
        },
        Section {
            title: "Consequences",
            fields: &[
                object_list(
                    "world_state_changes",
                    &[
                        text("type", "What kind of change, such as faction_reputation."),
                        text("target", "Id of what changes."),
                        text("description", "The change in words."),
                    ],
                    "How the world changes.",
                ),
                object_list(
                    "relationship_changes",
                    &[
                        reference_list("characters", &[Character], "The characters concerned."),
                        text("change", "What changes, such as trust_increased."),
                        text("description", "The change in words."),
                    ],
                    "How relationships change.",
                ),
                object_list(
                    "item_changes",
                    &[
                        one_of(
                            "action",
                            &["gained", "lost", "consumed", "transformed"],
                            "What happens to the item.",
                        ),
                        reference("item_id", &[Item], "The item."),
                        integer("quantity", "How many."),
                        text("description", "The change in words."),
                    ],
                    "Items gained or lost.",
                ),
                text_list("prerequisites", "Entries that must come before this one."),
                text_list("enables", "Entries this one makes possible."),
            ],
        },
        Section {
            title: "Chronicle",
            fields: &[
                object_list(
                    "entries",
                    &[
                        text("event", "What happened."),
                        reference_list(
                            "entity_refs",
                            &EntityType::ALL,
                            "Entities the entry concerns.",
                        ),
                    ],
                    "Dated entries of a whole timeline, each with a year and an event.",
                ),
                reference_list(
                    "linked_characters",
                    &[Character],
                    "Characters on the timeline.",
                ),
                reference_list("linked_locations", &[Location], "Places on the timeline."),
            ],
        },
    ],
    body_headings: &["Overview", "Detailed Account", "Consequences"],
};

const ASSEMBLY: BuiltinTemplate = BuiltinTemplate {
    entity_type: Assembly,
    description: "A layered visual composition of a character, prop or building, built from slots.",
    category: "entity",
    sections: &[
        Section {
            title: "Identity",
            fields: &[
                one_of(
                    "assembly_type",
                    &["character", "prop", "building"],
                    "What the assembly depicts.",
                )
                .required(),
                text("description", "What the assembly represents."),
                one_of(
                    "hierarchy_level",
                    &[
                        "template",
                        "instance",
                        "profile",
                        "variant",
                        "zombie_variant",
                        "transformation_variant",
                    ],
                    "The assembly's tier in its inheritance chain.",
                ),
                one_of(
                    "inheritance_mode",
                    &["full", "selective", "none"],
                    "How much the assembly inherits from its parent.",
                ),
                integer("order", "Position among sibling assemblies."),
                text("lore_significance", "What the assembly means in the lore."),
            ],
        },
        Section {
            title: "Source",
            fields: &[
                one_of(
                    "source_entity_type",
                    &["character", "item", "location"],
                    "The type of the entity the assembly represents.",
                ),
                reference(
                    "source_entity_id",
                    &[Character, Item, Location],
                    "The entity the assembly represents.",
                ),
                reference(
                    "parent_assembly_id",
                    &[Assembly],
                    "The assembly this one derives from.",
                ),
                reference(
                    "parent_assembly",
                    &[Assembly],
                    "The parent assembly, as older package entities name it.",
                ),
            ],
        },
        Section {
            title: "Slots",
            fields: &[
                object(
                    "slot_definitions",
                    &[],
                    "Slot groups and their slots, keyed by group name.",
                ),
                text_list(
                    "locked_slots",
                    "Slots that child assemblies cannot override.",
                ),
                object_list(
                    "color_variants",
                    &[
                        text("name", "Name of the variant."),
                        text("description", "What the variant looks like."),
                    ],
                    "Alternate colourways.",
                ),
                object(
                    "infection_system",
                    &[boolean("enabled", "Whether infection stages apply.")],
                    "Infection overlay stages.",
                ),
                object(
                    "zombie_progression",
                    &[boolean(
                        "enabled",
                        "Whether the zombie progression applies.",
                    )],
                    "Zombie transformation stages.",
                ),
            ],
        },
    ],
    body_headings: &[
        "Overview",
        "Components",
        "Variations",
        "Inheritance",
        "Export Targets",
    ],
};

const STYLE_BIBLE: BuiltinTemplate = BuiltinTemplate {
    entity_type: StyleBible,
    description: "The visual rules of a universe: palette, lighting, interface and motifs.",
    category: "document",
    sections: &[
        Section {
            title: "Identity",
            fields: &[
                reference(
                    "universe_id",
                    &[Universe],
                    "The universe the style bible governs.",
                ),
                text("version", "Version of the style bible."),
                one_of(
                    "primary_medium",
                    &["video_game", "film", "animation", "mixed"],
                    "The medium the style is made for.",
                )
                .required(),
                text("description", "What the style bible covers."),
            ],
        },
        Section {
            title: "Visual Identity",
            fields: &[
                text("art_direction", "The overall art direction."),
                one_of(
                    "rendering_style",
                    &["2d", "3d", "real_time_3d", "mixed_media"],
                    "How images are rendered.",
                ),
                one_of(
                    "target_platform",
                    &["mobile", "console", "pc", "cross_platform"],
                    "The platform the style targets.",
                ),
                text_list("visual_influences", "Works the style draws on."),
            ],
        },
        Section {
            title: "Colour",
            fields: &[
                object_list(
                    "primary_colors",
                    &[
                        text("name", "Name of the colour."),
                        text("hex", "The colour as a hex code."),
                        text("usage", "Where the colour is used."),
                    ],
                    "The main palette.",
                ),
                object_list(
                    "secondary_colors",
                    &[
                        text("name", "Name of the colour."),
                        text("hex", "The colour as a hex code."),
                        text("usage", "Where the colour is used."),
                    ],
                    "The supporting palette.",
                ),
                text_list("forbidden_colors", "Colours never to use."),
            ],
        },
        Section {
            title: "Lighting",
            fields: &[
                text("lighting_philosophy", "The approach to lighting."),
                text("key_light_color", "Key light colour as hex."),
                text("fill_light_color", "Fill light colour as hex."),
                text("rim_light_color", "Rim light colour as hex."),
                number("shadow_density", "Shadow density from 0 to 1."),
                one_of(
                    "global_illumination",
                    &["realtime", "baked", "mixed"],
                    "How global illumination is computed.",
                ),
                boolean("ambient_occlusion", "Whether ambient occlusion is used."),
            ],
        },
        Section {
            title: "Interface",
            fields: &[
                text("ui_style", "The look of the user interface."),
                text("button_style", "The look of buttons."),
                one_of(
                    "animation_style",
                    &["smooth", "snappy", "bouncy"],
                    "How interface animation feels.",
                ),
            ],
        },
        Section {
            title: "Signature Elements",
            fields: &[
                text_list("recurring_motifs", "Motifs that recur throughout."),
                text_list("iconic_props", "Props that define the look."),
                text_list(
                    "environmental_details",
                    "Small details that dress the world.",
                ),
            ],
        },
    ],
    body_headings: &["Style Overview", "Visual Examples", "Implementation Notes"],
};

const UNIVERSE: BuiltinTemplate = BuiltinTemplate {
    entity_type: Universe,
    description: "The world as a whole: genre, setting, themes, tone and canon rules.",
    category: "document",
    sections: &[
        Section {
            title: "Identity",
            fields: &[
                text("genre", "The universe's genre, such as horror_comedy.").required(),
                text("description", "What the universe is."),
                text("ip_owner", "Who owns the intellectual property."),
                one_of(
                    "target_audience",
                    &["kids", "teen", "teen_mature", "mature", "adult"],
                    "Whom the universe is for.",
                ),
                one_of(
                    "content_rating",
                    &["E", "E10+", "T", "M", "AO"],
                    "The content rating.",
                ),
            ],
        },
        Section {
            title: "Setting",
            fields: &[
                text("setting", "Where and when the universe is set."),
                text("era", "The era, such as alternate_1990s."),
                text("time_period", "The span of years covered."),
                text("technology_level", "How advanced technology is."),
                one_of(
                    "scope",
                    &["local", "regional", "global", "galactic"],
                    "How large the world is.",
                ),
                text_list("key_tech_rules", "Rules about what technology exists."),
                object_list(
                    "primary_locations",
                    &[
                        text("location", "Name of the place."),
                        text("description", "What the place is."),
                    ],
                    "The main settings.",
                ),
            ],
        },
        Section {
            title: "Themes and Tone",
            fields: &[
                text_list("primary_themes", "The main themes."),
                text_list("secondary_themes", "Lesser themes."),
                text("tone", "The universe's tone."),
            ],
        },
        Section {
            title: "Style",
            fields: &[
                text("art_style", "The art style."),
                object(
                    "primary_colors",
                    &[],
                    "Named signature colours as hex codes.",
                ),
                text(
                    "perspective",
                    "The narrative perspective, such as third_person.",
                ),
            ],
        },
        Section {
            title: "Lore",
            fields: &[
                text("origin_story", "How the universe came to be."),
                object_list(
                    "key_events",
                    &[
                        text("event", "Name of the event."),
                        text("description", "What happened."),
                        text("date", "When it happened."),
                    ],
                    "Defining events of the universe.",
                ),
                reference_list("districts", &[District], "Districts of the universe."),
                reference_list("factions", &[Faction], "Factions of the universe."),
                reference_list("key_characters", &[Character], "Central characters."),
            ],
        },
        Section {
            title: "Canon",
            fields: &[text_list(
                "canon_requirements",
                "Rules new content must respect.",
            )],
        },
    ],
    body_headings: &["Overview", "History", "Setting", "Notes"],
};

const BIOME: BuiltinTemplate = BuiltinTemplate {
    entity_type: Biome,
    description: "A natural or built environment: climate, terrain, life, hazards and feel.",
    category: "entity",
    sections: &[
        Section {
            title: "Classification",
            fields: &[
                one_of(
                    "biome_type",
                    &[
                        "forest",
                        "desert",
                        "grassland",
                        "plains",
                        "tundra",
                        "wetland",
                        "swamp",
                        "mountain",
                        "ocean",
                        "coastal",
                        "volcanic",
                        "cave",
                        "urban",
                        "magical",
                        "custom",
                        "other",
                    ],
                    "The primary biome classification.",
                )
                .required(),
                text("climate", "Climate zone, such as temperate."),
                text("area_size", "Approximate area or size."),
                one_of(
                    "narrative_importance",
                    &["minor", "moderate", "major", "critical"],
                    "How central the biome is to the story.",
                ),
                one_of(
                    "ecosystem_health",
                    &["thriving", "stable", "declining", "endangered", "collapsed"],
                    "How healthy the ecosystem is.",
                ),
            ],
        },
        Section {
            title: "Environment",
            fields: &[
                object(
                    "temperature_range",
                    &[
                        text("low", "Typical low."),
                        text("high", "Typical high."),
                        one_of("unit", &["C", "F"], "Temperature unit."),
                    ],
                    "Typical temperature range.",
                ),
                text("precipitation", "Rain and snowfall."),
                text_list("weather_patterns", "Recurring weather."),
                text("terrain_description", "Physical geography and landforms."),
                text("elevation", "Elevation range."),
                text_list("water_features", "Rivers, lakes and other water."),
                object(
                    "seasonal_changes",
                    &[
                        text("spring", "The biome in spring."),
                        text("summer", "The biome in summer."),
                        text("autumn", "The biome in autumn."),
                        text("winter", "The biome in winter."),
                    ],
                    "How the biome changes with the seasons.",
                ),
            ],
        },
        Section {
            title: "Ecology",
            fields: &[
                text_list("flora", "Dominant plants."),
                text_list("fauna", "Dominant animals."),
                text_list("natural_resources", "What can be harvested."),
            ],
        },
        Section {
            title: "Hazards",
            fields: &[
                text_list("hazards", "Environmental dangers."),
                one_of(
                    "threat_level",
                    &["safe", "low", "moderate", "high", "extreme"],
                    "Overall danger.",
                ),
            ],
        },
        Section {
            title: "Sensory",
            fields: &[
                text("atmosphere", "The overall mood."),
                object(
                    "dominant_colors",
                    &[
                        text("primary", "Primary colour as hex."),
                        text("secondary", "Secondary colour as hex."),
                        text("accent", "Accent colour as hex."),
                        text("sky", "Sky colour as hex."),
                    ],
                    "The biome's colours.",
                ),
                text_list("ambient_sounds", "Characteristic sounds."),
            ],
        },
        Section {
            title: "Geography",
            fields: &[
                reference(
                    "parent_location",
                    &[Location],
                    "The location the biome belongs to.",
                ),
                reference_list(
                    "connected_biomes",
                    &[Biome],
                    "Adjacent or connected biomes.",
                ),
                text_list("sub_regions", "Named areas within the biome."),
            ],
        },
        Section {
            title: "Story",
            fields: &[
                text("cultural_significance", "How people see the biome."),
                text_list("story_function", "The roles the biome plays in the story."),
            ],
        },
    ],
    body_headings: &[
        "Background",
        "Ecology",
        "Climate",
        "Hazards & Challenges",
        "Seasonal Cycles",
        "Sensory Details",
        "Cultural Impact",
    ],
};

/// The built-in templates, in the order of [`EntityType::ALL`].
pub static BUILTIN: [BuiltinTemplate; 16] = [
    CHARACTER,
    LOCATION,
    DISTRICT,
    BRAND,
    FACTION,
    ITEM,
    JOB,
    QUEST,
    CAMPAIGN,
    EVENT,
    DIALOGUE,
    TIMELINE,
    ASSEMBLY,
    STYLE_BIBLE,
    UNIVERSE,
    BIOME,
];

/// The built-in template of an entity type.
pub fn builtin(entity_type: EntityType) -> &'static BuiltinTemplate {
    BUILTIN
        .iter()
        .find(|template| template.entity_type == entity_type)
        .expect("every entity type has a built-in template")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    const BASE_FIELDS: &[&str] = &[
        "id",
        "entity_type",
        "name",
        "status",
        "template_version",
        "template_category",
        "created_date",
        "last_updated",
        "primary_image",
        "tags",
        "notes",
    ];

    fn is_snake_case(name: &str) -> bool {
        name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    }

    /// Checks names, vocabularies and targets of a list of fields and of the objects inside.
    fn check_fields<'a>(owner: &str, fields: impl IntoIterator<Item = &'a FieldSpec>) {
        let mut seen = HashSet::new();
        for field in fields {
            assert!(seen.insert(field.name), "{owner}: {} twice", field.name);
            assert!(is_snake_case(field.name), "{owner}: {}", field.name);
            assert!(!field.description.is_empty(), "{owner}: {}", field.name);
            match &field.kind {
                FieldKind::Enum(values) => assert!(!values.is_empty(), "{owner}: {}", field.name),
                FieldKind::Reference(targets) | FieldKind::ReferenceList(targets) => {
                    assert!(!targets.is_empty(), "{owner}: {}", field.name)
                }
                FieldKind::Object(inner) | FieldKind::ObjectList(inner) => {
                    check_fields(&format!("{owner}.{}", field.name), inner.iter())
                }
                _ => {}
            }
        }
    }

    fn has_reference(fields: &[FieldSpec]) -> bool {
        fields.iter().any(|field| match &field.kind {
            FieldKind::Reference(_) | FieldKind::ReferenceList(_) => true,
            FieldKind::Object(inner) | FieldKind::ObjectList(inner) => has_reference(inner),
            _ => false,
        })
    }

    #[test]
    fn one_template_per_type_in_order() {
        for (template, entity_type) in BUILTIN.iter().zip(EntityType::ALL) {
            assert_eq!(template.entity_type, entity_type);
            assert!(std::ptr::eq(builtin(entity_type), template));
        }
    }

    #[test]
    fn categories() {
        for template in &BUILTIN {
            let expected = match template.entity_type {
                Universe | StyleBible => "document",
                _ => "entity",
            };
            assert_eq!(template.category, expected, "{:?}", template.entity_type);
        }
    }

    #[test]
    fn fields_are_well_formed() {
        for template in &BUILTIN {
            let owner = template.entity_type.slug();
            assert!(!template.sections.is_empty(), "{owner}");
            assert!(!template.body_headings.is_empty(), "{owner}");
            check_fields(owner, template.fields());
            for field in template.fields() {
                assert!(
                    !BASE_FIELDS.contains(&field.name),
                    "{owner}: {}",
                    field.name
                );
            }
            assert!(
                template
                    .sections
                    .iter()
                    .any(|section| has_reference(section.fields)),
                "{owner} has no reference field"
            );
        }
    }

    #[test]
    fn required_fields() {
        for template in &BUILTIN {
            let required = template.fields().filter(|field| field.required).count();
            match template.entity_type {
                Character | Faction => assert_eq!(required, 0, "{:?}", template.entity_type),
                _ => assert!((1..=2).contains(&required), "{:?}", template.entity_type),
            }
        }
    }
}
