//! The architect's calls: one section of the outline each, answered in JSON. An answer that
//! cannot be used — no JSON, the wrong shape, or a graph that breaks the rules once merged —
//! gets one repair call (the answer and what is wrong with it sent back); a second failure is
//! a clear error and changes nothing.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::auth::Viewer;
use crate::context::Platform;
use crate::error::{AppError, AppResult};
use crate::llm::service::{LlmRuntime, Message, Role as Speaker};
use crate::story::connections::service as connections;
use crate::story::presets::AgentPreset;
use crate::story::schemas::StateSchemaBody;
use crate::story::sessions::turns::answers::json_object;
use crate::story::stories::graph::{StoryGraph, StoryNode, Transition};

/// Answer lengths of the first call and of the others (DOMAIN_NOTES).
const FIRST_MAX_TOKENS: u32 = 8_192;
const NEXT_MAX_TOKENS: u32 = 4_096;
/// Most nodes one section adds.
pub const MAX_SECTION_NODES: usize = 12;

/// Transitions to add to a node drafted earlier.
#[derive(Deserialize, Clone, Debug)]
pub struct Patch {
    pub node_id: String,
    #[serde(default)]
    pub add_transitions: Vec<Transition>,
}

/// What the architect made of a section.
#[derive(Deserialize, Clone, Debug, Default)]
pub struct SectionAnswer {
    #[serde(default)]
    pub start_node: Option<String>,
    #[serde(default)]
    pub nodes: Vec<StoryNode>,
    #[serde(default)]
    pub transition_patches: Vec<Patch>,
    #[serde(default)]
    pub world_schema: Option<StateSchemaBody>,
    #[serde(default)]
    pub player_schema: Option<StateSchemaBody>,
    #[serde(default)]
    pub introduction: Option<String>,
    #[serde(default)]
    pub section_summary: Option<String>,
}

/// The shape the first call answers in.
const FIRST_FORMAT: &str = r#"{"start_node": "<node id>", "nodes": [{"id": "<letters, digits, _ - .>", "title": "...", "scene": "...", "goal": "...", "characters": ["<character id>"], "transitions": [{"to": "<node id>", "condition": {"scope": "global|player|character", "character": "<id, for character>", "key": "<schema key>", "op": "eq|ne|gt|gte|lt|lte|contains", "value": 1}}], "on_enter_updates": [{"type": "SetState", "key": "...", "value": 1}]}], "world_schema": {"fields": [{"key": "...", "value_type": "bool|int|float|string|array|object", "default": 0, "description": "..."}]}, "player_schema": {"fields": []}, "introduction": "...", "section_summary": "..."}"#;
/// The shape the next calls answer in.
const NEXT_FORMAT: &str = r#"{"nodes": [<about 4 new nodes, shaped as before>], "transition_patches": [{"node_id": "<an earlier node>", "add_transitions": [{"to": "<a new node>"}]}], "section_summary": "..."}"#;

/// One architect at work on a draft: its connection, its prompt and what every call is told.
pub struct Architect<'a> {
    pub platform: &'a Platform,
    pub runtime: &'a LlmRuntime,
    pub viewer: &'a Viewer,
    pub connection_id: Uuid,
    pub preset: AgentPreset,
    /// The story's context: the plan, the cast, the lore, the schemas.
    pub context: Map<String, Value>,
}

/// The graph so far, as the architect is told it (ids, titles and where they lead).
fn so_far(graph: &StoryGraph) -> Value {
    let nodes: Vec<Value> = graph
        .nodes
        .iter()
        .map(|node| {
            let to: Vec<&str> = node.transitions.iter().map(|t| t.to.as_str()).collect();
            json!({ "id": node.id, "title": node.title, "goal": node.goal, "leads_to": to })
        })
        .collect();
    json!({ "start_node": graph.start_node, "nodes": nodes })
}

fn read(answer: &str) -> AppResult<SectionAnswer> {
    let object = json_object(answer)
        .ok_or_else(|| AppError::bad_input("the answer holds no JSON object"))?;
    let read: SectionAnswer = serde_json::from_value(Value::Object(object)).map_err(|error| {
        AppError::bad_input(format!("the JSON does not fit the format: {error}"))
    })?;
    if read.nodes.len() > MAX_SECTION_NODES {
        return Err(AppError::bad_input(format!(
            "a section adds at most {MAX_SECTION_NODES} nodes"
        )));
    }
    Ok(read)
}

impl Architect<'_> {
    /// Drafts section `index` of `total` on top of `graph`; `accept` merges the answer and
    /// checks it (its error is what a repair call is told). What `accept` made.
    pub async fn section<T>(
        &self,
        index: usize,
        total: usize,
        text: &str,
        graph: &StoryGraph,
        mut accept: impl FnMut(SectionAnswer) -> AppResult<T>,
    ) -> AppResult<T> {
        let first = index == 0;
        let mut context = self.context.clone();
        let format = if first { FIRST_FORMAT } else { NEXT_FORMAT };
        context.insert(
            "section".into(),
            Value::String(format!(
                "Section {} of {total}:\n{text}\n\nAnswer in this format: {format}",
                index + 1
            )),
        );
        let graph_so_far = if first { Value::Null } else { so_far(graph) };
        context.insert("graph_so_far".into(), graph_so_far);
        let mut request = self.preset.request(&context, true);
        request.temperature = Some(0.0);
        request.max_tokens = Some(if first {
            FIRST_MAX_TOKENS
        } else {
            NEXT_MAX_TOKENS
        });
        let answer = self.call(&request).await?;
        let refused = match read(&answer).and_then(&mut accept) {
            Ok(made) => return Ok(made),
            Err(error) => error.message(),
        };
        request
            .messages
            .push(Message::new(Speaker::Assistant, answer));
        request.messages.push(Message::new(
            Speaker::User,
            format!(
                "That answer could not be used: {refused}. Answer again with the whole \
                 corrected JSON object only, in the format asked."
            ),
        ));
        let repaired = self.call(&request).await?;
        read(&repaired).and_then(accept).map_err(|error| {
            AppError::Upstream(format!(
                "the architect's answer for section {} could not be used, even repaired: {}",
                index + 1,
                error.message()
            ))
        })
    }

    async fn call(&self, request: &crate::llm::service::ChatRequest) -> AppResult<String> {
        let (reply, _) = connections::call(
            self.platform,
            self.runtime,
            self.viewer,
            self.connection_id,
            request,
            "story_draft",
        )
        .await?;
        Ok(reply.completion.text)
    }
}
