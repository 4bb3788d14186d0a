//! GraphQL of presets: creating and tuning them per agent, their custom entries and modules,
//! and the preview of the messages an agent would receive.

use async_graphql::{ComplexObject, Context, ID, InputObject, Json, Object, SimpleObject};
use serde_json::Value;
use uuid::Uuid;

use super::compile::{PreviewMode, compile};
use super::{AgentPreset, EntryKind, MessageRole, PresetBody, PromptEntry, PromptModule};
use crate::auth::Role;
use crate::context::ContextExt;
use crate::db::parse_id;
use crate::error::{AppError, AppResult};
use crate::story::api::library::{self as documents, create, library_api};
use crate::story::groups::AgentRole;
use crate::story::library;

library_api! {
    body: PresetBody, node: Preset,
    node_doc: "A preset: each agent's generation settings and prompt.",
    query: PresetQuery { one: preset, many: presets },
    mutation: PresetDeletion { delete: delete_preset },
    connection: PresetConnection, PresetEdge,
    docs: "One preset of the viewer's tenant; null when there is none.",
        "The tenant's presets by name, a page at a time.",
        "Presets, a page at a time by cursor.",
        "A preset and its cursor.",
}

#[ComplexObject]
impl Preset {
    /// One agent's settings and prompt.
    async fn agent(
        &self,
        #[graphql(desc = "The agent.")] agent: AgentRole,
    ) -> Option<&AgentPreset> {
        self.body.agent(agent)
    }
}

/// An agent's generation settings: only what is given changes.
#[derive(InputObject)]
pub struct AgentSettingsInput {
    /// The agent.
    pub agent: AgentRole,
    /// Sampling temperature, 0 to 2.
    pub temperature: Option<f64>,
    /// The most tokens an answer may take, 1 to 200,000.
    pub max_tokens: Option<i32>,
    /// How many recent messages of history it sees, 0 to 100.
    pub history_limit: Option<i32>,
    /// How many of its own past thoughts an actor remembers, 0 to 100.
    pub memory_limit: Option<i32>,
}

/// A custom text entry.
#[derive(InputObject)]
pub struct PresetEntryInput {
    /// Its id in the agent's prompt (1 to 64 letters, digits, `_`, `-` or `.`); a new UUID
    /// when absent.
    pub entry_id: Option<String>,
    /// Its name in editors.
    pub display_name: String,
    /// The module it goes into.
    pub module_id: String,
    /// Its text (up to 20,000 characters).
    pub text: String,
    /// Off: left out of the prompt.
    #[graphql(default = true)]
    pub enabled: bool,
    /// Its place in the module; after the last entry when absent.
    pub order: Option<i32>,
}

/// A change to an entry: only what is given changes (a built-in's text stays its own).
#[derive(InputObject, Default)]
pub struct PresetEntryUpdate {
    /// Its name in editors.
    pub display_name: Option<String>,
    /// Move it to another module.
    pub module_id: Option<String>,
    /// New text (custom entries only).
    pub text: Option<String>,
    /// On or off (required entries stay on).
    pub enabled: Option<bool>,
    /// Its place in the module.
    pub order: Option<i32>,
}

/// A custom module (a part of the user message).
#[derive(InputObject)]
pub struct PresetModuleInput {
    /// Its id in the agent's prompt; a new UUID when absent.
    pub module_id: Option<String>,
    /// Rendered as `Title:` above its entries.
    pub title: String,
    /// Its place among the modules (1,000 when absent: after the built-ins).
    pub order: Option<i32>,
}

/// One message of a compiled prompt.
#[derive(SimpleObject)]
pub struct PromptMessage {
    /// Whose message it is.
    pub role: MessageRole,
    /// Its text.
    pub content: String,
}

/// The messages an agent would receive.
#[derive(SimpleObject)]
pub struct PresetPreview {
    /// The system message, then the user message.
    pub messages: Vec<PromptMessage>,
    /// Context keys the prompt refers to that the context did not give.
    pub unresolved_context_keys: Vec<String>,
}

#[derive(Default)]
pub struct PresetPreviewQuery;

#[Object]
impl PresetPreviewQuery {
    /// The exact messages an agent would receive with a preset: TEMPLATE shows where context
    /// goes, RUNTIME fills it from `context` and lists what it lacked.
    async fn preset_preview(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The preset's id.")] preset_id: ID,
        #[graphql(desc = "The agent.")] agent: AgentRole,
        #[graphql(default_with = "PreviewMode::Template", desc = "How context is shown.")]
        mode: PreviewMode,
        #[graphql(desc = "Context by key (a JSON object), for RUNTIME.")] context: Option<
            Json<Value>,
        >,
    ) -> AppResult<PresetPreview> {
        let viewer = ctx.viewer()?;
        let id = parse_id("presetId", &preset_id)?;
        let context = match context.map(|json| json.0) {
            None | Some(Value::Null) => serde_json::Map::new(),
            Some(Value::Object(map)) => map,
            Some(_) => {
                return Err(AppError::bad_field(
                    "context",
                    "give the context as a JSON object",
                ));
            }
        };
        let mut conn = ctx.conn().await?;
        let mut preset = library::get::<PresetBody>(&mut conn, viewer, id)
            .await?
            .ok_or_else(|| AppError::not_found("preset not found"))?;
        // The built-ins as this server has them, whatever the preset stored.
        library::Body::check(&mut preset.body)?;
        let compiled = compile(preset.body.agent_mut(agent), mode, &context);
        Ok(PresetPreview {
            messages: vec![
                PromptMessage {
                    role: MessageRole::System,
                    content: compiled.system,
                },
                PromptMessage {
                    role: MessageRole::User,
                    content: compiled.user,
                },
            ],
            unresolved_context_keys: compiled.unresolved,
        })
    }
}

#[derive(Default)]
pub struct PresetWrites;

#[Object]
impl PresetWrites {
    /// Creates a preset with every agent's built-in prompt (WORLDBUILDER and above).
    async fn create_preset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Its name in lists: 1 to 200 characters.")] display_name: String,
        #[graphql(desc = "Settings that differ from the agents' defaults.")] agents: Option<
            Vec<AgentSettingsInput>,
        >,
    ) -> AppResult<Preset> {
        ctx.viewer_with(Role::Worldbuilder)?;
        let mut body = PresetBody::default();
        apply_settings(&mut body, agents.unwrap_or_default());
        Ok(create(ctx, Some(&display_name), body).await?.into())
    }

    /// Renames a preset or changes agents' settings (WORLDBUILDER and above).
    async fn update_preset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Its id.")] id: ID,
        #[graphql(desc = "Change it only if it is still at this version (CONFLICT otherwise).")]
        expected_version: Option<i32>,
        #[graphql(desc = "A new name: 1 to 200 characters.")] display_name: Option<String>,
        #[graphql(desc = "Settings to change, per agent.")] agents: Option<Vec<AgentSettingsInput>>,
    ) -> AppResult<Preset> {
        change(
            ctx,
            &id,
            expected_version,
            display_name.as_deref(),
            |mut body| {
                apply_settings(&mut body, agents.unwrap_or_default());
                Ok(body)
            },
        )
        .await
    }

    /// Adds a custom text entry to an agent's prompt (WORLDBUILDER and above); CONFLICT when
    /// its id is taken.
    async fn create_preset_entry(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The preset's id.")] preset_id: ID,
        #[graphql(desc = "The agent.")] agent: AgentRole,
        #[graphql(desc = "The new entry.")] input: PresetEntryInput,
    ) -> AppResult<Preset> {
        change(ctx, &preset_id, None, None, |mut body| {
            let prompt = body.agent_mut(agent);
            let order = input.order.unwrap_or_else(|| {
                let last = prompt
                    .entries
                    .iter()
                    .filter(|entry| entry.module_id == input.module_id)
                    .map(|entry| entry.order)
                    .max();
                last.unwrap_or(0).saturating_add(10)
            });
            prompt.entries.push(PromptEntry {
                entry_id: input.entry_id.unwrap_or_else(|| Uuid::now_v7().to_string()),
                display_name: input.display_name,
                kind: EntryKind::CustomText,
                module_id: input.module_id,
                enabled: input.enabled,
                order,
                required: false,
                text: Some(input.text),
                context_key: None,
            });
            Ok(body)
        })
        .await
    }

    /// Changes an entry of an agent's prompt (WORLDBUILDER and above): of a built-in, only its
    /// name, module, order and whether it is on; a required entry stays on.
    async fn update_preset_entry(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The preset's id.")] preset_id: ID,
        #[graphql(desc = "The agent.")] agent: AgentRole,
        #[graphql(desc = "The entry's id.")] entry_id: String,
        #[graphql(desc = "The changes; what is absent stays.")] input: PresetEntryUpdate,
    ) -> AppResult<Preset> {
        change(ctx, &preset_id, None, None, |mut body| {
            let entry = body.agent_mut(agent).entry_mut(&entry_id)?;
            if input.enabled == Some(false) && entry.required {
                return Err(AppError::bad_field("enabled", "a required entry stays on"));
            }
            if input.text.is_some() && entry.kind != EntryKind::CustomText {
                return Err(AppError::bad_field(
                    "text",
                    "a built-in entry's text is its own",
                ));
            }
            if let Some(name) = input.display_name {
                entry.display_name = name;
            }
            if let Some(module) = input.module_id {
                entry.module_id = module;
            }
            if let Some(text) = input.text {
                entry.text = Some(text);
            }
            if let Some(enabled) = input.enabled {
                entry.enabled = enabled;
            }
            if let Some(order) = input.order {
                entry.order = order;
            }
            Ok(body)
        })
        .await
    }

    /// Removes a custom entry (WORLDBUILDER and above); built-in entries are switched off
    /// instead.
    async fn delete_preset_entry(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The preset's id.")] preset_id: ID,
        #[graphql(desc = "The agent.")] agent: AgentRole,
        #[graphql(desc = "The entry's id.")] entry_id: String,
    ) -> AppResult<Preset> {
        change(ctx, &preset_id, None, None, |mut body| {
            let prompt = body.agent_mut(agent);
            if prompt.entry_mut(&entry_id)?.kind != EntryKind::CustomText {
                return Err(AppError::bad_field(
                    "entryId",
                    "built-in entries cannot be deleted: switch them off",
                ));
            }
            prompt.entries.retain(|entry| entry.entry_id != entry_id);
            Ok(body)
        })
        .await
    }

    /// Adds a custom module to an agent's prompt, part of the user message (WORLDBUILDER and
    /// above).
    async fn create_preset_module(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The preset's id.")] preset_id: ID,
        #[graphql(desc = "The agent.")] agent: AgentRole,
        #[graphql(desc = "The new module.")] input: PresetModuleInput,
    ) -> AppResult<Preset> {
        change(ctx, &preset_id, None, None, |mut body| {
            body.agent_mut(agent).modules.push(PromptModule {
                module_id: input
                    .module_id
                    .unwrap_or_else(|| Uuid::now_v7().to_string()),
                title: input.title,
                message_role: MessageRole::User,
                order: input.order.unwrap_or(super::builtins::CUSTOM_MODULE_ORDER),
                built_in: false,
            });
            Ok(body)
        })
        .await
    }

    /// Removes an empty custom module (WORLDBUILDER and above).
    async fn delete_preset_module(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The preset's id.")] preset_id: ID,
        #[graphql(desc = "The agent.")] agent: AgentRole,
        #[graphql(desc = "The module's id.")] module_id: String,
    ) -> AppResult<Preset> {
        change(ctx, &preset_id, None, None, |mut body| {
            let prompt = body.agent_mut(agent);
            let module = prompt
                .modules
                .iter()
                .find(|module| module.module_id == module_id)
                .ok_or_else(|| AppError::not_found("the agent's prompt has no such module"))?;
            if module.built_in {
                return Err(AppError::bad_field("moduleId", "built-in modules stay"));
            }
            if prompt
                .entries
                .iter()
                .any(|entry| entry.module_id == module_id)
            {
                return Err(AppError::conflict(
                    "the module still holds entries: move or delete them first",
                ));
            }
            prompt
                .modules
                .retain(|module| module.module_id != module_id);
            Ok(body)
        })
        .await
    }
}

fn apply_settings(body: &mut PresetBody, settings: Vec<AgentSettingsInput>) {
    for input in settings {
        let agent = body.agent_mut(input.agent);
        if let Some(temperature) = input.temperature {
            agent.temperature = temperature;
        }
        if let Some(max_tokens) = input.max_tokens {
            agent.max_tokens = max_tokens;
        }
        if let Some(limit) = input.history_limit {
            agent.history_limit = limit;
        }
        if let Some(limit) = input.memory_limit {
            agent.memory_limit = limit;
        }
    }
}

/// Changes a preset, read with this server's built-ins first (a preset stored before a
/// built-in changed gets today's).
async fn change(
    ctx: &Context<'_>,
    id: &ID,
    expected_version: Option<i32>,
    display_name: Option<&str>,
    change: impl FnOnce(PresetBody) -> AppResult<PresetBody> + Send,
) -> AppResult<Preset> {
    let stored = documents::change(ctx, id, expected_version, display_name, |mut body| {
        library::Body::check(&mut body)?;
        change(body)
    })
    .await?;
    Ok(stored.into())
}
