//! The project folder on disk: where it is (only under the configured root), which of its
//! files are entity files, reading them within bounds, and writing them atomically.

use std::path::{Component, Path, PathBuf};

use crate::error::{AppError, AppResult};
use crate::markdown::file::MAX_FILE_BYTES;
use crate::sync::entity_file::is_entity_path;

/// Most files a folder is scanned for.
pub const MAX_FOLDER_FILES: usize = 20_000;
/// Deepest folder nesting scanned.
const MAX_DEPTH: usize = 16;

/// The folder `requested` names under `root`, checked: relative, inside the root once links
/// are followed, and an existing directory. Answers the absolute folder and its path relative
/// to the root (the form it is stored in).
pub fn resolve(root: &Path, requested: &str) -> AppResult<(PathBuf, String)> {
    let outside = || {
        AppError::bad_field(
            "path",
            "the folder must be inside the projects root (a relative path without `..`)",
        )
    };
    let relative = Path::new(requested.trim());
    if requested.trim().is_empty()
        || requested.contains('\0')
        || relative.is_absolute()
        || relative
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(outside());
    }
    let root = root
        .canonicalize()
        .map_err(|error| AppError::internal(anyhow::anyhow!("the projects root: {error}")))?;
    let folder = root.join(relative).canonicalize().map_err(|_| {
        AppError::bad_field(
            "path",
            format!("there is no folder `{requested}` in the projects root"),
        )
    })?;
    if !folder.starts_with(&root) || folder == root {
        return Err(outside());
    }
    if !folder.is_dir() {
        return Err(AppError::bad_field(
            "path",
            format!("`{requested}` is not a folder"),
        ));
    }
    let stored = folder
        .strip_prefix(&root)
        .map_err(|_| outside())?
        .to_string_lossy()
        .replace('\\', "/");
    Ok((folder, stored))
}

/// `path` relative to `folder`, with `/` separators, when it is inside it.
pub fn relative_to(folder: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(folder).ok()?;
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return None;
    }
    Some(relative.to_string_lossy().replace('\\', "/"))
}

/// Every entity file in the folder (relative paths, sorted); symbolic links are not followed.
pub fn scan(folder: &Path) -> AppResult<Vec<String>> {
    let mut found = Vec::new();
    let mut pending = vec![(folder.to_path_buf(), 0usize)];
    while let Some((dir, depth)) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|error| {
            AppError::unfit(None, format!("the project folder cannot be read: {error}"))
        })?;
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            let Some(relative) = relative_to(folder, &path) else {
                continue;
            };
            if kind.is_dir()
                && depth < MAX_DEPTH
                && !relative
                    .rsplit('/')
                    .next()
                    .is_some_and(|n| n.starts_with('.'))
            {
                pending.push((path, depth + 1));
            } else if kind.is_file() && is_entity_path(&relative) {
                if found.len() == MAX_FOLDER_FILES {
                    return Err(AppError::unfit(
                        None,
                        format!("the project folder holds more than {MAX_FOLDER_FILES} files"),
                    ));
                }
                found.push(relative);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The file `relative` names in `folder`, when its folder really is inside `folder` once
/// links are followed (a linked folder inside could lead anywhere): None when its folder is not
/// there.
fn inside(folder: &Path, relative: &str) -> Result<Option<PathBuf>, String> {
    let path = folder.join(relative);
    let Some(parent) = path.parent() else {
        return Err("is not a file of the folder".into());
    };
    let real_folder = folder
        .canonicalize()
        .map_err(|error| format!("cannot be reached: {error}"))?;
    match parent.canonicalize() {
        Ok(real) if real.starts_with(&real_folder) => Ok(Some(path)),
        Ok(_) => Err("is in a folder that leads outside the project folder".into()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(format!("cannot be reached: {error}")),
    }
}

/// A file's text, or None when it is not there (deleted, or renamed away); too large or not
/// UTF-8 is an error with the reason.
pub fn read(folder: &Path, relative: &str) -> Result<Option<String>, String> {
    let Some(path) = inside(folder, relative)? else {
        return Ok(None);
    };
    let metadata = match std::fs::symlink_metadata(&path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(format!("cannot be read: {error}")),
    };
    if !metadata.is_file() {
        return Err("is not a plain file (links are not followed)".into());
    }
    if metadata.len() > MAX_FILE_BYTES as u64 {
        return Err(format!(
            "has {} bytes; files may have at most {} KiB",
            metadata.len(),
            MAX_FILE_BYTES / 1024
        ));
    }
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(format!("cannot be read: {error}")),
    };
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| "is not UTF-8 text".to_owned())
}

/// Writes a file whole or not at all: a temporary file beside it, then a rename over it.
pub fn write(folder: &Path, relative: &str, content: &str) -> std::io::Result<()> {
    if let Some(parent) = folder.join(relative).parent() {
        std::fs::create_dir_all(parent)?;
    }
    let path = inside(folder, relative)
        .map_err(std::io::Error::other)?
        .ok_or_else(|| std::io::Error::other("the file's folder is not there"))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.loregraph-{}", uuid::Uuid::new_v4()));
    std::fs::write(&temporary, content)?;
    std::fs::rename(&temporary, &path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temporary);
    })
}

/// Removes a file (gone already is fine).
pub fn remove(folder: &Path, relative: &str) -> std::io::Result<()> {
    let Some(path) = inside(folder, relative).map_err(std::io::Error::other)? else {
        return Ok(());
    };
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}
