//! What the template package directory (`LOREGRAPH_TEMPLATES_DIR`) gives beside the templates:
//! folders of YAML files (rule sets, export profiles) read within bounds, and the book that
//! holds what was read from them, swapped whole by a reload.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use anyhow::Context as _;

/// How deep folders under a package folder are followed.
const MAX_NESTING: usize = 8;

/// The `.yaml`/`.yml` files under `dir` (followed into subfolders), sorted by their path
/// relative to it, with their text: at most `max_files`, each at most `max_bytes`.
pub fn yaml_files(
    dir: &Path,
    max_files: usize,
    max_bytes: usize,
) -> anyhow::Result<Vec<(String, String)>> {
    let mut paths = Vec::new();
    if dir.is_dir() {
        collect(dir, &mut paths, max_files, 0)?;
    }
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let name = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .display()
                .to_string();
            let size = std::fs::metadata(&path)
                .with_context(|| format!("reading {}", path.display()))?
                .len();
            anyhow::ensure!(
                size <= max_bytes as u64,
                "{} is larger than such a file may be ({} KiB)",
                path.display(),
                max_bytes / 1024
            );
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            Ok((name, text))
        })
        .collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>, max: usize, depth: usize) -> anyhow::Result<()> {
    anyhow::ensure!(depth < MAX_NESTING, "{} is nested too deep", dir.display());
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out, max, depth + 1)?;
        } else if path
            .extension()
            .is_some_and(|ext| ext == "yaml" || ext == "yml")
        {
            out.push(path);
            anyhow::ensure!(
                out.len() <= max,
                "{} holds more than {max} YAML files",
                dir.display()
            );
        }
    }
    Ok(())
}

/// What was read from the package, in force until a reload reads it again whole: a reload
/// that finds a problem keeps what was there.
pub struct Reloadable<T> {
    dir: Option<PathBuf>,
    read: fn(Option<&Path>) -> Result<T, Vec<String>>,
    current: RwLock<Arc<T>>,
    /// One reload at a time, so the files read last are the ones in force.
    reloading: tokio::sync::Mutex<()>,
}

impl<T: Send + Sync + 'static> Reloadable<T> {
    /// Reads the package at start (`read` takes the package directory, when there is one).
    pub fn load(
        dir: Option<PathBuf>,
        read: fn(Option<&Path>) -> Result<T, Vec<String>>,
    ) -> Result<Self, Vec<String>> {
        let first = read(dir.as_deref())?;
        Ok(Self {
            dir,
            read,
            current: RwLock::new(Arc::new(first)),
            reloading: tokio::sync::Mutex::new(()),
        })
    }

    pub fn current(&self) -> Arc<T> {
        match self.current.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Reads the package again (off the async workers); on a problem, keeps what it had.
    pub async fn reload(&self) -> Result<Arc<T>, Vec<String>> {
        let _one_at_a_time = self.reloading.lock().await;
        let (dir, read) = (self.dir.clone(), self.read);
        let fresh = tokio::task::spawn_blocking(move || read(dir.as_deref()))
            .await
            .map_err(|error| vec![format!("the reload stopped: {error}")])??;
        let fresh = Arc::new(fresh);
        match self.current.write() {
            Ok(mut guard) => *guard = fresh.clone(),
            Err(poisoned) => *poisoned.into_inner() = fresh.clone(),
        }
        Ok(fresh)
    }
}
