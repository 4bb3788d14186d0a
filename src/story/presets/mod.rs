//! Presets: for each agent, its generation settings (temperature, answer length, how much
//! history it sees) and its prompt, built of modules (each one message part: role, task, the
//! story's context, the turn's context, output, and the studio's own) holding entries (the
//! built-in texts, references to context, and the studio's own texts).
//!
//! - this file: the preset's shape and its rules (built-ins always present, required ones on,
//!   built-in text and kind not changeable, ids unique per agent);
//! - [`builtins`]: each agent's built-in modules and entries;
//! - [`compile`]: the messages a call would send;
//! - [`api`]: the mutations on presets, their entries and modules, and the preview.

pub mod api;
pub mod builtins;
pub mod compile;

use async_graphql::{Enum, SimpleObject};
use serde::{Deserialize, Serialize};

use super::groups::{AGENT_ROLES, AgentRole};
use super::library::Body;
use super::model::Kind;
use super::schemas::checked_key;
use crate::db::validate_text;
use crate::error::{AppError, AppResult};

/// Most custom entries, and most custom modules, one agent's prompt holds.
const MAX_CUSTOM: usize = 100;

/// Which message of a call a module goes into.
#[derive(Enum, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MessageRole {
    /// The system message: who the model is and how it answers.
    System,
    /// The user message: what it works on.
    User,
}

/// What an entry is.
#[derive(Enum, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// One of the agent's built-in texts.
    BuiltInText,
    /// A built-in place for context the call fills in.
    BuiltInContextRef,
    /// The studio's own text.
    CustomText,
}

/// A module: one titled part of a message.
#[derive(SimpleObject, Serialize, Deserialize, Clone, Debug)]
pub struct PromptModule {
    /// Unique in its agent's prompt.
    pub module_id: String,
    /// Rendered as `Title:` above its entries.
    pub title: String,
    /// The message it goes into.
    pub message_role: MessageRole,
    /// Modules go in ascending order.
    pub order: i32,
    /// Built in: always present, not deletable.
    pub built_in: bool,
}

/// An entry: one text of a module.
#[derive(SimpleObject, Serialize, Deserialize, Clone, Debug)]
pub struct PromptEntry {
    /// Unique in its agent's prompt.
    pub entry_id: String,
    /// Its name in editors.
    pub display_name: String,
    /// What it is.
    pub kind: EntryKind,
    /// The module it is rendered in.
    pub module_id: String,
    /// Off: left out of the prompt (required entries are always on).
    pub enabled: bool,
    /// Entries go in ascending order within their module.
    pub order: i32,
    /// Cannot be switched off.
    pub required: bool,
    /// The text (built-in and custom texts).
    pub text: Option<String>,
    /// The context it stands for (context references).
    pub context_key: Option<String>,
}

/// One agent's settings and prompt.
#[derive(SimpleObject, Serialize, Deserialize, Clone, Debug)]
pub struct AgentPreset {
    /// The agent.
    pub agent: AgentRole,
    /// Sampling temperature, 0 to 2.
    pub temperature: f64,
    /// The most tokens an answer may take, 1 to 200,000.
    pub max_tokens: i32,
    /// How many recent messages of history it sees (shared history for the director, actors
    /// and narrator; the session's for the replyer), 0 to 100.
    pub history_limit: i32,
    /// How many of its own past thoughts an actor remembers, 0 to 100.
    pub memory_limit: i32,
    /// Its prompt's modules, in order.
    pub modules: Vec<PromptModule>,
    /// Its prompt's entries, by module and order.
    pub entries: Vec<PromptEntry>,
}

impl AgentPreset {
    /// The agent's defaults: its built-in prompt and settings.
    pub fn default_for(agent: AgentRole) -> Self {
        let (temperature, max_tokens) = match agent {
            AgentRole::Planner => (0.8, 2_048),
            AgentRole::Architect => (0.0, 8_192),
            AgentRole::Director => (0.4, 1_024),
            AgentRole::Actor => (0.8, 512),
            AgentRole::Narrator => (0.8, 768),
            AgentRole::Keeper => (0.0, 1_024),
            AgentRole::Replyer => (0.9, 256),
        };
        Self {
            agent,
            temperature,
            max_tokens,
            history_limit: 8,
            memory_limit: 8,
            modules: builtins::modules(),
            entries: builtins::entries(agent),
        }
    }

    pub fn entry_mut(&mut self, entry_id: &str) -> AppResult<&mut PromptEntry> {
        self.entries
            .iter_mut()
            .find(|entry| entry.entry_id == entry_id)
            .ok_or_else(|| AppError::not_found("the agent's prompt has no such entry"))
    }

    /// Puts the built-ins back as they are (a removed one re-added, a changed text or kind
    /// restored; only enabled, order, name and module are the studio's), required entries on,
    /// and checks the rest.
    fn normalize(&mut self) -> AppResult<()> {
        for (field, value, range) in [
            ("maxTokens", self.max_tokens, 1..=200_000),
            ("historyLimit", self.history_limit, 0..=100),
            ("memoryLimit", self.memory_limit, 0..=100),
        ] {
            if !range.contains(&value) {
                return Err(AppError::bad_field(
                    field,
                    format!(
                        "`{field}` must be between {} and {}",
                        range.start(),
                        range.end()
                    ),
                ));
            }
        }
        if !(0.0..=2.0).contains(&self.temperature) {
            return Err(AppError::bad_field(
                "temperature",
                "the temperature is 0 to 2",
            ));
        }
        let mut modules = builtins::modules();
        for module in &self.modules {
            if let Some(built_in) = modules
                .iter_mut()
                .find(|m| m.built_in && m.module_id == module.module_id)
            {
                built_in.order = module.order;
                built_in.title = clean_title(&module.title)?;
            } else if !module.built_in {
                let mut custom = module.clone();
                custom.module_id = checked_key("moduleId", &custom.module_id)?;
                custom.title = clean_title(&custom.title)?;
                custom.message_role = MessageRole::User;
                if modules.iter().any(|m| m.module_id == custom.module_id) {
                    return Err(AppError::conflict(format!(
                        "the agent already has a module `{}`",
                        custom.module_id
                    )));
                }
                modules.push(custom);
            }
        }
        if modules.iter().filter(|m| !m.built_in).count() > MAX_CUSTOM {
            return Err(AppError::bad_field(
                "moduleId",
                "an agent takes at most 100 custom modules",
            ));
        }
        modules.sort_by(|a, b| (a.order, &a.module_id).cmp(&(b.order, &b.module_id)));
        let mut entries = builtins::entries(self.agent);
        for entry in &mut entries {
            if let Some(kept) = self.entries.iter().find(|e| e.entry_id == entry.entry_id) {
                entry.enabled = kept.enabled || entry.required;
                entry.order = kept.order;
                entry.display_name = clean_title(&kept.display_name)?;
                entry.module_id = kept.module_id.clone();
            }
        }
        for entry in &self.entries {
            if entry.kind != EntryKind::CustomText {
                continue;
            }
            let mut custom = entry.clone();
            custom.entry_id = checked_key("entryId", &custom.entry_id)?;
            custom.display_name = clean_title(&custom.display_name)?;
            custom.required = false;
            custom.context_key = None;
            let text = custom.text.as_deref().unwrap_or_default();
            validate_text("text", text, 20_000)?;
            if text.trim().is_empty() {
                return Err(AppError::bad_field("text", "a custom entry needs its text"));
            }
            if entries.iter().any(|e| e.entry_id == custom.entry_id) {
                return Err(AppError::conflict(format!(
                    "the agent already has an entry `{}`",
                    custom.entry_id
                )));
            }
            entries.push(custom);
        }
        if entries
            .iter()
            .filter(|e| e.kind == EntryKind::CustomText)
            .count()
            > MAX_CUSTOM
        {
            return Err(AppError::bad_field(
                "entryId",
                "an agent takes at most 100 custom entries",
            ));
        }
        for entry in &entries {
            if !modules.iter().any(|m| m.module_id == entry.module_id) {
                return Err(AppError::bad_field(
                    "moduleId",
                    format!("the agent has no module `{}`", entry.module_id),
                ));
            }
        }
        entries.sort_by(|a, b| (a.order, &a.entry_id).cmp(&(b.order, &b.entry_id)));
        self.modules = modules;
        self.entries = entries;
        Ok(())
    }
}

fn clean_title(title: &str) -> AppResult<String> {
    validate_text("displayName", title, 200)?;
    let title = title.trim();
    if title.is_empty() || title.chars().any(char::is_control) {
        return Err(AppError::bad_field(
            "displayName",
            "give it a name of 1 to 200 characters",
        ));
    }
    Ok(title.to_owned())
}

/// A preset's content: one [`AgentPreset`] per agent, in the agents' order.
#[derive(SimpleObject, Serialize, Deserialize, Clone, Debug)]
pub struct PresetBody {
    /// Each agent's settings and prompt.
    pub agents: Vec<AgentPreset>,
}

impl Default for PresetBody {
    fn default() -> Self {
        Self {
            agents: AGENT_ROLES
                .into_iter()
                .map(AgentPreset::default_for)
                .collect(),
        }
    }
}

impl PresetBody {
    pub fn agent_mut(&mut self, agent: AgentRole) -> &mut AgentPreset {
        let index = AGENT_ROLES
            .iter()
            .position(|role| *role == agent)
            .unwrap_or(0);
        &mut self.agents[index]
    }

    pub fn agent(&self, agent: AgentRole) -> Option<&AgentPreset> {
        self.agents.iter().find(|preset| preset.agent == agent)
    }
}

impl Body for PresetBody {
    const KIND: Kind = Kind::Preset;
    const MAX_BYTES: usize = 2 * 1024 * 1024;

    fn check(&mut self) -> AppResult<()> {
        let mut agents = Vec::with_capacity(AGENT_ROLES.len());
        for role in AGENT_ROLES {
            let mut preset = match self.agents.iter().position(|p| p.agent == role) {
                Some(index) => self.agents.swap_remove(index),
                None => AgentPreset::default_for(role),
            };
            preset.normalize()?;
            agents.push(preset);
        }
        self.agents = agents;
        Ok(())
    }
}
