//! A turn, stage by stage (DOMAIN_NOTES "A turn"): the input recorded, the keeper after it,
//! the director's hop and plan ([`super::director`]), each beat streamed ([`super::beats`]),
//! the keeper after the answer, and the save. Everything is worked on a copy of the session; only the save
//! writes, in one transaction that also checks the session is still at the version the turn
//! began from — so a failed or cancelled turn leaves the session exactly as it was.

use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::Emitter;
use super::answers::{fill, keeper_operations};
use super::context::{self as told, Line, of};
use super::events::*;
use super::load::{self, Loaded};
use crate::auth::Viewer;
use crate::context::Platform;
use crate::db::parse_id;
use crate::error::{AppError, AppResult};
use crate::llm::service::LlmRuntime;
use crate::story::connections::service as connections;
use crate::story::groups::AgentRole;
use crate::story::sessions::SessionBody;
use crate::story::sessions::snapshot;
use crate::story::sessions::state;
use crate::story::stories::graph::{StateOperationType, StoryNode};

/// A turn being played.
pub struct Turn<'a> {
    pub platform: &'a Platform,
    pub runtime: &'a LlmRuntime,
    pub viewer: &'a Viewer,
    pub session_id: Uuid,
    pub turn_id: Uuid,
    pub cancel: CancellationToken,
    pub emit: Emitter,
    pub stage: TurnStage,
    pub usage: Vec<TurnUsage>,
    pub balance: Option<i64>,
}

/// A turn played to its end, not yet saved.
pub struct Played {
    loaded: Loaded,
    body: SessionBody,
    lines: Vec<Line>,
}

pub(super) fn node<'g>(loaded: &'g Loaded, body: &SessionBody) -> Option<&'g StoryNode> {
    loaded
        .graph
        .nodes
        .iter()
        .find(|node| node.id == body.state.current_node)
}

impl Turn<'_> {
    /// Plays the turn up to its save; what it made, or why it stopped.
    pub async fn play(&mut self, input: String) -> AppResult<Played> {
        self.stage = TurnStage::RecordInput;
        let mut loaded = load::load(self.platform, self.viewer, self.session_id).await?;
        let mut body = loaded.session.body.clone();
        let turn_index = body.state.turn_index + 1;
        self.emit.send(TurnEvent::Started(TurnStarted {
            sequence: 0,
            turn_id: async_graphql::ID(self.turn_id.to_string()),
            turn_index,
            session_version: loaded.session.version,
        }));
        let mut lines = vec![Line {
            kind: "player_input",
            speaker_id: None,
            speaker_name: Some(loaded.player_name.clone()),
            text: input.clone(),
        }];
        self.emit
            .send(TurnEvent::PlayerInputRecorded(PlayerInputRecorded {
                sequence: 0,
                text: input.clone(),
                speaker_name: loaded.player_name.clone(),
            }));

        self.stage = TurnStage::KeeperAfterInput;
        self.keep(&loaded, &mut body, KeeperPhase::AfterInput, &lines)
            .await?;
        body.state.turn_index = turn_index;

        self.stage = TurnStage::Director;
        let beats = self.direct(&mut loaded, &mut body, &lines, &input).await?;
        for (index, beat) in beats.iter().enumerate() {
            let index = i32::try_from(index).unwrap_or(i32::MAX);
            let said = self.beat(&loaded, &body, index, beat, &lines).await?;
            lines.extend(said);
        }

        self.stage = TurnStage::KeeperAfterOutputs;
        let outputs = &lines[1..];
        self.keep(&loaded, &mut body, KeeperPhase::AfterOutputs, outputs)
            .await?;

        Ok(Played {
            loaded,
            body,
            lines,
        })
    }

    /// Saves a played turn (not to be cancelled: once it begins, the turn is either saved
    /// whole or not at all, and the client is told which).
    pub async fn save(&mut self, played: Played) -> AppResult<TurnCompleted> {
        self.stage = TurnStage::Save;
        let Played {
            loaded,
            body,
            lines,
        } = played;
        let stored = load::commit(self, &loaded, body, &lines).await?;
        let names = loaded
            .bound
            .cards
            .iter()
            .map(|card| (card.id.to_string(), card.body.name.clone()))
            .collect();
        Ok(TurnCompleted {
            sequence: 0,
            turn_index: stored.body.state.turn_index,
            snapshot: snapshot::build(&stored, Some(&loaded.graph), &names, false),
            charged: self.usage.iter().map(|u| u.charged).sum(),
            usage: std::mem::take(&mut self.usage),
            balance: self.balance,
        })
    }

    /// One model call of the turn as `agent`, paid for and recorded in the turn's usage; the
    /// answer's text. `character` fills an actor's placeholders.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn call(
        &mut self,
        loaded: &Loaded,
        agent: AgentRole,
        beat: Option<i32>,
        context: &Map<String, Value>,
        json: bool,
        character: Option<(&str, &Map<String, Value>)>,
        on_text: impl FnMut(&str) + Send,
    ) -> AppResult<String> {
        let connection_id = parse_id("apiGroupId", loaded.group.connection_id(agent))?;
        let preset = loaded
            .preset
            .agent(agent)
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("a preset without {agent:?}")))?;
        // The placeholders of the preset's own texts are filled, never those of what the
        // context carries (the player's words, the models' answers).
        let nothing = Map::new();
        let (name, values) = character.map_or((None, &nothing), |(n, v)| (Some(n), v));
        let mut preset = preset.clone();
        for entry in &mut preset.entries {
            if let Some(text) = &mut entry.text {
                *text = fill(text, name, &loaded.player_name, values);
            }
        }
        let request = preset.request(context, json);
        let operation = match agent {
            AgentRole::Keeper => "story_turn_keeper",
            AgentRole::Director => "story_turn_director",
            AgentRole::Actor => "story_turn_actor",
            _ => "story_turn_narrator",
        };
        let (reply, model) = connections::stream(
            self.platform,
            self.runtime,
            self.viewer,
            connection_id,
            &request,
            operation,
            &self.cancel,
            on_text,
        )
        .await?;
        let usage = reply.completion.usage;
        self.usage.push(TurnUsage {
            agent,
            stage: self.stage,
            beat,
            model,
            prompt_tokens: usage.map(|u| u.prompt_tokens),
            completion_tokens: usage.map(|u| u.completion_tokens),
            charged: reply.charged,
        });
        if reply.metered {
            self.balance = Some(reply.balance);
        }
        Ok(reply.completion.text)
    }

    /// The keeper reads `recent` and its operations are checked and made; the invalid ones
    /// are reported and skipped.
    async fn keep(
        &mut self,
        loaded: &Loaded,
        body: &mut SessionBody,
        phase: KeeperPhase,
        recent: &[Line],
    ) -> AppResult<()> {
        let recent_events: Vec<String> = recent.iter().map(Line::told).collect();
        let context = of([
            ("state_schemas", told::schemas(&loaded.bound)),
            ("world_state", Value::Object(body.state.world.0.clone())),
            ("player_state", Value::Object(body.state.player.0.clone())),
            (
                "character_states",
                serde_json::to_value(&body.state.characters.0).map_err(AppError::internal)?,
            ),
            ("recent_events", Value::String(recent_events.join("\n"))),
        ]);
        let answer = self
            .call(
                loaded,
                AgentRole::Keeper,
                None,
                &context,
                true,
                None,
                |_| {},
            )
            .await?;
        let mut applied = Vec::new();
        let mut rejected = Vec::new();
        for operation in keeper_operations(&answer)? {
            let operation = match operation {
                Ok(operation) => operation,
                Err((operation, reason)) => {
                    rejected.push(RejectedOperation {
                        operation: async_graphql::Json(operation),
                        reason,
                    });
                    continue;
                }
            };
            // Only the director's transitions move the story: one hop a turn, entering the
            // node's cast and on-enter updates.
            let refused = if operation.op == StateOperationType::SetCurrentNode {
                Some("the keeper may not move the story: only transitions do".to_owned())
            } else {
                state::apply(
                    &mut body.state,
                    &operation,
                    &loaded.graph,
                    &loaded.bound.bindings(),
                )
                .err()
                .map(|error| error.message())
            };
            match refused {
                Some(reason) => rejected.push(RejectedOperation {
                    operation: async_graphql::Json(
                        serde_json::to_value(&operation).map_err(AppError::internal)?,
                    ),
                    reason,
                }),
                None => applied.push(operation),
            }
        }
        self.emit.send(TurnEvent::KeeperApplied(KeeperApplied {
            sequence: 0,
            phase,
            applied,
            rejected,
        }));
        Ok(())
    }
}
