//! Renaming an entity: a new id, and every reference to the old one rewritten, in one
//! transaction under the rows' locks.

use diesel_async::{AsyncConnection as _, AsyncPgConnection};

use super::links;
use super::model::{EntityContent, EntityRow};
use super::store::{self, Bin, RevisionAction};
use super::templates::TemplateCatalog;
use super::types::EntityType;
use super::validation;
use super::writes::{already_exists, check, content_of, ensure_may, publish, write};
use crate::auth::Viewer;
use crate::context::Platform;
use crate::error::{AppError, AppResult};
use crate::events::EntityAction;
use crate::teams::service::Permission;

/// Gives an entity a new id and rewrites every reference to it, all in one transaction.
/// A field that may name several types is left alone where another of those types has an
/// entity with the old id (the reference may mean that one).
pub async fn rename(
    platform: &Platform,
    templates: &TemplateCatalog,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    entity_type: EntityType,
    entity_id: &str,
    new_entity_id: &str,
) -> AppResult<EntityRow> {
    let new_entity_id = validation::validate_entity_id("newEntityId", new_entity_id)?;
    ensure_may(conn, viewer, Permission::EditEntities, entity_type).await?;
    let (renamed, referrers) = conn
        .transaction::<_, AppError, _>(async |conn| {
            let current =
                store::lock(conn, viewer.tenant_id, entity_type, entity_id, Bin::Live).await?;
            if new_entity_id == current.entity_id {
                return Ok((current, Vec::new()));
            }
            if let Some(existing) =
                store::find_any(conn, viewer.tenant_id, entity_type, &new_entity_id).await?
            {
                return Err(already_exists(&existing));
            }
            let holders =
                store::taken_ids(conn, viewer.tenant_id, None, &[entity_id.to_owned()]).await?;
            let renaming = Renaming {
                entity_type,
                old_id: entity_id,
                new_id: &new_entity_id,
                ambiguous: holders
                    .iter()
                    .filter_map(|(t, _)| EntityType::from_slug(t))
                    .filter(|t| *t != entity_type)
                    .collect(),
            };
            let referrers =
                links::lock_referrers(conn, viewer.tenant_id, entity_type.slug(), entity_id)
                    .await?;
            let mut content = content_of(&current);
            content.entity_id = new_entity_id.clone();
            renaming.apply(templates, &mut content, current.kind());
            let renamed = save_locked(
                conn,
                templates,
                viewer,
                &current,
                &content,
                RevisionAction::Renamed,
            )
            .await?;
            let mut updated = Vec::new();
            for referrer in referrers.iter().filter(|r| r.id != current.id) {
                let mut content = content_of(referrer);
                if !renaming.apply(templates, &mut content, referrer.kind()) {
                    continue;
                }
                let row = save_locked(
                    conn,
                    templates,
                    viewer,
                    referrer,
                    &content,
                    RevisionAction::Updated,
                )
                .await?;
                updated.push(row);
            }
            Ok((renamed, updated))
        })
        .await?;
    if renamed.entity_id != entity_id {
        publish(
            platform,
            viewer,
            EntityAction::Renamed,
            &renamed,
            Some(entity_id.to_owned()),
        );
    }
    for row in &referrers {
        publish(platform, viewer, EntityAction::Updated, row, None);
    }
    Ok(renamed)
}

/// Checks `content` and saves it over `row`, which this transaction holds locked (so the save
/// cannot miss: the row cannot have moved since).
async fn save_locked(
    conn: &mut AsyncPgConnection,
    templates: &TemplateCatalog,
    viewer: &Viewer,
    row: &EntityRow,
    content: &EntityContent,
    action: RevisionAction,
) -> AppResult<EntityRow> {
    let checked = check(templates, row.kind(), content, Some(row));
    store::save(
        conn,
        row,
        None,
        write(viewer, row.kind(), content, &checked),
        action,
    )
    .await?
    .ok_or_else(|| AppError::internal(anyhow::anyhow!("a locked entity moved")))
}

/// One rename, as the references to rewrite see it.
struct Renaming<'a> {
    entity_type: EntityType,
    old_id: &'a str,
    new_id: &'a str,
    /// Other types that also have an entity with the old id.
    ambiguous: Vec<EntityType>,
}

impl Renaming<'_> {
    /// Rewrites the references in `content` (of an entity of `holder_type`); returns whether
    /// any changed.
    fn apply(
        &self,
        templates: &TemplateCatalog,
        content: &mut EntityContent,
        holder_type: EntityType,
    ) -> bool {
        let specs = &templates.type_template(holder_type).references;
        super::references::rewrite(
            &mut content.fields,
            specs,
            self.entity_type,
            &self.ambiguous,
            self.old_id,
            self.new_id,
        )
    }
}
