//! The studio's admin tools: the database in numbers (`databaseStatistics`, SUPERUSER), a
//! tenant's entities counted by type (`entityCounts`), and read-only SQL for the operators
//! (`runReadOnlyQuery`, SUPERUSER only), and backups of the database (`createBackup`,
//! `backups`; restored by `loregraph backup restore`).

pub mod api;
pub mod backups;
pub mod query;
pub mod statistics;
