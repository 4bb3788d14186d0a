//! The teams domain's part of the GraphQL schema: teams, groups, presets, permission templates
//! and what a member may do.

pub mod groups;
pub mod templates;

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::loaders::TeamLoaders;
use super::model::GroupRow;
use super::permissions::{Grant, Permission, Preset};
use super::service;
use crate::accounts::api::User;
use crate::context::ContextExt;
use crate::db::loading::load;
use crate::db::pagination::{PageRequest, page_type};
use crate::entities::api::EntityType;
use crate::error::AppResult;

/// One permission a group or template grants, for some entity types or all.
#[derive(SimpleObject, Clone)]
pub struct PermissionGrant {
    /// What it allows.
    pub permission: Permission,
    /// The entity types it covers (EDIT_ENTITIES, DELETE_ENTITIES); null for all.
    pub entity_types: Option<Vec<EntityType>>,
}

impl PermissionGrant {
    pub fn of(grant: &Grant) -> Self {
        Self {
            permission: grant.permission,
            entity_types: grant.entity_types.as_ref().map(|types| {
                types
                    .iter()
                    .filter_map(|slug| EntityType::from_slug(slug))
                    .collect()
            }),
        }
    }

    pub fn list(grants: &[Grant]) -> Vec<Self> {
        grants.iter().map(Self::of).collect()
    }

    pub fn from_json(value: &serde_json::Value) -> Vec<Self> {
        Self::list(&super::permissions::from_json(value))
    }
}

/// One permission to grant.
#[derive(InputObject)]
pub struct PermissionGrantInput {
    /// What it allows.
    pub permission: Permission,
    /// The entity types it covers (only for EDIT_ENTITIES and DELETE_ENTITIES); all when absent.
    pub entity_types: Option<Vec<EntityType>>,
}

pub fn grants_of(inputs: Vec<PermissionGrantInput>) -> Vec<Grant> {
    inputs
        .into_iter()
        .map(|input| Grant {
            permission: input.permission,
            entity_types: input
                .entity_types
                .map(|types| types.iter().map(|t| t.slug().to_owned()).collect()),
        })
        .collect()
}

page_type! {
    /// A page of a team's or group's members.
    pub struct GroupMemberPage { total, members: Vec<User> }
}

/// What a team and a group both show.
async fn members_page(
    ctx: &Context<'_>,
    group: &GroupRow,
    offset: Option<i32>,
    limit: Option<i32>,
) -> AppResult<GroupMemberPage> {
    ctx.viewer()?;
    let page = PageRequest::new(offset, limit)?;
    let mut conn = ctx.conn().await?;
    let (total, ids) = service::members(
        &mut conn,
        group.tenant_id,
        group.id,
        page.offset,
        page.limit,
    )
    .await?;
    drop(conn);
    User::prefetch(ctx, ids.iter().copied()).await?;
    let mut users = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(user) = User::load(ctx, Some(id)).await? {
            users.push(user);
        }
    }
    Ok(GroupMemberPage::new(total, page, users))
}

async fn member_count(ctx: &Context<'_>, group: &GroupRow) -> AppResult<i64> {
    Ok(load(&ctx.loaders::<TeamLoaders>().member_counts, group.id)
        .await?
        .unwrap_or(0))
}

#[derive(Clone)]
pub struct Team(pub GroupRow);

impl Team {
    /// The team with this id in the viewer's tenant, through the request's loader.
    pub async fn load(ctx: &Context<'_>, id: Uuid) -> AppResult<Option<Team>> {
        Ok(load(&ctx.loaders::<TeamLoaders>().groups, id)
            .await?
            .filter(|row| row.kind() == service::GroupKind::Team)
            .map(|row| Team((*row).clone())))
    }
}

/// A unit of the studio: its members share BrainBits quotas and share links.
#[Object]
impl Team {
    /// The team's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Its name, unique among the tenant's teams (ignoring case).
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// What the team is for.
    async fn description(&self) -> &str {
        &self.0.description
    }

    /// How many members it has.
    async fn member_count(&self, ctx: &Context<'_>) -> AppResult<i64> {
        member_count(ctx, &self.0).await
    }

    /// Its members, in the order they were added.
    async fn members(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many members to skip: 0 to 10,000, 0 when absent.")] offset: Option<
            i32,
        >,
        #[graphql(desc = "How many members to return: 1 to 200, 50 when absent.")] limit: Option<
            i32,
        >,
    ) -> AppResult<GroupMemberPage> {
        members_page(ctx, &self.0, offset, limit).await
    }

    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

#[derive(Clone)]
pub struct Group(pub GroupRow);

/// Members who share permissions: a WORLDBUILDER in any group may do only what their groups
/// (and their own permissions) grant.
#[Object]
impl Group {
    /// The group's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Its name, unique among the tenant's groups (ignoring case).
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// What the group is for.
    async fn description(&self) -> &str {
        &self.0.description
    }

    /// The preset it was made from, if any (its permissions may have changed since).
    async fn preset(&self) -> Option<&str> {
        self.0.preset.as_deref()
    }

    /// What its members may do.
    async fn permissions(&self) -> Vec<PermissionGrant> {
        PermissionGrant::from_json(&self.0.permissions)
    }

    /// How many members it has.
    async fn member_count(&self, ctx: &Context<'_>) -> AppResult<i64> {
        member_count(ctx, &self.0).await
    }

    /// Its members, in the order they were added.
    async fn members(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many members to skip: 0 to 10,000, 0 when absent.")] offset: Option<
            i32,
        >,
        #[graphql(desc = "How many members to return: 1 to 200, 50 when absent.")] limit: Option<
            i32,
        >,
    ) -> AppResult<GroupMemberPage> {
        members_page(ctx, &self.0, offset, limit).await
    }

    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

pub struct GroupPreset(pub Preset);

/// A starting point for a group.
#[Object]
impl GroupPreset {
    /// The preset's id, given as `preset` to `createGroup`.
    async fn id(&self) -> &str {
        self.0.id
    }

    /// Its name.
    async fn name(&self) -> &str {
        self.0.name
    }

    /// Whom it suits.
    async fn description(&self) -> &str {
        self.0.description
    }

    /// What a group made from it grants.
    async fn permissions(&self) -> Vec<PermissionGrant> {
        PermissionGrant::list(&self.0.grants)
    }
}
