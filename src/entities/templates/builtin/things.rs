//! Templates of the things of a world: brands, items, assemblies.

use super::super::spec::*;
use crate::entities::types::EntityType::*;

pub(super) const BRAND: BuiltinTemplate = BuiltinTemplate {
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

pub(super) const ITEM: BuiltinTemplate = BuiltinTemplate {
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

pub(super) const ASSEMBLY: BuiltinTemplate = BuiltinTemplate {
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
