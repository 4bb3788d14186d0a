//! A beat: the narrator's prose, or an actor's thought, action and words, streamed as the model
//! writes them and kept as transcript lines.

use serde_json::Value;

use super::answers::clean;
use super::context::{self as told, Line, of};
use super::director::name_of;
use super::events::*;
use super::load::{self, Loaded};
use super::play::{Turn, node};
use super::tags::TagSplitter;
use crate::error::{AppError, AppResult};
use crate::story::groups::AgentRole;
use crate::story::sessions::SessionBody;

impl Turn<'_> {
    /// Plays one beat, streaming its text; the lines it adds.
    pub(super) async fn beat(
        &mut self,
        loaded: &Loaded,
        body: &SessionBody,
        index: i32,
        beat: &Beat,
        lines: &[Line],
    ) -> AppResult<Vec<Line>> {
        let speaker = beat.speaker_id.as_ref().map(|id| id.0.clone());
        let speaker_name = speaker.as_deref().map(|id| name_of(loaded, body, id));
        self.stage = match beat.kind {
            BeatKind::Narrator => TurnStage::Narrator,
            BeatKind::Actor => TurnStage::Actor,
        };
        self.emit.send(TurnEvent::BeatStarted(BeatStarted {
            sequence: 0,
            beat: index,
            kind: beat.kind,
            purpose: beat.purpose,
            speaker_id: beat.speaker_id.clone(),
            speaker_name: speaker_name.clone(),
        }));
        let here = node(loaded, body);
        let emit = self.emit.clone();
        let delta = move |channel: TextChannel, text: String| {
            emit.send(TurnEvent::TextDelta(TextDelta {
                sequence: 0,
                beat: index,
                channel,
                text,
            }));
        };
        let (said, completed) = match (&speaker, beat.kind) {
            (Some(id), BeatKind::Actor) => {
                let context =
                    load::actor_context(self.platform, self.viewer, loaded, body, id, beat, lines)
                        .await?;
                let values = load::character_values(loaded, body, id);
                let name = speaker_name.clone().unwrap_or_default();
                let mut splitter = TagSplitter::default();
                let mut parts: [String; 3] = Default::default();
                let take = |pieces: Vec<(TextChannel, String)>, parts: &mut [String; 3]| {
                    for (channel, text) in pieces {
                        parts[part_of(channel)].push_str(&text);
                        delta(channel, text);
                    }
                };
                let answer = {
                    let on_text = |piece: &str| take(splitter.feed(piece), &mut parts);
                    self.call(
                        loaded,
                        AgentRole::Actor,
                        Some(index),
                        &context,
                        false,
                        Some((&name, &values)),
                        on_text,
                    )
                    .await?
                };
                drop(answer);
                take(splitter.finish(), &mut parts);
                let [thought, action, dialogue] = parts.map(|part| {
                    let part = clean(&part);
                    (!part.is_empty()).then_some(part)
                });
                let line = |kind: &'static str, text: &Option<String>| {
                    text.clone().map(|text| Line {
                        kind,
                        speaker_id: Some(id.clone()),
                        speaker_name: Some(name.clone()),
                        text,
                    })
                };
                let said: Vec<Line> = [
                    line("thought", &thought),
                    line("action", &action),
                    line("dialogue", &dialogue),
                ]
                .into_iter()
                .flatten()
                .collect();
                (said, (None, thought, action, dialogue))
            }
            _ => {
                let narrator = loaded.preset.agent(AgentRole::Narrator);
                let limit = narrator.map_or(8, |n| n.history_limit);
                let history = told::history(&loaded.history, lines, limit);
                let input = lines.first().map(|l| l.text.as_str()).unwrap_or_default();
                let context = of([
                    (
                        "introduction",
                        Value::String(loaded.story.introduction.clone().unwrap_or_default()),
                    ),
                    ("scene", Value::String(told::scene(here))),
                    (
                        "lore",
                        Value::String(told::lore_for(&loaded.books, here, &history, input)),
                    ),
                    ("shared_history", Value::String(history)),
                    ("beat", Value::String(told::beat(beat, here))),
                ]);
                let answer = self
                    .call(
                        loaded,
                        AgentRole::Narrator,
                        Some(index),
                        &context,
                        false,
                        None,
                        |piece: &str| {
                            delta(TextChannel::Narration, piece.to_owned());
                        },
                    )
                    .await?;
                let text = clean(&answer);
                let said = (!text.is_empty())
                    .then(|| Line {
                        kind: "narration",
                        speaker_id: None,
                        speaker_name: None,
                        text: text.clone(),
                    })
                    .into_iter()
                    .collect();
                (said, (Some(text), None, None, None))
            }
        };
        let usage = self
            .usage
            .last()
            .cloned()
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("a beat without its call")))?;
        let (narration, thought, action, dialogue) = completed;
        self.emit.send(TurnEvent::BeatCompleted(BeatCompleted {
            sequence: 0,
            beat: index,
            narration,
            thought,
            action,
            dialogue,
            usage,
        }));
        Ok(said)
    }
}

/// Where an actor's channel is kept: thought, action, dialogue.
fn part_of(channel: TextChannel) -> usize {
    match channel {
        TextChannel::Thought => 0,
        TextChannel::Action => 1,
        TextChannel::Dialogue | TextChannel::Narration => 2,
    }
}
