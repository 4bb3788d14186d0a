//! Comparing two versions of an entity, or two entities: which fields were added, removed or
//! changed, and a line diff of the markdown.

use serde_json::{Map, Value};
use std::time::Duration;

use similar::{ChangeTag, TextDiff};

const DIFF_DEADLINE: Duration = Duration::from_millis(500);

/// The parts of an entity a comparison looks at.
pub struct Snapshot<'a> {
    pub entity_id: &'a str,
    pub name: &'a str,
    pub status: &'a str,
    pub fields: &'a Value,
    pub markdown_body: &'a str,
}

/// How a field differs between the two sides of a comparison.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum FieldChangeKind {
    /// Only on the new side.
    Added,
    /// Only on the old side.
    Removed,
    /// On both sides, with different values.
    Changed,
}

pub struct FieldChange {
    /// The field, or `name`, `status`, `entity_id` for the entity's own columns.
    pub field: String,
    pub change: FieldChangeKind,
    pub old_value: Option<Value>,
    pub new_value: Option<Value>,
}

/// A line of a diff: in both sides, only in the new one, or only in the old one.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum DiffLineKind {
    /// In both sides.
    Equal,
    /// Only in the new side.
    Insert,
    /// Only in the old side.
    Delete,
}

pub struct DiffLine {
    pub kind: DiffLineKind,
    /// 1-based line number on the old side (absent for inserted lines).
    pub old_line: Option<usize>,
    /// 1-based line number on the new side (absent for deleted lines).
    pub new_line: Option<usize>,
    pub text: String,
}

pub struct Comparison {
    pub field_changes: Vec<FieldChange>,
    pub markdown_lines: Vec<DiffLine>,
    pub unified_diff: String,
}

impl Comparison {
    pub fn identical(&self) -> bool {
        self.field_changes.is_empty()
            && self
                .markdown_lines
                .iter()
                .all(|line| line.kind == DiffLineKind::Equal)
    }
}

pub fn compare(
    old: &Snapshot<'_>,
    new: &Snapshot<'_>,
    old_label: &str,
    new_label: &str,
) -> Comparison {
    let mut field_changes = Vec::new();
    let columns = [
        ("entity_id", old.entity_id, new.entity_id),
        ("name", old.name, new.name),
        ("status", old.status, new.status),
    ];
    for (field, before, after) in columns {
        if before != after {
            field_changes.push(FieldChange {
                field: field.to_owned(),
                change: FieldChangeKind::Changed,
                old_value: Some(before.into()),
                new_value: Some(after.into()),
            });
        }
    }
    let empty = Map::new();
    let old_fields = old.fields.as_object().unwrap_or(&empty);
    let new_fields = new.fields.as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = old_fields.keys().chain(new_fields.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let change = match (old_fields.get(key), new_fields.get(key)) {
            (Some(before), Some(after)) if before == after => continue,
            (Some(_), Some(_)) => FieldChangeKind::Changed,
            (Some(_), None) => FieldChangeKind::Removed,
            (None, Some(_)) => FieldChangeKind::Added,
            (None, None) => continue,
        };
        field_changes.push(FieldChange {
            field: key.clone(),
            change,
            old_value: old_fields.get(key).cloned(),
            new_value: new_fields.get(key).cloned(),
        });
    }
    // Myers' diff is quadratic at worst: past the deadline it settles for a coarser diff.
    let diff = TextDiff::configure()
        .timeout(DIFF_DEADLINE)
        .diff_lines(old.markdown_body, new.markdown_body);
    let markdown_lines = diff
        .iter_all_changes()
        .map(|change| DiffLine {
            kind: match change.tag() {
                ChangeTag::Equal => DiffLineKind::Equal,
                ChangeTag::Insert => DiffLineKind::Insert,
                ChangeTag::Delete => DiffLineKind::Delete,
            },
            old_line: change.old_index().map(|i| i + 1),
            new_line: change.new_index().map(|i| i + 1),
            text: change.value().trim_end_matches(['\n', '\r']).to_owned(),
        })
        .collect();
    let unified_diff = diff
        .unified_diff()
        .context_radius(3)
        .header(old_label, new_label)
        .to_string();
    Comparison {
        field_changes,
        markdown_lines,
        unified_diff,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reports_field_and_line_changes() {
        let old_fields = json!({"age": 34, "gone": true, "same": 1});
        let new_fields = json!({"age": 35, "new": "x", "same": 1});
        let old = Snapshot {
            entity_id: "rex",
            name: "Rex",
            status: "active",
            fields: &old_fields,
            markdown_body: "a\nb\n",
        };
        let new = Snapshot {
            entity_id: "rex",
            name: "Rex M",
            status: "active",
            fields: &new_fields,
            markdown_body: "a\nc\n",
        };
        let comparison = compare(&old, &new, "v1", "v2");
        let summary: Vec<(String, FieldChangeKind)> = comparison
            .field_changes
            .iter()
            .map(|c| (c.field.clone(), c.change))
            .collect();
        assert_eq!(
            summary,
            [
                ("name".to_owned(), FieldChangeKind::Changed),
                ("age".to_owned(), FieldChangeKind::Changed),
                ("gone".to_owned(), FieldChangeKind::Removed),
                ("new".to_owned(), FieldChangeKind::Added),
            ]
        );
        let kinds: Vec<DiffLineKind> = comparison.markdown_lines.iter().map(|l| l.kind).collect();
        assert_eq!(
            kinds,
            [
                DiffLineKind::Equal,
                DiffLineKind::Delete,
                DiffLineKind::Insert
            ]
        );
        assert!(comparison.unified_diff.contains("-b\n+c"));
        assert!(!comparison.identical());
    }
}
