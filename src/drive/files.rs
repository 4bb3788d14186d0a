//! A member's Drive files through their connection: folders for a picker, the studio's folder,
//! reading, writing and sharing files, and entities exported as markdown or Google Docs.

use serde_json::{Value, json};

use super::client::{Drive, check_file_id};
use super::connection::{self, not_connected};
use super::model::{ConnectionRow, DriveFile, FileList, GOOGLE_DOC_MIME, MARKDOWN_MIME};
use super::store;
use crate::auth::{Role, Viewer};
use crate::context::Platform;
use crate::entities::service::{EntityType, TemplateCatalog};
use crate::error::{AppError, AppResult};

/// Files on one page of a listing, at most.
pub const MAX_PAGE: u32 = 200;

/// Runs `call` with the viewer's Drive (WORLDBUILDER and above: Drive holds the studio's
/// worldbuilding files).
async fn with_drive<T>(
    platform: &Platform,
    viewer: &Viewer,
    call: impl AsyncFnOnce(&Drive<'_>) -> Result<T, super::client::DriveError>,
) -> AppResult<T> {
    viewer.require_role(Role::Worldbuilder)?;
    connection::with_drive(platform, viewer.tenant_id, viewer.user_id, call).await
}

async fn connection_row(platform: &Platform, viewer: &Viewer) -> AppResult<ConnectionRow> {
    let mut conn = platform.pool.get().await?;
    store::find(&mut conn, viewer.tenant_id, viewer.user_id)
        .await?
        .ok_or_else(not_connected)
}

/// The folders inside `parent` (the Drive's root when absent), by name, for a folder picker.
pub async fn folders(
    platform: &Platform,
    viewer: &Viewer,
    parent: Option<&str>,
) -> AppResult<Vec<DriveFile>> {
    let parent = parent.unwrap_or("root");
    if parent != "root" {
        check_file_id("parentId", parent)?;
    }
    let q = format!(
        "mimeType = '{}' and trashed = false and '{parent}' in parents",
        super::model::FOLDER_MIME
    );
    with_drive(platform, viewer, async |drive| {
        drive.list(&q, None, MAX_PAGE).await.map(|page| page.files)
    })
    .await
}

/// A page of the files in `folder` (the chosen folder when absent, else the root).
pub async fn list(
    platform: &Platform,
    viewer: &Viewer,
    folder: Option<&str>,
    page_token: Option<&str>,
    page_size: u32,
) -> AppResult<FileList> {
    let folder = match folder {
        Some(folder) => {
            check_file_id("folderId", folder)?;
            folder.to_owned()
        }
        None => connection_row(platform, viewer)
            .await?
            .folder_id
            .unwrap_or_else(|| "root".into()),
    };
    if page_token.is_some_and(|t| t.len() > 1024) {
        return Err(AppError::bad_field("pageToken", "this is not a page token"));
    }
    let q = format!("'{folder}' in parents and trashed = false");
    with_drive(platform, viewer, async |drive| {
        drive
            .list(&q, page_token, page_size.clamp(1, MAX_PAGE))
            .await
    })
    .await
}

pub async fn metadata(platform: &Platform, viewer: &Viewer, file_id: &str) -> AppResult<DriveFile> {
    check_file_id("id", file_id)?;
    with_drive(platform, viewer, async |drive| drive.get(file_id).await).await
}

/// A downloaded file: its name, type and bytes.
pub struct Download {
    pub name: String,
    pub mime_type: String,
    pub bytes: Vec<u8>,
}

/// The file's content (at most the configured size); Google Docs have no bytes of their own
/// (open them in Google, or export them there).
pub async fn download(platform: &Platform, viewer: &Viewer, file_id: &str) -> AppResult<Download> {
    check_file_id("id", file_id)?;
    with_drive(platform, viewer, async |drive| {
        let file = drive.get(file_id).await?;
        if file.mime_type.starts_with("application/vnd.google-apps.") {
            return Err(super::client::DriveError::Unsuitable(
                "a Google Docs, Sheets or folder item has no file content to download",
            ));
        }
        let (bytes, content_type) = drive.download(file_id).await?;
        Ok(Download {
            name: file.name,
            mime_type: content_type.unwrap_or(file.mime_type),
            bytes,
        })
    })
    .await
}

/// Replaces a file's content with `content` (text; markdown for `.md` files).
pub async fn update(
    platform: &Platform,
    viewer: &Viewer,
    file_id: &str,
    content: &str,
) -> AppResult<DriveFile> {
    check_file_id("id", file_id)?;
    if content.len() > platform.config.drive.max_file_bytes {
        return Err(AppError::PayloadTooLarge(format!(
            "the content is larger than {} MiB",
            platform.config.drive.max_file_bytes / (1024 * 1024)
        )));
    }
    with_drive(platform, viewer, async |drive| {
        let file = drive.get(file_id).await?;
        if file.mime_type.starts_with("application/vnd.google-apps.") {
            return Err(super::client::DriveError::Unsuitable(
                "a Google Docs, Sheets or folder item cannot take file content",
            ));
        }
        let mime = if file.name.ends_with(".md") {
            MARKDOWN_MIME
        } else {
            "text/plain"
        };
        drive
            .update_content(file_id, content.as_bytes().to_vec(), mime)
            .await
    })
    .await
}

/// Gives another person a role on a file; Google mails them the link.
pub async fn share(
    platform: &Platform,
    viewer: &Viewer,
    file_id: &str,
    email: &str,
    role: &str,
) -> AppResult<Value> {
    check_file_id("id", file_id)?;
    let email = crate::accounts::service::validate_email("email", email)?;
    with_drive(platform, viewer, async |drive| {
        drive.share(file_id, &email, role).await
    })
    .await
}

/// Makes `folder_id` the studio's folder for this member (it must be a folder they can reach).
pub async fn select_folder(
    platform: &Platform,
    viewer: &Viewer,
    folder_id: &str,
) -> AppResult<ConnectionRow> {
    check_file_id("folderId", folder_id)?;
    let folder = with_drive(platform, viewer, async |drive| drive.get(folder_id).await).await?;
    if !folder.is_folder() || folder.trashed {
        return Err(AppError::bad_field(
            "folderId",
            "this Drive item is not a folder (or is in the trash)",
        ));
    }
    let mut conn = platform.pool.get().await?;
    store::set_folder(
        &mut conn,
        viewer.tenant_id,
        viewer.user_id,
        &folder.id,
        &folder.name,
    )
    .await?
    .ok_or_else(not_connected)
}

/// How an entity goes to Drive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// Its markdown file, as `exportEntity` renders it.
    Markdown,
    /// A Google Doc converted by Drive from that markdown.
    GoogleDoc,
}

/// Uploads an entity to the member's chosen folder (their Drive's root without one).
pub async fn export_entity(
    platform: &Platform,
    templates: &TemplateCatalog,
    viewer: &Viewer,
    entity_type: EntityType,
    entity_id: &str,
    format: ExportFormat,
) -> AppResult<DriveFile> {
    viewer.require_role(Role::Worldbuilder)?;
    let exported = {
        let mut conn = platform.pool.get().await?;
        crate::sync::service::export(templates, &mut conn, viewer, entity_type, entity_id).await?
    };
    let folder = connection_row(platform, viewer).await?.folder_id;
    let mut metadata = match format {
        ExportFormat::Markdown => json!({ "name": exported.file_name, "mimeType": MARKDOWN_MIME }),
        ExportFormat::GoogleDoc => json!({
            "name": exported.file_name.trim_end_matches(".md"),
            "mimeType": GOOGLE_DOC_MIME,
        }),
    };
    if let Some(folder) = folder {
        metadata["parents"] = json!([folder]);
    }
    let file = with_drive(platform, viewer, async |drive| {
        drive
            .create(&metadata, exported.content.into_bytes(), MARKDOWN_MIME)
            .await
    })
    .await?;
    // A markdown file is the entity's from now on: the sync writes its changes there (a
    // Google Doc is a copy).
    if format == ExportFormat::Markdown {
        let mut conn = platform.pool.get().await?;
        if let Some(row) =
            crate::entities::service::find_live(&mut conn, viewer.tenant_id, entity_type, entity_id)
                .await?
        {
            let version = file
                .version
                .as_deref()
                .and_then(|v| v.parse().ok())
                .unwrap_or(1);
            super::sync_store::record_file(
                &mut conn,
                viewer.tenant_id,
                viewer.user_id,
                &file.id,
                version,
                file.md5_checksum.as_deref(),
                Some(super::sync_store::Held {
                    row: row.id,
                    updated_at: row.updated_at,
                    version: row.version,
                }),
            )
            .await?;
        }
    }
    Ok(file)
}

/// What `testDrive` learns: the Google account and its storage.
pub struct DriveCheck {
    pub email: Option<String>,
    pub storage_used: Option<i64>,
    pub storage_limit: Option<i64>,
}

/// Calls Drive with the connection (refreshing it if due) and says whose Drive it reaches.
pub async fn test(platform: &Platform, viewer: &Viewer) -> AppResult<DriveCheck> {
    let about = with_drive(platform, viewer, async |drive| drive.about().await).await?;
    let number = |v: &Value| {
        v.as_str()
            .and_then(|s| s.parse().ok())
            .or_else(|| v.as_i64())
    };
    Ok(DriveCheck {
        email: about["user"]["emailAddress"].as_str().map(str::to_owned),
        storage_used: number(&about["storageQuota"]["usage"]),
        storage_limit: number(&about["storageQuota"]["limit"]),
    })
}
