//! Markdown files and entities: importing files (listed, or a project folder as a ZIP),
//! exporting an entity as its file, and the one-file operations. What other edges (the REST
//! upload) call.

use diesel_async::AsyncPgConnection;

use super::entity_file::{self, project_path};
use super::import::{self, Batches, SourceFile};
use crate::auth::{Role, Viewer};
use crate::context::Platform;
use crate::entities::service::{self as entities, Bin, EntityType, TemplateCatalog};
use crate::error::{AppError, AppResult};

pub use super::cloud::service::{PushStatus, PushedChange, push};
pub use super::operations::{
    FixedMarkdown, FormattedMarkdown, FrontmatterCheck, fix, format, validate,
};
pub use super::report::{FileProblem, ImportMode, ImportReport};

/// Reading an entity's markdown file (a whole-tenant import reads its entities so).
pub use super::entity_file::{EntityFile, read as read_entity_file};

/// How many files one `importMarkdown` may list (an archive may hold more).
pub const MAX_LISTED_FILES: usize = 2_000;

/// Imports files given with their text (WORLDBUILDER).
pub async fn import_files(
    platform: &Platform,
    templates: &TemplateCatalog,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    mode: ImportMode,
    files: Vec<(String, String)>,
) -> AppResult<ImportReport> {
    viewer.require_role(Role::Worldbuilder)?;
    if files.is_empty() || files.len() > MAX_LISTED_FILES {
        return Err(AppError::bad_field(
            "files",
            format!("give 1 to {MAX_LISTED_FILES} files (or a ZIP archive of a folder for more)"),
        ));
    }
    let files = files
        .into_iter()
        .map(|(path, text)| SourceFile {
            path,
            text: Ok(text),
        })
        .collect();
    let report = import::import(
        platform,
        templates,
        conn,
        viewer,
        mode,
        Batches::listed(files),
    )
    .await?;
    import::announce_summary(platform, viewer, "import", &report);
    Ok(report)
}

/// Imports the markdown files of a project folder uploaded as a ZIP archive (WORLDBUILDER).
pub async fn import_archive(
    platform: &Platform,
    templates: &TemplateCatalog,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    mode: ImportMode,
    archive: bytes::Bytes,
) -> AppResult<ImportReport> {
    viewer.require_role(Role::Worldbuilder)?;
    let batches = super::archive::read(archive);
    let report = import::import(platform, templates, conn, viewer, mode, batches).await?;
    import::announce_summary(platform, viewer, "import", &report);
    Ok(report)
}

/// An entity as its markdown file.
pub struct ExportedFile {
    pub file_name: String,
    pub path: String,
    pub content: String,
}

/// A live entity of the viewer's tenant as its markdown file.
pub async fn export(
    templates: &TemplateCatalog,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    entity_type: EntityType,
    entity_id: &str,
) -> AppResult<ExportedFile> {
    let row = entities::find_live(conn, viewer.tenant_id, entity_type, entity_id)
        .await?
        .ok_or_else(|| entities::not_found(entity_type, entity_id, Bin::Live))?;
    Ok(render_row(templates, entity_type, &row))
}

/// An entity's row as its markdown file, at its project-folder path.
pub fn render_row(
    templates: &TemplateCatalog,
    entity_type: EntityType,
    row: &entities::EntityRow,
) -> ExportedFile {
    let content = entities::content_of(row);
    ExportedFile {
        file_name: entity_file::file_name(entity_type, &row.entity_id),
        path: project_path(entity_type, &row.entity_id),
        content: entity_file::render(
            templates.type_template(entity_type),
            entity_type,
            &content,
            row.created_at,
            row.updated_at,
        ),
    }
}
