//! Templates of world-wide documents: universes and style bibles.

use super::super::spec::*;
use crate::entities::types::EntityType::*;

pub(super) const UNIVERSE: BuiltinTemplate = BuiltinTemplate {
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

pub(super) const STYLE_BIBLE: BuiltinTemplate = BuiltinTemplate {
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
