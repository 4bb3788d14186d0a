//! SQL of teams, groups, their members, permission templates and members' own permissions.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{GroupKind, GroupRow, OwnPermissions, TemplateRow};
use crate::db::schema::{
    member_group_members, member_groups, member_permissions, permission_templates,
};
use crate::error::AppResult;

pub struct NewGroup<'a> {
    pub tenant_id: Uuid,
    pub kind: GroupKind,
    pub name: &'a str,
    pub description: &'a str,
    pub preset: Option<&'a str>,
    pub permissions: serde_json::Value,
    pub created_by: Uuid,
}

pub async fn insert_group(conn: &mut AsyncPgConnection, new: NewGroup<'_>) -> AppResult<GroupRow> {
    Ok(diesel::insert_into(member_groups::table)
        .values((
            member_groups::tenant_id.eq(new.tenant_id),
            member_groups::id.eq(Uuid::now_v7()),
            member_groups::kind.eq(new.kind.as_str()),
            member_groups::name.eq(new.name),
            member_groups::description.eq(new.description),
            member_groups::preset.eq(new.preset),
            member_groups::permissions.eq(new.permissions),
            member_groups::created_by.eq(new.created_by),
        ))
        .returning(GroupRow::as_returning())
        .get_result(conn)
        .await?)
}

/// How many teams or groups the tenant has.
pub async fn count_groups(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    kind: GroupKind,
) -> AppResult<i64> {
    Ok(member_groups::table
        .filter(member_groups::tenant_id.eq(tenant_id))
        .filter(member_groups::kind.eq(kind.as_str()))
        .count()
        .get_result(conn)
        .await?)
}

pub async fn find_group(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    kind: Option<GroupKind>,
    id: Uuid,
) -> AppResult<Option<GroupRow>> {
    let mut query = member_groups::table
        .filter(member_groups::tenant_id.eq(tenant_id))
        .filter(member_groups::id.eq(id))
        .select(GroupRow::as_select())
        .into_boxed();
    if let Some(kind) = kind {
        query = query.filter(member_groups::kind.eq(kind.as_str()));
    }
    Ok(query.first(conn).await.optional()?)
}

/// The tenant's teams or groups by name (a tenant has a bounded number of them).
pub async fn list_groups(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    kind: GroupKind,
) -> AppResult<Vec<GroupRow>> {
    Ok(member_groups::table
        .filter(member_groups::tenant_id.eq(tenant_id))
        .filter(member_groups::kind.eq(kind.as_str()))
        .order((member_groups::name.asc(), member_groups::id.asc()))
        .select(GroupRow::as_select())
        .load(conn)
        .await?)
}

/// Teams and groups by id, in the tenant.
pub async fn groups_by_ids(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    ids: &[Uuid],
) -> AppResult<Vec<GroupRow>> {
    Ok(member_groups::table
        .filter(member_groups::tenant_id.eq(tenant_id))
        .filter(member_groups::id.eq_any(ids))
        .select(GroupRow::as_select())
        .load(conn)
        .await?)
}

pub struct GroupChanges<'a> {
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    pub permissions: Option<serde_json::Value>,
}

pub async fn update_group(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: Uuid,
    changes: GroupChanges<'_>,
) -> AppResult<Option<GroupRow>> {
    #[derive(AsChangeset)]
    #[diesel(table_name = member_groups)]
    struct Changes<'a> {
        name: Option<&'a str>,
        description: Option<&'a str>,
        permissions: Option<serde_json::Value>,
        updated_at: chrono::DateTime<chrono::Utc>,
    }
    Ok(diesel::update(member_groups::table.find((tenant_id, id)))
        .set(Changes {
            name: changes.name,
            description: changes.description,
            permissions: changes.permissions,
            updated_at: chrono::Utc::now(),
        })
        .returning(GroupRow::as_returning())
        .get_result(conn)
        .await
        .optional()?)
}

pub async fn delete_group(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    kind: GroupKind,
    id: Uuid,
) -> AppResult<bool> {
    let deleted = diesel::delete(
        member_groups::table
            .filter(member_groups::tenant_id.eq(tenant_id))
            .filter(member_groups::id.eq(id))
            .filter(member_groups::kind.eq(kind.as_str())),
    )
    .execute(conn)
    .await?;
    Ok(deleted > 0)
}

/// Adds a member; false when they were in it already.
pub async fn add_member(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    group_id: Uuid,
    user_id: Uuid,
) -> AppResult<bool> {
    let added = diesel::insert_into(member_group_members::table)
        .values((
            member_group_members::tenant_id.eq(tenant_id),
            member_group_members::group_id.eq(group_id),
            member_group_members::user_id.eq(user_id),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(added > 0)
}

pub async fn remove_member(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    group_id: Uuid,
    user_id: Uuid,
) -> AppResult<bool> {
    let removed = diesel::delete(member_group_members::table.find((tenant_id, group_id, user_id)))
        .execute(conn)
        .await?;
    Ok(removed > 0)
}

/// A page of a team's or group's members (user ids, by when they were added) and how many.
pub async fn members(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    group_id: Uuid,
    offset: i64,
    limit: i64,
) -> AppResult<(i64, Vec<Uuid>)> {
    let scope = member_group_members::table
        .filter(member_group_members::tenant_id.eq(tenant_id))
        .filter(member_group_members::group_id.eq(group_id));
    let total = scope.count().get_result(conn).await?;
    let ids = scope
        .order((
            member_group_members::added_at.asc(),
            member_group_members::user_id.asc(),
        ))
        .offset(offset)
        .limit(limit)
        .select(member_group_members::user_id)
        .load(conn)
        .await?;
    Ok((total, ids))
}

/// How many members each of `group_ids` has.
pub async fn member_counts(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    group_ids: &[Uuid],
) -> AppResult<Vec<(Uuid, i64)>> {
    Ok(member_group_members::table
        .filter(member_group_members::tenant_id.eq(tenant_id))
        .filter(member_group_members::group_id.eq_any(group_ids))
        .group_by(member_group_members::group_id)
        .select((member_group_members::group_id, diesel::dsl::count_star()))
        .load(conn)
        .await?)
}

/// The teams and groups a member of the tenant is in, by kind and name.
pub async fn groups_of_member(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> AppResult<Vec<GroupRow>> {
    Ok(member_groups::table
        .inner_join(
            member_group_members::table.on(member_group_members::tenant_id
                .eq(member_groups::tenant_id)
                .and(member_group_members::group_id.eq(member_groups::id))),
        )
        .filter(member_group_members::tenant_id.eq(tenant_id))
        .filter(member_group_members::user_id.eq(user_id))
        .order((member_groups::kind.asc(), member_groups::name.asc()))
        .select(GroupRow::as_select())
        .load(conn)
        .await?)
}

/// The permission lists that bind a member: those of each group they are in (teams carry
/// none) and their own, if any. One statement: this runs on writes.
pub async fn permission_sources(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> AppResult<Vec<serde_json::Value>> {
    #[derive(QueryableByName)]
    struct Source {
        #[diesel(sql_type = diesel::sql_types::Jsonb)]
        permissions: serde_json::Value,
    }
    let sources: Vec<Source> = diesel::sql_query(
        "SELECT g.permissions FROM member_group_members m \
         JOIN member_groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id \
         WHERE m.tenant_id = $1 AND m.user_id = $2 AND g.kind = 'group' \
         UNION ALL \
         SELECT p.permissions FROM member_permissions p WHERE p.tenant_id = $1 AND p.user_id = $2",
    )
    .bind::<diesel::sql_types::Uuid, _>(tenant_id)
    .bind::<diesel::sql_types::Uuid, _>(user_id)
    .load(conn)
    .await?;
    Ok(sources.into_iter().map(|s| s.permissions).collect())
}

pub async fn own_permissions(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> AppResult<Option<OwnPermissions>> {
    Ok(member_permissions::table
        .find((tenant_id, user_id))
        .select((
            member_permissions::permissions,
            member_permissions::template_id,
            member_permissions::updated_at,
        ))
        .first::<(
            serde_json::Value,
            Option<Uuid>,
            chrono::DateTime<chrono::Utc>,
        )>(conn)
        .await
        .optional()?
        .map(|(permissions, template_id, updated_at)| OwnPermissions {
            permissions,
            template_id,
            updated_at,
        }))
}

pub async fn set_own_permissions(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    permissions: &serde_json::Value,
    template_id: Option<Uuid>,
) -> AppResult<()> {
    diesel::insert_into(member_permissions::table)
        .values((
            member_permissions::tenant_id.eq(tenant_id),
            member_permissions::user_id.eq(user_id),
            member_permissions::permissions.eq(permissions),
            member_permissions::template_id.eq(template_id),
        ))
        .on_conflict((member_permissions::tenant_id, member_permissions::user_id))
        .do_update()
        .set((
            member_permissions::permissions.eq(permissions),
            member_permissions::template_id.eq(template_id),
            member_permissions::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn clear_own_permissions(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> AppResult<bool> {
    let removed = diesel::delete(member_permissions::table.find((tenant_id, user_id)))
        .execute(conn)
        .await?;
    Ok(removed > 0)
}

pub struct NewTemplate<'a> {
    pub tenant_id: Uuid,
    pub name: &'a str,
    pub description: &'a str,
    pub permissions: serde_json::Value,
}

pub async fn insert_template(
    conn: &mut AsyncPgConnection,
    new: NewTemplate<'_>,
) -> AppResult<TemplateRow> {
    Ok(diesel::insert_into(permission_templates::table)
        .values((
            permission_templates::tenant_id.eq(new.tenant_id),
            permission_templates::id.eq(Uuid::now_v7()),
            permission_templates::name.eq(new.name),
            permission_templates::description.eq(new.description),
            permission_templates::permissions.eq(new.permissions),
        ))
        .returning(TemplateRow::as_returning())
        .get_result(conn)
        .await?)
}

pub async fn count_templates(conn: &mut AsyncPgConnection, tenant_id: Uuid) -> AppResult<i64> {
    Ok(permission_templates::table
        .filter(permission_templates::tenant_id.eq(tenant_id))
        .count()
        .get_result(conn)
        .await?)
}

pub async fn find_template(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> AppResult<Option<TemplateRow>> {
    Ok(permission_templates::table
        .find((tenant_id, id))
        .select(TemplateRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

pub async fn list_templates(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
) -> AppResult<Vec<TemplateRow>> {
    Ok(permission_templates::table
        .filter(permission_templates::tenant_id.eq(tenant_id))
        .order((
            permission_templates::name.asc(),
            permission_templates::id.asc(),
        ))
        .select(TemplateRow::as_select())
        .load(conn)
        .await?)
}

pub async fn update_template(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: Uuid,
    changes: GroupChanges<'_>,
) -> AppResult<Option<TemplateRow>> {
    #[derive(AsChangeset)]
    #[diesel(table_name = permission_templates)]
    struct Changes<'a> {
        name: Option<&'a str>,
        description: Option<&'a str>,
        permissions: Option<serde_json::Value>,
        updated_at: chrono::DateTime<chrono::Utc>,
    }
    Ok(
        diesel::update(permission_templates::table.find((tenant_id, id)))
            .set(Changes {
                name: changes.name,
                description: changes.description,
                permissions: changes.permissions,
                updated_at: chrono::Utc::now(),
            })
            .returning(TemplateRow::as_returning())
            .get_result(conn)
            .await
            .optional()?,
    )
}

pub async fn delete_template(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> AppResult<bool> {
    let deleted = diesel::delete(permission_templates::table.find((tenant_id, id)))
        .execute(conn)
        .await?;
    Ok(deleted > 0)
}
