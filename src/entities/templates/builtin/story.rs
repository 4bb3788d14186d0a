//! Templates of the story: quests, campaigns, events, dialogues, timelines.

use super::super::spec::*;
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

pub(super) const QUEST: BuiltinTemplate = BuiltinTemplate {
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

pub(super) const CAMPAIGN: BuiltinTemplate = BuiltinTemplate {
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

pub(super) const EVENT: BuiltinTemplate = BuiltinTemplate {
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

pub(super) const DIALOGUE: BuiltinTemplate = BuiltinTemplate {
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

pub(super) const TIMELINE: BuiltinTemplate = BuiltinTemplate {
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
