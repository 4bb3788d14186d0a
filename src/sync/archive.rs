//! A project folder uploaded as a ZIP archive: its markdown files read on a blocking thread
//! and handed to the import in batches as they are inflated, so memory holds a few batches,
//! never the archive's whole content. Entries that leave the archive, links, encrypted or
//! oversized entries, and files that are not UTF-8 each get a problem in the report.

use tokio::sync::mpsc;

use super::entity_file::is_entity_path;
use super::import::{BATCH_FILES, Batches, ReadFile, SourceFile, read_file};
use super::report::FileProblem;
use crate::archive::{self, Bounds, Entry};
use crate::markdown::file::{MAX_FILE_BYTES, decode};

/// What a project archive may hold.
const BOUNDS: Bounds = Bounds {
    max_entries: 20_000,
    max_entry_bytes: MAX_FILE_BYTES as u64,
    max_total_bytes: 512 * 1024 * 1024,
};

/// Bytes of file text a batch holds at most before it is handed on.
const BATCH_BYTES: usize = 8 * 1024 * 1024;

/// Starts reading an archive on a blocking thread: its files come as the import's batches.
pub fn read(bytes: bytes::Bytes) -> Batches {
    let (sender, receiver) = mpsc::channel::<Vec<ReadFile>>(2);
    let done = tokio::task::spawn_blocking(move || {
        let mut skipped = Vec::new();
        let mut batch = Vec::new();
        let mut batch_bytes = 0;
        let mut open = true;
        archive::visit(&bytes, BOUNDS, is_entity_path, |entry| {
            let (path, text) = match entry {
                Entry::Skipped { name } => {
                    skipped.push(name);
                    return true;
                }
                Entry::Refused { name, reason } => (
                    name.clone(),
                    Err(FileProblem::new(format!("`{name}` {reason}"))),
                ),
                Entry::File { name, bytes } => {
                    let text = decode(&bytes).map(str::to_owned).map_err(FileProblem::from);
                    (name, text)
                }
            };
            batch_bytes += text.as_ref().map_or(0, String::len);
            batch.push(read_file(SourceFile { path, text }));
            if batch.len() >= BATCH_FILES || batch_bytes >= BATCH_BYTES {
                batch_bytes = 0;
                // The import stopped listening (the request went away): stop reading.
                open = sender.blocking_send(std::mem::take(&mut batch)).is_ok();
            }
            open
        })?;
        if open && !batch.is_empty() {
            let _ = sender.blocking_send(batch);
        }
        Ok(skipped)
    });
    Batches::Streamed {
        receiver,
        reader: Some(done),
        skipped: Vec::new(),
    }
}
