//! The story dashboard: how many documents of each kind the tenant has, its defaults, how each
//! API connection's last call went (recorded as calls happen: drawing the dashboard calls no
//! provider), and the story resources, stories and sessions changed last.

use async_graphql::{Context, Enum, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::connections::{ApiConnection, ApiConnectionBody};
use super::library::{Body, Stored};
use super::model::Kind;
use super::resources::{StoryResource, StoryResourceBody};
use super::sessions::{SessionBody, StorySession};
use super::settings::{StoryConfig, config_of};
use super::store;
use super::stories::{Story, StoryBody};
use crate::auth::Role;
use crate::context::ContextExt;
use crate::error::AppResult;

/// How many connections the dashboard shows, and how many recent resources.
const SHOWN: i64 = 50;
const RECENT: i64 = 5;

/// How many documents of each kind the tenant has.
#[derive(SimpleObject, Default)]
pub struct StoryCounts {
    /// API connections.
    pub api_connections: i64,
    /// API groups.
    pub api_groups: i64,
    /// Presets.
    pub presets: i64,
    /// State schemas.
    pub schemas: i64,
    /// Lorebooks.
    pub lorebooks: i64,
    /// Player profiles.
    pub player_profiles: i64,
    /// Character cards.
    pub characters: i64,
    /// Story resources.
    pub story_resources: i64,
    /// Stories.
    pub stories: i64,
    /// Story sessions.
    pub sessions: i64,
    /// Story drafts.
    pub story_drafts: i64,
}

/// How a connection's last call went.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionStatus {
    /// It answered.
    Ok,
    /// It failed; `message` says how.
    Failing,
    /// Not called yet.
    Unchecked,
}

/// A connection and how its last call went.
#[derive(SimpleObject)]
pub struct ConnectionHealth {
    /// The connection.
    pub connection: ApiConnection,
    /// How its last call went.
    pub status: ConnectionStatus,
    /// What went wrong, when it failed.
    pub message: Option<String>,
    /// When it was last called.
    pub checked_at: Option<DateTime<Utc>>,
}

/// The story engine at a glance.
#[derive(SimpleObject)]
pub struct StoryDashboard {
    /// Documents by kind.
    pub counts: StoryCounts,
    /// The tenant's defaults.
    pub config: StoryConfig,
    /// Each API connection (the first 50 by name) and its last call (WORLDBUILDER and above;
    /// empty for others).
    pub health: Vec<ConnectionHealth>,
    /// The story resources changed last.
    pub recent_resources: Vec<StoryResource>,
    /// The stories changed last.
    pub recent_stories: Vec<Story>,
    /// The sessions played (or changed) last.
    pub recent_sessions: Vec<StorySession>,
}

#[derive(Default)]
pub struct StoryDashboardQuery;

#[Object]
impl StoryDashboardQuery {
    /// The story engine at a glance: counts, defaults, connections' health, recent resources.
    async fn story_dashboard(&self, ctx: &Context<'_>) -> AppResult<StoryDashboard> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        let mut counts = StoryCounts::default();
        for (kind, count) in store::counts(&mut conn, viewer.tenant_id).await? {
            let slot = match Kind::parse(&kind) {
                Some(Kind::ApiConnection) => &mut counts.api_connections,
                Some(Kind::ApiGroup) => &mut counts.api_groups,
                Some(Kind::Preset) => &mut counts.presets,
                Some(Kind::Schema) => &mut counts.schemas,
                Some(Kind::Lorebook) => &mut counts.lorebooks,
                Some(Kind::PlayerProfile) => &mut counts.player_profiles,
                Some(Kind::Character) => &mut counts.characters,
                Some(Kind::StoryResource) => &mut counts.story_resources,
                Some(Kind::Story) => &mut counts.stories,
                Some(Kind::Session) => &mut counts.sessions,
                Some(Kind::StoryDraft) => &mut counts.story_drafts,
                None => continue,
            };
            *slot = count;
        }
        let config = config_of(store::settings(&mut conn, viewer.tenant_id).await?);
        let mut health = Vec::new();
        if viewer.require_role(Role::Worldbuilder).is_ok() {
            let window = crate::db::keyset::Window::Offset(crate::db::pagination::PageRequest {
                offset: 0,
                limit: SHOWN,
            });
            let (_, rows) = store::list(
                &mut conn,
                viewer.tenant_id,
                Kind::ApiConnection,
                None,
                &window,
            )
            .await?;
            let ids: Vec<_> = rows.iter().map(|(row, _)| row.id).collect();
            let checks = store::checks(&mut conn, viewer.tenant_id, &ids).await?;
            for (row, _) in rows {
                let Some(stored) = Stored::<ApiConnectionBody>::decode(row)? else {
                    continue;
                };
                let check = checks.iter().find(|(id, ..)| *id == stored.id);
                health.push(ConnectionHealth {
                    status: match check {
                        Some((_, true, ..)) => ConnectionStatus::Ok,
                        Some((_, false, ..)) => ConnectionStatus::Failing,
                        None => ConnectionStatus::Unchecked,
                    },
                    message: check.and_then(|(_, _, message, _)| message.clone()),
                    checked_at: check.map(|(.., at)| *at),
                    connection: stored.into(),
                });
            }
        }
        Ok(StoryDashboard {
            counts,
            config,
            health,
            recent_resources: recent::<StoryResourceBody, _>(&mut conn, viewer.tenant_id).await?,
            recent_stories: recent::<StoryBody, _>(&mut conn, viewer.tenant_id).await?,
            recent_sessions: recent::<SessionBody, _>(&mut conn, viewer.tenant_id).await?,
        })
    }
}

/// The kind's documents changed last, as their GraphQL type.
async fn recent<B: Body, N: From<Stored<B>>>(
    conn: &mut diesel_async::AsyncPgConnection,
    tenant_id: uuid::Uuid,
) -> AppResult<Vec<N>> {
    let mut found = Vec::new();
    for row in store::recent(conn, tenant_id, B::KIND, RECENT).await? {
        found.extend(Stored::<B>::decode(row)?.map(N::from));
    }
    Ok(found)
}
