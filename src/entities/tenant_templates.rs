//! A tenant's own templates of its entity types (WORLDBUILDER changes them): the markdown
//! template (frontmatter key order, `template_version`, AI `generation_instructions`, entity
//! selectors) and the JSON Schema its entities are validated against, each standing in for the
//! package's. Every change is a new version; the newest is in force on this node at once and on
//! the others as soon as the change's event reaches them (each forgets what it kept; lost events
//! make them forget everything). A change that can alter verdicts re-validates the type's
//! entities in the background, and its version keeps the counts; a change that changes nothing
//! is refused.

use std::sync::Arc;

use diesel_async::AsyncPgConnection;
use serde_json::Value;

use super::revalidation::{self, ValidationReport};
use super::store::templates::{self as store, NewVersion, TemplateRow};
use super::templates::{TemplateBook, TemplateCatalog, TemplateSource};
use super::types::EntityType;
use super::validation::json_depth;
use crate::auth::{Role, Viewer};
use crate::context::Platform;
use crate::error::{AppError, AppResult};
use crate::events::{EventPayload, TemplateChange};
use crate::markdown::{file, yaml};

/// Largest markdown template and largest schema (as JSON text).
const MAX_CONTENT_BYTES: usize = 256 * 1024;
const MAX_SCHEMA_BYTES: usize = 256 * 1024;
/// Deepest nesting of a schema's lists and objects.
const MAX_SCHEMA_DEPTH: usize = 32;
/// Most regular expressions (`pattern`s and `patternProperties` keys) in a schema: each one is
/// compiled and kept for as long as the tenant's templates are.
const MAX_SCHEMA_PATTERNS: usize = 100;
/// Longest AI instructions, in characters.
const MAX_INSTRUCTIONS_CHARS: usize = 16 * 1024;
/// Versions a history lists, and versions kept of each type.
pub const MAX_HISTORY: i64 = 20;
const KEPT_VERSIONS: i32 = 50;
/// The frontmatter key holding a template's AI instructions.
const INSTRUCTIONS_KEY: &str = "generation_instructions";
/// A re-validation not moved on for this long was interrupted (its node stopped).
const STALE_AFTER_SECS: i64 = 5 * 60;

/// What a change does to one part of the tenant's template.
pub enum Part<T> {
    /// Left as it is.
    Keep,
    /// The package's back in force.
    Package,
    /// The tenant's own.
    Set(T),
}

/// A version's re-validation as a reader should see it: a run whose node stopped reads as
/// failed.
pub fn revalidation_state(row: &TemplateRow) -> (&str, Option<&str>) {
    let stale = row.revalidated_at.unwrap_or(row.created_at);
    let quiet = (chrono::Utc::now() - stale).num_seconds() >= STALE_AFTER_SECS;
    match row.revalidation.as_str() {
        "pending" | "running" if quiet => (
            "failed",
            Some("the re-validation was interrupted; run validateEntities"),
        ),
        state => (state, row.revalidation_error.as_deref()),
    }
}

/// The AI instructions of a type's template in force, and where the template came from.
pub fn instructions(
    templates: &TemplateCatalog,
    entity_type: EntityType,
) -> (Option<String>, TemplateSource) {
    let name = &templates.type_template(entity_type).main_template;
    match templates.template(name) {
        Some(template) => (
            template
                .frontmatter
                .get(INSTRUCTIONS_KEY)
                .and_then(Value::as_str)
                .map(str::to_owned),
            template.source,
        ),
        None => (None, TemplateSource::Builtin),
    }
}

/// A type's versions, newest first (any member).
pub async fn versions(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    entity_type: EntityType,
) -> AppResult<Vec<TemplateRow>> {
    store::template_versions(conn, viewer.tenant_id, entity_type.slug(), MAX_HISTORY).await
}

/// Changes the tenant's template of a type: its markdown template, its schema, or both
/// (WORLDBUILDER). The type's entities are re-validated in the background.
pub async fn update(
    platform: &Platform,
    book: &Arc<TemplateBook>,
    viewer: &Viewer,
    entity_type: EntityType,
    content: Part<String>,
    schema: Part<Value>,
    expected_version: Option<i32>,
) -> AppResult<TemplateRow> {
    viewer.require_role(Role::Worldbuilder)?;
    if let Part::Set(content) = &content {
        check_content_size(content)?;
    }
    if let Part::Set(schema) = &schema {
        check_schema_shape(schema)?;
    }
    let mut conn = platform.pool.get().await?;
    let current = newest(&mut conn, viewer, entity_type, expected_version).await?;
    let content = match content {
        Part::Keep => current.as_ref().and_then(|row| row.content.clone()),
        Part::Package => None,
        Part::Set(content) => Some(content),
    };
    let schema = match schema {
        Part::Keep => current.as_ref().and_then(|row| row.json_schema.clone()),
        Part::Package => None,
        Part::Set(schema) => Some(schema),
    };
    let checked = checked(book, entity_type, current.as_ref(), content, schema).await?;
    let (content, schema) = (checked.content, checked.schema);
    let change = if content.is_none() && schema.is_none() {
        "reset"
    } else {
        "template"
    };
    let written = append(
        &mut conn,
        viewer,
        entity_type,
        current.as_ref(),
        content.as_deref(),
        schema.as_ref(),
        (change, checked.alters_verdicts),
    )
    .await?;
    drop(conn);
    announce(platform, book, viewer, &written).await;
    if written.revalidation == "pending" {
        start_revalidation(platform, book, viewer, entity_type, written.version);
    }
    Ok(written)
}

/// Sets (or, with None, removes) the AI instructions of the tenant's template of a type: the
/// `generation_instructions` of its frontmatter, in a copy of the package's template when the
/// tenant has none (WORLDBUILDER). Verdicts cannot change, so nothing is re-validated.
pub async fn set_instructions(
    platform: &Platform,
    book: &Arc<TemplateBook>,
    viewer: &Viewer,
    entity_type: EntityType,
    instructions: Option<String>,
    expected_version: Option<i32>,
) -> AppResult<TemplateRow> {
    viewer.require_role(Role::Worldbuilder)?;
    if let Some(text) = &instructions
        && text.chars().count() > MAX_INSTRUCTIONS_CHARS
    {
        return Err(AppError::bad_field(
            "instructions",
            format!("instructions have at most {MAX_INSTRUCTIONS_CHARS} characters"),
        ));
    }
    let mut conn = platform.pool.get().await?;
    let current = newest(&mut conn, viewer, entity_type, expected_version).await?;
    let base = match current.as_ref().and_then(|row| row.content.clone()) {
        Some(content) => content,
        None => {
            let package = book.current();
            let name = &package.type_template(entity_type).main_template;
            package
                .template(name)
                .map(|template| template.content.clone())
                .ok_or_else(|| AppError::not_found("the type has no markdown template"))?
        }
    };
    let content = with_instructions(&base, instructions)?;
    check_content_size(&content)?;
    let schema = current.as_ref().and_then(|row| row.json_schema.clone());
    let written = append(
        &mut conn,
        viewer,
        entity_type,
        current.as_ref(),
        Some(&content),
        schema.as_ref(),
        ("instructions", false),
    )
    .await?;
    drop(conn);
    announce(platform, book, viewer, &written).await;
    Ok(written)
}

/// The newest version of a type, refusing a change made on an older one.
async fn newest(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    entity_type: EntityType,
    expected_version: Option<i32>,
) -> AppResult<Option<TemplateRow>> {
    let current = store::template_versions(conn, viewer.tenant_id, entity_type.slug(), 1)
        .await?
        .into_iter()
        .next();
    let version = current.as_ref().map_or(0, |row| row.version);
    if let Some(expected) = expected_version
        && expected != version
    {
        return Err(AppError::conflict(format!(
            "the {} template is at version {version}, not {expected}: reload and try again",
            entity_type.slug()
        )));
    }
    Ok(current)
}

/// Writes the version after `current` (`change` says what it changed, and whether that can
/// alter verdicts); a change that changes nothing is refused.
async fn append(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    entity_type: EntityType,
    current: Option<&TemplateRow>,
    content: Option<&str>,
    json_schema: Option<&Value>,
    (change, alters_verdicts): (&str, bool),
) -> AppResult<TemplateRow> {
    if current.and_then(|row| row.content.as_deref()) == content
        && current.and_then(|row| row.json_schema.as_ref()) == json_schema
    {
        return Err(AppError::bad_input(format!(
            "that is the {} template in force already: nothing changed",
            entity_type.slug()
        )));
    }
    let written = store::append_template(
        conn,
        NewVersion {
            tenant_id: viewer.tenant_id,
            entity_type: entity_type.slug(),
            version: current.map_or(0, |row| row.version) + 1,
            content,
            json_schema,
            change,
            created_by: viewer.user_id,
            revalidate: alters_verdicts,
        },
    )
    .await?
    .ok_or_else(|| {
        AppError::conflict(format!(
            "the {} template was changed meanwhile: reload and try again",
            entity_type.slug()
        ))
    })?;
    store::prune_versions(
        conn,
        viewer.tenant_id,
        entity_type.slug(),
        written.version,
        KEPT_VERSIONS,
    )
    .await?;
    Ok(written)
}

fn check_content_size(content: &str) -> AppResult<()> {
    if content.len() > MAX_CONTENT_BYTES {
        return Err(AppError::bad_field(
            "content",
            format!("a template is at most {} KiB", MAX_CONTENT_BYTES / 1024),
        ));
    }
    Ok(())
}

fn check_schema_shape(schema: &Value) -> AppResult<()> {
    let bad = |message: String| Err(AppError::bad_field("schema", message));
    if !schema.is_object() {
        return bad("a schema is a JSON object".to_owned());
    }
    if json_depth(schema) > MAX_SCHEMA_DEPTH {
        return bad(format!("a schema nests at most {MAX_SCHEMA_DEPTH} levels"));
    }
    if serde_json::to_vec(schema).map_or(usize::MAX, |text| text.len()) > MAX_SCHEMA_BYTES {
        return bad(format!(
            "a schema is at most {} KiB",
            MAX_SCHEMA_BYTES / 1024
        ));
    }
    if patterns(schema) > MAX_SCHEMA_PATTERNS {
        return bad(format!(
            "a schema holds at most {MAX_SCHEMA_PATTERNS} regular expressions"
        ));
    }
    Ok(())
}

/// How many regular expressions a schema holds (depth is checked before).
fn patterns(value: &Value) -> usize {
    match value {
        Value::Object(map) => map
            .iter()
            .map(|(key, value)| {
                let own = match (key.as_str(), value) {
                    ("pattern", Value::String(_)) => 1,
                    ("patternProperties", Value::Object(keys)) => keys.len(),
                    _ => 0,
                };
                own + patterns(value)
            })
            .sum(),
        Value::Array(items) => items.iter().map(patterns).sum(),
        _ => 0,
    }
}

/// A change's parts, checked.
struct Checked {
    content: Option<String>,
    schema: Option<Value>,
    /// Whether the type's entities could be judged otherwise now.
    alters_verdicts: bool,
}

/// The markdown template read (its frontmatter must parse and, when it names a type, name this
/// one) and the schema compiled as the tenant's entities will meet it, off the async workers;
/// and whether the change touches what verdicts depend on: the schema, or the template's
/// version, category or entity selectors.
async fn checked(
    book: &TemplateBook,
    entity_type: EntityType,
    current: Option<&TemplateRow>,
    content: Option<String>,
    schema: Option<Value>,
) -> AppResult<Checked> {
    let package = book.current();
    let before_content = current.and_then(|row| row.content.clone());
    let schema_changed = current.and_then(|row| row.json_schema.as_ref()) != schema.as_ref();
    tokio::task::spawn_blocking(move || {
        if let Some(content) = &content {
            let read = file::read(content).map_err(|error| {
                AppError::bad_field("content", format!("the template does not read: {error}"))
            })?;
            let named = read
                .frontmatter
                .iter()
                .find(|(key, _)| key == "entity_type")
                .and_then(|(_, value)| value.as_str().map(str::to_owned));
            if let Some(named) = named
                && named != entity_type.slug()
            {
                return Err(AppError::bad_field(
                    "content",
                    format!(
                        "the template's entity_type is {named}, not {}",
                        entity_type.slug()
                    ),
                ));
            }
        }
        if let Some(schema) = &schema {
            package.compile_tenant_schema(schema).map_err(|error| {
                AppError::bad_field("schema", format!("the schema does not compile: {error:#}"))
            })?;
        }
        let alters_verdicts = schema_changed
            || verdict_inputs(&package, entity_type, before_content.as_deref())
                != verdict_inputs(&package, entity_type, content.as_deref());
        Ok(Checked {
            content,
            schema,
            alters_verdicts,
        })
    })
    .await
    .map_err(AppError::internal)?
}

/// What of a type's markdown template (the tenant's, or else the package's) a verdict depends
/// on: the `template_version` and `template_category` the schema sees, and the `field_config`
/// entity selectors that add reference fields.
fn verdict_inputs(
    package: &TemplateCatalog,
    entity_type: EntityType,
    content: Option<&str>,
) -> [Value; 3] {
    let template = package.type_template(entity_type);
    let frontmatter = match content {
        Some(content) => file::read(content)
            .map(|read| yaml::Node::Map(read.frontmatter).to_json())
            .unwrap_or(Value::Null),
        None => package
            .template(&template.main_template)
            .map_or(Value::Null, |markdown| markdown.frontmatter.clone()),
    };
    let own = |key: &str, package_value: &str| {
        frontmatter
            .get(key)
            .cloned()
            .unwrap_or_else(|| Value::from(package_value))
    };
    [
        own("template_version", &template.version),
        own("template_category", &template.category),
        frontmatter
            .get("field_config")
            .cloned()
            .unwrap_or(Value::Null),
    ]
}

/// A template's text with its AI instructions set or removed (the frontmatter rewritten in
/// normal form; the body kept).
fn with_instructions(content: &str, instructions: Option<String>) -> AppResult<String> {
    let mut read = file::read(content).map_err(|error| {
        AppError::bad_input(format!("the template in force does not read: {error}"))
    })?;
    let at = read
        .frontmatter
        .iter()
        .position(|(key, _)| key == INSTRUCTIONS_KEY);
    match (instructions, at) {
        (Some(text), Some(at)) => read.frontmatter[at].1 = yaml::Node::String(text),
        (Some(text), None) => read
            .frontmatter
            .push((INSTRUCTIONS_KEY.to_owned(), yaml::Node::String(text))),
        (None, Some(at)) => {
            read.frontmatter.remove(at);
        }
        (None, None) => {}
    }
    Ok(file::write(&read.frontmatter, &read.body))
}

/// This node forgets the tenant's templates now; the event tells the other nodes (and the
/// tenant's subscribers).
async fn announce(platform: &Platform, book: &TemplateBook, viewer: &Viewer, row: &TemplateRow) {
    book.forget_tenant(viewer.tenant_id).await;
    let state = (row.revalidation.as_str(), (0, 0, 0));
    publish(platform, viewer, &row.entity_type, row.version, state);
}

/// Tells every node and the tenant's subscribers where a version's re-validation stands.
fn publish(
    platform: &Platform,
    viewer: &Viewer,
    entity_type: &str,
    version: i32,
    (state, (checked, valid, invalid)): (&str, (i32, i32, i32)),
) {
    platform.events.publish(
        viewer.tenant_id,
        Some(viewer.user_id),
        EventPayload::TemplateChanged(TemplateChange {
            entity_type: entity_type.to_owned(),
            version,
            revalidation: state.to_owned(),
            checked,
            valid,
            invalid,
        }),
    );
}

/// Re-validates the type's entities in the background when the version asks for it, keeping
/// the counts on the version as it goes; a newer version of the type stops it (`superseded`:
/// the newer one checks them all again).
fn start_revalidation(
    platform: &Platform,
    book: &Arc<TemplateBook>,
    viewer: &Viewer,
    entity_type: EntityType,
    version: i32,
) {
    let (platform, book, viewer) = (platform.clone(), book.clone(), viewer.clone());
    tokio::spawn(async move {
        let tenant_id = viewer.tenant_id;
        let mut report = ValidationReport::default();
        let outcome = revalidate(
            &platform,
            &book,
            tenant_id,
            entity_type,
            version,
            &mut report,
        )
        .await;
        let (state, error) = match &outcome {
            Ok(true) => ("done", None),
            Ok(false) => ("superseded", None),
            Err(error) => {
                tracing::warn!(%tenant_id, entity_type = entity_type.slug(), version, error = ?error, "a template's re-validation failed");
                ("failed", Some(error.message()))
            }
        };
        let recorded = async {
            let mut conn = platform.pool.get().await?;
            store::record_revalidation(
                &mut conn,
                tenant_id,
                entity_type.slug(),
                version,
                state,
                counts(&report),
                error.as_deref(),
            )
            .await
        };
        if let Err(error) = recorded.await {
            tracing::error!(%tenant_id, version, error = ?error, "a template's re-validation end was not recorded");
        }
        let end = (state, counts(&report));
        publish(&platform, &viewer, entity_type.slug(), version, end);
    });
}

async fn revalidate(
    platform: &Platform,
    book: &TemplateBook,
    tenant_id: uuid::Uuid,
    entity_type: EntityType,
    version: i32,
    report: &mut ValidationReport,
) -> AppResult<bool> {
    let mut conn = platform.pool.get().await?;
    // Judged by the templates the database holds now (never a catalog a node kept).
    let templates = book.read_for_tenant(&mut conn, tenant_id).await?;
    let slug = entity_type.slug();
    let mut after = Some(uuid::Uuid::nil());
    while let Some(from) = after {
        // A newer change that can alter verdicts checks them all again; new AI instructions
        // do not stop this one.
        if store::newest_revalidating_version(&mut conn, tenant_id, slug).await? != version {
            return Ok(false);
        }
        // Heard of before each batch, so a run waiting on a batch's locks does not read as
        // interrupted.
        store::record_revalidation(
            &mut conn,
            tenant_id,
            slug,
            version,
            "running",
            counts(report),
            None,
        )
        .await?;
        after = revalidation::validate_batch(
            &templates,
            &mut conn,
            tenant_id,
            entity_type,
            from,
            report,
        )
        .await?;
    }
    Ok(true)
}

fn counts(report: &ValidationReport) -> (i32, i32, i32) {
    let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    (
        count(report.checked),
        count(report.valid),
        count(report.invalid),
    )
}
