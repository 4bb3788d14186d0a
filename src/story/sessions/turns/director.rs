//! The director's stage: the one hop the graph allows, then the model's plan — the characters
//! it brings in, moves in or out, and the beats that answer the player — carried out as far as
//! it holds (what does not is listed, never fatal).

use serde_json::Value;

use super::answers::{PlannedAction, PlannedBeat, director_plan};
use super::context::{self as told, Line, of};
use super::events::*;
use super::load::Loaded;
use super::play::{Turn, node};
use crate::error::AppResult;
use crate::story::groups::AgentRole;
use crate::story::sessions::SessionBody;
use crate::story::sessions::characters::{MAX_SESSION_CHARACTERS, SessionCharacter};
use crate::story::sessions::state;
use crate::story::stories::graph::{StateOperation, StateOperationType};

impl Turn<'_> {
    /// The director's hop (the first transition of the node, in the graph's order, whose
    /// condition holds) and plan; its character moves made. The beats to play.
    pub(super) async fn direct(
        &mut self,
        loaded: &mut Loaded,
        body: &mut SessionBody,
        lines: &[Line],
        input: &str,
    ) -> AppResult<Vec<Beat>> {
        let from = body.state.current_node.clone();
        let hop = state::next_transition(&body.state, &loaded.graph)
            .filter(|transition| transition.to != from)
            .map(|transition| transition.to.clone());
        let mut skipped = Vec::new();
        if let Some(to) = &hop {
            let bindings = loaded.bound.bindings();
            skipped = state::enter_skipping(&mut body.state, &loaded.graph, to, &bindings)
                .into_iter()
                .map(|error| {
                    format!(
                        "an on-enter update of `{to}` was skipped: {}",
                        error.message()
                    )
                })
                .collect();
        }
        let here = node(loaded, body);
        let director = loaded.preset.agent(AgentRole::Director);
        let limit = director.map_or(8, |d| d.history_limit);
        let history = told::history(&loaded.history, lines, limit);
        let context = of([
            (
                "introduction",
                Value::String(loaded.story.introduction.clone().unwrap_or_default()),
            ),
            (
                "characters",
                Value::String(format!(
                    "The player: {}\n{}",
                    if loaded.player_about.is_empty() {
                        &loaded.player_name
                    } else {
                        &loaded.player_about
                    },
                    told::characters(&loaded.bound.cards, body)
                )),
            ),
            ("current_node", Value::String(told::scene(here))),
            ("world_state", Value::Object(body.state.world.0.clone())),
            ("player_state", Value::Object(body.state.player.0.clone())),
            (
                "lore",
                Value::String(told::lore_for(&loaded.books, here, &history, input)),
            ),
            ("shared_history", Value::String(history)),
            ("player_input", Value::String(input.to_owned())),
        ]);
        let answer = self
            .call(
                loaded,
                AgentRole::Director,
                None,
                &context,
                true,
                None,
                |_| {},
            )
            .await?;
        let plan = director_plan(&answer)?;
        let mut ignored = skipped;
        ignored.extend(plan.ignored);
        let mut moves = Vec::new();
        let mut events = Vec::new();
        for action in plan.actions {
            match self.move_character(loaded, body, action, &mut events) {
                Ok(done) => moves.push(done),
                Err(why) => ignored.push(why),
            }
        }
        let mut beats = Vec::new();
        for planned in plan.beats {
            match speaker(loaded, body, &planned) {
                Ok(speaker_id) => beats.push(Beat {
                    kind: planned.kind,
                    speaker_id,
                    purpose: planned.purpose,
                }),
                Err(why) => ignored.push(why),
            }
        }
        if beats.is_empty() {
            beats.push(Beat {
                kind: BeatKind::Narrator,
                speaker_id: None,
                purpose: if hop.is_some() {
                    BeatPurpose::DescribeTransition
                } else {
                    BeatPurpose::DescribeResult
                },
            });
        }
        self.emit
            .send(TurnEvent::DirectorCompleted(DirectorCompleted {
                sequence: 0,
                transition: hop.map(|to| TakenTransition { from, to }),
                node_id: body.state.current_node.clone(),
                role_actions: moves,
                beats: beats.clone(),
                ignored,
            }));
        for event in events {
            self.emit.send(event);
        }
        Ok(beats)
    }

    /// Makes one of the director's character moves; why not, when it cannot be made.
    fn move_character(
        &self,
        loaded: &mut Loaded,
        body: &mut SessionBody,
        action: PlannedAction,
        events: &mut Vec<TurnEvent>,
    ) -> Result<RoleAction, String> {
        let (kind, id) = match action {
            PlannedAction::Create {
                name,
                personality,
                description,
            } => {
                if body.session_characters.len() >= MAX_SESSION_CHARACTERS {
                    return Err(format!(
                        "{name} was not made: the session holds {MAX_SESSION_CHARACTERS} characters"
                    ));
                }
                let turn = body.state.turn_index;
                let character = SessionCharacter::new(&name, personality, description, turn)
                    .map_err(|error| format!("{name} was not made: {}", error.message()))?;
                loaded.bound.cast.push(character.id.clone());
                body.session_characters.push(character.clone());
                events.push(TurnEvent::SessionCharacterCreated(
                    SessionCharacterCreated {
                        sequence: 0,
                        character: character.clone(),
                    },
                ));
                (RoleActionKind::CreateAndEnter, character.id)
            }
            PlannedAction::Enter(who) => (RoleActionKind::EnterScene, find(loaded, body, &who)?),
            PlannedAction::Leave(who) => (RoleActionKind::LeaveScene, find(loaded, body, &who)?),
        };
        let name = name_of(loaded, body, &id.0);
        let entering = kind != RoleActionKind::LeaveScene;
        let present = body.state.active_characters.contains(&id);
        if entering != present {
            let op = if entering {
                StateOperationType::AddActiveCharacter
            } else {
                StateOperationType::RemoveActiveCharacter
            };
            let operation = StateOperation::on_character(op, id.clone());
            state::apply(
                &mut body.state,
                &operation,
                &loaded.graph,
                &loaded.bound.bindings(),
            )
            .map_err(|error| error.message())?;
            events.push(if entering {
                TurnEvent::SessionCharacterEntered(SessionCharacterEntered {
                    sequence: 0,
                    character_id: id.clone(),
                    name: name.clone(),
                })
            } else {
                TurnEvent::SessionCharacterLeft(SessionCharacterLeft {
                    sequence: 0,
                    character_id: id.clone(),
                    name: name.clone(),
                })
            });
        }
        Ok(RoleAction {
            kind,
            character_id: Some(id),
            name: Some(name),
        })
    }
}

/// The character `who` names (an id, else a name in any case) among the story's cast and the
/// session's characters.
fn find(loaded: &Loaded, body: &SessionBody, who: &str) -> Result<async_graphql::ID, String> {
    let cast = loaded
        .bound
        .cards
        .iter()
        .map(|card| (card.id.to_string(), card.body.name.as_str()));
    let temporary = body
        .session_characters
        .iter()
        .map(|c| (c.id.0.clone(), c.name.as_str()));
    let everyone: Vec<(String, &str)> = cast.chain(temporary).collect();
    everyone
        .iter()
        .find(|(id, _)| id == who)
        .or_else(|| {
            everyone
                .iter()
                .find(|(_, name)| name.eq_ignore_ascii_case(who.trim()))
        })
        .map(|(id, _)| async_graphql::ID(id.clone()))
        .ok_or_else(|| format!("no character `{who}` in this story or session"))
}

/// An actor beat's speaker: someone in the scene.
fn speaker(
    loaded: &Loaded,
    body: &SessionBody,
    beat: &PlannedBeat,
) -> Result<Option<async_graphql::ID>, String> {
    let Some(who) = &beat.speaker else {
        return Ok(None);
    };
    let id = find(loaded, body, who)?;
    if body.state.active_characters.contains(&id) {
        Ok(Some(id))
    } else {
        Err(format!("{who} cannot speak: they are not in the scene"))
    }
}

/// A character's name, by id (the id itself when unknown).
pub fn name_of(loaded: &Loaded, body: &SessionBody, id: &str) -> String {
    loaded
        .bound
        .cards
        .iter()
        .find(|card| card.id.to_string() == id)
        .map(|card| card.body.name.clone())
        .or_else(|| {
            body.session_characters
                .iter()
                .find(|c| c.id.0 == id)
                .map(|c| c.name.clone())
        })
        .unwrap_or_else(|| id.to_owned())
}
