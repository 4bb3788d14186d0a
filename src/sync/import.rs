//! Importing markdown files: each read into an entity, compared with what is stored, and (for
//! APPLY) written, all in one transaction or none. Files arrive in batches, so an archive of
//! ten thousand files is read, compared and written a few hundred at a time and only the
//! report grows with it.

use std::collections::HashMap;

use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use serde_json::Value;

use super::entity_file::{self, EntityFile};
use super::report::{
    ChangeKind, FieldChange, FileAction, FileProblem, FileReport, ImportMode, ImportReport,
};
use crate::auth::Viewer;
use crate::context::Platform;
use crate::entities::service::{
    self as entities, EntityContent, EntityRow, EntityType, TemplateCatalog, Written,
};
use crate::error::{AppError, AppResult};
use crate::events::{EventPayload, SyncSummary};

/// A file as it arrives: its path and its text, or why it could not be read as text.
pub struct SourceFile {
    pub path: String,
    pub text: Result<String, FileProblem>,
}

/// A file after reading: the entity it holds, or why it holds none. Reading is CPU work done
/// off the async workers (see [`read_batch`]).
pub struct ReadFile {
    path: String,
    entity: Result<EntityFile, Vec<FileProblem>>,
}

/// How many files a batch holds at most.
pub const BATCH_FILES: usize = 256;

/// Reads a batch of files (on a blocking thread: YAML parsing is CPU work).
pub async fn read_batch(files: Vec<SourceFile>) -> AppResult<Vec<ReadFile>> {
    tokio::task::spawn_blocking(move || files.into_iter().map(read_file).collect())
        .await
        .map_err(|error| AppError::internal(anyhow::anyhow!("reading files: {error}")))
}

/// Reads one file where it already is (an archive's reader thread).
pub fn read_file(file: SourceFile) -> ReadFile {
    let entity = match file.text {
        Ok(text) => entity_file::read(&file.path, &text),
        Err(problem) => Err(vec![problem]),
    };
    ReadFile {
        path: file.path,
        entity,
    }
}

/// Where an import's batches come from.
pub enum Batches {
    /// Files already in memory (a GraphQL request's list).
    Listed(std::vec::IntoIter<Vec<SourceFile>>),
    /// Files read elsewhere as they come (an archive's reader thread, which ends with the
    /// paths it left alone, or with why it refused the archive as a whole).
    Streamed {
        receiver: tokio::sync::mpsc::Receiver<Vec<ReadFile>>,
        reader: Option<tokio::task::JoinHandle<AppResult<Vec<String>>>>,
        skipped: Vec<String>,
    },
}

impl Batches {
    pub fn listed(files: Vec<SourceFile>) -> Self {
        let mut batches = Vec::new();
        let mut files = files.into_iter().peekable();
        while files.peek().is_some() {
            batches.push(files.by_ref().take(BATCH_FILES).collect());
        }
        Self::Listed(batches.into_iter())
    }

    async fn next(&mut self) -> AppResult<Option<Vec<ReadFile>>> {
        match self {
            Self::Listed(batches) => match batches.next() {
                Some(batch) => Ok(Some(read_batch(batch).await?)),
                None => Ok(None),
            },
            Self::Streamed {
                receiver,
                reader,
                skipped,
            } => match receiver.recv().await {
                Some(batch) => Ok(Some(batch)),
                None => {
                    // The reader is done: an archive it refused halfway must not commit.
                    if let Some(reader) = reader.take() {
                        *skipped = reader.await.map_err(|error| {
                            AppError::internal(anyhow::anyhow!("reading an archive: {error}"))
                        })??;
                    }
                    Ok(None)
                }
            },
        }
    }

    fn skipped(&mut self) -> Vec<String> {
        match self {
            Self::Listed(_) => Vec::new(),
            Self::Streamed { skipped, .. } => std::mem::take(skipped),
        }
    }
}

/// Why an APPLY's transaction stops: a file that cannot be imported (the report says which),
/// or an error of the server's.
enum Halt {
    Files,
    Error(AppError),
}

impl From<diesel::result::Error> for Halt {
    fn from(error: diesel::result::Error) -> Self {
        Self::Error(error.into())
    }
}

impl From<AppError> for Halt {
    fn from(error: AppError) -> Self {
        Self::Error(error)
    }
}

/// One import under way.
struct Importer<'a> {
    templates: &'a TemplateCatalog,
    viewer: &'a Viewer,
    mode: ImportMode,
    report: ImportReport,
    /// Which file (its index in the report) claims each entity.
    claims: HashMap<(EntityType, String), usize>,
    written: Vec<Written>,
    /// Whether any file cannot be imported (then an APPLY writes no more and rolls back).
    failed: bool,
}

/// Imports files: PREVIEW compares, APPLY also writes (every file or none), then announces
/// the changes once committed (the caller raises `syncCompleted`: [`announce_summary`]).
pub async fn import(
    platform: &Platform,
    templates: &TemplateCatalog,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    mode: ImportMode,
    mut batches: Batches,
) -> AppResult<ImportReport> {
    let mut importer = Importer {
        templates,
        viewer,
        mode,
        report: ImportReport::new(mode),
        claims: HashMap::new(),
        written: Vec::new(),
        failed: false,
    };
    let outcome = match mode {
        ImportMode::Preview => {
            while let Some(batch) = batches.next().await? {
                importer.batch(conn, batch).await?;
            }
            Ok(())
        }
        ImportMode::Apply => {
            conn.transaction::<_, Halt, _>(async |conn| {
                while let Some(batch) = batches.next().await? {
                    importer.batch(conn, batch).await?;
                }
                if importer.failed {
                    return Err(Halt::Files);
                }
                Ok(())
            })
            .await
        }
    };
    let Importer {
        mut report,
        written,
        ..
    } = importer;
    for path in batches.skipped() {
        report.skip(path);
    }
    report.tally();
    match outcome {
        Ok(()) if mode == ImportMode::Apply => {
            report.applied = true;
            for change in written {
                entities::announce(platform, viewer, change);
            }
            Ok(report)
        }
        Ok(()) | Err(Halt::Files) => Ok(report),
        Err(Halt::Error(error)) => Err(error),
    }
}

/// Raises `syncCompleted` for an applied import (`source`: IMPORT, WATCHER...).
pub fn announce_summary(platform: &Platform, viewer: &Viewer, source: &str, report: &ImportReport) {
    if !report.applied {
        return;
    }
    platform.events.publish(
        viewer.tenant_id,
        Some(viewer.user_id),
        EventPayload::SyncCompleted(SyncSummary {
            source: source.into(),
            created: report.created,
            updated: report.updated,
            deleted: 0,
            conflicts: 0,
            unchanged: report.unchanged,
        }),
    );
}

impl Importer<'_> {
    async fn batch(&mut self, conn: &mut AsyncPgConnection, batch: Vec<ReadFile>) -> AppResult<()> {
        let mut entities_read = Vec::with_capacity(batch.len());
        for file in batch {
            let index = self.report.files.len();
            match file.entity {
                Err(problems) => {
                    self.failed = true;
                    self.report
                        .files
                        .push(FileReport::failed(file.path, problems));
                }
                Ok(entity) => {
                    let mut report = FileReport::failed(file.path, Vec::new());
                    report.entity_type = Some(entity.entity_type);
                    report.entity_id = Some(entity.content.entity_id.clone());
                    report.warnings = entity.warnings.clone();
                    let claim = (entity.entity_type, entity.content.entity_id.clone());
                    if let Some(&other) = self.claims.get(&claim) {
                        let message = |path: &str| {
                            FileProblem::new(format!(
                                "{}/{} is also claimed by `{path}`",
                                claim.0.slug(),
                                claim.1
                            ))
                        };
                        let other_path = self.report.files[other].path.clone();
                        report.fail(message(&other_path));
                        let this_path = report.path.clone();
                        self.report.files[other].fail(message(&this_path));
                        self.failed = true;
                        self.report.files.push(report);
                        continue;
                    }
                    self.claims.insert(claim, index);
                    self.report.files.push(report);
                    entities_read.push((index, entity));
                }
            }
        }
        let keys: Vec<(EntityType, String)> = entities_read
            .iter()
            .map(|(_, e)| (e.entity_type, e.content.entity_id.clone()))
            .collect();
        let writing = self.mode == ImportMode::Apply;
        let mut stored: HashMap<(EntityType, String), EntityRow> =
            entities::find_by_keys(conn, self.viewer.tenant_id, &keys, writing)
                .await?
                .into_iter()
                .map(|row| ((row.kind(), row.entity_id.clone()), row))
                .collect();
        for (index, mut entity) in entities_read {
            let current = stored.remove(&(entity.entity_type, entity.content.entity_id.clone()));
            if let Some(row) = &current {
                drop_exported_dates(row, &mut entity.content);
            }
            self.compare(index, &entity, current.as_ref());
            // Once any file fails, an APPLY will roll back: stop writing, keep reporting.
            if writing && !self.failed {
                let replaced = entities::replace(
                    conn,
                    self.templates,
                    self.viewer,
                    entity.entity_type,
                    entity.content,
                    current,
                )
                .await?;
                self.written.extend(replaced.written());
            }
        }
        Ok(())
    }

    /// Fills a file's report: what it does to the stored entity, and what its template says.
    fn compare(&mut self, index: usize, entity: &EntityFile, current: Option<&EntityRow>) {
        let report = &mut self.report.files[index];
        if !report.errors.is_empty() {
            // Another file of this batch claimed the same entity.
            return;
        }
        if let Some(row) = current
            && row.is_deleted()
        {
            report.fail(FileProblem::new(format!(
                "{}/{} is in the recycle bin: restore or purge it first",
                row.entity_type, row.entity_id
            )));
            self.failed = true;
            return;
        }
        report.validation_errors =
            entities::schema_errors(self.templates, entity.entity_type, &entity.content, current);
        let Some(row) = current else {
            report.action = FileAction::Create;
            return;
        };
        let changes = differences(row, &entity.content);
        report.action = if changes.is_empty() {
            FileAction::Unchanged
        } else {
            FileAction::Update
        };
        report.changes_omitted = changes.len().saturating_sub(MAX_CHANGES_LISTED) as i32;
        report.changes = changes.into_iter().take(MAX_CHANGES_LISTED).collect();
    }
}

/// An export writes `created_date` and `last_updated` from the entity's timestamps when its
/// fields have none; the same dates coming back are those timestamps, not new fields (which
/// would freeze `last_updated` at the day of the export).
pub(crate) fn drop_exported_dates(row: &EntityRow, content: &mut EntityContent) {
    let stored = row.fields.as_object();
    let Some(fields) = content.fields.as_object_mut() else {
        return;
    };
    for (key, at) in [
        ("created_date", row.created_at),
        ("last_updated", row.updated_at),
    ] {
        let exported = at.format("%Y-%m-%d").to_string();
        if !stored.is_some_and(|s| s.contains_key(key))
            && fields.get(key).and_then(Value::as_str) == Some(exported.as_str())
        {
            fields.remove(key);
        }
    }
}

/// The largest value a report shows whole, in bytes of JSON: a report of thousands of files
/// must not carry every body twice.
const MAX_SHOWN_BYTES: usize = 2048;

/// A value as a change shows it: whole when small, else a note of its size.
fn shown(value: Option<&Value>) -> Value {
    let Some(value) = value else {
        return Value::Null;
    };
    let size = match value {
        Value::String(text) => text.len(),
        Value::Array(_) | Value::Object(_) => serde_json::to_string(value).map_or(0, |t| t.len()),
        _ => 0,
    };
    if size > MAX_SHOWN_BYTES {
        Value::String(format!("({size} bytes, not shown)"))
    } else {
        value.clone()
    }
}

/// How many changed keys a file's report lists.
const MAX_CHANGES_LISTED: usize = 100;

/// The keys whose values differ between a stored entity and a file's content, in order:
/// the entity's own columns, then its fields by name.
fn differences(row: &EntityRow, content: &EntityContent) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    let mut compare = |key: &str, before: Option<&Value>, after: Option<&Value>| {
        let change = match (before, after) {
            (None, Some(_)) => ChangeKind::Added,
            (Some(_), None) => ChangeKind::Removed,
            (Some(b), Some(a)) if a != b => ChangeKind::Changed,
            _ => return,
        };
        changes.push(FieldChange {
            key: key.to_owned(),
            change,
            before: async_graphql::Json(shown(before)),
            after: async_graphql::Json(shown(after)),
        });
    };
    compare(
        "name",
        Some(&Value::from(row.name.as_str())),
        Some(&Value::from(content.name.as_str())),
    );
    compare(
        "status",
        Some(&Value::from(row.status().slug())),
        Some(&Value::from(content.status.slug())),
    );
    compare(
        "markdown_body",
        Some(&Value::from(row.markdown_body.as_str())),
        Some(&Value::from(content.markdown_body.as_str())),
    );
    let empty = serde_json::Map::new();
    let stored = row.fields.as_object().unwrap_or(&empty);
    let given = content.fields.as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = stored.keys().chain(given.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        compare(key, stored.get(key), given.get(key));
    }
    changes
}
