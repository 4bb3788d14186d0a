//! An entity as its markdown file: `<file_prefix><entity_id>.md`, the entity's own keys (id,
//! entity_type, name, status, dates), then its fields in its template's key order, then the
//! body. Read from real, messy files (README "Markdown files" lists what is inferred and what
//! is normalised) and written in that one form.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::report::FileProblem;
use crate::entities::service::{
    EntityContent, EntityStatus, EntityType, TypeTemplate, checked_content, entity_id_problem,
    suggest_entity_id, title_case,
};
use crate::markdown::file::{self, MarkdownFile};
use crate::markdown::yaml::{Mapping, Node};

/// The keys that are an entity's own columns, not fields.
pub const OWN_KEYS: [&str; 4] = ["id", "entity_type", "name", "status"];

/// The dates an export writes from the entity's timestamps when its fields have none.
const DATE_KEYS: [&str; 2] = ["created_date", "last_updated"];

/// An entity read from a file.
#[derive(Clone, Debug)]
pub struct EntityFile {
    pub entity_type: EntityType,
    pub content: EntityContent,
    /// What was inferred or normalised.
    pub warnings: Vec<String>,
}

/// The file name an entity is exported under.
pub fn file_name(entity_type: EntityType, entity_id: &str) -> String {
    format!("{}{entity_id}.md", entity_type.file_prefix())
}

/// The path of an entity's file in a project folder (`Characters/CH_rex.md`).
pub fn project_path(entity_type: EntityType, entity_id: &str) -> String {
    format!(
        "{}/{}",
        entity_type.folder_name(),
        file_name(entity_type, entity_id)
    )
}

/// The part of a file name before a `.md` extension (any case), if it has one.
fn without_md(name: &str) -> Option<&str> {
    let cut = name.len().checked_sub(3)?;
    name.get(cut..)
        .filter(|ext| ext.eq_ignore_ascii_case(".md"))
        .map(|_| &name[..cut])
}

/// The last segment of a path without its `.md`.
fn stem(path: &str) -> &str {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    without_md(name).unwrap_or(name)
}

/// Whether a path (in a project folder or an archive) names an entity file: markdown, not a
/// README, not in a hidden folder, a macOS resource fork or an editor's `~` file. A `..` is
/// not hidden: such a path is read, to be refused as leaving its folder.
pub fn is_entity_path(path: &str) -> bool {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    without_md(name).is_some_and(|stem| !stem.is_empty())
        && !name.eq_ignore_ascii_case("readme.md")
        && !path.split('/').any(|part| {
            (part.starts_with('.') && part != "..") || part.starts_with('~') || part == "__MACOSX"
        })
}

/// The type a file name's prefix names (`CH_rex` → character), and the rest of the name.
pub fn type_from_prefix(stem: &str) -> Option<(EntityType, &str)> {
    EntityType::ALL.into_iter().find_map(|entity_type| {
        let prefix = entity_type.file_prefix();
        let head = stem.get(..prefix.len())?;
        head.eq_ignore_ascii_case(prefix)
            .then(|| (entity_type, &stem[prefix.len()..]))
    })
}

fn type_names() -> String {
    EntityType::ALL.map(EntityType::slug).join(", ")
}

fn key<'a>(mapping: &'a Mapping, name: &str) -> Option<&'a Node> {
    mapping.iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// A scalar as text (numbers and booleans written as keys' values are still text to an id).
fn scalar_text(node: &Node) -> Option<String> {
    match node {
        Node::String(text) => Some(text.trim().to_owned()),
        Node::Number(number) => Some(number.to_string()),
        Node::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Reads the entity in a file at `path` (its name may give the type and the id).
pub fn read(path: &str, text: &str) -> Result<EntityFile, Vec<FileProblem>> {
    let parsed = file::read(text).map_err(|error| vec![FileProblem::from(error)])?;
    from_markdown(path, parsed)
}

/// The entity in a file already taken apart.
pub fn from_markdown(path: &str, parsed: MarkdownFile) -> Result<EntityFile, Vec<FileProblem>> {
    let MarkdownFile {
        frontmatter,
        body,
        normalised,
    } = parsed;
    let mut warnings: Vec<String> = normalised.into_iter().map(str::to_owned).collect();
    let mut problems = Vec::new();
    let stem = stem(path);
    let from_prefix = type_from_prefix(stem);

    let entity_type = match key(&frontmatter, "entity_type") {
        Some(node) => match scalar_text(node) {
            Some(text) => match EntityType::from_slug(&text.to_ascii_lowercase()) {
                Some(entity_type) => {
                    if let Some((named, _)) = from_prefix
                        && named != entity_type
                    {
                        warnings.push(format!(
                            "the file name's prefix says {} but `entity_type` says {}: the frontmatter wins",
                            named.slug(),
                            entity_type.slug()
                        ));
                    }
                    Some(entity_type)
                }
                None => {
                    problems.push(FileProblem::new(format!(
                        "`entity_type: {text}` is not an entity type (one of {})",
                        type_names()
                    )));
                    None
                }
            },
            None => {
                problems.push(FileProblem::new(format!(
                    "`entity_type` must be text, not {}",
                    node.kind()
                )));
                None
            }
        },
        None => match from_prefix {
            Some((entity_type, _)) => {
                warnings.push(format!(
                    "no `entity_type`: {} from the file name's prefix",
                    entity_type.slug()
                ));
                Some(entity_type)
            }
            None => {
                problems.push(FileProblem::new(format!(
                    "no `entity_type` key, and the file name `{stem}` has no known type prefix ({})",
                    EntityType::ALL.map(EntityType::file_prefix).join(", ")
                )));
                None
            }
        },
    };
    let Some(entity_type) = entity_type else {
        return Err(problems);
    };

    let named_id = from_prefix
        .filter(|(named, _)| *named == entity_type)
        .map(|(_, rest)| rest);
    let entity_id = read_id(
        entity_type,
        &frontmatter,
        named_id,
        &mut warnings,
        &mut problems,
    );
    let name = read_name(
        &frontmatter,
        &body,
        entity_id.as_deref(),
        &mut warnings,
        &mut problems,
    );
    let status = match key(&frontmatter, "status") {
        None | Some(Node::Null) => EntityStatus::default(),
        Some(node) => match scalar_text(node)
            .and_then(|text| EntityStatus::from_slug(&text.to_ascii_lowercase()))
        {
            Some(status) => status,
            None => {
                problems.push(FileProblem::new(format!(
                    "`status` must be one of {}, not {}",
                    EntityStatus::ALL.map(EntityStatus::slug).join(", "),
                    serde_json::to_string(&node.to_json()).unwrap_or_default()
                )));
                EntityStatus::default()
            }
        },
    };
    let fields: Map<String, Value> = frontmatter
        .iter()
        .filter(|(k, _)| !OWN_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.to_json()))
        .collect();
    let (Some(entity_id), Some(name)) = (entity_id, name) else {
        return Err(problems);
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    let content = checked_content(EntityContent {
        entity_id,
        name,
        status,
        fields: Value::Object(fields),
        markdown_body: body,
    })
    .map_err(|error| vec![FileProblem::new(error.message())])?;
    Ok(EntityFile {
        entity_type,
        content,
        warnings,
    })
}

fn read_id(
    entity_type: EntityType,
    frontmatter: &Mapping,
    named_id: Option<&str>,
    warnings: &mut Vec<String>,
    problems: &mut Vec<FileProblem>,
) -> Option<String> {
    let type_key = format!("{}_id", entity_type.slug());
    let given = [
        ("id", key(frontmatter, "id")),
        (type_key.as_str(), key(frontmatter, &type_key)),
    ]
    .into_iter()
    .find_map(|(name, node)| Some((name, scalar_text(node?)?)).filter(|(_, t)| !t.is_empty()));
    match given {
        Some((from, id)) => {
            if let Some(problem) = entity_id_problem(&id) {
                let hint = suggest_entity_id(&id)
                    .map(|s| format!(" (`{s}` would do; fixValidation makes the change)"))
                    .unwrap_or_default();
                problems.push(FileProblem::new(format!("`{from}`: {problem}{hint}")));
                return None;
            }
            if from != "id" {
                warnings.push(format!("no `id`: the id is taken from `{from}`"));
            }
            if let Some(named) = named_id
                && !named.eq_ignore_ascii_case(&id)
            {
                warnings.push(format!("the file name says `{named}` but the id is `{id}`"));
            }
            Some(id)
        }
        None => {
            let id = named_id.and_then(suggest_entity_id);
            match id {
                Some(id) => {
                    warnings.push(format!("no `id`: `{id}` is taken from the file name"));
                    Some(id)
                }
                None => {
                    problems.push(FileProblem::new(format!(
                        "no `id` or `{type_key}` key, and no id in the file name"
                    )));
                    None
                }
            }
        }
    }
}

fn read_name(
    frontmatter: &Mapping,
    body: &str,
    entity_id: Option<&str>,
    warnings: &mut Vec<String>,
    problems: &mut Vec<FileProblem>,
) -> Option<String> {
    let given = key(frontmatter, "name")
        .and_then(scalar_text)
        .filter(|n| !n.is_empty());
    let name = match given {
        Some(name) => name,
        None => {
            let derived = key(frontmatter, "title")
                .and_then(scalar_text)
                .filter(|t| !t.is_empty())
                .map(|title| (title, "`title`"))
                .or_else(|| first_heading(body).map(|h| (h, "the first heading")))
                .or_else(|| entity_id.map(|id| (title_case(id), "the id")));
            let (name, from) = derived?;
            warnings.push(format!("no `name`: the name is taken from {from}"));
            name
        }
    };
    match crate::entities::service::validate_name(&name) {
        Ok(name) => Some(name),
        Err(error) => {
            problems.push(FileProblem::new(format!("`name`: {}", error.message())));
            None
        }
    }
}

fn first_heading(body: &str) -> Option<String> {
    body.lines()
        .find_map(|line| line.strip_prefix("# "))
        .map(|heading| heading.trim().chars().take(200).collect::<String>())
        .filter(|heading| !heading.is_empty())
}

/// The order an entity's frontmatter is written in: its own keys, the dates, then the
/// template's keys in the template's order, then any others in the order given.
pub fn ordered(template: &TypeTemplate, mut entries: Mapping) -> Mapping {
    let rank = |key: &str| -> (usize, usize) {
        if let Some(i) = OWN_KEYS.iter().position(|k| *k == key) {
            return (0, i);
        }
        if let Some(i) = DATE_KEYS.iter().position(|k| *k == key) {
            return (1, i);
        }
        match template.key_order.iter().position(|k| k == key) {
            Some(i) => (2, i),
            None => (3, 0),
        }
    };
    // A stable sort: keys the template does not know keep the order they came in.
    entries.sort_by_key(|(key, _)| rank(key));
    entries
}

/// An entity as its markdown file.
pub fn render(
    template: &TypeTemplate,
    entity_type: EntityType,
    content: &EntityContent,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
) -> String {
    let mut entries: Mapping = vec![
        ("id".into(), Node::String(content.entity_id.clone())),
        (
            "entity_type".into(),
            Node::String(entity_type.slug().into()),
        ),
        ("name".into(), Node::String(content.name.clone())),
        ("status".into(), Node::String(content.status.slug().into())),
    ];
    let fields = content.fields.as_object();
    for (key, at) in DATE_KEYS.iter().zip([created_at, updated_at]) {
        if !fields.is_some_and(|f| f.contains_key(*key)) {
            entries.push((
                (*key).into(),
                Node::String(at.format("%Y-%m-%d").to_string()),
            ));
        }
    }
    for (key, value) in fields.into_iter().flatten() {
        entries.push((key.clone(), Node::from_json(value)));
    }
    file::write(&ordered(template, entries), &content.markdown_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_paths_are_markdown_outside_hidden_folders() {
        for yes in [
            "Characters/CH_rex.md",
            "CH_rex.MD",
            "../../etc/CH_passwd.md",
        ] {
            assert!(is_entity_path(yes), "{yes}");
        }
        for no in [
            "README.md",
            "a/readme.md",
            ".md",
            ".obsidian/CH_x.md",
            "Characters/.CH_rex.md.swp",
            "__MACOSX/CH_x.md",
            "~tmp/CH_x.md",
            "images/a.png",
            "CH_rex.md~",
            "é",
        ] {
            assert!(!is_entity_path(no), "{no}");
        }
        assert_eq!(stem("Characters/CH_rex.md"), "CH_rex");
    }
}
