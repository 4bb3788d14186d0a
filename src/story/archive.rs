//! ZIP archives in and out (`.chr` character cards, data packages), with bounds before
//! anything is inflated: how many entries, how large each and all of them may become (the
//! sizes headers declare are checked, then every entry is read through a cap, so a lying
//! header cannot get past them), names that are plain relative paths (no `..`, no absolute
//! or drive paths, no backslashes), no name twice. Reading runs off the async workers.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};

use crate::error::{AppError, AppResult};

/// What an archive may hold.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    pub max_entries: usize,
    pub max_entry_bytes: u64,
    pub max_total_bytes: u64,
}

/// An archive's files by name.
pub type Files = BTreeMap<String, Vec<u8>>;

fn refused(message: impl Into<String>) -> AppError {
    AppError::unfit(Some("archive"), message)
}

/// Whether `name` is a plain relative path inside the archive.
fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('/')
        && !name.contains('\\')
        && !name.contains('\0')
        && !name.contains(':')
        && name
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}

/// Reads a whole archive within `bounds` (off the async workers).
pub async fn read(bytes: Vec<u8>, bounds: Bounds) -> AppResult<Files> {
    tokio::task::spawn_blocking(move || read_now(&bytes, bounds))
        .await
        .map_err(AppError::internal)?
}

fn read_now(bytes: &[u8], bounds: Bounds) -> AppResult<Files> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| refused(format!("not a ZIP archive: {e}")))?;
    if archive.len() > bounds.max_entries {
        return Err(refused(format!(
            "the archive holds {} entries; at most {} are read",
            archive.len(),
            bounds.max_entries
        )));
    }
    let mut files = Files::new();
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        let entry = archive
            .by_index(index)
            .map_err(|e| refused(format!("entry {index} cannot be read: {e}")))?;
        let name = entry
            .name()
            .map_err(|e| refused(format!("entry {index} has no readable name: {e}")))?
            .into_owned();
        if entry.is_dir() {
            continue;
        }
        if !safe_name(&name) {
            return Err(refused(format!(
                "`{name}` is not a plain path inside the archive"
            )));
        }
        if entry.size() > bounds.max_entry_bytes {
            return Err(refused(format!("`{name}` is too large")));
        }
        let mut content = Vec::new();
        let read = entry
            .take(bounds.max_entry_bytes + 1)
            .read_to_end(&mut content)
            .map_err(|e| refused(format!("`{name}` cannot be inflated: {e}")))?;
        total += read as u64;
        if read as u64 > bounds.max_entry_bytes || total > bounds.max_total_bytes {
            return Err(refused(format!(
                "`{name}` inflates past what an archive may hold"
            )));
        }
        if files.insert(name.clone(), content).is_some() {
            return Err(refused(format!("`{name}` is in the archive twice")));
        }
    }
    Ok(files)
}

/// Writes `files` as a ZIP archive (deflated), in name order.
pub fn write(files: &Files) -> AppResult<Vec<u8>> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, content) in files {
        writer
            .start_file(name, options)
            .map_err(AppError::internal)?;
        writer.write_all(content).map_err(AppError::internal)?;
    }
    Ok(writer.finish().map_err(AppError::internal)?.into_inner())
}

/// The JSON file `name` of an archive, read as `T`.
pub fn json<T: serde::de::DeserializeOwned>(files: &Files, name: &str) -> AppResult<T> {
    let bytes = files
        .get(name)
        .ok_or_else(|| refused(format!("the archive has no `{name}`")))?;
    serde_json::from_slice(bytes).map_err(|e| refused(format!("`{name}` does not read: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_leave_the_archive_are_not_plain() {
        for bad in [
            "../x",
            "a/../b",
            "/etc/passwd",
            "a\\b",
            "C:/x",
            "a//b",
            "",
            "./a",
        ] {
            assert!(!safe_name(bad), "{bad}");
        }
        assert!(safe_name("characters/1/content.json"));
    }
}
