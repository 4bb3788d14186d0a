//! GraphQL of permission templates and of what a member may do.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Group, PermissionGrant, PermissionGrantInput, grants_of};
use crate::accounts::api::User;
use crate::auth::Role;
use crate::context::ContextExt;
use crate::db::parse_id;
use crate::error::AppResult;
use crate::teams::model::{GroupKind, TemplateRow};
use crate::teams::permissions::Grants;
use crate::teams::{service, templates};

pub struct PermissionTemplate(pub TemplateRow);

/// A named set of permissions an ADMIN applies to members or groups.
#[Object]
impl PermissionTemplate {
    /// The template's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Its name, unique in the tenant (ignoring case).
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Whom it suits.
    async fn description(&self) -> &str {
        &self.0.description
    }

    /// What it grants.
    async fn permissions(&self) -> Vec<PermissionGrant> {
        PermissionGrant::from_json(&self.0.permissions)
    }

    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it was last changed (members and groups it was applied to keep the copy they got).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A new permission template.
#[derive(InputObject)]
pub struct PermissionTemplateInput {
    /// 1 to 80 characters, unique in the tenant (ignoring case).
    pub name: String,
    /// Whom it suits: up to 2,000 characters.
    pub description: Option<String>,
    /// What it grants (at most 32 grants).
    pub permissions: Vec<PermissionGrantInput>,
}

/// Changes to a permission template; what is absent stays.
#[derive(InputObject)]
pub struct PermissionTemplateUpdateInput {
    /// The new name.
    pub name: Option<String>,
    /// The new description.
    pub description: Option<String>,
    /// The new permissions, replacing the old.
    pub permissions: Option<Vec<PermissionGrantInput>>,
}

pub struct EffectivePermissions {
    user_id: Uuid,
    role: Role,
    grants: Grants,
    own: Option<crate::teams::model::OwnPermissions>,
}

/// What one member may do in the tenant, and why.
#[Object]
impl EffectivePermissions {
    /// The member.
    async fn user(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        User::load(ctx, Some(self.user_id)).await
    }

    /// Their role: the ceiling of what they may do.
    async fn role(&self) -> Role {
        self.role
    }

    /// True when their groups or own permissions bind them (a WORLDBUILDER or PLAYER in a
    /// group, or holding a template); false when their role alone decides.
    async fn restricted(&self) -> bool {
        self.grants.restricted
    }

    /// What their groups and own permissions grant together (empty when not restricted).
    async fn grants(&self) -> Vec<PermissionGrant> {
        PermissionGrant::list(&self.grants.grants)
    }

    /// The groups that bind them.
    async fn groups(&self, ctx: &Context<'_>) -> AppResult<Vec<Group>> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        Ok(
            service::groups_of_member(&mut conn, viewer.tenant_id, self.user_id)
                .await?
                .into_iter()
                .filter(|row| row.kind() == GroupKind::Group)
                .map(Group)
                .collect(),
        )
    }

    /// Their own permissions (from a template applied to them), if any.
    async fn own_permissions(&self) -> Option<Vec<PermissionGrant>> {
        self.own
            .as_ref()
            .map(|own| PermissionGrant::from_json(&own.permissions))
    }

    /// The template their own permissions came from, while it exists.
    async fn template(&self, ctx: &Context<'_>) -> AppResult<Option<PermissionTemplate>> {
        let Some(template_id) = self.own.as_ref().and_then(|own| own.template_id) else {
            return Ok(None);
        };
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        Ok(Some(PermissionTemplate(
            templates::get(&mut conn, viewer, template_id).await?,
        )))
    }
}

#[derive(Default)]
pub struct PermissionQuery;

#[Object]
impl PermissionQuery {
    /// The tenant's permission templates, by name (at most 100).
    async fn permission_templates(&self, ctx: &Context<'_>) -> AppResult<Vec<PermissionTemplate>> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        Ok(templates::list(&mut conn, viewer)
            .await?
            .into_iter()
            .map(PermissionTemplate)
            .collect())
    }

    /// What a member may do and why: yours when `userId` is absent; anyone's for ADMIN.
    async fn effective_permissions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member's user id; yourself when absent.")] user_id: Option<ID>,
    ) -> AppResult<EffectivePermissions> {
        let viewer = ctx.viewer()?;
        let user_id = match user_id {
            Some(id) => parse_id("userId", &id)?,
            None => viewer.user_id,
        };
        let mut conn = ctx.conn().await?;
        let (role, grants) = service::effective(&mut conn, viewer, user_id).await?;
        let own = templates::own_permissions(&mut conn, viewer, user_id).await?;
        Ok(EffectivePermissions {
            user_id,
            role,
            grants,
            own,
        })
    }
}

#[derive(Default)]
pub struct PermissionMutation;

#[Object]
impl PermissionMutation {
    /// Creates a permission template (ADMIN).
    async fn create_permission_template(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new template.")] input: PermissionTemplateInput,
    ) -> AppResult<PermissionTemplate> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let mut conn = ctx.conn().await?;
        let row = templates::create(
            &mut conn,
            viewer,
            &input.name,
            input.description.as_deref(),
            grants_of(input.permissions),
        )
        .await?;
        Ok(PermissionTemplate(row))
    }

    /// Changes a permission template (ADMIN); whom it was applied to keeps their copy.
    async fn update_permission_template(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The template's id.")] id: ID,
        #[graphql(desc = "The changes.")] input: PermissionTemplateUpdateInput,
    ) -> AppResult<PermissionTemplate> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let id = parse_id("id", &id)?;
        let mut conn = ctx.conn().await?;
        let row = templates::update(
            &mut conn,
            viewer,
            id,
            input.name.as_deref(),
            input.description.as_deref(),
            input.permissions.map(grants_of),
        )
        .await?;
        Ok(PermissionTemplate(row))
    }

    /// Deletes a permission template (ADMIN); whom it was applied to keeps their copy.
    async fn delete_permission_template(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The template's id.")] id: ID,
    ) -> AppResult<bool> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let id = parse_id("id", &id)?;
        let mut conn = ctx.conn().await?;
        templates::delete(&mut conn, viewer, id).await?;
        Ok(true)
    }

    /// Applies a template (ADMIN): each listed member holds its permissions as their own, each
    /// listed group's permissions become its; all or nothing. How many changed.
    async fn apply_permission_template(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The template's id.")] id: ID,
        #[graphql(default, desc = "Members to give the template's permissions.")] user_ids: Vec<ID>,
        #[graphql(default, desc = "Groups whose permissions become the template's.")]
        group_ids: Vec<ID>,
    ) -> AppResult<i32> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let id = parse_id("id", &id)?;
        let user_ids = user_ids
            .iter()
            .map(|id| parse_id("userIds", id))
            .collect::<AppResult<Vec<_>>>()?;
        let group_ids = group_ids
            .iter()
            .map(|id| parse_id("groupIds", id))
            .collect::<AppResult<Vec<_>>>()?;
        let mut conn = ctx.conn().await?;
        let changed = templates::apply(&mut conn, viewer, id, &user_ids, &group_ids).await?;
        Ok(i32::try_from(changed).unwrap_or(i32::MAX))
    }

    /// Takes a member's own permissions away (ADMIN); their groups alone bind them then. False
    /// when they held none.
    async fn clear_member_permissions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member's user id.")] user_id: ID,
    ) -> AppResult<bool> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let user_id = parse_id("userId", &user_id)?;
        let mut conn = ctx.conn().await?;
        templates::clear_own_permissions(&mut conn, viewer, user_id).await
    }
}
