//! Entity templates: loregraph's built-in ones and StudioBrain-style packages loaded from disk.

pub mod book;
pub mod builtin;
pub mod catalog;
pub mod generate;
pub mod package;
pub mod spec;
mod tenant;

pub use book::TemplateBook;
pub use catalog::{MarkdownTemplate, TemplateCatalog, TemplateSource, TypeTemplate};
