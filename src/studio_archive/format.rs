//! The archive's layout, and the check of an archive as a whole against its manifest.
//!
//! ```text
//! manifest.json              format, version, when, what it holds, every other file's SHA-256
//! settings.json              the tenant's settings (its name, its recycle-bin retention)
//! entities/<Folder>/<file>   each live entity as its markdown file (the project-folder layout)
//! relationships.json         relationships drawn by hand, by their ends' types and ids
//! notes.json                 notes, with the entity each is attached to
//! assets.json                assets: file name, tags, status, content hash, the entities they illustrate
//! assets/<sha256>            each stored content once
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::archive::{Bounds, Files};

/// What `format` says in every manifest.
pub const FORMAT: &str = "loregraph-tenant-export";
/// The layout's version; an archive of a newer one is refused.
pub const VERSION: u32 = 1;
pub const MANIFEST: &str = "manifest.json";
pub const SETTINGS: &str = "settings.json";
pub const RELATIONSHIPS: &str = "relationships.json";
pub const NOTES: &str = "notes.json";
pub const ASSETS: &str = "assets.json";
pub const ENTITIES_DIR: &str = "entities/";
pub const BYTES_DIR: &str = "assets/";

/// The most an archive may hold, whether built or read: what one can export, one can import.
pub const MAX_ARCHIVE_BYTES: usize = 512 * 1024 * 1024;
/// What an archive read for an import may hold.
pub const BOUNDS: Bounds = Bounds {
    max_entries: 200_000,
    max_entry_bytes: 64 * 1024 * 1024,
    max_total_bytes: MAX_ARCHIVE_BYTES as u64,
};

/// One file of the archive as the manifest records it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct FileEntry {
    pub sha256: String,
    pub bytes: u64,
}

/// How many of each the archive holds.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub entities: usize,
    pub relationships: usize,
    pub notes: usize,
    pub assets: usize,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    pub server_version: String,
    pub exported_at: chrono::DateTime<chrono::Utc>,
    pub tenant_name: String,
    pub counts: Counts,
    /// Every file but the manifest, by path.
    pub files: BTreeMap<String, FileEntry>,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub tenant_name: String,
    pub recycle_retention_days: Option<i32>,
}

/// An entity by its type's slug and its id.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct EntityKey {
    #[serde(rename = "type")]
    pub entity_type: String,
    pub id: String,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Relationship {
    pub from: EntityKey,
    pub to: EntityKey,
    pub kind: String,
    #[serde(default)]
    pub attributes: Value,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Note {
    pub title: String,
    pub content: String,
    pub entity: Option<EntityKey>,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct AssetLink {
    #[serde(flatten)]
    pub entity: EntityKey,
    #[serde(default)]
    pub primary: bool,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Asset {
    pub sha256: String,
    pub filename: String,
    #[serde(default)]
    pub tags: Vec<String>,
    pub status: String,
    #[serde(default)]
    pub links: Vec<AssetLink>,
}

/// The hex SHA-256 of some bytes.
pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The manifest's record of each file.
pub fn entries_of(files: &Files) -> BTreeMap<String, FileEntry> {
    files
        .iter()
        .map(|(path, bytes)| {
            let entry = FileEntry {
                sha256: sha256(bytes),
                bytes: bytes.len() as u64,
            };
            (path.clone(), entry)
        })
        .collect()
}

/// The manifest of an archive, once its files match it exactly: each listed file present with
/// its size and checksum, nothing unlisted. Every problem found is said, not only the first.
pub fn verify(files: &Files) -> Result<Manifest, Vec<String>> {
    let manifest: Manifest = match files.get(MANIFEST) {
        None => return Err(vec![format!("the archive has no {MANIFEST}")]),
        Some(bytes) => serde_json::from_slice(bytes)
            .map_err(|error| vec![format!("{MANIFEST} cannot be read: {error}")])?,
    };
    if manifest.format != FORMAT {
        return Err(vec![format!(
            "this is not a loregraph tenant export (format `{}`)",
            manifest.format
        )]);
    }
    if manifest.version == 0 || manifest.version > VERSION {
        return Err(vec![format!(
            "the archive's format version {} is not one this server reads (up to {VERSION})",
            manifest.version
        )]);
    }
    let mut problems = Vec::new();
    let present: BTreeSet<&String> = files.keys().filter(|path| *path != MANIFEST).collect();
    for path in &present {
        if !manifest.files.contains_key(*path) {
            problems.push(format!("`{path}` is not in the manifest"));
        }
    }
    for (path, expected) in &manifest.files {
        match files.get(path) {
            None => problems.push(format!(
                "`{path}` is in the manifest but not in the archive"
            )),
            Some(bytes) if bytes.len() as u64 != expected.bytes => problems.push(format!(
                "`{path}` does not match its checksum in the manifest (it has {} bytes, the \
                 manifest says {})",
                bytes.len(),
                expected.bytes
            )),
            Some(bytes) if sha256(bytes) != expected.sha256 => {
                problems.push(format!(
                    "`{path}` does not match its checksum in the manifest"
                ));
            }
            Some(_) => {}
        }
    }
    if problems.is_empty() {
        Ok(manifest)
    } else {
        Err(problems)
    }
}

/// A JSON file of the archive (absent: its default).
pub fn json<T: serde::de::DeserializeOwned + Default>(
    files: &Files,
    path: &str,
) -> Result<T, String> {
    match files.get(path) {
        None => Ok(T::default()),
        Some(bytes) => serde_json::from_slice(bytes)
            .map_err(|error| format!("`{path}` cannot be read: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive() -> Files {
        let mut files = Files::new();
        files.insert(NOTES.to_owned(), b"[]".to_vec());
        files.insert("assets/abc".to_owned(), b"bytes".to_vec());
        let manifest = Manifest {
            format: FORMAT.to_owned(),
            version: VERSION,
            server_version: "test".to_owned(),
            exported_at: chrono::Utc::now(),
            tenant_name: "T".to_owned(),
            counts: Counts::default(),
            files: entries_of(&files),
        };
        files.insert(
            MANIFEST.to_owned(),
            serde_json::to_vec(&manifest).unwrap_or_default(),
        );
        files
    }

    #[test]
    fn an_archive_matches_its_manifest_exactly() {
        assert!(verify(&archive()).is_ok());

        let mut changed = archive();
        changed.insert("assets/abc".to_owned(), b"bytez".to_vec());
        let problems = verify(&changed).err().unwrap_or_default();
        assert!(problems[0].contains("checksum"), "{problems:?}");

        let mut extra = archive();
        extra.insert("assets/zzz".to_owned(), b"more".to_vec());
        let problems = verify(&extra).err().unwrap_or_default();
        assert!(problems[0].contains("not in the manifest"), "{problems:?}");

        let mut missing = archive();
        missing.remove(NOTES);
        let problems = verify(&missing).err().unwrap_or_default();
        assert!(problems[0].contains("not in the archive"), "{problems:?}");
    }
}
