//! Templates of the people and groups of a world: characters, factions, jobs.

use super::super::spec::*;
use crate::entities::types::EntityType::*;

pub(super) const CHARACTER: BuiltinTemplate = BuiltinTemplate {
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

pub(super) const FACTION: BuiltinTemplate = BuiltinTemplate {
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

pub(super) const JOB: BuiltinTemplate = BuiltinTemplate {
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
