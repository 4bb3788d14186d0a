//! Reading a StudioBrain-style template package from disk:
//! `schemas/<type>.json` (JSON Schema 2020-12, `_*.json` shared by `$ref`),
//! `templates/**/*.md` (markdown with YAML frontmatter, whose `field_config` marks entity
//! selectors) and `templates/Layouts/<type>.layout.json`.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde_json::Value;

use super::catalog::{MarkdownTemplate, TemplateSource};
use crate::entities::references::{PathStep, ReferenceSpec};
use crate::entities::types::EntityType;

#[derive(Default)]
pub struct Package {
    pub schemas: Vec<(EntityType, Value)>,
    /// Schemas others `$ref` (`_base.json`), by the URI they are known under.
    pub shared_schemas: Vec<(String, Value)>,
    pub layouts: Vec<(EntityType, Value)>,
    pub references: Vec<(EntityType, Vec<ReferenceSpec>)>,
    pub templates: Vec<MarkdownTemplate>,
}

pub fn read(dir: &Path) -> anyhow::Result<Package> {
    anyhow::ensure!(
        dir.is_dir(),
        "the templates directory {} does not exist",
        dir.display()
    );
    let mut package = Package::default();
    read_schemas(&dir.join("schemas"), &mut package)?;
    read_layouts(&dir.join("templates").join("Layouts"), &mut package)?;
    let templates_dir = dir.join("templates");
    let mut files = Vec::new();
    if templates_dir.is_dir() {
        markdown_files(&templates_dir, &mut files)?;
    }
    files.sort();
    for file in files {
        let template = read_template(&templates_dir, &file)?;
        if let Some(entity_type) = template.entity_type {
            let specs = field_config_references(&template.frontmatter);
            if !specs.is_empty() {
                match package
                    .references
                    .iter_mut()
                    .find(|(t, _)| *t == entity_type)
                {
                    Some((_, existing)) => {
                        for spec in specs {
                            if !existing.iter().any(|e| e.field() == spec.field()) {
                                existing.push(spec);
                            }
                        }
                    }
                    None => package.references.push((entity_type, specs)),
                }
            }
        }
        package.templates.push(template);
    }
    Ok(package)
}

fn read_json(path: &Path) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))
}

fn sorted_entries(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .collect();
    paths.sort();
    Ok(paths)
}

fn read_schemas(dir: &Path, package: &mut Package) -> anyhow::Result<()> {
    for path in sorted_entries(dir)? {
        let Some(stem) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".json"))
        else {
            continue;
        };
        let schema = read_json(&path)?;
        if stem.starts_with('_') {
            let uri = schema.get("$id").and_then(Value::as_str).map_or_else(
                || format!("urn:loregraph:package:{stem}.json"),
                str::to_owned,
            );
            package.shared_schemas.push((uri, schema));
        } else if let Some(entity_type) = EntityType::from_slug(stem) {
            package.schemas.push((entity_type, schema));
        } else {
            tracing::warn!(file = %path.display(), "schema for an unknown entity type ignored");
        }
    }
    Ok(())
}

fn read_layouts(dir: &Path, package: &mut Package) -> anyhow::Result<()> {
    for path in sorted_entries(dir)? {
        let Some(stem) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".layout.json"))
        else {
            continue;
        };
        if let Some(entity_type) = EntityType::from_slug(stem) {
            package.layouts.push((entity_type, read_json(&path)?));
        }
    }
    Ok(())
}

fn markdown_files(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for path in sorted_entries(dir)? {
        if path.is_dir() {
            markdown_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "md")
            && path.file_name().is_some_and(|n| n != "README.md")
        {
            out.push(path);
        }
    }
    Ok(())
}

fn read_template(root: &Path, path: &Path) -> anyhow::Result<MarkdownTemplate> {
    let content =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let relative = path.strip_prefix(root).unwrap_or(path);
    let name = relative
        .with_extension("")
        .to_string_lossy()
        .replace('\\', "/");
    Ok(markdown_template(name, content, TemplateSource::Package))
}

/// A markdown template read from its text: its type, category and version as its frontmatter
/// says (none of them when the frontmatter does not parse).
pub(super) fn markdown_template(
    name: String,
    content: String,
    source: TemplateSource,
) -> MarkdownTemplate {
    let frontmatter = match crate::markdown::file::read(&content) {
        Ok(file) => crate::markdown::yaml::Node::Map(file.frontmatter).to_json(),
        Err(error) => {
            tracing::warn!(template = %name, %error, "template frontmatter does not parse");
            Value::Null
        }
    };
    let text = |key: &str| {
        frontmatter
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    MarkdownTemplate {
        entity_type: text("entity_type")
            .as_deref()
            .and_then(EntityType::from_slug),
        category: text("template_category"),
        version: text("template_version"),
        name,
        content,
        frontmatter,
        source,
    }
}

/// Entity selectors in a template's `field_config`: `max_selections: 1` holds one id; more
/// hold a list, of objects `{<type>_id, relationship}` when the selector offers relationship types.
pub(super) fn field_config_references(frontmatter: &Value) -> Vec<ReferenceSpec> {
    let Some(config) = frontmatter.get("field_config").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut specs = Vec::new();
    for (field, entry) in config {
        if entry.get("widget").and_then(Value::as_str) != Some("entity-selector") {
            continue;
        }
        let targets: Vec<EntityType> = match entry.get("reference_type") {
            Some(Value::String(slug)) => EntityType::from_slug(slug).into_iter().collect(),
            Some(Value::Array(slugs)) => slugs
                .iter()
                .filter_map(Value::as_str)
                .filter_map(EntityType::from_slug)
                .collect(),
            _ => Vec::new(),
        };
        let Some(first) = targets.first().copied() else {
            continue;
        };
        let single = entry.get("max_selections").and_then(Value::as_u64) == Some(1);
        let mut path = vec![PathStep::Key(field.clone())];
        if !single {
            path.push(PathStep::Each);
            if entry.get("relationship_types").is_some() {
                path.push(PathStep::Key(format!("{}_id", first.slug())));
            }
        }
        specs.push(ReferenceSpec::new(path, targets));
    }
    specs
}
