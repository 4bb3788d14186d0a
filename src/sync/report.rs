//! What an import says about each file: one shape for GraphQL and for the REST upload's JSON.

use async_graphql::{Enum, Json, SimpleObject};
use serde::Serialize;
use serde_json::Value;

use crate::entities::service::EntityType;
use crate::markdown::file::FileError;

/// Whether an import only looks or also writes.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportMode {
    /// Report what would change; write nothing.
    Preview,
    /// Write every file in one transaction (all or none), then report.
    Apply,
}

/// What an import does with one file.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileAction {
    /// A new entity.
    Create,
    /// An existing entity gets the file's content.
    Update,
    /// The entity already has the file's content.
    Unchanged,
    /// The file cannot be imported (see its errors).
    Error,
}

/// A problem with a file, and where in it when known.
#[derive(SimpleObject, Clone, Debug, Serialize)]
pub struct FileProblem {
    /// What is wrong, in a sentence.
    pub message: String,
    /// The line (1-based, in the whole file) when the problem has one.
    pub line: Option<u32>,
    /// The column (1-based) when the problem has one.
    pub column: Option<u32>,
}

impl FileProblem {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            line: None,
            column: None,
        }
    }
}

impl From<FileError> for FileProblem {
    fn from(error: FileError) -> Self {
        Self {
            message: error.message,
            line: error.line,
            column: error.column,
        }
    }
}

/// How a key differs between the stored entity and the file.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// The file has the key; the entity does not.
    Added,
    /// The entity has the key; the file does not.
    Removed,
    /// Both have it, with different values.
    Changed,
}

/// One key whose value the import changes: a field, or `name`, `status` or `markdown_body`.
#[derive(SimpleObject, Clone, Debug, Serialize)]
pub struct FieldChange {
    /// The key (a field's name, or `name`, `status`, `markdown_body`).
    pub key: String,
    /// Added, removed or changed.
    pub change: ChangeKind,
    /// The stored value (null when added; a value over 2 KiB is shown as its size).
    pub before: Json<Value>,
    /// The file's value (null when removed; a value over 2 KiB is shown as its size).
    pub after: Json<Value>,
}

/// What an import makes of one file.
#[derive(SimpleObject, Clone, Debug, Serialize)]
pub struct FileReport {
    /// The file's path as given (or as named in the archive).
    pub path: String,
    /// Create, update, unchanged, or error.
    pub action: FileAction,
    /// The entity's type, when the file says it.
    pub entity_type: Option<EntityType>,
    /// The entity's id, when the file says it.
    pub entity_id: Option<String>,
    /// Why the file cannot be imported (empty unless the action is ERROR).
    pub errors: Vec<FileProblem>,
    /// What was inferred or normalised on the way in (an id from the file name, CRLF...).
    pub warnings: Vec<String>,
    /// What the type's template says does not match (saved anyway, as the entity's
    /// `validationErrors`).
    pub validation_errors: Vec<String>,
    /// The keys that change against the stored entity (the first 100).
    pub changes: Vec<FieldChange>,
    /// How many more changed keys there are beyond `changes`.
    pub changes_omitted: i32,
}

impl FileReport {
    pub fn failed(path: String, errors: Vec<FileProblem>) -> Self {
        Self {
            path,
            action: FileAction::Error,
            entity_type: None,
            entity_id: None,
            errors,
            warnings: Vec::new(),
            validation_errors: Vec::new(),
            changes: Vec::new(),
            changes_omitted: 0,
        }
    }

    /// Marks the file as not importable, keeping what was learnt of it.
    pub fn fail(&mut self, problem: FileProblem) {
        self.action = FileAction::Error;
        self.errors.push(problem);
    }
}

/// The outcome of an import: per file, and in sum.
#[derive(SimpleObject, Clone, Debug, Serialize)]
pub struct ImportReport {
    /// PREVIEW or APPLY, as asked.
    pub mode: ImportMode,
    /// Whether anything was written: true only for an APPLY in which every file could be
    /// imported (then all were, in one transaction).
    pub applied: bool,
    /// Files that create an entity.
    pub created: i32,
    /// Files that change an entity.
    pub updated: i32,
    /// Files whose entity already has their content.
    pub unchanged: i32,
    /// Files that cannot be imported.
    pub failed: i32,
    /// Files of an archive that are not entity files (not `.md`, a README, hidden folders),
    /// left alone.
    pub skipped: i32,
    /// The first 100 skipped paths.
    pub skipped_paths: Vec<String>,
    /// Every file read, in the order given.
    pub files: Vec<FileReport>,
}

/// How many skipped paths a report lists.
const MAX_SKIPPED_LISTED: usize = 100;

impl ImportReport {
    pub fn new(mode: ImportMode) -> Self {
        Self {
            mode,
            applied: false,
            created: 0,
            updated: 0,
            unchanged: 0,
            failed: 0,
            skipped: 0,
            skipped_paths: Vec::new(),
            files: Vec::new(),
        }
    }

    pub fn skip(&mut self, path: String) {
        self.skipped += 1;
        if self.skipped_paths.len() < MAX_SKIPPED_LISTED {
            self.skipped_paths.push(path);
        }
    }

    /// Counts the files by what they do (after every file has been read).
    pub fn tally(&mut self) {
        let count = |action| self.files.iter().filter(|f| f.action == action).count() as i32;
        (self.created, self.updated, self.unchanged, self.failed) = (
            count(FileAction::Create),
            count(FileAction::Update),
            count(FileAction::Unchanged),
            count(FileAction::Error),
        );
    }
}
