//! What other domains and the edges may ask of the story engine: where an API connection's
//! calls go (the AI helpers call models through the tenant's connections), and the files of
//! the binary routes (covers, `.chr` archives).

pub use super::cards::{cover, export as export_card, import as import_card, set_cover};
pub use super::connections::service::target as connection_target;
pub use super::packages::{export_archive as package_export, upload_import as package_upload};

/// The largest file the binary routes take (a data package with its covers).
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;
