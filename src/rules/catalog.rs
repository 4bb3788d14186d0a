//! The template package's rule sets: loregraph's built-in ones (the core package's
//! `rules/Core/*.yaml`), replaced set by set and added to by the `rules/**/*.yaml` of the
//! package in `LOREGRAPH_TEMPLATES_DIR`. Read at start and again on `reloadRules`; a reload
//! that finds a broken file changes nothing.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::model::RuleSet;
use super::parse;
use crate::config::package::{self, Reloadable};

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
        if let Some(dir) = dir {
            let read = package::yaml_files(&dir.join("rules"), MAX_FILES, parse::MAX_SOURCE_BYTES)
                .map_err(|error| vec![format!("{error:#}")])?;
            for (name, source) in read {
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

/// The package's rules in force, swapped whole by a reload.
pub struct RuleBook(Reloadable<PackageRules>);

impl RuleBook {
    /// Reads the package at start: a broken rule file stops the server, as a broken template
    /// does.
    pub fn load(dir: Option<PathBuf>) -> anyhow::Result<Self> {
        Reloadable::load(dir, PackageRules::read)
            .map(Self)
            .map_err(|problems| anyhow::anyhow!("the rules: {}", problems.join("; ")))
    }

    pub fn current(&self) -> Arc<PackageRules> {
        self.0.current()
    }

    /// Reads the package again (off the async workers); on a problem, keeps what it had.
    pub async fn reload(&self) -> Result<Arc<PackageRules>, Vec<String>> {
        self.0.reload().await
    }
}
