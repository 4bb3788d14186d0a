//! The messages an agent's call sends: one system message and one user message, each the
//! agent's modules of that role in order, a module rendered as `Title:` then its enabled
//! entries separated by blank lines. Context references are filled from the call's context;
//! empty context is left out, and context the call lacks is reported as unresolved.

use serde_json::{Map, Value};

use super::{AgentPreset, EntryKind, MessageRole};
use crate::llm::service::{ChatRequest, Message, Role as Speaker};

/// How context references are shown.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreviewMode {
    /// Each reference as a `[context: key]` placeholder: the prompt's shape.
    Template,
    /// Each reference filled from the context given, as a call would send it.
    Runtime,
}

/// The compiled messages.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Compiled {
    pub system: String,
    pub user: String,
    /// Context keys the prompt refers to that the context did not give (runtime only).
    pub unresolved: Vec<String>,
}

/// A context value as a prompt shows it: text as it is, anything else as JSON.
fn shown(value: &Value) -> String {
    match value {
        Value::String(text) => text.trim().to_owned(),
        Value::Null => String::new(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

impl AgentPreset {
    /// The call this agent makes with `context`: its compiled system and user messages, its
    /// temperature and answer length (`json`: the answer must be one JSON object).
    pub fn request(&self, context: &Map<String, Value>, json: bool) -> ChatRequest {
        let compiled = compile(self, PreviewMode::Runtime, context);
        ChatRequest {
            messages: vec![
                Message::new(Speaker::System, compiled.system),
                Message::new(Speaker::User, compiled.user),
            ],
            temperature: Some(self.temperature),
            max_tokens: u32::try_from(self.max_tokens).ok(),
            json,
        }
    }
}

pub fn compile(agent: &AgentPreset, mode: PreviewMode, context: &Map<String, Value>) -> Compiled {
    let mut compiled = Compiled::default();
    let mut modules: Vec<_> = agent.modules.iter().collect();
    modules.sort_by_key(|module| (module.order, module.module_id.as_str()));
    for module in modules {
        let mut entries: Vec<_> = agent
            .entries
            .iter()
            .filter(|entry| entry.enabled && entry.module_id == module.module_id)
            .collect();
        entries.sort_by_key(|entry| (entry.order, entry.entry_id.as_str()));
        let mut texts = Vec::new();
        for entry in entries {
            let text = match (entry.kind, entry.context_key.as_deref(), mode) {
                (EntryKind::BuiltInContextRef, Some(key), PreviewMode::Template) => {
                    format!("[context: {key}]")
                }
                (EntryKind::BuiltInContextRef, Some(key), PreviewMode::Runtime) => {
                    match context.get(key) {
                        Some(value) => shown(value),
                        None => {
                            compiled.unresolved.push(key.to_owned());
                            String::new()
                        }
                    }
                }
                _ => entry.text.as_deref().unwrap_or_default().trim().to_owned(),
            };
            if !text.is_empty() {
                texts.push(text);
            }
        }
        if texts.is_empty() {
            continue;
        }
        let rendered = format!("{}:\n{}", module.title, texts.join("\n\n"));
        let message = match module.message_role {
            MessageRole::System => &mut compiled.system,
            MessageRole::User => &mut compiled.user,
        };
        if !message.is_empty() {
            message.push_str("\n\n");
        }
        message.push_str(&rendered);
    }
    compiled
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::story::groups::AgentRole;

    #[test]
    fn a_call_is_one_system_and_one_user_message_with_context_filled_or_reported() {
        let agent = AgentPreset::default_for(AgentRole::Narrator);
        let context = json!({ "scene": "A cold hall.", "shared_history": "", "beat": { "purpose": "scene" } });
        let compiled = compile(&agent, PreviewMode::Runtime, context.as_object().unwrap());
        assert!(compiled.system.starts_with("Role:\nYou are the narrator"));
        assert!(compiled.system.contains("\n\nTask:\n"));
        assert!(compiled.system.ends_with("Answer with the narration only."));
        assert!(
            compiled.user.starts_with("Now:\nA cold hall.\n\n{"),
            "{}",
            compiled.user
        );
        assert!(
            !compiled.user.contains("Story:"),
            "a module with nothing in it is left out"
        );
        assert_eq!(compiled.unresolved, ["introduction", "lore"]);

        let template = compile(&agent, PreviewMode::Template, &Map::new());
        assert!(template.user.contains("Story:\n[context: introduction]"));
        assert!(template.unresolved.is_empty());
    }
}
