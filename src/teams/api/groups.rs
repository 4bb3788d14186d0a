//! GraphQL of teams and groups: every member reads them, ADMIN changes them.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use super::{Group, GroupPreset, PermissionGrantInput, Team, grants_of};
use crate::auth::Role;
use crate::context::ContextExt;
use crate::db::parse_id;
use crate::error::AppResult;
use crate::teams::permissions::presets;
use crate::teams::service::{self, GroupInput, GroupKind, GroupUpdate};

/// A new team.
#[derive(InputObject)]
pub struct TeamInput {
    /// 1 to 80 characters, unique among the tenant's teams (ignoring case).
    pub name: String,
    /// What the team is for: up to 2,000 characters.
    pub description: Option<String>,
}

/// Changes to a team; what is absent stays.
#[derive(InputObject)]
pub struct TeamUpdateInput {
    /// The new name.
    pub name: Option<String>,
    /// The new description.
    pub description: Option<String>,
}

/// A new group.
#[derive(InputObject)]
#[graphql(name = "GroupInput")]
pub struct NewGroupInput {
    /// 1 to 80 characters, unique among the tenant's groups (ignoring case).
    pub name: String,
    /// What the group is for: up to 2,000 characters.
    pub description: Option<String>,
    /// A preset's id (`groupPresets`): its permissions, unless `permissions` is given.
    pub preset: Option<String>,
    /// What members may do (at most 32 grants); the preset's, or nothing, when absent.
    pub permissions: Option<Vec<PermissionGrantInput>>,
}

/// Changes to a group; what is absent stays.
#[derive(InputObject)]
pub struct GroupUpdateInput {
    /// The new name.
    pub name: Option<String>,
    /// The new description.
    pub description: Option<String>,
    /// The new permissions, replacing the old.
    pub permissions: Option<Vec<PermissionGrantInput>>,
}

/// The teams and groups one member is in.
#[derive(SimpleObject)]
pub struct UserGroups {
    /// Their teams, by name.
    pub teams: Vec<Team>,
    /// Their groups, by name.
    pub groups: Vec<Group>,
}

#[derive(Default)]
pub struct TeamQuery;

#[Object]
impl TeamQuery {
    /// The tenant's teams, by name (at most 200).
    async fn teams(&self, ctx: &Context<'_>) -> AppResult<Vec<Team>> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        let rows = service::list(&mut conn, viewer, GroupKind::Team).await?;
        Ok(rows.into_iter().map(Team).collect())
    }

    /// One of the tenant's teams.
    async fn team(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The team's id.")] id: ID,
    ) -> AppResult<Team> {
        let viewer = ctx.viewer()?;
        let id = parse_id("id", &id)?;
        let mut conn = ctx.conn().await?;
        Ok(Team(
            service::get(&mut conn, viewer, GroupKind::Team, id).await?,
        ))
    }

    /// The tenant's groups, by name (at most 200).
    async fn groups(&self, ctx: &Context<'_>) -> AppResult<Vec<Group>> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        let rows = service::list(&mut conn, viewer, GroupKind::Group).await?;
        Ok(rows.into_iter().map(Group).collect())
    }

    /// One of the tenant's groups.
    async fn group(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The group's id.")] id: ID,
    ) -> AppResult<Group> {
        let viewer = ctx.viewer()?;
        let id = parse_id("id", &id)?;
        let mut conn = ctx.conn().await?;
        Ok(Group(
            service::get(&mut conn, viewer, GroupKind::Group, id).await?,
        ))
    }

    /// The presets a group can start from.
    async fn group_presets(&self, ctx: &Context<'_>) -> AppResult<Vec<GroupPreset>> {
        ctx.viewer()?;
        Ok(presets().into_iter().map(GroupPreset).collect())
    }

    /// The teams and groups a member of the tenant is in.
    async fn user_groups(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member's user id.")] user_id: ID,
    ) -> AppResult<UserGroups> {
        let viewer = ctx.viewer()?;
        let user_id = parse_id("userId", &user_id)?;
        let mut conn = ctx.conn().await?;
        let rows = service::groups_of_member(&mut conn, viewer.tenant_id, user_id).await?;
        let (teams, groups): (Vec<_>, Vec<_>) = rows
            .into_iter()
            .partition(|row| row.kind() == GroupKind::Team);
        Ok(UserGroups {
            teams: teams.into_iter().map(Team).collect(),
            groups: groups.into_iter().map(Group).collect(),
        })
    }
}

#[derive(Default)]
pub struct TeamMutation;

#[Object]
impl TeamMutation {
    /// Creates a team (ADMIN).
    async fn create_team(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new team.")] input: TeamInput,
    ) -> AppResult<Team> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let input = GroupInput {
            name: input.name,
            description: input.description,
            preset: None,
            grants: None,
        };
        let mut conn = ctx.conn().await?;
        Ok(Team(
            service::create(&mut conn, viewer, GroupKind::Team, input).await?,
        ))
    }

    /// Renames or redescribes a team (ADMIN).
    async fn update_team(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The team's id.")] id: ID,
        #[graphql(desc = "The changes.")] input: TeamUpdateInput,
    ) -> AppResult<Team> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let id = parse_id("id", &id)?;
        let update = GroupUpdate {
            name: input.name,
            description: input.description,
            grants: None,
        };
        let mut conn = ctx.conn().await?;
        Ok(Team(
            service::update(&mut conn, viewer, GroupKind::Team, id, update).await?,
        ))
    }

    /// Deletes a team (ADMIN): its members stay, its quota and usage go. True when deleted.
    async fn delete_team(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The team's id.")] id: ID,
    ) -> AppResult<bool> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let id = parse_id("id", &id)?;
        let mut conn = ctx.conn().await?;
        service::delete(&mut conn, viewer, GroupKind::Team, id).await?;
        Ok(true)
    }

    /// Adds a member of the tenant to a team (ADMIN); false when already in it.
    async fn add_team_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The team's id.")] team_id: ID,
        #[graphql(desc = "The member's user id.")] user_id: ID,
    ) -> AppResult<bool> {
        change_membership(ctx, GroupKind::Team, &team_id, &user_id, true).await
    }

    /// Takes a member out of a team (ADMIN); false when they were not in it.
    async fn remove_team_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The team's id.")] team_id: ID,
        #[graphql(desc = "The member's user id.")] user_id: ID,
    ) -> AppResult<bool> {
        change_membership(ctx, GroupKind::Team, &team_id, &user_id, false).await
    }

    /// Creates a group (ADMIN), from a preset or with its own permissions.
    async fn create_group(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new group.")] input: NewGroupInput,
    ) -> AppResult<Group> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let input = GroupInput {
            name: input.name,
            description: input.description,
            preset: input.preset,
            grants: input.permissions.map(grants_of),
        };
        let mut conn = ctx.conn().await?;
        Ok(Group(
            service::create(&mut conn, viewer, GroupKind::Group, input).await?,
        ))
    }

    /// Changes a group's name, description or permissions (ADMIN).
    async fn update_group(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The group's id.")] id: ID,
        #[graphql(desc = "The changes.")] input: GroupUpdateInput,
    ) -> AppResult<Group> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let id = parse_id("id", &id)?;
        let update = GroupUpdate {
            name: input.name,
            description: input.description,
            grants: input.permissions.map(grants_of),
        };
        let mut conn = ctx.conn().await?;
        Ok(Group(
            service::update(&mut conn, viewer, GroupKind::Group, id, update).await?,
        ))
    }

    /// Deletes a group (ADMIN); its members stay in the tenant. True when deleted.
    async fn delete_group(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The group's id.")] id: ID,
    ) -> AppResult<bool> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let id = parse_id("id", &id)?;
        let mut conn = ctx.conn().await?;
        service::delete(&mut conn, viewer, GroupKind::Group, id).await?;
        Ok(true)
    }

    /// Adds a member of the tenant to a group (ADMIN); false when already in it.
    async fn add_group_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The group's id.")] group_id: ID,
        #[graphql(desc = "The member's user id.")] user_id: ID,
    ) -> AppResult<bool> {
        change_membership(ctx, GroupKind::Group, &group_id, &user_id, true).await
    }

    /// Takes a member out of a group (ADMIN); false when they were not in it.
    async fn remove_group_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The group's id.")] group_id: ID,
        #[graphql(desc = "The member's user id.")] user_id: ID,
    ) -> AppResult<bool> {
        change_membership(ctx, GroupKind::Group, &group_id, &user_id, false).await
    }
}

async fn change_membership(
    ctx: &Context<'_>,
    kind: GroupKind,
    group_id: &ID,
    user_id: &ID,
    add: bool,
) -> AppResult<bool> {
    let viewer = ctx.viewer_with(Role::Admin)?;
    let field = match kind {
        GroupKind::Team => "teamId",
        GroupKind::Group => "groupId",
    };
    let group_id = parse_id(field, group_id)?;
    let user_id = parse_id("userId", user_id)?;
    let mut conn = ctx.conn().await?;
    if add {
        service::add_member(&mut conn, viewer, kind, group_id, user_id).await
    } else {
        service::remove_member(&mut conn, viewer, kind, group_id, user_id).await
    }
}
