//! Permission templates: named sets of permissions an ADMIN keeps and applies to members (who
//! then hold them as their own) or to groups (whose permissions become the template's). A
//! template applied is copied: changing it later changes no one until it is applied again.

use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::model::{GroupKind, OwnPermissions, TemplateRow};
use super::permissions::{self, Grant};
use super::service::{validate_description, validate_name};
use super::store::{self, GroupChanges, NewTemplate};
use crate::accounts::service as accounts;
use crate::auth::{Role, Viewer};
use crate::error::{AppError, AppResult};

/// A tenant holds at most this many templates.
pub const MAX_TEMPLATES: i64 = 100;
/// At most this many members and groups in one application.
pub const MAX_TARGETS: usize = 200;

fn name_taken(name: &str) -> impl FnOnce(AppError) -> AppError + '_ {
    move |error| match error {
        AppError::Conflict(_) => AppError::conflict(format!(
            "a permission template named {name:?} already exists"
        )),
        other => other,
    }
}

fn not_found() -> AppError {
    AppError::not_found("permission template not found")
}

pub async fn create(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    name: &str,
    description: Option<&str>,
    grants: Vec<Grant>,
) -> AppResult<TemplateRow> {
    viewer.require_role(Role::Admin)?;
    let name = validate_name("name", name)?;
    let description = validate_description(description.unwrap_or(""))?;
    let grants = permissions::validate("permissions", grants)?;
    if store::count_templates(conn, viewer.tenant_id).await? >= MAX_TEMPLATES {
        return Err(AppError::bad_input(format!(
            "a tenant holds at most {MAX_TEMPLATES} permission templates"
        )));
    }
    store::insert_template(
        conn,
        NewTemplate {
            tenant_id: viewer.tenant_id,
            name: &name,
            description: &description,
            permissions: permissions::to_json(&grants),
        },
    )
    .await
    .map_err(name_taken(&name))
}

pub async fn update(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: Uuid,
    name: Option<&str>,
    description: Option<&str>,
    grants: Option<Vec<Grant>>,
) -> AppResult<TemplateRow> {
    viewer.require_role(Role::Admin)?;
    let name = name.map(|name| validate_name("name", name)).transpose()?;
    let description = description.map(validate_description).transpose()?;
    let grants = grants
        .map(|grants| permissions::validate("permissions", grants))
        .transpose()?;
    let taken = name.clone().unwrap_or_default();
    store::update_template(
        conn,
        viewer.tenant_id,
        id,
        GroupChanges {
            name: name.as_deref(),
            description: description.as_deref(),
            permissions: grants.as_deref().map(permissions::to_json),
        },
    )
    .await
    .map_err(name_taken(&taken))?
    .ok_or_else(not_found)
}

/// Deletes a template; members who hold its permissions keep them (copied when applied).
pub async fn delete(conn: &mut AsyncPgConnection, viewer: &Viewer, id: Uuid) -> AppResult<()> {
    viewer.require_role(Role::Admin)?;
    if !store::delete_template(conn, viewer.tenant_id, id).await? {
        return Err(not_found());
    }
    Ok(())
}

pub async fn list(conn: &mut AsyncPgConnection, viewer: &Viewer) -> AppResult<Vec<TemplateRow>> {
    store::list_templates(conn, viewer.tenant_id).await
}

pub async fn get(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<TemplateRow> {
    store::find_template(conn, viewer.tenant_id, id)
        .await?
        .ok_or_else(not_found)
}

/// Gives each listed member the template's permissions as their own and each listed group the
/// template's permissions, all or nothing (ADMIN); how many members and groups changed.
pub async fn apply(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: Uuid,
    user_ids: &[Uuid],
    group_ids: &[Uuid],
) -> AppResult<usize> {
    viewer.require_role(Role::Admin)?;
    if user_ids.len() + group_ids.len() > MAX_TARGETS {
        return Err(AppError::bad_input(format!(
            "apply a template to at most {MAX_TARGETS} members and groups at once"
        )));
    }
    let template = get(conn, viewer, id).await?;
    let tenant_id = viewer.tenant_id;
    conn.transaction::<_, AppError, _>(async |conn| {
        for &user_id in user_ids {
            if accounts::membership(conn, tenant_id, user_id)
                .await?
                .is_none()
            {
                return Err(AppError::bad_field(
                    "userIds",
                    format!("{user_id} is not a member here"),
                ));
            }
            store::set_own_permissions(conn, tenant_id, user_id, &template.permissions, Some(id))
                .await?;
        }
        for &group_id in group_ids {
            let changes = GroupChanges {
                name: None,
                description: None,
                permissions: Some(template.permissions.clone()),
            };
            match store::find_group(conn, tenant_id, Some(GroupKind::Group), group_id).await? {
                Some(_) => store::update_group(conn, tenant_id, group_id, changes).await?,
                None => {
                    return Err(AppError::bad_field(
                        "groupIds",
                        format!("there is no group {group_id} here"),
                    ));
                }
            };
        }
        Ok(())
    })
    .await?;
    Ok(user_ids.len() + group_ids.len())
}

/// A member's own permissions, if they hold any (ADMIN, or the member themself).
pub async fn own_permissions(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    user_id: Uuid,
) -> AppResult<Option<OwnPermissions>> {
    if user_id != viewer.user_id {
        viewer.require_role(Role::Admin)?;
    }
    store::own_permissions(conn, viewer.tenant_id, user_id).await
}

/// Takes a member's own permissions away (ADMIN); their groups alone bind them then. False when
/// they held none.
pub async fn clear_own_permissions(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    user_id: Uuid,
) -> AppResult<bool> {
    viewer.require_role(Role::Admin)?;
    store::clear_own_permissions(conn, viewer.tenant_id, user_id).await
}
