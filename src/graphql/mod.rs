//! The GraphQL schema: every domain's queries, mutations and subscriptions merged into one.

mod csrf;
mod document_cache;
pub mod document_limits;
pub mod handler;
pub mod media;
pub mod persisted;
pub mod playground;
mod single_root;
mod sse;
mod traced_resolvers;
pub mod ws;

use async_graphql::{MergedObject, MergedSubscription, Schema, SchemaBuilder};

use crate::accounts::api::admin::{UserAdminMutation, UserAdminQuery};
use crate::accounts::api::identities::{IdentityMutation, IdentityQuery};
use crate::accounts::api::manage::ManageUserMutation;
use crate::accounts::api::{AccountMutation, AccountQuery, TenantSessionMutation};
use crate::activity::api::ActivityQuery;
use crate::admin::api::{AdminMutation, AdminQuery};
use crate::api_keys::api::{ApiKeyMutation, ApiKeyQuery};
use crate::assemblies::api::{AssemblyMutation, AssemblyQuery};
use crate::assets::api::mutations::AssetMutation;
use crate::assets::api::queries::AssetQuery;
use crate::assets::api::queue::{AssetQueueMutation, AssetQueueQuery, AssetSubscription};
use crate::beta::api::codes::{BetaCodeMutation, BetaCodeQuery};
use crate::beta::api::community::{BetaCommunityMutation, BetaCommunityQuery};
use crate::billing::api::{
    BillingMutation, BillingQuery, BillingSubscriptionRoot, CheckoutMutation, CheckoutQuery,
    QuotaGroupMutation, QuotaGroupQuery,
};
use crate::config::Limits;
use crate::drive::api::sync::{DriveSyncMutation, DriveSyncQuery};
use crate::drive::api::{DriveMutation, DriveQuery};
use crate::entities::api::connections::EntityConnectionQuery;
use crate::entities::api::crud::{EntityMutation, EntityQuery};
use crate::entities::api::graph::{GraphMutation, GraphQuery};
use crate::entities::api::history::HistoryQuery;
use crate::entities::api::layouts::{LayoutMutation, LayoutQuery};
use crate::entities::api::search::SearchQuery;
use crate::entities::api::subscription::EntitySubscription;
use crate::entities::api::templates::{TemplateMutation, TemplateQuery};
use crate::entities::api::tenant_templates::{
    TemplateSubscription, TenantTemplateMutation, TenantTemplateQuery,
};
use crate::health::api::{HealthQuery, ServiceLogQuery};
use crate::health::services_api::ServicesQuery;
use crate::inventory::api::{InventoryMutation, InventoryQuery};
use crate::invites::api::{InviteMutation, InviteQuery};
use crate::mud::axis::api::{AxisMutation, AxisQuery};
use crate::mud::characters::api::{CharacterMutation, CharacterQuery};
use crate::mud::chat::api::{ChatMutation, ChatQuery, ChatSubscription};
use crate::mud::introspection::IntrospectionQuery;
use crate::mud::ollama::{OllamaMutation, OllamaQuery};
use crate::mud::sessions::api::{
    OperationsMutation, OperationsQuery, PlayersQuery, ServerMutation,
};
use crate::mud::worlds::api::{WorldMutation, WorldQuery};
use crate::notes::api::{NoteMutation, NoteQuery};
use crate::presets::api::{ImagePresetMutation, ImagePresetQuery};
use crate::prompts::api::PromptQuery;
use crate::realtime::presence::api::{PresenceMutation, PresenceQuery, PresenceSubscription};
use crate::retention::api::RetentionMutation;
use crate::rolls::api::{RollMutation, RollQuery};
use crate::rules::api::{RuleMutation, RuleQuery};
use crate::settings::api::{SettingsMutation, SettingsQuery};
use crate::shares::api::{ShareMutation, ShareQuery};
use crate::story::api::{StoryMutation, StoryQuery, StorySubscription};
use crate::studio_archive::api::{TenantArchiveMutation, TenantArchiveQuery};
use crate::sync::api::{SyncMutation, SyncQuery, SyncSubscription};
use crate::sync::cloud::api::{CloudSyncMutation, CloudSyncQuery};
use crate::sync::folder::api::{FolderMutation, FolderQuery};
use crate::teams::api::groups::{TeamMutation, TeamQuery};
use crate::teams::api::templates::{PermissionMutation, PermissionQuery};
use crate::tenants::api::{TenantMutation, TenantQuery, TenantSubscription};
use crate::timeline::api::{TimelineMutation, TimelineQuery};

/// Where subscriptions are served (graphql-transport-ws and the legacy graphql-ws protocol).
pub const WS_PATH: &str = "/graphql/ws";

/// The operation a request runs, when the document names it unambiguously (over HTTP and over
/// the socket alike), with the name the document gives it (none for an anonymous one). A name
/// the client asks for that the document does not have finds nothing: it is the client's text,
/// not an operation's (the metrics and traces label operations by this name).
pub(crate) fn operation<'d>(
    document: &'d async_graphql::parser::types::ExecutableDocument,
    name: Option<&str>,
) -> Option<(
    Option<&'d str>,
    &'d async_graphql::parser::types::OperationDefinition,
)> {
    let mut operations = document
        .operations
        .iter()
        .filter(|(operation_name, _)| name.is_none() || operation_name.map(|n| n.as_str()) == name);
    let (found_name, operation) = operations.next()?;
    operations
        .next()
        .is_none()
        .then(|| (found_name.map(|n| n.as_str()), &operation.node))
}

/// The studio's and the operators' view of the server: health, services, logs, the database,
/// activity. Merged on its own first: the root's merge nests one level per part, and the
/// compiler's query depth limit is reached well before GraphQL's.
#[derive(MergedObject, Default)]
pub struct OperatorQuery(
    HealthQuery,
    ServicesQuery,
    ServiceLogQuery,
    AdminQuery,
    ActivityQuery,
    TenantArchiveQuery,
);

/// The world's shape: entity types, their templates and the rules they are judged by (merged
/// on its own, as [`OperatorQuery`] is).
#[derive(MergedObject, Default)]
pub struct WorldbuildingQuery(
    TemplateQuery,
    TenantTemplateQuery,
    LayoutQuery,
    RuleQuery,
    TimelineQuery,
    AssemblyQuery,
    InventoryQuery,
    PromptQuery,
    ImagePresetQuery,
);

/// Everything there is to read.
#[derive(MergedObject, Default)]
pub struct QueryRoot(
    AccountQuery,
    IdentityQuery,
    TenantQuery,
    UserAdminQuery,
    TeamQuery,
    PermissionQuery,
    ShareQuery,
    SettingsQuery,
    BetaCodeQuery,
    BetaCommunityQuery,
    OperatorQuery,
    InviteQuery,
    ApiKeyQuery,
    WorldbuildingQuery,
    EntityQuery,
    EntityConnectionQuery,
    SearchQuery,
    GraphQuery,
    HistoryQuery,
    NoteQuery,
    AssetQuery,
    AssetQueueQuery,
    PresenceQuery,
    RollQuery,
    WorldQuery,
    CharacterQuery,
    OperationsQuery,
    PlayersQuery,
    ChatQuery,
    AxisQuery,
    OllamaQuery,
    IntrospectionQuery,
    BillingQuery,
    QuotaGroupQuery,
    CheckoutQuery,
    StoryQuery,
    SyncQuery,
    CloudSyncQuery,
    FolderQuery,
    DriveQuery,
    DriveSyncQuery,
);

/// The studio's and the operators' tools: the database, backups, retention, whole-tenant
/// archives (merged on its own, as [`OperatorQuery`] is).
#[derive(MergedObject, Default)]
pub struct OperatorMutation(AdminMutation, RetentionMutation, TenantArchiveMutation);

/// Entities, their relationships and the rules they are judged by (merged on its own, as
/// [`OperatorQuery`] is).
#[derive(MergedObject, Default)]
pub struct WorldbuildingMutation(
    EntityMutation,
    GraphMutation,
    TemplateMutation,
    TenantTemplateMutation,
    LayoutMutation,
    RuleMutation,
    TimelineMutation,
    AssemblyMutation,
    InventoryMutation,
    ImagePresetMutation,
);

/// Everything there is to change.
#[derive(MergedObject, Default)]
pub struct MutationRoot(
    AccountMutation,
    IdentityMutation,
    TenantMutation,
    TenantSessionMutation,
    UserAdminMutation,
    ManageUserMutation,
    TeamMutation,
    PermissionMutation,
    ShareMutation,
    SettingsMutation,
    BetaCodeMutation,
    BetaCommunityMutation,
    OperatorMutation,
    InviteMutation,
    ApiKeyMutation,
    WorldbuildingMutation,
    NoteMutation,
    AssetMutation,
    AssetQueueMutation,
    PresenceMutation,
    RollMutation,
    WorldMutation,
    CharacterMutation,
    OperationsMutation,
    ServerMutation,
    ChatMutation,
    AxisMutation,
    OllamaMutation,
    BillingMutation,
    QuotaGroupMutation,
    CheckoutMutation,
    StoryMutation,
    SyncMutation,
    CloudSyncMutation,
    FolderMutation,
    DriveMutation,
    DriveSyncMutation,
);

/// Live events of the viewer's tenant (over /graphql/ws).
#[derive(MergedSubscription, Default)]
pub struct SubscriptionRoot(
    TenantSubscription,
    EntitySubscription,
    AssetSubscription,
    PresenceSubscription,
    ChatSubscription,
    BillingSubscriptionRoot,
    StorySubscription,
    SyncSubscription,
    TemplateSubscription,
);

pub type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

pub use document_cache::DocumentCache;
pub use persisted::PersistedQueries;
pub use traced_resolvers::SlowResolverSpans;

/// The schema with its limits; the server adds the platform and the domains' runtimes as data,
/// and each request (or socket) its viewer and loaders. It has no extensions on purpose: with
/// any extension, async-graphql sends every field of every response through the extension
/// chain, and the HTTP handler and the WebSocket do the one thing one would be for (the CSRF
/// check) themselves. (The one exception is added by `AppState` only while traces are sent:
/// spans for slow resolvers, `SlowResolverSpans`.)
///
/// No "did you mean" suggestions: each one is an edit distance between the unknown name and
/// every name it could have been, and a document of a few thousand long unknown names kept a
/// worker busy for seconds.
pub fn schema_builder(limits: &Limits) -> SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .limit_depth(limits.max_query_depth)
    .limit_complexity(limits.max_query_complexity)
    .limit_recursive_depth(document_limits::MAX_RECURSIVE_DEPTH)
    .limit_directives(50)
    .disable_suggestions()
}

/// The SDL that `schema.graphql` must equal.
pub fn sdl() -> String {
    schema_builder(&Limits::default()).finish().sdl()
}
