//! A tenant's project folder on the server's disk kept in sync with its entities: bound by an
//! ADMIN under the projects root (`service`, `store`), watched (`watcher`: files imported
//! within a second of a save, API changes written back), read and written within bounds
//! (`disk`), file by file (`sync`).

pub mod api;
pub mod disk;
pub mod service;
pub mod store;
pub mod sync;
pub mod watcher;
pub mod write_back;
