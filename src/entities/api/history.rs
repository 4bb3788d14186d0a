//! GraphQL: an entity's revisions and comparisons between versions or entities.

use async_graphql::{Context, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::graph::EntityRefInput;
use crate::accounts::api::User;
use crate::context::ContextExt;
use crate::db::connection::{connection_type, page_of};
use crate::db::cursor::ConnectionArgs;
use crate::db::keyset::Window;
use crate::db::pagination::{PageRequest, page_type};
use crate::entities::comparisons;
use crate::entities::history::{Comparison, DiffLineKind, FieldChangeKind};
use crate::entities::model::RevisionRow;
use crate::entities::store::{self, RevisionAction, RevisionKey};
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

    /// What the write did.
    async fn action(&self) -> RevisionAction {
        RevisionAction::from_db(&self.0.action)
    }

    /// Who wrote it (null once their account is deleted).
    async fn actor(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        User::load(ctx, self.0.actor_id).await
    }

    /// When the write happened.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// The entity's id within its type after this write.
    async fn entity_id(&self) -> &str {
        &self.0.entity_id
    }

    /// The entity's display name after this write.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The entity's status after this write.
    async fn status(&self) -> EntityStatus {
        EntityStatus::from_slug(&self.0.status).unwrap_or_default()
    }

    /// The entity's type-specific fields after this write (a JSON object).
    async fn fields(&self) -> Json<&Value> {
        Json(&self.0.fields)
    }

    /// The entity's Markdown body after this write.
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

connection_type! {
    /// An entity's revisions, newest first, a page at a time by cursor.
    pub struct RevisionConnection;
    /// A revision and its cursor.
    pub struct RevisionEdge(EntityRevision);
}

/// The revisions `window` holds of an entity's history (live or recycled); None when the
/// entity does not exist.
async fn load_history(
    ctx: &Context<'_>,
    r#type: EntityType,
    entity_id: &str,
    window: &Window<RevisionKey>,
) -> AppResult<Option<(Option<i64>, Vec<RevisionRow>)>> {
    let viewer = ctx.viewer()?;
    let mut conn = ctx.conn().await?;
    let Some(row) = store::find_any(&mut conn, viewer.tenant_id, r#type, entity_id).await? else {
        return Ok(None);
    };
    Ok(Some(store::revisions(&mut conn, &row, window).await?))
}

/// One field that differs.
#[derive(SimpleObject)]
pub struct FieldDiff {
    /// The field, or `name`, `status`, `entity_id` for the entity's own columns.
    pub field: String,
    /// How the field differs.
    pub change: FieldChangeKind,
    /// The value on the old (left) side; null when the field is added there.
    pub old_value: Option<Json<Value>>,
    /// The value on the new (right) side; null when the field is removed there.
    pub new_value: Option<Json<Value>>,
}

/// One line of the markdown diff.
#[derive(SimpleObject)]
pub struct MarkdownDiffLine {
    /// Whether the line is in both sides, only the new one, or only the old one.
    pub kind: DiffLineKind,
    /// The 1-based line number on the old side; null for inserted lines.
    pub old_line: Option<i32>,
    /// The 1-based line number on the new side; null for deleted lines.
    pub new_line: Option<i32>,
    /// The line's text, without its line break.
    pub text: String,
}

/// What differs between two versions of an entity, or between two entities.
#[derive(SimpleObject)]
pub struct EntityComparison {
    /// Nothing differs: no field change and every markdown line equal.
    pub identical: bool,
    /// The fields that differ.
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
        #[graphql(desc = "The entity's type.")] r#type: EntityType,
        #[graphql(desc = "The entity's id within its type.")] entity_id: String,
        #[graphql(desc = "How many revisions to skip: 0 to 10,000, 0 when absent.")] offset: Option<
            i32,
        >,
        #[graphql(desc = "How many revisions to return: 1 to 200, 50 when absent.")] limit: Option<
            i32,
        >,
    ) -> AppResult<Option<RevisionPage>> {
        ctx.viewer()?;
        let page = PageRequest::new(offset, limit)?;
        let Some((total, revisions)) =
            load_history(ctx, r#type, &entity_id, &Window::Offset(page)).await?
        else {
            return Ok(None);
        };
        Ok(Some(RevisionPage::new(
            total.unwrap_or_default(),
            page,
            revisions.into_iter().map(EntityRevision).collect(),
        )))
    }

    /// Every write to an entity (live or recycled) by cursor, newest first (as
    /// `entityHistory`, for histories of any length); null when it does not exist.
    #[allow(clippy::too_many_arguments)]
    async fn entity_history_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity's type.")] r#type: EntityType,
        #[graphql(desc = "The entity's id within its type.")] entity_id: String,
        #[graphql(
            desc = "How many revisions to return after `after`: 1 to 200, 50 when \
                          neither `first` nor `last` is given."
        )]
        first: Option<i32>,
        #[graphql(desc = "The cursor to go on after (an `endCursor`); the start when absent.")]
        after: Option<String>,
        #[graphql(desc = "How many revisions to return before `before`: 1 to 200.")] last: Option<
            i32,
        >,
        #[graphql(
            desc = "The cursor to go back from (a `startCursor`); the end when absent \
                          and `last` is given."
        )]
        before: Option<String>,
    ) -> AppResult<Option<RevisionConnection>> {
        let cursors = ctx.cursors(format!("entityHistory/{}/{}", r#type.slug(), entity_id))?;
        let window = cursors.window::<RevisionKey>(ConnectionArgs {
            first,
            after,
            last,
            before,
        })?;
        let Some((_, revisions)) =
            load_history(ctx, r#type, &entity_id, &Window::Keyset(window.clone())).await?
        else {
            return Ok(None);
        };
        let page = page_of(
            revisions,
            &window,
            &cursors,
            |revision| (revision.version, revision.id),
            EntityRevision,
        );
        Ok(Some(page.into()))
    }

    /// What changed in an entity between two of its versions.
    async fn compare_entity_versions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity's type.")] r#type: EntityType,
        #[graphql(desc = "The entity's id within its type.")] entity_id: String,
        #[graphql(desc = "The version on the old side of the comparison.")] from: i32,
        #[graphql(desc = "The version on the new side of the comparison.")] to: i32,
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
        #[graphql(desc = "The entity on the old side of the comparison.")] left: EntityRefInput,
        #[graphql(desc = "The entity on the new side of the comparison.")] right: EntityRefInput,
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
