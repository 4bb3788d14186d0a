//! ZIP archives in and out (story character cards and data packages, folders of markdown
//! files), with bounds before anything is inflated: how many entries, how large each and all of
//! them may become (the sizes headers declare are checked, then every entry is read through a
//! cap, so a lying header cannot get past them), names that are plain relative paths (no `..`,
//! no absolute or drive paths, no backslashes), no symbolic links, no encrypted entries.
//! Reading runs off the async workers.

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

/// One file entry of an archive.
pub enum Entry {
    /// A file, inflated.
    File { name: String, bytes: Vec<u8> },
    /// A file left unread, and why: its name leaves the archive, it is a symbolic link, it is
    /// encrypted or compressed in a way not read here, or it is larger than an entry may be.
    Refused { name: String, reason: String },
    /// A file the caller did not select, passed over uninflated.
    Skipped { name: String },
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

/// Reads a whole archive within `bounds` (off the async workers); any entry it cannot read
/// refuses the archive.
pub async fn read(bytes: Vec<u8>, bounds: Bounds) -> AppResult<Files> {
    tokio::task::spawn_blocking(move || {
        let mut files = Files::new();
        let mut failure = None;
        visit(
            &bytes,
            bounds,
            |_| true,
            |entry| {
                let problem = match entry {
                    Entry::Refused { name, reason } => format!("`{name}` {reason}"),
                    Entry::Skipped { .. } => return true,
                    Entry::File { name, bytes } => match files.insert(name.clone(), bytes) {
                        Some(_) => format!("`{name}` is in the archive twice"),
                        None => return true,
                    },
                };
                failure = Some(refused(problem));
                false
            },
        )?;
        failure.map_or(Ok(files), Err)
    })
    .await
    .map_err(AppError::internal)?
}

/// Hands every file entry of an archive to `visit`, in the archive's order, until it answers
/// false (directories are passed over; entries whose name `select` refuses come as
/// [`Entry::Skipped`], never inflated). Call it off the async workers. The archive as a whole
/// is refused when it is not a ZIP, holds more entries than `bounds` allow, or inflates past
/// their total.
pub fn visit(
    bytes: &[u8],
    bounds: Bounds,
    select: impl Fn(&str) -> bool,
    mut visit: impl FnMut(Entry) -> bool,
) -> AppResult<()> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| refused(format!("not a ZIP archive: {e}")))?;
    if archive.len() > bounds.max_entries {
        return Err(refused(format!(
            "the archive holds {} entries; at most {} are read",
            archive.len(),
            bounds.max_entries
        )));
    }
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        let name = match archive.name_for_index(index) {
            Some(Ok(name)) => name.into_owned(),
            _ => return Err(refused(format!("entry {index} has no readable name"))),
        };
        if name.ends_with('/') {
            continue;
        }
        if !select(&name) {
            if !visit(Entry::Skipped { name }) {
                return Ok(());
            }
            continue;
        }
        // An encrypted entry, or one compressed in a way not built in, cannot be opened: that
        // entry is refused, not the archive.
        let entry = match archive.by_index(index) {
            Ok(entry) => entry,
            Err(error) => {
                let reason = format!("cannot be read ({error})");
                if !visit(Entry::Refused { name, reason }) {
                    return Ok(());
                }
                continue;
            }
        };
        if entry.is_dir() {
            continue;
        }
        let reason = if !safe_name(&name) {
            Some("is not a plain path inside the archive".to_owned())
        } else if entry.is_symlink() {
            Some("is a symbolic link".to_owned())
        } else if entry.encrypted() {
            Some("is encrypted".to_owned())
        } else if entry.size() > bounds.max_entry_bytes {
            Some(format!(
                "is too large: an entry may hold at most {} KiB",
                bounds.max_entry_bytes / 1024
            ))
        } else {
            None
        };
        if let Some(reason) = reason {
            if !visit(Entry::Refused { name, reason }) {
                return Ok(());
            }
            continue;
        }
        let mut content = Vec::new();
        let read = entry
            .take(bounds.max_entry_bytes + 1)
            .read_to_end(&mut content)
            .map_err(|e| refused(format!("`{name}` cannot be inflated: {e}")))?;
        total += read as u64;
        if total > bounds.max_total_bytes {
            return Err(refused(format!(
                "the archive inflates past {} MiB, the most it may hold",
                bounds.max_total_bytes / (1024 * 1024)
            )));
        }
        let next = if read as u64 > bounds.max_entry_bytes {
            Entry::Refused {
                name,
                reason: "inflates past its declared size".to_owned(),
            }
        } else {
            Entry::File {
                name,
                bytes: content,
            }
        };
        if !visit(next) {
            return Ok(());
        }
    }
    Ok(())
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
