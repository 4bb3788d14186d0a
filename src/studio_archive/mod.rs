//! The studio archive: a whole tenant exported as one ZIP (its live entities as markdown
//! files, the relationships drawn between them, notes, assets with their bytes, its settings,
//! and a manifest with every file's checksum), built in the background with its progress and
//! downloaded through `GET /api/migration/export/{id}`; and an archive imported into a tenant,
//! checked whole first and then applied in one transaction, or not at all with the reasons.

pub mod api;
pub mod export;
pub mod format;
pub mod import;
pub mod service;
pub mod store;
