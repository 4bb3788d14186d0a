//! Markdown files as a home for entities: the file format both ways (`entity_file`), imports
//! of listed files or a project folder's ZIP (`import`, `archive`, with the `report` they
//! give), the one-file operations (`operations`), cloud sync for desktop clients (`cloud`: the
//! change feed, pushes, conflicts), a project folder kept in sync (`folder`), and
//! `syncCompleted`.

pub mod api;
pub mod archive;
pub mod cloud;
pub mod entity_file;
pub mod folder;
pub mod import;
pub mod operations;
pub mod report;
pub mod service;
