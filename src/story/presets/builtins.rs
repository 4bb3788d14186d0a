//! The built-in prompt of each agent: five modules (role, task, static context, dynamic
//! context, output) and their built-in entries — the core texts, and references to the
//! context a call fills in. A preset always holds them; a studio may reorder, rename, move or
//! switch off what is not required, and add its own text entries and modules.

use super::{EntryKind, MessageRole, PromptEntry, PromptModule};
use crate::story::groups::AgentRole;

/// A built-in module: its id, title, message role and order.
const MODULES: [(&str, &str, MessageRole, i32); 5] = [
    ("role", "Role", MessageRole::System, 10),
    ("task", "Task", MessageRole::System, 20),
    ("static_context", "Story", MessageRole::User, 30),
    ("dynamic_context", "Now", MessageRole::User, 40),
    ("output", "Output", MessageRole::System, 50),
];

/// Where custom modules go unless given an order.
pub const CUSTOM_MODULE_ORDER: i32 = 1_000;

/// The agent's role, task and output texts.
fn core_texts(agent: AgentRole) -> (&'static str, &'static str, &'static str) {
    match agent {
        AgentRole::Planner => (
            "You are the planner of an interactive story: you turn a concept and a cast into a \
             story worth playing.",
            "Write the story's outline in plain text: an `Opening Situation:` paragraph, then \
             `Suggested Beats:` as a bulleted list of the turns the story may take.",
            "Answer with the outline only, in plain text.",
        ),
        AgentRole::Architect => (
            "You are the architect of an interactive story: you turn an outline into a graph of \
             scenes the player moves through.",
            "Build the section of the outline you are given as story nodes with their scenes, \
             goals, characters, transitions and conditions, and the state they need.",
            "Answer with one JSON object as the format asks, and nothing else.",
        ),
        AgentRole::Director => (
            "You are the director of an interactive story: you decide how the story answers \
             the player.",
            "Plan this turn's response: who enters or leaves, and the beats of narration and \
             dialogue that follow the player's input.",
            "Answer with one JSON object and nothing else: {\"role_actions\": [{\"type\": \
             \"create_and_enter\", \"name\": ..., \"personality\": ..., \"description\": ...} or \
             {\"type\": \"enter_scene\" or \"leave_scene\", \"character_id\": ...}], \"beats\": \
             [{\"type\": \"narrator\", \"purpose\": \"describe_transition\", \"describe_scene\" or \
             \"describe_result\"} or {\"type\": \"actor\", \"speaker_id\": ..., \"purpose\": \
             \"advance_goal\", \"react_to_player\" or \"comment_on_scene\"}]}. At most 8 beats; \
             actors are characters in the scene.",
        ),
        AgentRole::Actor => (
            "You are {{char}}, a character of an interactive story. Stay in character.",
            "Play your beat: think, act and speak as {{char}} would, toward your goal.",
            "Write your thought in <thought>, what you do in <action> and what you say in \
             <dialogue> tags.",
        ),
        AgentRole::Narrator => (
            "You are the narrator of an interactive story.",
            "Narrate the beat you are given in vivid, concise prose, in the second person for \
             {{user}}.",
            "Answer with the narration only.",
        ),
        AgentRole::Keeper => (
            "You are the keeper of an interactive story's state.",
            "Read what just happened and update the world's, the player's and the characters' \
             state to match it, using only the keys the schemas define.",
            "Answer with one JSON object and nothing else: {\"operations\": [...]}, each \
             operation one of {\"type\": \"SetState\" or \"SetPlayerState\", \"key\": ..., \
             \"value\": ...}, {\"type\": \"RemoveState\" or \"RemovePlayerState\", \"key\": ...}, \
             {\"type\": \"SetCharacterState\", \"character\": ..., \"key\": ..., \"value\": ...}, \
             {\"type\": \"RemoveCharacterState\", \"character\": ..., \"key\": ...}, \
             {\"type\": \"AddActiveCharacter\" or \"RemoveActiveCharacter\", \"character\": ...}. \
             An empty list when nothing changed.",
        ),
        AgentRole::Replyer => (
            "You suggest what the player of an interactive story might say or do next.",
            "Offer distinct, in-character replies for {{user}} that move the scene along.",
            "Answer with one JSON object holding `suggestions`, a list of strings.",
        ),
    }
}

/// The context an agent's calls are given, static (about the story) or dynamic (about the
/// turn), by key.
pub fn context_keys(agent: AgentRole) -> (&'static [&'static str], &'static [&'static str]) {
    match agent {
        AgentRole::Planner => (&["story_concept", "characters", "lore"], &[]),
        AgentRole::Architect => (
            &["story_plan", "characters", "lore", "state_schemas"],
            &["section", "graph_so_far"],
        ),
        AgentRole::Director => (
            &["introduction", "characters"],
            &[
                "current_node",
                "world_state",
                "player_state",
                "shared_history",
                "lore",
                "player_input",
            ],
        ),
        AgentRole::Actor => (
            &["character_profile", "character_system_prompt"],
            &[
                "scene",
                "character_state",
                "shared_history",
                "private_memory",
                "beat",
            ],
        ),
        AgentRole::Narrator => (
            &["introduction"],
            &["scene", "shared_history", "lore", "beat"],
        ),
        AgentRole::Keeper => (
            &["state_schemas"],
            &[
                "world_state",
                "player_state",
                "character_states",
                "recent_events",
            ],
        ),
        AgentRole::Replyer => (
            &["player_profile"],
            &["scene", "session_history", "suggestion_count"],
        ),
    }
}

pub fn agent_slug(agent: AgentRole) -> &'static str {
    match agent {
        AgentRole::Planner => "planner",
        AgentRole::Architect => "architect",
        AgentRole::Director => "director",
        AgentRole::Actor => "actor",
        AgentRole::Narrator => "narrator",
        AgentRole::Keeper => "keeper",
        AgentRole::Replyer => "replyer",
    }
}

/// The built-in modules.
pub fn modules() -> Vec<PromptModule> {
    MODULES
        .iter()
        .map(|(id, title, role, order)| PromptModule {
            module_id: (*id).to_owned(),
            title: (*title).to_owned(),
            message_role: *role,
            order: *order,
            built_in: true,
        })
        .collect()
}

/// The agent's built-in entries, as a new preset holds them.
pub fn entries(agent: AgentRole) -> Vec<PromptEntry> {
    let slug = agent_slug(agent);
    let (role, task, output) = core_texts(agent);
    let mut entries = vec![
        core(slug, "role", "Role", role),
        core(slug, "task", "Task", task),
        core(slug, "output", "Output format", output),
    ];
    let (statics, dynamics) = context_keys(agent);
    for (module, keys) in [("static_context", statics), ("dynamic_context", dynamics)] {
        for (key, order) in keys.iter().zip((10..).step_by(10)) {
            entries.push(PromptEntry {
                entry_id: format!("{slug}_{key}"),
                display_name: key.replace('_', " "),
                kind: EntryKind::BuiltInContextRef,
                module_id: module.to_owned(),
                enabled: true,
                order,
                required: false,
                text: None,
                context_key: Some((*key).to_owned()),
            });
        }
    }
    entries
}

fn core(slug: &str, part: &str, name: &str, text: &str) -> PromptEntry {
    PromptEntry {
        entry_id: format!("{slug}_{part}_core"),
        display_name: name.to_owned(),
        kind: EntryKind::BuiltInText,
        module_id: part.to_owned(),
        enabled: true,
        order: 10,
        required: true,
        text: Some(text.to_owned()),
        context_key: None,
    }
}
