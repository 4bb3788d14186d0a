//! The templates in force, swapped whole by `reloadTemplates`: requests and sync workers take
//! the catalog current when they begin and keep it to their end, so a reload never changes the
//! templates under a write.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use anyhow::Context as _;

use super::catalog::TemplateCatalog;
use crate::error::{AppError, AppResult};

pub struct TemplateBook {
    dir: Option<PathBuf>,
    current: RwLock<Arc<TemplateCatalog>>,
    /// One reload at a time, so the package read last is the one in force.
    reloading: tokio::sync::Mutex<()>,
}

impl TemplateBook {
    /// The built-in templates, or the package in `dir` over them (a package that does not read
    /// stops the start, naming the file).
    pub fn load(dir: Option<PathBuf>) -> anyhow::Result<Self> {
        let catalog = read(dir.as_ref())?;
        Ok(Self {
            dir,
            current: RwLock::new(catalog),
            reloading: tokio::sync::Mutex::new(()),
        })
    }

    pub fn current(&self) -> Arc<TemplateCatalog> {
        match self.current.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Reads the package again, off the async workers; a package that does not read changes
    /// nothing and says why (BAD_USER_INPUT).
    pub async fn reload(self: &Arc<Self>) -> AppResult<Arc<TemplateCatalog>> {
        let _one_at_a_time = self.reloading.lock().await;
        let book = self.clone();
        let catalog = tokio::task::spawn_blocking(move || read(book.dir.as_ref()))
            .await
            .map_err(AppError::internal)?
            .map_err(|error| {
                AppError::bad_input(format!("the templates were not reloaded: {error:#}"))
            })?;
        match self.current.write() {
            Ok(mut guard) => *guard = catalog.clone(),
            Err(poisoned) => *poisoned.into_inner() = catalog.clone(),
        }
        Ok(catalog)
    }
}

fn read(dir: Option<&PathBuf>) -> anyhow::Result<Arc<TemplateCatalog>> {
    Ok(match dir {
        Some(dir) => {
            let catalog = TemplateCatalog::load(dir)
                .with_context(|| format!("loading the templates in {}", dir.display()))?;
            tracing::info!(dir = %dir.display(), "loaded the template package");
            Arc::new(catalog)
        }
        None => TemplateCatalog::builtin(),
    })
}
