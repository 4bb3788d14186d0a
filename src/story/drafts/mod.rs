//! Story drafts (seed 003 `story_draft.*`, `story.generate`): a story built by the architect
//! from a resource's planned outline, one section at a time, so a long story is made of calls
//! a model can answer. The plan is cut into sections ([`sections`]); the first call makes the
//! opening nodes, the start node, the world and player schemas and the introduction; each next
//! call adds about four nodes and links them in by transition patches ([`architect`]). The
//! graph is checked on every step (reachability once it is finalized). [`service`] runs the
//! steps and reports them on the `storyDraftProgress` subscription; [`api`] is the GraphQL.

pub mod api;
pub mod architect;
pub mod service;

use async_graphql::{ComplexObject, Enum, ID, SimpleObject};
use serde::{Deserialize, Serialize};

use super::api::library::library_api;
use super::library::{Body, checked_id, uuids};
use super::model::{Kind, Link};
use super::schemas::checked_text;
use super::stories::graph::StoryGraph;
use crate::error::{AppError, AppResult};

/// Most sections a plan is cut into.
pub const MAX_SECTIONS: usize = 20;

/// Where a draft stands.
#[derive(Enum, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DraftStatus {
    /// Sections remain to be drafted (`continueStoryDraft`).
    Building,
    /// Every section is drafted: `finalizeStoryDraft` makes the story.
    ReadyToFinalize,
    /// The story is made (`storyId`).
    Finalized,
}

/// A draft's content.
#[derive(SimpleObject, Serialize, Deserialize, Clone, Debug)]
pub struct StoryDraftBody {
    /// The story resource drafted from.
    pub resource_id: ID,
    /// The API group its calls use (the tenant's default when it started, unless named).
    #[serde(default)]
    pub api_group_id: Option<ID>,
    /// The preset its calls use.
    #[serde(default)]
    pub preset_id: Option<ID>,
    /// Where it stands.
    pub status: DraftStatus,
    /// The outline it was cut from.
    pub plan: String,
    /// The outline's sections, in order.
    pub sections: Vec<String>,
    /// Sections drafted so far.
    pub sections_done: i32,
    /// The architect's summary of each drafted section.
    #[serde(default)]
    pub summaries: Vec<String>,
    /// What the player reads first.
    #[serde(default)]
    pub introduction: Option<String>,
    /// The graph so far.
    pub graph: StoryGraph,
    /// The world's state schema.
    #[serde(default)]
    pub world_schema_id: Option<ID>,
    /// The player's state schema.
    #[serde(default)]
    pub player_schema_id: Option<ID>,
    /// The schemas the architect made for it (deleted with the draft unless a story uses them).
    #[serde(default)]
    pub generated_schema_ids: Vec<ID>,
    /// The story it became.
    #[serde(default)]
    pub story_id: Option<ID>,
}

impl Body for StoryDraftBody {
    const KIND: Kind = Kind::StoryDraft;
    const MAX_BYTES: usize = 2 * 1024 * 1024;

    fn check(&mut self) -> AppResult<()> {
        self.resource_id = checked_id("resourceId", &self.resource_id)?;
        for (field, id) in [
            ("apiGroupId", &mut self.api_group_id),
            ("presetId", &mut self.preset_id),
            ("worldSchemaId", &mut self.world_schema_id),
            ("playerSchemaId", &mut self.player_schema_id),
            ("storyId", &mut self.story_id),
        ] {
            if let Some(value) = id {
                *value = checked_id(field, value)?;
            }
        }
        if self.sections.is_empty() || self.sections.len() > MAX_SECTIONS {
            return Err(AppError::bad_field(
                "sections",
                format!("a draft has 1 to {MAX_SECTIONS} sections"),
            ));
        }
        checked_text("introduction", &mut self.introduction, 8_000)
    }

    fn links(&self) -> Vec<Link> {
        let mut links = Link::each(
            "resourceId",
            Kind::StoryResource,
            &uuids(std::slice::from_ref(&self.resource_id)),
        );
        for (slot, kind, id) in [
            ("apiGroupId", Kind::ApiGroup, &self.api_group_id),
            ("presetId", Kind::Preset, &self.preset_id),
            ("worldSchemaId", Kind::Schema, &self.world_schema_id),
            ("playerSchemaId", Kind::Schema, &self.player_schema_id),
        ] {
            let ids: Vec<ID> = id.iter().cloned().collect();
            links.extend(Link::each(slot, kind, &uuids(&ids)));
        }
        links
    }
}

library_api! {
    body: StoryDraftBody, node: StoryDraft,
    node_doc: "A story being drafted by the architect, section by section.",
    query: StoryDraftQuery { one: story_draft, many: story_drafts },
    mutation: StoryDraftDeletion { delete: delete_any_story_draft },
    connection: StoryDraftConnection, StoryDraftEdge,
    docs: "One story draft of the viewer's tenant; null when there is none.",
        "The tenant's story drafts by name, a page at a time.",
        "Story drafts, a page at a time by cursor.",
        "A story draft and its cursor.",
}

#[ComplexObject]
impl StoryDraft {}

/// An outline's sections: the text after `Opening Situation:` and each bullet under
/// `Suggested Beats:`; else its paragraphs. At most [`MAX_SECTIONS`].
pub fn sections(plan: &str) -> Vec<String> {
    let lower = plan.to_lowercase();
    let opening = lower.find("opening situation:");
    let beats = lower.find("suggested beats:");
    let mut sections = Vec::new();
    if let (Some(start), Some(beats)) = (opening, beats)
        && start < beats
    {
        let first = plan[start + "opening situation:".len()..beats].trim();
        if !first.is_empty() {
            sections.push(first.to_owned());
        }
        for line in plan[beats + "suggested beats:".len()..].lines() {
            let item = line.trim().trim_start_matches(['-', '*', '•']).trim();
            let item = item
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .trim_start_matches(['.', ')'])
                .trim();
            if !item.is_empty() {
                sections.push(item.to_owned());
            }
        }
    }
    if sections.is_empty() {
        sections = plan
            .split("\n\n")
            .map(str::trim)
            .filter(|paragraph| !paragraph.is_empty())
            .map(str::to_owned)
            .collect();
    }
    sections.truncate(MAX_SECTIONS);
    sections
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_is_cut_at_its_opening_and_beats_else_its_paragraphs() {
        let plan = "Title: Gate\n\nOpening Situation: Snow at the gate.\nA knock.\n\nSuggested Beats:\n- Arya opens.\n* The hall.\n3. The crypt.\n";
        assert_eq!(
            sections(plan),
            [
                "Snow at the gate.\nA knock.",
                "Arya opens.",
                "The hall.",
                "The crypt."
            ]
        );
        assert_eq!(sections("One.\n\n\nTwo."), ["One.", "Two."]);
        assert!(sections("  ").is_empty());
    }
}
