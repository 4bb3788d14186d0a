//! Templates of the places of a world: locations, districts, biomes.

use super::super::spec::*;
use crate::entities::types::EntityType::*;

pub(super) const LOCATION: BuiltinTemplate = BuiltinTemplate {
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

pub(super) const DISTRICT: BuiltinTemplate = BuiltinTemplate {
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

pub(super) const BIOME: BuiltinTemplate = BuiltinTemplate {
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
