//! Working on one markdown file without storing it: checking its frontmatter, writing it in
//! the normal form, and making the common fixes a file needs to match its template.

use async_graphql::SimpleObject;
use chrono::NaiveDate;
use serde_json::Value;

use super::entity_file::{self, OWN_KEYS};
use super::report::FileProblem;
use crate::entities::service::{
    EntityStatus, EntityType, TemplateCatalog, TypeTemplate, entity_id_problem, schema_errors,
    suggest_entity_id,
};
use crate::markdown::file::{self, MarkdownFile};
use crate::markdown::yaml::{Mapping, Node};

/// A frontmatter's problem with one key (or with the whole, for an empty `key`).
#[derive(SimpleObject, Clone, Debug)]
pub struct KeyProblem {
    /// The key (`age`, or a path into it: `family[0].character_id`); empty for the whole.
    pub key: String,
    /// What the type's schema says is wrong.
    pub message: String,
}

/// What `validateFrontmatter` finds.
#[derive(SimpleObject, Clone, Debug)]
pub struct FrontmatterCheck {
    /// True when the file reads as an entity and matches its type's schema.
    pub valid: bool,
    /// Why the file cannot be read as an entity (YAML errors with line and column, an
    /// unknown type, a bad id...).
    pub errors: Vec<FileProblem>,
    /// The type's schema errors, key by key.
    pub key_errors: Vec<KeyProblem>,
    /// What reading inferred or normalised.
    pub warnings: Vec<String>,
    /// The entity's type, when the file says it.
    pub entity_type: Option<EntityType>,
    /// The entity's id, when the file says it.
    pub entity_id: Option<String>,
}

/// `field: message` as the template check writes it, split.
fn key_problem(line: String) -> KeyProblem {
    match line.split_once(": ") {
        Some((key, message)) if !key.contains(' ') && !key.starts_with('"') => KeyProblem {
            key: key.to_owned(),
            message: message.to_owned(),
        },
        _ => KeyProblem {
            key: String::new(),
            message: line,
        },
    }
}

/// Checks a file as an import would, writing nothing.
pub fn validate(templates: &TemplateCatalog, content: &str) -> FrontmatterCheck {
    let mut check = FrontmatterCheck {
        valid: false,
        errors: Vec::new(),
        key_errors: Vec::new(),
        warnings: Vec::new(),
        entity_type: None,
        entity_id: None,
    };
    match entity_file::read("", content) {
        Err(problems) => check.errors = problems,
        Ok(entity) => {
            check.key_errors = schema_errors(templates, entity.entity_type, &entity.content, None)
                .into_iter()
                .map(key_problem)
                .collect();
            check.valid = check.key_errors.is_empty();
            check.entity_type = Some(entity.entity_type);
            check.entity_id = Some(entity.content.entity_id);
            check.warnings = entity.warnings;
        }
    }
    check
}

/// A file written in the normal form, and what changed.
#[derive(SimpleObject, Clone, Debug)]
pub struct FormattedMarkdown {
    /// The file in the normal form (formatting it again changes nothing).
    pub content: String,
    /// Whether it differs from what was given.
    pub changed: bool,
    /// What was normalised, one line each.
    pub changes: Vec<String>,
}

/// The type a frontmatter names, if it names one.
fn named_type(frontmatter: &Mapping) -> Option<EntityType> {
    frontmatter
        .iter()
        .find(|(k, _)| k == "entity_type")
        .and_then(|(_, v)| v.as_str())
        .and_then(|t| EntityType::from_slug(&t.trim().to_ascii_lowercase()))
}

/// Puts a file in the normal form: its keys in the export's order (the type's template order
/// when it names its type), YAML written one way, LF line endings, no trailing blanks at line
/// ends (a Markdown hard break keeps its two spaces), one final newline.
pub fn format(
    templates: &TemplateCatalog,
    content: &str,
) -> Result<FormattedMarkdown, FileProblem> {
    let MarkdownFile {
        frontmatter,
        body,
        normalised,
    } = file::read(content).map_err(FileProblem::from)?;
    let mut changes: Vec<String> = normalised.into_iter().map(str::to_owned).collect();
    let original_order: Vec<String> = frontmatter.iter().map(|(k, _)| k.clone()).collect();
    let frontmatter = match named_type(&frontmatter) {
        Some(entity_type) => {
            entity_file::ordered(templates.type_template(entity_type), frontmatter)
        }
        None => frontmatter,
    };
    if frontmatter.iter().map(|(k, _)| k).ne(original_order.iter()) {
        changes.push("keys put in the template's order".into());
    }
    let tidy = tidy_body(&body);
    if tidy != body {
        changes.push("trailing blanks and final newlines tidied in the body".into());
    }
    let formatted = file::write(&frontmatter, &tidy);
    Ok(FormattedMarkdown {
        changed: formatted != content,
        content: formatted,
        changes,
    })
}

fn tidy_body(body: &str) -> String {
    let lines: Vec<&str> = body.split('\n').collect();
    let mut out = String::with_capacity(body.len());
    for (i, line) in lines.iter().enumerate() {
        let bare = line.trim_end_matches([' ', '\t']);
        out.push_str(bare);
        // Two trailing spaces break a paragraph's line in Markdown; a heading has none.
        let hard_break = line.ends_with("  ")
            && !bare.is_empty()
            && !bare.trim_start().starts_with('#')
            && lines.get(i + 1).is_some_and(|next| !next.trim().is_empty());
        if hard_break {
            out.push_str("  ");
        }
        out.push('\n');
    }
    let trimmed = out.trim_end_matches('\n');
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("{trimmed}\n")
    }
}

/// A file with the common fixes made.
#[derive(SimpleObject, Clone, Debug)]
pub struct FixedMarkdown {
    /// The fixed file.
    pub content: String,
    /// The fixes made, one line each.
    pub fixes: Vec<String>,
    /// What is still wrong after the fixes (for a person to decide).
    pub remaining_errors: Vec<String>,
}

/// Makes the common fixes on a file of `entity_type`: the type and id keys (an id from
/// `<type>_id`, the name, or a malformed id with its type prefix), the status' spelling,
/// list-valued keys given as text, dates written another way, and required keys that are
/// missing (with the template's defaults).
pub fn fix(
    templates: &TemplateCatalog,
    entity_type: EntityType,
    content: &str,
) -> Result<FixedMarkdown, FileProblem> {
    let MarkdownFile {
        mut frontmatter,
        body,
        ..
    } = file::read(content).map_err(FileProblem::from)?;
    let template = templates.type_template(entity_type);
    let mut fixes = Vec::new();
    fix_own_keys(entity_type, &mut frontmatter, &mut fixes);
    // The schema says what else is wrong; fix what has a mechanical fix.
    let errors = current_errors(templates, entity_type, &frontmatter, &body);
    for line in errors {
        let problem = key_problem(line);
        if problem.key.is_empty() {
            if let Some(key) = required_key(&problem.message) {
                add_default(template, key, &mut frontmatter, &mut fixes);
            }
        } else if !problem.key.contains(['.', '[']) {
            fix_value(template, &problem, &mut frontmatter, &mut fixes);
        }
    }
    let remaining_errors = match entity_file::from_markdown(
        "",
        MarkdownFile {
            frontmatter: frontmatter.clone(),
            body: body.clone(),
            normalised: Vec::new(),
        },
    ) {
        Ok(entity) => schema_errors(templates, entity_type, &entity.content, None),
        Err(problems) => problems.into_iter().map(|p| p.message).collect(),
    };
    Ok(FixedMarkdown {
        content: file::write(&entity_file::ordered(template, frontmatter), &body),
        fixes,
        remaining_errors,
    })
}

fn current_errors(
    templates: &TemplateCatalog,
    entity_type: EntityType,
    frontmatter: &Mapping,
    body: &str,
) -> Vec<String> {
    let parsed = MarkdownFile {
        frontmatter: frontmatter.clone(),
        body: body.to_owned(),
        normalised: Vec::new(),
    };
    match entity_file::from_markdown("", parsed) {
        Ok(entity) => schema_errors(templates, entity_type, &entity.content, None),
        Err(_) => Vec::new(),
    }
}

fn set(frontmatter: &mut Mapping, key: &str, value: Node) {
    match frontmatter.iter_mut().find(|(k, _)| k == key) {
        Some((_, slot)) => *slot = value,
        None => frontmatter.push((key.to_owned(), value)),
    }
}

fn get<'a>(frontmatter: &'a Mapping, key: &str) -> Option<&'a Node> {
    frontmatter.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

fn fix_own_keys(entity_type: EntityType, frontmatter: &mut Mapping, fixes: &mut Vec<String>) {
    let slug = entity_type.slug();
    if get(frontmatter, "entity_type").and_then(Node::as_str) != Some(slug) {
        set(frontmatter, "entity_type", Node::String(slug.into()));
        fixes.push(format!("`entity_type` set to `{slug}`"));
    }
    let id = get(frontmatter, "id").and_then(|node| match node {
        Node::String(text) => Some(text.clone()),
        Node::Number(number) => Some(number.to_string()),
        _ => None,
    });
    let fixed_id = match &id {
        Some(id) if entity_id_problem(id).is_none() => None,
        Some(id) => {
            let prefix = entity_type.file_prefix();
            let bare = match id.get(..prefix.len()) {
                Some(head) if head.eq_ignore_ascii_case(prefix) => &id[prefix.len()..],
                _ => id.as_str(),
            };
            suggest_entity_id(bare).map(|new| (new, format!("`id` `{id}` made `")))
        }
        None => {
            let type_key = format!("{slug}_id");
            get(frontmatter, &type_key)
                .and_then(Node::as_str)
                .and_then(suggest_entity_id)
                .map(|new| (new, format!("`id` taken from `{type_key}`: `")))
                .or_else(|| {
                    get(frontmatter, "name")
                        .and_then(Node::as_str)
                        .and_then(suggest_entity_id)
                        .map(|new| (new, "`id` made from the name: `".to_owned()))
                })
        }
    };
    if let Some((new, said)) = fixed_id {
        fixes.push(format!("{said}{new}`"));
        set(frontmatter, "id", Node::String(new));
    }
    if let Some(status) = get(frontmatter, "status").and_then(Node::as_str) {
        let lower = status.trim().to_ascii_lowercase();
        if lower != status && EntityStatus::from_slug(&lower).is_some() {
            fixes.push(format!("`status` `{status}` written `{lower}`"));
            set(frontmatter, "status", Node::String(lower));
        }
    }
}

/// `"created_date" is a required property` → `created_date`.
fn required_key(message: &str) -> Option<&str> {
    let rest = message.strip_prefix('"')?;
    let (key, tail) = rest.split_once('"')?;
    tail.contains("required").then_some(key)
}

fn property<'a>(template: &'a TypeTemplate, key: &str) -> Option<&'a Value> {
    template.json_schema.get("properties")?.get(key)
}

fn add_default(
    template: &TypeTemplate,
    key: &str,
    frontmatter: &mut Mapping,
    fixes: &mut Vec<String>,
) {
    if OWN_KEYS.contains(&key) || get(frontmatter, key).is_some() {
        return;
    }
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let schema = property(template, key);
    let value = match key {
        "created_date" | "last_updated" => Node::String(today),
        "template_version" => Node::String(template.version.clone()),
        "template_category" => Node::String(template.category.clone()),
        _ => match schema.and_then(|s| s.get("default")) {
            Some(default) => Node::from_json(default),
            None => match schema.and_then(|s| s.get("type")).and_then(Value::as_str) {
                Some("string") => Node::String(String::new()),
                Some("array") => Node::List(Vec::new()),
                Some("object") => Node::Map(Vec::new()),
                _ => return,
            },
        },
    };
    fixes.push(format!("missing `{key}` added"));
    frontmatter.push((key.to_owned(), value));
}

/// Dates people write, read as one (the first that fits wins: month before day).
const DATE_FORMATS: [&str; 8] = [
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%B %d, %Y",
    "%b %d, %Y",
    "%d %B %Y",
    "%d %b %Y",
];

fn iso_date(text: &str) -> Option<String> {
    let text = text.trim();
    if let Some(date) = text.get(..10)
        && NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok()
        && text.len() > 10
    {
        // A timestamp: keep the day.
        return Some(date.to_owned());
    }
    DATE_FORMATS
        .iter()
        .find_map(|format| NaiveDate::parse_from_str(text, format).ok())
        .map(|date| date.format("%Y-%m-%d").to_string())
}

fn fix_value(
    template: &TypeTemplate,
    problem: &KeyProblem,
    frontmatter: &mut Mapping,
    fixes: &mut Vec<String>,
) {
    let key = problem.key.as_str();
    let Some(Node::String(text)) = get(frontmatter, key).cloned() else {
        return;
    };
    let schema = property(template, key);
    let wants_list = problem.message.contains("\"array\"")
        || schema.and_then(|s| s.get("type")).and_then(Value::as_str) == Some("array");
    if wants_list {
        let items: Vec<Node> = text
            .split([',', ';'])
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| Node::String(item.to_owned()))
            .collect();
        fixes.push(format!("`{key}` made a list of {} items", items.len()));
        set(frontmatter, key, Node::List(items));
        return;
    }
    let wants_date = key.ends_with("_date")
        || key == "last_updated"
        || schema.and_then(|s| s.get("format")).and_then(Value::as_str) == Some("date")
        || problem.message.contains(r"\d{4}-\d{2}-\d{2}");
    if wants_date && let Some(date) = iso_date(&text) {
        fixes.push(format!("`{key}` `{text}` written `{date}`"));
        set(frontmatter, key, Node::String(date));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_people_write_become_iso() {
        assert_eq!(iso_date("2024/06/01").as_deref(), Some("2024-06-01"));
        assert_eq!(iso_date("June 1, 2024").as_deref(), Some("2024-06-01"));
        assert_eq!(iso_date("06/01/2024").as_deref(), Some("2024-06-01"));
        assert_eq!(
            iso_date("2024-06-01T10:00:00Z").as_deref(),
            Some("2024-06-01")
        );
        assert_eq!(iso_date("the third age"), None);
    }

    #[test]
    fn tidy_bodies_stay_tidy() {
        let body = "\n# Rex  \nline with break  \nnext\t\n\n\n";
        let once = tidy_body(body);
        assert_eq!(once, "\n# Rex\nline with break  \nnext\n");
        assert_eq!(tidy_body(&once), once);
    }
}
