//! Google Drive, per member of a tenant: the connection (Google's consent, tokens sealed at rest,
//! refreshed before they expire, revoked on disconnect), the folder picked for the studio's
//! markdown files, and the files themselves (list, read, write, share, and entities exported
//! as markdown or as Google Docs).

pub mod api;
pub mod client;
pub mod connection;
pub mod files;
pub mod model;
pub mod service;
pub mod store;
pub mod sync;
pub mod sync_store;
pub mod take;
pub mod watch;
pub mod write_back;
