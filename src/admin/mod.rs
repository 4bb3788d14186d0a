//! The studio's admin tools: the database in numbers (`databaseStatistics`, SUPERUSER), a
//! tenant's entities counted by type (`entityCounts`), and read-only SQL for the operators
//! (`runReadOnlyQuery`, SUPERUSER only).

pub mod api;
pub mod query;
pub mod statistics;
