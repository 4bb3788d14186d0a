//! GraphQL: a tenant's own templates of its entity types and their AI instructions. Any member
//! reads the versions; WORLDBUILDER and above change them. What a template change does to the
//! type's entities is re-validated in the background: the version carries the counts, and
//! `templateChanged` streams them.

use std::sync::Arc;

use async_graphql::{
    Context, Enum, ID, InputObject, Json, MaybeUndefined, Object, SimpleObject, Subscription,
};
use chrono::{DateTime, Utc};
use futures_util::Stream;
use serde_json::Value;

use super::templates::in_force;
use crate::accounts::api::User;
use crate::context::ContextExt;
use crate::context::subscriptions::tenant_events;
use crate::entities::store::templates::TemplateRow;
use crate::entities::templates::{TemplateBook, TemplateSource};
use crate::entities::tenant_templates::{self as service, Part};
use crate::entities::types::EntityType;
use crate::error::{AppError, AppResult};
use crate::events::{EventPayload, kinds};

/// Where a version's re-validation of the type's entities stands.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum RevalidationState {
    /// The change cannot alter a verdict (new AI instructions).
    NotNeeded,
    /// Waiting to begin.
    Pending,
    /// Under way: the counts so far.
    Running,
    /// Every live entity of the type was checked.
    Done,
    /// It stopped with an error, or its node stopped (run `validateEntities`).
    Failed,
    /// A newer change that can alter verdicts began checking them all again.
    Superseded,
}

impl RevalidationState {
    fn of(state: &str) -> Self {
        match state {
            "pending" => Self::Pending,
            "running" => Self::Running,
            "done" => Self::Done,
            "failed" => Self::Failed,
            "superseded" => Self::Superseded,
            _ => Self::NotNeeded,
        }
    }
}

/// What a version changed.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum TemplateChangeKind {
    /// The markdown template or the schema (`updateTemplate`).
    Template,
    /// The AI instructions alone (`updateTemplateInstructions`).
    Instructions,
    /// The package's template and schema back in force (`resetTemplate`).
    Reset,
}

/// How far the re-validation a change set off has come.
#[derive(SimpleObject)]
pub struct TemplateRevalidation {
    /// Where it stands.
    pub state: RevalidationState,
    /// Live entities of the type checked so far.
    pub checked: i32,
    /// Of those, how many are valid.
    pub valid: i32,
    /// Of those, how many are not (their errors: `validationErrors` on each).
    pub invalid: i32,
    /// Why it failed.
    pub error: Option<String>,
    /// When it last moved on (or ended).
    pub updated_at: Option<DateTime<Utc>>,
}

/// One version of the tenant's template of a type.
pub struct TemplateVersion(TemplateRow);

/// One version of the tenant's template of a type.
#[Object]
impl TemplateVersion {
    /// The type.
    async fn entity_type(&self) -> AppResult<EntityType> {
        EntityType::from_slug(&self.0.entity_type)
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("a template of an unknown type")))
    }

    /// The version, from 1: pass the newest as `expectedVersion` when changing the template.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// What the version changed.
    async fn change(&self) -> TemplateChangeKind {
        match self.0.change.as_str() {
            "instructions" => TemplateChangeKind::Instructions,
            "reset" => TemplateChangeKind::Reset,
            _ => TemplateChangeKind::Template,
        }
    }

    /// The tenant's markdown template in this version; null: the package's.
    async fn content(&self) -> Option<&str> {
        self.0.content.as_deref()
    }

    /// The tenant's JSON Schema of the type in this version; null: the package's.
    async fn schema(&self) -> Option<Json<&Value>> {
        self.0.json_schema.as_ref().map(Json)
    }

    /// When it was made.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// Who made it (null once their account is gone).
    async fn created_by(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        match self.0.created_by {
            Some(id) => User::load(ctx, Some(id)).await,
            None => Ok(None),
        }
    }

    /// The re-validation of the type's entities this version set off.
    async fn revalidation(&self) -> TemplateRevalidation {
        let (state, error) = service::revalidation_state(&self.0);
        TemplateRevalidation {
            state: RevalidationState::of(state),
            checked: self.0.checked,
            valid: self.0.valid,
            invalid: self.0.invalid,
            error: error.map(str::to_owned),
            updated_at: self.0.revalidated_at,
        }
    }
}

/// A type's AI generation instructions in force.
#[derive(SimpleObject)]
pub struct TemplateInstructions {
    /// The type.
    pub entity_type: EntityType,
    /// The `generation_instructions` of the type's markdown template; null when it has none.
    pub instructions: Option<String>,
    /// Where the template holding them came from.
    pub source: TemplateSource,
}

/// A change to the tenant's template of a type. A part left out stays as it is; a part given
/// as null puts the package's back in force.
#[derive(InputObject)]
pub struct TemplateInput {
    /// The markdown template (YAML frontmatter, then the body; at most 256 KiB): its keys'
    /// order is the order the type's files are written in, its `template_version` is stamped on
    /// new entities, its `generation_instructions` are what `templateInstructions` answers,
    /// and its `field_config` entity selectors add reference fields.
    pub content: MaybeUndefined<String>,
    /// The JSON Schema the type's entities are validated against (at most 256 KiB, 32 levels,
    /// 100 regular expressions;
    /// `$ref`s only to the package's shared schemas; `pattern`s without look-around).
    pub schema: MaybeUndefined<Json<Value>>,
}

fn part<T>(value: MaybeUndefined<T>) -> Part<T> {
    match value {
        MaybeUndefined::Undefined => Part::Keep,
        MaybeUndefined::Null => Part::Package,
        MaybeUndefined::Value(value) => Part::Set(value),
    }
}

#[derive(Default)]
pub struct TenantTemplateQuery;

#[Object]
impl TenantTemplateQuery {
    /// The versions of the viewer's tenant's template of a type, newest first (the last 20).
    async fn template_versions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity type.")] r#type: EntityType,
    ) -> AppResult<Vec<TemplateVersion>> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.conn().await?;
        Ok(service::versions(&mut conn, viewer, r#type)
            .await?
            .into_iter()
            .map(TemplateVersion)
            .collect())
    }

    /// A type's AI generation instructions: the viewer's tenant's when its template has its
    /// own, else the package's. Public: without sign-in, the package's.
    async fn template_instructions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity type.")] r#type: EntityType,
    ) -> AppResult<TemplateInstructions> {
        let (instructions, source) = service::instructions(&*in_force(ctx).await?, r#type);
        Ok(TemplateInstructions {
            entity_type: r#type,
            instructions,
            source,
        })
    }
}

#[derive(Default)]
pub struct TenantTemplateMutation;

#[Object]
impl TenantTemplateMutation {
    /// Changes the tenant's template of a type (WORLDBUILDER): its markdown template, its JSON
    /// Schema, or both, as a new version. A template that does not read, names another type, or
    /// a schema that does not compile is refused (BAD_USER_INPUT naming `content` or `schema`);
    /// a change made on an older version is refused (CONFLICT). The type's entities are then
    /// re-validated in the background: see the version's `revalidation`, or subscribe to
    /// `templateChanged`.
    async fn update_template(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity type.")] r#type: EntityType,
        #[graphql(desc = "What changes.")] input: TemplateInput,
        #[graphql(desc = "The version the change was made on (0 for the package's).")]
        expected_version: Option<i32>,
    ) -> AppResult<TemplateVersion> {
        let viewer = ctx.viewer()?;
        let schema = match input.schema {
            MaybeUndefined::Value(Json(schema)) => MaybeUndefined::Value(schema),
            MaybeUndefined::Null => MaybeUndefined::Null,
            MaybeUndefined::Undefined => MaybeUndefined::Undefined,
        };
        let row = service::update(
            ctx.platform(),
            ctx.part::<Arc<TemplateBook>>()?,
            viewer,
            r#type,
            part(input.content),
            part(schema),
            expected_version,
        )
        .await?;
        super::Entity::forget_loaded(ctx);
        Ok(TemplateVersion(row))
    }

    /// Sets the AI generation instructions of the tenant's template of a type, or with null
    /// removes them (WORLDBUILDER): a new version, in a copy of the package's template when the
    /// tenant has none of its own. Nothing is re-validated.
    async fn update_template_instructions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity type.")] r#type: EntityType,
        #[graphql(desc = "The instructions (at most 16,384 characters); null removes them.")]
        instructions: Option<String>,
        #[graphql(desc = "The version the change was made on (0 for the package's).")]
        expected_version: Option<i32>,
    ) -> AppResult<TemplateVersion> {
        let viewer = ctx.viewer()?;
        let row = service::set_instructions(
            ctx.platform(),
            ctx.part::<Arc<TemplateBook>>()?,
            viewer,
            r#type,
            instructions,
            expected_version,
        )
        .await?;
        Ok(TemplateVersion(row))
    }

    /// Puts the package's template and schema of a type back in force for the tenant
    /// (WORLDBUILDER), as a new version (the history is kept); the type's entities are
    /// re-validated in the background.
    async fn reset_template(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity type.")] r#type: EntityType,
        #[graphql(desc = "The version the change was made on.")] expected_version: Option<i32>,
    ) -> AppResult<TemplateVersion> {
        let viewer = ctx.viewer()?;
        let row = service::update(
            ctx.platform(),
            ctx.part::<Arc<TemplateBook>>()?,
            viewer,
            r#type,
            Part::Package,
            Part::Package,
            expected_version,
        )
        .await?;
        super::Entity::forget_loaded(ctx);
        Ok(TemplateVersion(row))
    }
}

/// A change to one of the tenant's templates, or its re-validation moving on.
#[derive(SimpleObject)]
pub struct TemplateChanged {
    /// The type.
    pub entity_type: EntityType,
    /// The version made.
    pub version: i32,
    /// Where its re-validation stands (PENDING, or NOT_NEEDED, as the change is made; DONE,
    /// FAILED or SUPERSEDED at its end).
    pub revalidation: RevalidationState,
    /// Live entities of the type checked.
    pub checked: i32,
    /// Of those, how many are valid.
    pub valid: i32,
    /// Of those, how many are not.
    pub invalid: i32,
    /// The event's place in the tenant's event log (resume with `since`).
    pub sequence: ID,
}

#[derive(Default)]
pub struct TemplateSubscription;

#[Subscription]
impl TemplateSubscription {
    /// The tenant's template changes and the ends of the re-validations they set off.
    async fn template_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Resume after this `sequence` (the last one seen).")] since: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = TemplateChanged> + use<>> {
        ctx.viewer()?;
        Ok(tenant_events(ctx, since, kinds::TEMPLATE_CHANGED, |event| {
            let EventPayload::TemplateChanged(change) = &event.payload else {
                return None;
            };
            Some(TemplateChanged {
                entity_type: EntityType::from_slug(&change.entity_type)?,
                version: change.version,
                revalidation: RevalidationState::of(&change.revalidation),
                checked: change.checked,
                valid: change.valid,
                invalid: change.invalid,
                sequence: ID(event.seq.to_string()),
            })
        })
        .await?)
    }
}
