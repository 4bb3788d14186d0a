//! The rules of teams and groups (ADMIN manages them; every member may see them), and what
//! other domains ask: whether a member may do something (`ensure_allowed`, `grants_of`) and
//! which teams and groups a member is in (`groups_of_member`, for quotas).

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

pub use super::model::{GroupKind, GroupRow};
use super::permissions::{self, above_groups};
pub use super::permissions::{Grant, Grants, Permission};
use super::store::{self, GroupChanges, NewGroup};
use crate::accounts::service as accounts;
use crate::auth::{Role, Viewer};
use crate::db::validate_text;
use crate::error::{AppError, AppResult};

/// A tenant holds at most this many teams, and as many groups.
pub const MAX_PER_TENANT: i64 = 200;
const MAX_NAME_CHARS: usize = 80;
const MAX_DESCRIPTION_CHARS: usize = 2_000;

/// A name: trimmed, 1 to 80 characters, no control characters.
pub fn validate_name(field: &'static str, name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().any(char::is_control) {
        return Err(AppError::bad_field(
            field,
            format!("`{field}` must be 1 to {MAX_NAME_CHARS} printable characters"),
        ));
    }
    validate_text(field, name, MAX_NAME_CHARS)?;
    Ok(name.to_owned())
}

pub fn validate_description(description: &str) -> AppResult<String> {
    let description = description.trim();
    validate_text("description", description, MAX_DESCRIPTION_CHARS)?;
    Ok(description.to_owned())
}

/// What a new team or group is.
pub struct GroupInput {
    pub name: String,
    pub description: Option<String>,
    /// Groups only: the preset it starts from (its permissions, unless `grants` is given).
    pub preset: Option<String>,
    /// Groups only: the permissions it grants.
    pub grants: Option<Vec<Grant>>,
}

fn named_taken(kind: GroupKind, name: &str) -> impl FnOnce(AppError) -> AppError + '_ {
    move |error| match error {
        AppError::Conflict(_) => {
            AppError::conflict(format!("a {} named {name:?} already exists", kind.noun()))
        }
        other => other,
    }
}

/// Creates a team or group in the viewer's tenant (ADMIN).
pub async fn create(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    kind: GroupKind,
    input: GroupInput,
) -> AppResult<GroupRow> {
    viewer.require_role(Role::Admin)?;
    let name = validate_name("name", &input.name)?;
    let description = validate_description(input.description.as_deref().unwrap_or(""))?;
    let (preset, grants) = match kind {
        GroupKind::Team => (None, Vec::new()),
        GroupKind::Group => {
            let preset = input
                .preset
                .as_deref()
                .map(|id| {
                    permissions::preset(id).ok_or_else(|| {
                        AppError::bad_field("preset", format!("there is no preset {id:?}"))
                    })
                })
                .transpose()?;
            let grants = match (input.grants, &preset) {
                (Some(grants), _) => permissions::validate("permissions", grants)?,
                (None, Some(preset)) => preset.grants.clone(),
                (None, None) => Vec::new(),
            };
            (preset.map(|preset| preset.id), grants)
        }
    };
    if store::count_groups(conn, viewer.tenant_id, kind).await? >= MAX_PER_TENANT {
        return Err(AppError::bad_input(format!(
            "a tenant holds at most {MAX_PER_TENANT} of each: delete a {} first",
            kind.noun()
        )));
    }
    store::insert_group(
        conn,
        NewGroup {
            tenant_id: viewer.tenant_id,
            kind,
            name: &name,
            description: &description,
            preset,
            permissions: permissions::to_json(&grants),
            created_by: viewer.user_id,
        },
    )
    .await
    .map_err(named_taken(kind, &name))
}

/// Changes to a team or group; what is absent stays.
pub struct GroupUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
    /// Groups only.
    pub grants: Option<Vec<Grant>>,
}

pub async fn update(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    kind: GroupKind,
    id: Uuid,
    update: GroupUpdate,
) -> AppResult<GroupRow> {
    viewer.require_role(Role::Admin)?;
    get(conn, viewer, kind, id).await?;
    let name = update
        .name
        .as_deref()
        .map(|name| validate_name("name", name))
        .transpose()?;
    let description = update
        .description
        .as_deref()
        .map(validate_description)
        .transpose()?;
    let grants = match (kind, update.grants) {
        (_, None) => None,
        (GroupKind::Group, Some(grants)) => Some(permissions::validate("permissions", grants)?),
        (GroupKind::Team, Some(_)) => {
            return Err(AppError::bad_field(
                "permissions",
                "teams carry no permissions; use a group",
            ));
        }
    };
    let taken_name = name.clone().unwrap_or_default();
    store::update_group(
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
    .map_err(named_taken(kind, &taken_name))?
    .ok_or_else(|| not_found(kind))
}

pub async fn delete(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    kind: GroupKind,
    id: Uuid,
) -> AppResult<()> {
    viewer.require_role(Role::Admin)?;
    if !store::delete_group(conn, viewer.tenant_id, kind, id).await? {
        return Err(not_found(kind));
    }
    Ok(())
}

fn not_found(kind: GroupKind) -> AppError {
    AppError::not_found(format!("{} not found", kind.noun()))
}

/// A team or group of the viewer's tenant; NOT_FOUND otherwise (another tenant's look alike).
pub async fn get(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    kind: GroupKind,
    id: Uuid,
) -> AppResult<GroupRow> {
    store::find_group(conn, viewer.tenant_id, Some(kind), id)
        .await?
        .ok_or_else(|| not_found(kind))
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    kind: GroupKind,
) -> AppResult<Vec<GroupRow>> {
    store::list_groups(conn, viewer.tenant_id, kind).await
}

/// Adds a member of the tenant to a team or group (ADMIN); false when already in it.
pub async fn add_member(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    kind: GroupKind,
    id: Uuid,
    user_id: Uuid,
) -> AppResult<bool> {
    viewer.require_role(Role::Admin)?;
    get(conn, viewer, kind, id).await?;
    if accounts::membership(conn, viewer.tenant_id, user_id)
        .await?
        .is_none()
    {
        return Err(AppError::not_found("there is no such member here"));
    }
    store::add_member(conn, viewer.tenant_id, id, user_id).await
}

/// Takes a member out of a team or group (ADMIN); false when they were not in it.
pub async fn remove_member(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    kind: GroupKind,
    id: Uuid,
    user_id: Uuid,
) -> AppResult<bool> {
    viewer.require_role(Role::Admin)?;
    get(conn, viewer, kind, id).await?;
    store::remove_member(conn, viewer.tenant_id, id, user_id).await
}

pub use super::store::{groups_by_ids, member_counts, members};

/// The teams and groups a member of the viewer's tenant is in.
pub async fn groups_of_member(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> AppResult<Vec<GroupRow>> {
    store::groups_of_member(conn, tenant_id, user_id).await
}

/// What the viewer may do beyond their role's ceiling: nothing to look up for ADMINs.
pub async fn grants_of(conn: &mut AsyncPgConnection, viewer: &Viewer) -> AppResult<Grants> {
    if above_groups(viewer) {
        return Ok(Grants::unrestricted());
    }
    let sources = store::permission_sources(conn, viewer.tenant_id, viewer.user_id).await?;
    Ok(Grants::from_sources(&sources))
}

/// FORBIDDEN (reason `permission_denied`) unless the viewer's groups and own permissions allow
/// `permission` (on `entity_type`, for entity permissions). Their role is checked apart.
pub async fn ensure_allowed(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    permission: Permission,
    entity_type: Option<&str>,
) -> AppResult<()> {
    if above_groups(viewer) {
        return Ok(());
    }
    grants_of(conn, viewer)
        .await?
        .ensure(permission, entity_type)
}

/// Whether a member with `role` may do `permission` in the tenant (outside a request: a share
/// link's creator, checked each time the link is opened).
pub async fn member_allows(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    role: Role,
    permission: Permission,
) -> AppResult<bool> {
    if role >= Role::Admin {
        return Ok(true);
    }
    let sources = store::permission_sources(conn, tenant_id, user_id).await?;
    Ok(Grants::from_sources(&sources).allows(permission, None))
}

/// What a member of the viewer's tenant may do: their role and their grants. Anyone may ask
/// about themself; ADMIN about anyone.
pub async fn effective(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    user_id: Uuid,
) -> AppResult<(Role, Grants)> {
    if user_id != viewer.user_id {
        viewer.require_role(Role::Admin)?;
    }
    let role = if user_id == viewer.user_id {
        viewer.role
    } else {
        accounts::membership(conn, viewer.tenant_id, user_id)
            .await?
            .ok_or_else(|| AppError::not_found("there is no such member here"))?
            .role()
    };
    if role >= Role::Admin {
        return Ok((role, Grants::unrestricted()));
    }
    let sources = store::permission_sources(conn, viewer.tenant_id, user_id).await?;
    Ok((role, Grants::from_sources(&sources)))
}
