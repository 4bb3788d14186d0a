//! Markdown files with YAML frontmatter, the form StudioBrain projects keep entities and
//! templates in: reading them within bounds (`file`, `yaml`) and writing them back.

pub mod file;
pub mod yaml;
