//! GraphQL of the story engine: each kind's reads, writes and delete, merged into the roots.

pub mod library;

use async_graphql::{MergedObject, MergedSubscription};

use super::characters::{CharacterCardDeletion, CharacterCardQuery, CharacterCardWrites};
use super::connections::api::{ApiConnectionCalls, ApiConnectionWrites};
use super::connections::{ApiConnectionDeletion, ApiConnectionQuery};
use super::dashboard::StoryDashboardQuery;
use super::drafts::StoryDraftQuery;
use super::drafts::api::{StoryDraftMutation, StoryDraftSubscription};
use super::groups::{ApiGroupDeletion, ApiGroupQuery, ApiGroupWrites};
use super::lorebooks::{LorebookDeletion, LorebookQuery, LorebookWrites};
use super::packages::api::PackageMutation;
use super::planning::StoryPlanMutation;
use super::presets::api::{PresetDeletion, PresetPreviewQuery, PresetQuery, PresetWrites};
use super::profiles::{PlayerProfileDeletion, PlayerProfileQuery, PlayerProfileWrites};
use super::resources::{StoryResourceDeletion, StoryResourceQuery, StoryResourceWrites};
use super::schemas::{StateSchemaDeletion, StateSchemaQuery, StateSchemaWrites};
use super::sessions::StorySessionQuery;
use super::sessions::api::StorySessionWrites;
use super::sessions::characters::{SessionCharacterMutation, SessionCharacterQuery};
use super::sessions::messages::{SessionMessageMutation, SessionMessageQuery};
use super::sessions::replies::ReplySuggestionMutation;
use super::sessions::snapshot::SessionSnapshotQuery;
use super::sessions::turns::api::{TurnMutation, TurnSubscription};
use super::settings::{StoryConfigMutation, StoryConfigQuery};
use super::stories::api::{StoryGraphQuery, StoryWrites};
use super::stories::{StoriesQuery, StoryDeletion};

pub use super::characters::CharacterCard;
pub use super::connections::{ApiConnection, LlmProvider};

/// The story engine's queries.
#[derive(MergedObject, Default)]
pub struct StoryQuery(
    ApiConnectionQuery,
    ApiConnectionCalls,
    ApiGroupQuery,
    PresetQuery,
    PresetPreviewQuery,
    StateSchemaQuery,
    LorebookQuery,
    PlayerProfileQuery,
    CharacterCardQuery,
    StoryResourceQuery,
    StoryConfigQuery,
    StoryDashboardQuery,
    StoriesQuery,
    StoryGraphQuery,
    StorySessionQuery,
    SessionMessageQuery,
    SessionCharacterQuery,
    SessionSnapshotQuery,
    StoryDraftQuery,
);

/// The story engine's mutations.
#[derive(MergedObject, Default)]
pub struct StoryMutation(
    ApiConnectionWrites,
    ApiConnectionDeletion,
    ApiGroupWrites,
    ApiGroupDeletion,
    PresetWrites,
    PresetDeletion,
    StateSchemaWrites,
    StateSchemaDeletion,
    LorebookWrites,
    LorebookDeletion,
    PlayerProfileWrites,
    PlayerProfileDeletion,
    CharacterCardWrites,
    CharacterCardDeletion,
    StoryResourceWrites,
    StoryResourceDeletion,
    StoryConfigMutation,
    PackageMutation,
    StoryWrites,
    StoryDeletion,
    StorySessionWrites,
    StoryPlanMutation,
    SessionMessageMutation,
    ReplySuggestionMutation,
    SessionCharacterMutation,
    TurnMutation,
    StoryDraftMutation,
);

/// The story engine's subscriptions.
#[derive(MergedSubscription, Default)]
pub struct StorySubscription(TurnSubscription, StoryDraftSubscription);
