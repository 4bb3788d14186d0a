//! Cloud sync for desktop clients: the change feed (`pullChanges`), pushes with their
//! receipts and conflicts (`pushChanges`, `syncConflicts`, `resolveConflict`).

pub mod api;
pub mod feed;
pub mod service;
pub mod store;
