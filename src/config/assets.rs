//! Uploaded images: where they are stored and what is accepted.

use std::path::Path;
use std::time::Duration;

use clap::Args;

/// Where uploaded images go and what is accepted.
#[derive(Clone, Debug)]
pub struct AssetSettings {
    /// A directory, or an `s3://bucket/prefix` URL for any S3-compatible store (credentials,
    /// region and endpoint from the standard `AWS_*` variables).
    pub store: String,
    /// Settings of an S3 store that override the environment's (object_store's names, such
    /// as `aws_endpoint` or `aws_allow_http`).
    pub store_options: Vec<(String, String)>,
    /// The server's public address (`https://api.example.com`): asset URLs are absolute under
    /// it; without it they are paths on this server.
    pub public_base_url: Option<String>,
    /// Largest image accepted, bytes.
    pub max_bytes: usize,
    /// Longest side accepted, pixels; with `max_pixels`, what keeps decompression bombs out.
    pub max_side: u32,
    pub max_pixels: u64,
    /// Thumbnails fit in a square of this many pixels.
    pub thumbnail_side: u32,
    /// Processing attempts before a job is marked failed; the waits between them double.
    pub max_attempts: i32,
    pub first_retry: Duration,
    /// How long a worker may hold a job before another may take it over.
    pub lease: Duration,
    /// How often an idle worker looks for due jobs (new uploads wake it at once).
    pub poll_interval: Duration,
}

impl Default for AssetSettings {
    fn default() -> Self {
        Self {
            store: "./data/assets".into(),
            store_options: Vec::new(),
            public_base_url: None,
            max_bytes: 20 * 1024 * 1024,
            max_side: 16_384,
            max_pixels: 100_000_000,
            thumbnail_side: 256,
            max_attempts: 5,
            first_retry: Duration::from_secs(5),
            lease: Duration::from_secs(300),
            poll_interval: Duration::from_secs(5),
        }
    }
}

/// The command line's (and environment's) part of the assets section.
#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Assets")]
pub struct AssetArgs {
    /// Where uploaded images are stored: a directory, or an `s3://bucket/prefix` URL for any
    /// S3-compatible store (credentials, region and endpoint from the AWS_* variables).
    /// Default: `assets` in the data directory.
    #[arg(long, env = "LOREGRAPH_ASSET_STORE")]
    pub asset_store: Option<String>,
    /// The server's public address (e.g. https://api.example.com): asset URLs are absolute under
    /// it; without it they are paths on this server.
    #[arg(long, env = "LOREGRAPH_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Largest image accepted for upload, bytes.
    #[arg(long, env = "LOREGRAPH_MAX_ASSET_BYTES", default_value_t = AssetSettings::default().max_bytes)]
    pub max_asset_bytes: usize,
}

impl AssetArgs {
    /// The section, with the store under `data_dir` unless one is given.
    pub fn settings(self, data_dir: &Path) -> AssetSettings {
        let store = match self.asset_store.filter(|s| !s.trim().is_empty()) {
            Some(store) => store,
            None => data_dir.join("assets").to_string_lossy().into_owned(),
        };
        AssetSettings {
            store,
            public_base_url: self.public_url.filter(|url| !url.trim().is_empty()),
            max_bytes: self.max_asset_bytes,
            ..AssetSettings::default()
        }
    }
}
