//! Backups of the database (`createBackup`, `loregraph backup`).

use std::path::PathBuf;

use clap::Args;

/// Where backups go and how many are kept.
#[derive(Clone, Debug)]
pub struct BackupSettings {
    /// The folder backups are written to (`<data dir>/backups` for `serve`); None: backups
    /// are off.
    pub dir: Option<PathBuf>,
    /// Where `pg_dump` and `pg_restore` are (beside `initdb` and `postgres`); searched for
    /// when unset.
    pub pg_bin_dir: Option<PathBuf>,
    /// The newest this many backups are kept; older ones are removed after each new one.
    pub keep: usize,
}

impl Default for BackupSettings {
    fn default() -> Self {
        Self {
            dir: None,
            pg_bin_dir: None,
            keep: 14,
        }
    }
}

/// The command line's (and environment's) part of the backup section.
#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Backups")]
pub struct BackupArgs {
    /// How many backups to keep in `<data dir>/backups` (the oldest go after each new one).
    #[arg(long, env = "LOREGRAPH_BACKUPS_KEEP", default_value_t = 14,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub backups_keep: u16,
}

impl BackupArgs {
    pub fn settings(self, dir: PathBuf) -> BackupSettings {
        BackupSettings {
            dir: Some(dir),
            pg_bin_dir: None,
            keep: usize::from(self.backups_keep),
        }
    }
}
