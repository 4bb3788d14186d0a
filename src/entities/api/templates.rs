//! GraphQL: the entity types and their templates (public: no sign-in needed; a signed-in
//! viewer sees its tenant's own templates where it has them).

use std::sync::Arc;

use async_graphql::{Context, Json, Object, SimpleObject};
use serde_json::Value;

use crate::context::ContextExt;
use crate::entities::templates::TemplateBook;
use crate::entities::templates::{MarkdownTemplate, TemplateCatalog, TemplateSource, TypeTemplate};
use crate::entities::types::EntityType;
use crate::error::AppResult;

/// The templates in force for the caller: its tenant's own over the package's when signed in,
/// else the package's.
pub(super) async fn in_force(ctx: &Context<'_>) -> AppResult<Arc<TemplateCatalog>> {
    let book = ctx.part::<Arc<TemplateBook>>()?;
    match ctx.viewer() {
        Ok(viewer) => {
            book.for_tenant(&ctx.platform().pool, viewer.tenant_id)
                .await
        }
        Err(_) => Ok(book.current()),
    }
}

pub struct EntityTypeInfo(EntityType);

/// One of the sixteen entity types.
#[Object]
impl EntityTypeInfo {
    /// The type.
    #[graphql(name = "type")]
    async fn entity_type(&self) -> EntityType {
        self.0
    }

    /// The spelling in frontmatter and file names: `character`, `style_bible`.
    async fn slug(&self) -> &'static str {
        self.0.slug()
    }

    /// The type's name for people, singular: `Style Bible`.
    async fn label(&self) -> &'static str {
        self.0.label()
    }

    /// The project folder holding this type's markdown files.
    async fn folder_name(&self) -> &'static str {
        self.0.folder_name()
    }

    /// The file-name prefix of this type's markdown files.
    async fn file_prefix(&self) -> &'static str {
        self.0.file_prefix()
    }

    /// What entities of this type are, as the type's template says.
    async fn description(&self, ctx: &Context<'_>) -> AppResult<String> {
        Ok(in_force(ctx)
            .await?
            .type_template(self.0)
            .description
            .clone())
    }
}

/// A type's JSON Schema and where its fields reference other entities.
#[derive(SimpleObject)]
pub struct EntitySchema {
    /// The type described.
    pub entity_type: EntityType,
    /// The JSON Schema (draft 2020-12) of the frontmatter: `fields` plus id, entity_type, name,
    /// status and the template metadata.
    pub json_schema: Json<Value>,
    /// The fields that hold ids of other entities.
    pub references: Vec<ReferenceField>,
    /// The `template_version` new entities get.
    pub version: String,
    /// Where the schema came from.
    pub source: TemplateSource,
}

/// A field holding ids of other entities.
#[derive(SimpleObject)]
pub struct ReferenceField {
    /// Where the ids are: `leader`, `members[]`, `family[].character_id`.
    pub path: String,
    /// The relationship kind references found here get: `family.character_id`.
    pub kind: String,
    /// The types the ids may name.
    pub target_types: Vec<EntityType>,
    /// Holds a list of ids rather than one.
    pub many: bool,
}

impl EntitySchema {
    fn of(template: &TypeTemplate) -> Self {
        Self {
            entity_type: template.entity_type,
            json_schema: Json(template.json_schema.clone()),
            references: template
                .references
                .iter()
                .map(|spec| ReferenceField {
                    path: spec.display_path(),
                    kind: spec.kind(),
                    target_types: spec.targets.clone(),
                    many: spec.many(),
                })
                .collect(),
            version: template.version.clone(),
            source: template.schema_source,
        }
    }
}

/// A markdown template with YAML frontmatter that a writer starts from.
#[derive(SimpleObject)]
pub struct EntityTemplate {
    /// The path under the package's `templates/`, without `.md`: `Standard/CHARACTER_TEMPLATE`.
    pub name: String,
    /// The entity type it is a template of; null for templates of no one type.
    pub entity_type: Option<EntityType>,
    /// `entity`, `core`, `document`... as its frontmatter says.
    pub category: Option<String>,
    /// Its `template_version`, as its frontmatter says.
    pub version: Option<String>,
    /// The whole file.
    pub content: String,
    /// The frontmatter as JSON (null when it has none).
    pub frontmatter: Json<Value>,
    /// Where the template came from.
    pub source: TemplateSource,
}

impl From<&MarkdownTemplate> for EntityTemplate {
    fn from(template: &MarkdownTemplate) -> Self {
        Self {
            name: template.name.clone(),
            entity_type: template.entity_type,
            category: template.category.clone(),
            version: template.version.clone(),
            content: template.content.clone(),
            frontmatter: Json(template.frontmatter.clone()),
            source: template.source,
        }
    }
}

#[derive(Default)]
pub struct TemplateQuery;

#[Object]
impl TemplateQuery {
    /// The sixteen entity types.
    async fn entity_types(&self) -> Vec<EntityTypeInfo> {
        EntityType::ALL.into_iter().map(EntityTypeInfo).collect()
    }

    /// A type's JSON Schema and reference map (the viewer's tenant's own where it has one).
    async fn entity_schema(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity type.")] r#type: EntityType,
    ) -> AppResult<EntitySchema> {
        Ok(EntitySchema::of(in_force(ctx).await?.type_template(r#type)))
    }

    /// Every markdown template, by name; optionally only one type's.
    async fn templates(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the templates of this entity type.")] entity_type: Option<
            EntityType,
        >,
    ) -> AppResult<Vec<EntityTemplate>> {
        Ok(in_force(ctx)
            .await?
            .templates()
            .iter()
            .filter(|t| entity_type.is_none() || t.entity_type == entity_type)
            .map(|template| EntityTemplate::from(&**template))
            .collect())
    }

    /// One markdown template by name (`Standard/CHARACTER_TEMPLATE`); null when there is none.
    async fn template(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The template's name: its path under `templates/`, without `.md`.")]
        name: String,
    ) -> AppResult<Option<EntityTemplate>> {
        Ok(in_force(ctx)
            .await?
            .template(&name)
            .map(EntityTemplate::from))
    }
}

/// What a reload of the template package read.
#[derive(SimpleObject)]
pub struct TemplatesReload {
    /// Entity types whose JSON Schema now comes from the package (the rest are built in).
    pub package_schemas: i32,
    /// Entity types whose form layout now comes from the package.
    pub package_layouts: i32,
    /// Markdown templates now in force.
    pub templates: i32,
}

#[derive(Default)]
pub struct TemplateMutation;

#[Object]
impl TemplateMutation {
    /// Reads the template package of `LOREGRAPH_TEMPLATES_DIR` again (SUPERUSER: the package
    /// is the server's). A package that does not read changes nothing and is named
    /// (BAD_USER_INPUT). Entities are not judged again by themselves: run `validateEntities`.
    async fn reload_templates(&self, ctx: &Context<'_>) -> AppResult<TemplatesReload> {
        ctx.viewer()?.require_role(crate::auth::Role::Superuser)?;
        let catalog = ctx.part::<Arc<TemplateBook>>()?.reload().await?;
        let from_package = |source: fn(&TypeTemplate) -> TemplateSource| {
            EntityType::ALL
                .iter()
                .filter(|t| source(catalog.type_template(**t)) == TemplateSource::Package)
                .count() as i32
        };
        Ok(TemplatesReload {
            package_schemas: from_package(|t| t.schema_source),
            package_layouts: from_package(|t| t.layout_source),
            templates: catalog.templates().len() as i32,
        })
    }
}
