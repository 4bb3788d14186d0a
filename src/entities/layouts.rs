//! Form layouts a tenant makes its own: each change a new version, the newest in force, the
//! package's (or the built-in) layout in force again after a reset and wherever the tenant has
//! none.

use diesel_async::AsyncPgConnection;
use serde_json::Value;
use uuid::Uuid;

use super::store::layouts::{self as store, LayoutRow};
use super::templates::{TemplateCatalog, TemplateSource};
use super::types::EntityType;
use super::validation::json_depth;
use crate::auth::{Role, Viewer};
use crate::error::{AppError, AppResult};

/// Largest layout, as JSON text.
const MAX_LAYOUT_BYTES: usize = 256 * 1024;
/// Deepest nesting of a layout's lists and objects.
const MAX_LAYOUT_DEPTH: usize = 16;
/// Most sections, and most fields in all of them.
const MAX_SECTIONS: usize = 200;
const MAX_FIELDS: usize = 2_000;
/// Versions a history lists, and versions kept of each type (older ones are forgotten).
pub const MAX_HISTORY: i64 = 100;
const KEPT_VERSIONS: i32 = 100;

/// A type's layout in force for a tenant.
pub struct LayoutInForce {
    pub entity_type: EntityType,
    pub layout: Value,
    pub source: TemplateSource,
    /// The tenant's newest version of it (0 when it never laid the type out).
    pub version: i32,
}

fn in_force(
    templates: &TemplateCatalog,
    entity_type: EntityType,
    newest: Option<&LayoutRow>,
) -> LayoutInForce {
    let version = newest.map_or(0, |row| row.version);
    match newest.and_then(|row| row.layout.as_ref()) {
        Some(layout) => LayoutInForce {
            entity_type,
            layout: layout.clone(),
            source: TemplateSource::Tenant,
            version,
        },
        None => {
            let template = templates.type_template(entity_type);
            LayoutInForce {
                entity_type,
                layout: template.layout.clone(),
                source: template.layout_source,
                version,
            }
        }
    }
}

/// One type's layout for the tenant.
pub async fn layout(
    conn: &mut AsyncPgConnection,
    templates: &TemplateCatalog,
    tenant_id: Uuid,
    entity_type: EntityType,
) -> AppResult<LayoutInForce> {
    let newest = layout_row(conn, tenant_id, entity_type).await?;
    Ok(in_force(templates, entity_type, newest.as_ref()))
}

/// Every type's layout for the tenant.
pub async fn layouts(
    conn: &mut AsyncPgConnection,
    templates: &TemplateCatalog,
    tenant_id: Uuid,
) -> AppResult<Vec<LayoutInForce>> {
    let newest = store::newest_layouts(conn, tenant_id).await?;
    Ok(EntityType::ALL
        .iter()
        .map(|entity_type| {
            let row = newest
                .iter()
                .find(|row| row.entity_type == entity_type.slug());
            in_force(templates, *entity_type, row)
        })
        .collect())
}

/// A type's versions, newest first.
pub async fn history(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    entity_type: EntityType,
) -> AppResult<Vec<LayoutRow>> {
    store::layout_versions(conn, viewer.tenant_id, entity_type.slug(), MAX_HISTORY).await
}

/// Checks a layout's shape and size: an object whose `sections` are objects, each with a list
/// of `fields` that name their `key`.
fn check(layout: &Value) -> AppResult<()> {
    let bad = |message: String| Err(AppError::bad_field("layout", message));
    if json_depth(layout) > MAX_LAYOUT_DEPTH {
        return bad(format!("a layout nests at most {MAX_LAYOUT_DEPTH} levels"));
    }
    if serde_json::to_vec(layout).map_or(usize::MAX, |text| text.len()) > MAX_LAYOUT_BYTES {
        return bad(format!(
            "a layout is at most {} KiB",
            MAX_LAYOUT_BYTES / 1024
        ));
    }
    let Some(sections) = layout.get("sections").and_then(Value::as_array) else {
        return bad("a layout is an object with a list of sections".to_owned());
    };
    if sections.len() > MAX_SECTIONS {
        return bad(format!("a layout has at most {MAX_SECTIONS} sections"));
    }
    let mut fields = 0usize;
    for (index, section) in sections.iter().enumerate() {
        let Some(list) = section.get("fields").and_then(Value::as_array) else {
            return bad(format!("sections[{index}] has no list of fields"));
        };
        fields += list.len();
        if let Some(at) = list.iter().position(|field| {
            field
                .get("key")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
        }) {
            return bad(format!("sections[{index}].fields[{at}] names no key"));
        }
    }
    if fields > MAX_FIELDS {
        return bad(format!("a layout has at most {MAX_FIELDS} fields"));
    }
    Ok(())
}

/// Appends a version (a layout, or none for the package's) after the newest one, `current`,
/// refusing a change made on an older version when `expected_version` is given; answers the
/// layout now in force.
async fn append(
    conn: &mut AsyncPgConnection,
    templates: &TemplateCatalog,
    viewer: &Viewer,
    entity_type: EntityType,
    current: Option<LayoutRow>,
    layout: Option<&Value>,
    expected_version: Option<i32>,
) -> AppResult<LayoutInForce> {
    let version = current.as_ref().map_or(0, |row| row.version);
    if let Some(expected) = expected_version
        && expected != version
    {
        return Err(AppError::conflict(format!(
            "the {} layout is at version {version}, not {expected}: reload and try again",
            entity_type.slug()
        )));
    }
    let written = store::append_layout(
        conn,
        viewer.tenant_id,
        entity_type.slug(),
        version + 1,
        layout,
        viewer.user_id,
    )
    .await?;
    if !written {
        return Err(AppError::conflict(format!(
            "the {} layout was changed meanwhile: reload and try again",
            entity_type.slug()
        )));
    }
    store::prune_layouts(
        conn,
        viewer.tenant_id,
        entity_type.slug(),
        version + 1,
        KEPT_VERSIONS,
    )
    .await?;
    let mut now = in_force(templates, entity_type, None);
    if let Some(layout) = layout {
        now.layout = layout.clone();
        now.source = TemplateSource::Tenant;
    }
    now.version = version + 1;
    Ok(now)
}

async fn layout_row(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    entity_type: EntityType,
) -> AppResult<Option<LayoutRow>> {
    Ok(
        store::layout_versions(conn, tenant_id, entity_type.slug(), 1)
            .await?
            .into_iter()
            .next(),
    )
}

/// The tenant's new layout of a type (WORLDBUILDER).
pub async fn update(
    conn: &mut AsyncPgConnection,
    templates: &TemplateCatalog,
    viewer: &Viewer,
    entity_type: EntityType,
    layout: &Value,
    expected_version: Option<i32>,
) -> AppResult<LayoutInForce> {
    viewer.require_role(Role::Worldbuilder)?;
    check(layout)?;
    let current = layout_row(conn, viewer.tenant_id, entity_type).await?;
    append(
        conn,
        templates,
        viewer,
        entity_type,
        current,
        Some(layout),
        expected_version,
    )
    .await
}

/// Puts the package's (or the built-in) layout back in force, as a new version (WORLDBUILDER).
pub async fn reset(
    conn: &mut AsyncPgConnection,
    templates: &TemplateCatalog,
    viewer: &Viewer,
    entity_type: EntityType,
) -> AppResult<LayoutInForce> {
    viewer.require_role(Role::Worldbuilder)?;
    match layout_row(conn, viewer.tenant_id, entity_type).await? {
        Some(row) if row.layout.is_some() => {
            let version = row.version;
            append(
                conn,
                templates,
                viewer,
                entity_type,
                Some(row),
                None,
                Some(version),
            )
            .await
        }
        // Nothing of the tenant's in force: nothing to reset.
        newest => Ok(in_force(templates, entity_type, newest.as_ref())),
    }
}

/// Forgets the tenant's layout of a type and all its versions (WORLDBUILDER); false when it
/// had none.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    entity_type: EntityType,
) -> AppResult<bool> {
    viewer.require_role(Role::Worldbuilder)?;
    Ok(store::delete_layouts(conn, viewer.tenant_id, entity_type.slug()).await? > 0)
}
