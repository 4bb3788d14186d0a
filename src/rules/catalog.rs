//! The template package's rule sets: loregraph's built-in ones (the core package's
//! `rules/Core/*.yaml`), replaced set by set and added to by the `rules/**/*.yaml` of the
//! package in `LOREGRAPH_TEMPLATES_DIR`. Read at start and again on `reloadRules`; a reload
//! that finds a broken file changes nothing.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use anyhow::Context as _;

use super::model::RuleSet;
use super::parse;

/// The built-in sets: (file, source).
const BUILTIN: [(&str, &str); 2] = [
    (
        "Core/assembly_constraints.yaml",
        include_str!("builtin/assembly_constraints.yaml"),
    ),
    (
        "Core/dialogue_flow.yaml",
        include_str!("builtin/dialogue_flow.yaml"),
    ),
];

/// Most rule files a package may hold.
const MAX_FILES: usize = 500;

/// Where a package set was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Builtin,
    /// The package directory's file, relative to its `rules/`.
    Package(String),
}

/// One set of the package, with the text it was read from.
#[derive(Debug)]
pub struct PackageSet {
    pub set: Arc<RuleSet>,
    pub source: Arc<str>,
    pub origin: Origin,
}

/// The package's sets, by id.
#[derive(Debug, Default)]
pub struct PackageRules {
    pub sets: Vec<Arc<PackageSet>>,
}

impl PackageRules {
    pub fn get(&self, id: &str) -> Option<&Arc<PackageSet>> {
        self.sets.iter().find(|entry| entry.set.id == id)
    }

    /// The built-in sets, with a package directory's sets in their place and beside them.
    /// Every problem of every file is listed (`Core/x.yaml: rules[1] (a): ...`).
    pub fn read(dir: Option<&Path>) -> Result<Self, Vec<String>> {
        let mut files: Vec<(Origin, String, String)> = BUILTIN
            .iter()
            .map(|(file, source)| {
                (
                    Origin::Builtin,
                    format!("built-in {file}"),
                    (*source).to_owned(),
                )
            })
            .collect();
        if let Some(rules_dir) = dir.map(|dir| dir.join("rules")).filter(|d| d.is_dir()) {
            let mut paths = Vec::new();
            yaml_files(&rules_dir, &mut paths, 0).map_err(|error| vec![format!("{error:#}")])?;
            paths.sort();
            for path in paths {
                let name = path
                    .strip_prefix(&rules_dir)
                    .unwrap_or(&path)
                    .display()
                    .to_string();
                let source = read_bounded(&path).map_err(|error| vec![format!("{error:#}")])?;
                files.push((Origin::Package(name.clone()), name, source));
            }
        }
        let mut sets: Vec<Arc<PackageSet>> = Vec::new();
        let mut problems = Vec::new();
        for (origin, name, source) in files {
            match parse::parse(&source) {
                Ok(set) => {
                    let entry = Arc::new(PackageSet {
                        set: Arc::new(set),
                        source: Arc::from(source),
                        origin: origin.clone(),
                    });
                    match sets.iter().position(|e| e.set.id == entry.set.id) {
                        Some(at) if matches!(sets[at].origin, Origin::Builtin) => sets[at] = entry,
                        Some(_) => problems.push(format!(
                            "{name}: another file of the package is the rule set {:?}",
                            entry.set.id
                        )),
                        None => sets.push(entry),
                    }
                }
                Err(found) => problems.extend(found.into_iter().map(|p| format!("{name}: {p}"))),
            }
        }
        if problems.is_empty() {
            Ok(Self { sets })
        } else {
            Err(problems)
        }
    }
}

fn read_bounded(path: &Path) -> anyhow::Result<String> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .len();
    anyhow::ensure!(
        size <= parse::MAX_SOURCE_BYTES as u64,
        "{} is larger than a rule set may be ({} KiB)",
        path.display(),
        parse::MAX_SOURCE_BYTES / 1024
    );
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) -> anyhow::Result<()> {
    anyhow::ensure!(depth < 8, "{} is nested too deep", dir.display());
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            yaml_files(&path, out, depth + 1)?;
        } else if path
            .extension()
            .is_some_and(|ext| ext == "yaml" || ext == "yml")
        {
            out.push(path);
            anyhow::ensure!(
                out.len() <= MAX_FILES,
                "the package holds more than {MAX_FILES} rule files"
            );
        }
    }
    Ok(())
}

/// The package's rules in force, swapped whole by a reload.
pub struct RuleBook {
    dir: Option<PathBuf>,
    current: RwLock<Arc<PackageRules>>,
    /// One reload at a time, so the files read last are the ones in force.
    reloading: tokio::sync::Mutex<()>,
}

impl RuleBook {
    /// Reads the package at start: a broken rule file stops the server, as a broken template
    /// does.
    pub fn load(dir: Option<PathBuf>) -> anyhow::Result<Self> {
        let rules = PackageRules::read(dir.as_deref())
            .map_err(|problems| anyhow::anyhow!("the rules: {}", problems.join("; ")))?;
        Ok(Self {
            dir,
            current: RwLock::new(Arc::new(rules)),
            reloading: tokio::sync::Mutex::new(()),
        })
    }

    pub fn current(&self) -> Arc<PackageRules> {
        match self.current.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Reads the package again (off the async workers); on a problem, keeps what it had.
    pub async fn reload(self: &Arc<Self>) -> Result<Arc<PackageRules>, Vec<String>> {
        let _one_at_a_time = self.reloading.lock().await;
        let book = self.clone();
        let read = tokio::task::spawn_blocking(move || PackageRules::read(book.dir.as_deref()))
            .await
            .map_err(|error| vec![format!("the reload stopped: {error}")])??;
        let read = Arc::new(read);
        match self.current.write() {
            Ok(mut guard) => *guard = read.clone(),
            Err(poisoned) => *poisoned.into_inner() = read.clone(),
        }
        Ok(read)
    }
}
