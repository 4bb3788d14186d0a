//! Google Drive: where its API is, what a connection asks for, how the sync worker paces itself.

use std::time::Duration;

use clap::Args;

#[derive(Clone, Debug)]
pub struct DriveSettings {
    /// Google's API host (`https://www.googleapis.com`): Drive v3 under `/drive/v3`, uploads
    /// under `/upload/drive/v3`. Tests and proxies point it elsewhere.
    pub api_base: String,
    /// The scopes a connection asks for.
    pub scopes: Vec<String>,
    /// The largest file downloaded or uploaded through the server.
    pub max_file_bytes: usize,
    /// How often the sync worker pulls changes of every connection with a folder (webhooks
    /// make it sooner).
    pub sync_interval: Duration,
    /// How long a push channel is asked to live; it is renewed a while before it ends.
    pub channel_ttl: Duration,
}

impl Default for DriveSettings {
    fn default() -> Self {
        Self {
            api_base: "https://www.googleapis.com".into(),
            scopes: vec!["https://www.googleapis.com/auth/drive.file".into()],
            max_file_bytes: 16 * 1024 * 1024,
            sync_interval: Duration::from_secs(300),
            channel_ttl: Duration::from_secs(24 * 3600),
        }
    }
}

#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Google Drive")]
pub struct DriveArgs {
    /// Google's API host (Drive v3 and its upload API under it).
    #[arg(
        long,
        env = "LOREGRAPH_GOOGLE_API_BASE",
        default_value = "https://www.googleapis.com"
    )]
    pub google_api_base: String,
    /// Comma-separated scopes a Drive connection asks for. `drive.file` (the default) reaches
    /// only the files and folders the app created or the user picked.
    #[arg(
        long,
        env = "LOREGRAPH_DRIVE_SCOPES",
        default_value = "https://www.googleapis.com/auth/drive.file"
    )]
    pub drive_scopes: String,
    /// Seconds between the sync worker's pulls of each connected folder's changes.
    #[arg(long, env = "LOREGRAPH_DRIVE_SYNC_INTERVAL", default_value_t = 300)]
    pub drive_sync_interval: u64,
}

impl DriveArgs {
    pub fn settings(self) -> DriveSettings {
        DriveSettings {
            api_base: self.google_api_base.trim_end_matches('/').to_owned(),
            scopes: self
                .drive_scopes
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            sync_interval: Duration::from_secs(self.drive_sync_interval.max(10)),
            ..DriveSettings::default()
        }
    }
}
