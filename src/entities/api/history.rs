//! GraphQL: an entity's revisions and comparisons between versions or entities.

use async_graphql::{Context, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::graph::EntityRefInput;
use crate::accounts::api::User;
use crate::context::ContextExt;
use crate::db::pagination::{PageRequest, page_type};
use crate::entities::comparisons;
use crate::entities::history::{Comparison, DiffLineKind, FieldChangeKind};
use crate::entities::model::RevisionRow;
use crate::entities::store::{self, RevisionAction};
use crate::entities::types::{EntityStatus, EntityType};
use crate::error::AppResult;

pub struct EntityRevision(RevisionRow);

/// An entity as one write left it.
#[Object]
impl EntityRevision {
    /// The entity's version after this write.
    async fn version(&self) -> i32 {
        self.0.version
    }

    async fn action(&self) -> RevisionAction {
        RevisionAction::from_db(&self.0.action)
    }

    /// Who wrote it (null once their account is deleted).
    async fn actor(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        User::load(ctx, self.0.actor_id).await
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn entity_id(&self) -> &str {
        &self.0.entity_id
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn status(&self) -> EntityStatus {
        EntityStatus::from_slug(&self.0.status).unwrap_or_default()
    }

    async fn fields(&self) -> Json<&Value> {
        Json(&self.0.fields)
    }

    async fn markdown_body(&self) -> &str {
        &self.0.markdown_body
    }
}

page_type! {
    /// A page of an entity's revisions.
    pub struct RevisionPage {
        total,
        /// Newest first.
        revisions: Vec<EntityRevision>,
    }
}

/// One field that differs.
#[derive(SimpleObject)]
pub struct FieldDiff {
    /// The field, or `name`, `status`, `entity_id` for the entity's own columns.
    pub field: String,
    pub change: FieldChangeKind,
    pub old_value: Option<Json<Value>>,
    pub new_value: Option<Json<Value>>,
}

/// One line of the markdown diff.
#[derive(SimpleObject)]
pub struct MarkdownDiffLine {
    pub kind: DiffLineKind,
    pub old_line: Option<i32>,
    pub new_line: Option<i32>,
    pub text: String,
}

/// What differs between two versions of an entity, or between two entities.
#[derive(SimpleObject)]
pub struct EntityComparison {
    pub identical: bool,
    pub field_changes: Vec<FieldDiff>,
    /// Every line of both markdown bodies, marked equal, inserted or deleted.
    pub markdown_lines: Vec<MarkdownDiffLine>,
    /// The markdown change as a unified diff.
    pub unified_diff: String,
}

impl From<Comparison> for EntityComparison {
    fn from(comparison: Comparison) -> Self {
        let line = |n: Option<usize>| n.and_then(|n| i32::try_from(n).ok());
        Self {
            identical: comparison.identical(),
            field_changes: comparison
                .field_changes
                .into_iter()
                .map(|c| FieldDiff {
                    field: c.field,
                    change: c.change,
                    old_value: c.old_value.map(Json),
                    new_value: c.new_value.map(Json),
                })
                .collect(),
            markdown_lines: comparison
                .markdown_lines
                .into_iter()
                .map(|l| MarkdownDiffLine {
                    kind: l.kind,
                    old_line: line(l.old_line),
                    new_line: line(l.new_line),
                    text: l.text,
                })
                .collect(),
            unified_diff: comparison.unified_diff,
        }
    }
}

#[derive(Default)]
pub struct HistoryQuery;

#[Object]
impl HistoryQuery {
    /// Every write to an entity (live or recycled), newest first; null when it does not exist.
    async fn entity_history(
        &self,
        ctx: &Context<'_>,
        r#type: EntityType,
        entity_id: String,
        offset: Option<i32>,
        limit: Option<i32>,
    ) -> AppResult<Option<RevisionPage>> {
        let viewer = ctx.viewer()?;
        let page = PageRequest::new(offset, limit)?;
        let mut conn = ctx.conn().await?;
        let Some(row) = store::find_any(&mut conn, viewer.tenant_id, r#type, &entity_id).await?
        else {
            return Ok(None);
        };
        let (total, revisions) = store::revisions(&mut conn, &row, page).await?;
        Ok(Some(RevisionPage::new(
            total,
            page,
            revisions.into_iter().map(EntityRevision).collect(),
        )))
    }

    /// What changed in an entity between two of its versions.
    async fn compare_entity_versions(
        &self,
        ctx: &Context<'_>,
        r#type: EntityType,
        entity_id: String,
        from: i32,
        to: i32,
    ) -> AppResult<EntityComparison> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        let comparison =
            comparisons::versions(&mut conn, viewer.tenant_id, r#type, &entity_id, from, to)
                .await?;
        Ok(comparison.into())
    }

    /// What differs between two live entities (of the same or different types).
    async fn compare_entities(
        &self,
        ctx: &Context<'_>,
        left: EntityRefInput,
        right: EntityRefInput,
    ) -> AppResult<EntityComparison> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        let comparison = comparisons::entities(
            &mut conn,
            viewer.tenant_id,
            (left.r#type, &left.entity_id),
            (right.r#type, &right.entity_id),
        )
        .await?;
        Ok(comparison.into())
    }
}
