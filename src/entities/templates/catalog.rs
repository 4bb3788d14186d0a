//! The templates in force: loregraph's built-in ones, overridden type by type by a template
//! package loaded from `LOREGRAPH_TEMPLATES_DIR`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, LazyLock};

use serde_json::Value;

use super::{builtin, generate, package};
use crate::entities::references::ReferenceSpec;
use crate::entities::types::EntityType;

/// Where a template came from.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum TemplateSource {
    /// loregraph's own.
    Builtin,
    /// The package in `LOREGRAPH_TEMPLATES_DIR`.
    Package,
    /// The viewer's tenant's own (a layout it changed).
    Tenant,
}

/// Everything known about one entity type's template.
#[derive(Clone)]
pub struct TypeTemplate {
    pub entity_type: EntityType,
    pub description: String,
    /// The package's `template_version` for new entities of this type.
    pub version: String,
    /// `entity`, `document` or `core`.
    pub category: String,
    pub json_schema: Value,
    pub schema_source: TemplateSource,
    validator: jsonschema::Validator,
    pub references: Vec<ReferenceSpec>,
    pub layout: Value,
    pub layout_source: TemplateSource,
    /// The frontmatter keys of the type's markdown template, in its order: the order an
    /// entity's file is written in.
    pub key_order: Vec<String>,
    /// The name of that markdown template (`Standard/CHARACTER_TEMPLATE`): the one a tenant's
    /// own template of the type stands in for.
    pub main_template: String,
}

/// Errors listed per entity are capped: past this many, one more line says how many were cut.
const MAX_SCHEMA_ERRORS: usize = 50;

impl TypeTemplate {
    /// What the frontmatter breaks in the type's JSON Schema, one readable line each, naming the
    /// field (`age: "x" is not of type "integer"`).
    pub fn schema_errors(&self, frontmatter: &Value) -> Vec<String> {
        let mut errors: Vec<String> = Vec::new();
        let mut extra = 0usize;
        for error in self.validator.iter_errors(frontmatter) {
            if errors.len() == MAX_SCHEMA_ERRORS {
                extra += 1;
                continue;
            }
            let path = field_path(error.instance_path().as_str());
            let message = error.to_string();
            let line = if path.is_empty() {
                message
            } else {
                format!("{path}: {message}")
            };
            if !errors.contains(&line) {
                errors.push(line);
            }
        }
        if extra > 0 {
            errors.push(format!("... and {extra} more schema errors"));
        }
        errors
    }
}

/// `/family/0/character_id` → `family[0].character_id`.
fn field_path(pointer: &str) -> String {
    let mut out = String::new();
    for part in pointer.split('/').filter(|p| !p.is_empty()) {
        let part = part.replace("~1", "/").replace("~0", "~");
        if part.parse::<usize>().is_ok() {
            out.push_str(&format!("[{part}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&part);
        }
    }
    out
}

/// A markdown template a writer starts an entity or document from.
#[derive(Clone, Debug)]
pub struct MarkdownTemplate {
    /// The path under `templates/` without `.md`: `Standard/CHARACTER_TEMPLATE`.
    pub name: String,
    pub entity_type: Option<EntityType>,
    /// `entity`, `core`, `document`, `system`... from the frontmatter.
    pub category: Option<String>,
    pub version: Option<String>,
    pub content: String,
    /// The frontmatter as JSON (null when the file has none, or it does not parse).
    pub frontmatter: Value,
    pub source: TemplateSource,
}

/// Cloned cheaply: a tenant's catalog shares every part it does not change with the package's.
#[derive(Clone)]
pub struct TemplateCatalog {
    types: HashMap<EntityType, Arc<TypeTemplate>>,
    templates: Vec<Arc<MarkdownTemplate>>,
    /// The package's shared schemas (`_base.json`...) a type's schema may `$ref`.
    shared_schemas: Arc<Vec<(String, Value)>>,
    pub package_dir: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for TemplateCatalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TemplateCatalog")
            .field("package_dir", &self.package_dir)
            .field("templates", &self.templates.len())
            .finish()
    }
}

static BUILTIN_CATALOG: LazyLock<Arc<TemplateCatalog>> = LazyLock::new(|| {
    Arc::new(TemplateCatalog::builtin_only().expect("the built-in templates compile"))
});

impl TemplateCatalog {
    /// loregraph's own templates (shared: they are the same for every server in the process).
    pub fn builtin() -> Arc<Self> {
        BUILTIN_CATALOG.clone()
    }

    fn builtin_only() -> anyhow::Result<Self> {
        let mut types = HashMap::new();
        let mut templates = Vec::new();
        for template in &builtin::BUILTIN {
            let entity_type = template.entity_type;
            let json_schema = generate::json_schema(template);
            let validator = compile(&json_schema, &[], Patterns::Package)?;
            let markdown = generate::markdown(template);
            types.insert(
                entity_type,
                Arc::new(TypeTemplate {
                    entity_type,
                    description: template.description.to_owned(),
                    version: generate::BUILTIN_VERSION.to_owned(),
                    category: template.category.to_owned(),
                    json_schema,
                    schema_source: TemplateSource::Builtin,
                    validator,
                    references: generate::references(template),
                    layout: generate::layout(template),
                    layout_source: TemplateSource::Builtin,
                    key_order: frontmatter_keys(&markdown),
                    main_template: builtin_template_name(entity_type),
                }),
            );
            templates.push(Arc::new(MarkdownTemplate {
                name: builtin_template_name(entity_type),
                entity_type: Some(entity_type),
                category: Some(template.category.to_owned()),
                version: Some(generate::BUILTIN_VERSION.to_owned()),
                content: markdown,
                frontmatter: Value::Null,
                source: TemplateSource::Builtin,
            }));
        }
        templates.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Self {
            types,
            templates,
            shared_schemas: Arc::default(),
            package_dir: None,
        })
    }

    /// The built-in templates with a StudioBrain-style package laid over them: its schemas,
    /// layouts and markdown templates win where it has them; its `field_config` entity
    /// selectors add to (and per field replace) the built-in reference map.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let mut catalog = Self::builtin_only()?;
        let loaded = package::read(dir)?;
        catalog.shared_schemas = Arc::new(loaded.shared_schemas);
        for (entity_type, schema) in loaded.schemas {
            let validator = compile(&schema, &catalog.shared_schemas, Patterns::Package)
                .map_err(|e| anyhow::anyhow!("schemas/{}.json: {e:#}", entity_type.slug()))?;
            catalog.set_schema(entity_type, schema, validator, TemplateSource::Package);
        }
        for (entity_type, layout) in loaded.layouts {
            let template = catalog.type_template_mut(entity_type);
            template.layout = layout;
            template.layout_source = TemplateSource::Package;
        }
        for (entity_type, specs) in loaded.references {
            catalog.add_references(entity_type, specs);
        }
        for markdown in loaded.templates {
            if let Some(entity_type) = markdown.entity_type
                && markdown.category.as_deref() != Some("core")
                && markdown.version.is_some()
            {
                catalog.set_main_template(entity_type, &markdown);
            }
            catalog.put_template(markdown);
        }
        catalog.package_dir = Some(dir.to_path_buf());
        Ok(catalog)
    }

    /// A type's JSON Schema replaced (its description taken from it when it has one).
    pub(super) fn set_schema(
        &mut self,
        entity_type: EntityType,
        schema: Value,
        validator: jsonschema::Validator,
        source: TemplateSource,
    ) {
        let template = self.type_template_mut(entity_type);
        template.validator = validator;
        if let Some(description) = schema.get("description").and_then(Value::as_str) {
            template.description = description.to_owned();
        }
        template.json_schema = schema;
        template.schema_source = source;
    }

    /// The markdown template entities of a type are written after: its version, frontmatter
    /// key order and category.
    pub(super) fn set_main_template(
        &mut self,
        entity_type: EntityType,
        markdown: &MarkdownTemplate,
    ) {
        let template = self.type_template_mut(entity_type);
        if let Some(version) = &markdown.version {
            template.version = version.clone();
        }
        let keys = frontmatter_keys(&markdown.content);
        if !keys.is_empty() {
            template.key_order = keys;
        }
        if let Some(category) = &markdown.category {
            template.category = category.clone();
        }
        template.main_template = markdown.name.clone();
    }

    /// A markdown template added, or put in place of the one of its name.
    pub(super) fn put_template(&mut self, markdown: MarkdownTemplate) {
        let markdown = Arc::new(markdown);
        match self
            .templates
            .binary_search_by(|t| t.name.cmp(&markdown.name))
        {
            Ok(at) => self.templates[at] = markdown,
            Err(at) => self.templates.insert(at, markdown),
        }
    }

    /// A type's reference map added to: the fields `specs` declare replace the ones of the same
    /// field, the rest stay.
    pub(super) fn add_references(&mut self, entity_type: EntityType, specs: Vec<ReferenceSpec>) {
        let template = self.type_template_mut(entity_type);
        let declared: Vec<String> = specs.iter().map(|s| s.field().to_owned()).collect();
        template
            .references
            .retain(|existing| !declared.iter().any(|field| field == existing.field()));
        template.references.extend(specs);
    }

    /// Compiles a schema a tenant gives for one of its types: offline, `$ref`s only to the
    /// package's shared schemas, patterns in the linear-time engine with a size cap (the schema
    /// runs on every write of the tenant's).
    pub fn compile_tenant_schema(&self, schema: &Value) -> anyhow::Result<jsonschema::Validator> {
        compile(schema, &self.shared_schemas, Patterns::Tenant)
    }

    fn type_template_mut(&mut self, entity_type: EntityType) -> &mut TypeTemplate {
        Arc::make_mut(
            self.types
                .get_mut(&entity_type)
                .expect("every entity type has a built-in template"),
        )
    }

    pub fn type_template(&self, entity_type: EntityType) -> &TypeTemplate {
        &self.types[&entity_type]
    }

    pub fn templates(&self) -> &[Arc<MarkdownTemplate>] {
        &self.templates
    }

    pub fn template(&self, name: &str) -> Option<&MarkdownTemplate> {
        let wanted = name.trim_end_matches(".md");
        self.templates
            .binary_search_by(|t| t.name.as_str().cmp(wanted))
            .ok()
            .map(|at| &*self.templates[at])
    }
}

/// A markdown template's frontmatter keys in order (none when it does not parse).
fn frontmatter_keys(content: &str) -> Vec<String> {
    crate::markdown::file::read(content)
        .map(|file| file.frontmatter.into_iter().map(|(key, _)| key).collect())
        .unwrap_or_default()
}

pub fn builtin_template_name(entity_type: EntityType) -> String {
    format!(
        "Standard/{}_TEMPLATE",
        entity_type.slug().to_ascii_uppercase()
    )
}

/// Whose patterns a schema holds: the server's package is trusted with look-around and
/// back-references; a tenant's schema gets the linear-time engine.
enum Patterns {
    Package,
    Tenant,
}

/// Largest compiled `pattern` of a tenant's schema (a schema holds at most 100: see
/// `entities::tenant_templates`).
const TENANT_PATTERN_BYTES: usize = 256 * 1024;

/// Compiles a schema without ever fetching anything: `$ref`s resolve only to the package's own
/// shared schemas (such as `_base.json`).
fn compile(
    schema: &Value,
    shared: &[(String, Value)],
    patterns: Patterns,
) -> anyhow::Result<jsonschema::Validator> {
    let mut registry = jsonschema::Registry::new();
    for (uri, document) in shared {
        registry = registry
            .add(uri.as_str(), document.clone())
            .map_err(|e| anyhow::anyhow!("{uri}: {e}"))?;
    }
    let registry = registry.prepare().map_err(|e| anyhow::anyhow!("{e}"))?;
    let options = jsonschema::options().offline().with_registry(&registry);
    let options = match patterns {
        Patterns::Package => options,
        Patterns::Tenant => options.with_pattern_options(
            jsonschema::PatternOptions::regex()
                .size_limit(TENANT_PATTERN_BYTES)
                .dfa_size_limit(TENANT_PATTERN_BYTES),
        ),
    };
    options.build(schema).map_err(|e| anyhow::anyhow!("{e}"))
}
