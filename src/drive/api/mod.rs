//! GraphQL of Google Drive: the member's connection, their files, and entities sent there.

use std::sync::Arc;

pub mod sync;

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::connection;
use super::files::{self, ExportFormat};
use super::model::{ConnectionRow, DriveFile as FileRow};
use super::store;
use crate::auth::Role;
use crate::context::ContextExt;
use crate::entities::service::{EntityType, TemplateBook};
use crate::error::AppResult;

/// A file or folder in Google Drive.
#[derive(SimpleObject)]
pub struct DriveFile {
    /// Drive's id of the file.
    pub id: ID,
    /// Its name (with its extension).
    pub name: String,
    /// Its media type (`application/vnd.google-apps.folder` for folders).
    pub mime_type: String,
    /// Whether it is a folder.
    pub is_folder: bool,
    /// The folders it is in.
    pub parents: Vec<String>,
    /// When it last changed.
    pub modified_at: Option<DateTime<Utc>>,
    /// Its size in bytes (none for Google Docs and folders).
    pub size: Option<String>,
    /// The MD5 of its content, when Drive keeps one.
    pub md5_checksum: Option<String>,
    /// Drive's version counter, which grows with every change.
    pub version: Option<String>,
    /// Where to open it in a browser.
    pub web_view_link: Option<String>,
    /// Whether it is in the trash.
    pub trashed: bool,
}

impl From<FileRow> for DriveFile {
    fn from(file: FileRow) -> Self {
        Self {
            is_folder: file.is_folder(),
            id: ID(file.id),
            name: file.name,
            mime_type: file.mime_type,
            parents: file.parents,
            modified_at: file.modified_time,
            size: file.size,
            md5_checksum: file.md5_checksum,
            version: file.version,
            web_view_link: file.web_view_link,
            trashed: file.trashed,
        }
    }
}

/// A page of Drive files.
#[derive(SimpleObject)]
pub struct DriveFilePage {
    /// The files, folders first, by name.
    pub files: Vec<DriveFile>,
    /// Pass as `pageToken` for the next page; null on the last.
    pub next_page_token: Option<String>,
}

/// The folder the studio's markdown files live in.
#[derive(SimpleObject)]
pub struct DriveFolder {
    /// Drive's id of the folder.
    pub id: ID,
    /// Its name.
    pub name: String,
}

/// Your Google Drive connection in this tenant.
#[derive(SimpleObject)]
pub struct DriveStatus {
    /// Whether Drive is connected.
    pub connected: bool,
    /// The Google account it reaches.
    pub google_email: Option<String>,
    /// The scopes Google granted.
    pub scopes: Vec<String>,
    /// The folder chosen with `selectDriveFolder`.
    pub folder: Option<DriveFolder>,
    /// When the consent was given.
    pub connected_at: Option<DateTime<Utc>>,
    /// When the current access token expires (it is refreshed before then, as it is used).
    pub access_expires_at: Option<DateTime<Utc>>,
    /// The last problem with the connection (Google revoked it...), cleared by a success.
    pub last_error: Option<String>,
}

impl DriveStatus {
    fn of(row: Option<ConnectionRow>) -> Self {
        match row {
            None => Self {
                connected: false,
                google_email: None,
                scopes: Vec::new(),
                folder: None,
                connected_at: None,
                access_expires_at: None,
                last_error: None,
            },
            Some(row) => Self {
                connected: true,
                google_email: row.google_email,
                scopes: row.scopes.split_whitespace().map(str::to_owned).collect(),
                folder: row.folder_id.map(|id| DriveFolder {
                    id: ID(id),
                    name: row.folder_name.unwrap_or_default(),
                }),
                connected_at: Some(row.connected_at),
                access_expires_at: Some(row.access_expires_at),
                last_error: row.last_error,
            },
        }
    }
}

/// What `testDrive` found.
#[derive(SimpleObject)]
pub struct DriveCheck {
    /// True: Drive answered with this connection.
    pub ok: bool,
    /// The Google account's address.
    pub email: Option<String>,
    /// Bytes used in the account's storage.
    pub storage_used: Option<i64>,
    /// The account's storage limit in bytes (none when unlimited).
    pub storage_limit: Option<i64>,
}

/// A person's access to a shared file.
#[derive(SimpleObject)]
pub struct DrivePermission {
    /// Drive's id of the permission.
    pub id: Option<String>,
    /// Their role.
    pub role: Option<String>,
    /// Their address.
    pub email_address: Option<String>,
}

/// How an entity is sent to Drive.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum DriveExportFormat {
    /// Its markdown file (`.md`), as `exportEntity` renders it.
    Markdown,
    /// A Google Doc, converted by Drive from that markdown.
    GoogleDoc,
}

/// What a person may do with a shared file.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum DriveShareRole {
    /// Read it.
    Reader,
    /// Read and comment.
    Commenter,
    /// Change it.
    Writer,
}

impl DriveShareRole {
    fn as_drive(self) -> &'static str {
        match self {
            Self::Reader => "reader",
            Self::Commenter => "commenter",
            Self::Writer => "writer",
        }
    }
}

#[derive(Default)]
pub struct DriveQuery;

#[Object]
impl DriveQuery {
    /// Your Drive connection in this tenant (`connected: false` when there is none). Any
    /// member sees their own (one who lost WORLDBUILDER may still disconnect it).
    async fn drive_status(&self, ctx: &Context<'_>) -> AppResult<DriveStatus> {
        let viewer = ctx.viewer()?;
        let mut conn = ctx.platform().pool.get().await?;
        Ok(DriveStatus::of(
            store::find(&mut conn, viewer.tenant_id, viewer.user_id).await?,
        ))
    }

    /// The folders inside a folder, for a folder picker (WORLDBUILDER).
    async fn drive_folders(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The folder to look in; your Drive's root when absent.")]
        parent_id: Option<ID>,
    ) -> AppResult<Vec<DriveFile>> {
        let found = files::folders(
            ctx.platform(),
            ctx.viewer()?,
            parent_id.as_ref().map(|id| id.as_str()),
        )
        .await?;
        Ok(found.into_iter().map(DriveFile::from).collect())
    }

    /// A page of the files in a folder (WORLDBUILDER).
    async fn drive_files(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The folder; the chosen folder (or the root) when absent.")]
        folder_id: Option<ID>,
        #[graphql(desc = "`nextPageToken` of the page before.")] page_token: Option<String>,
        #[graphql(default = 100, desc = "Files per page, 1 to 200.")] page_size: u32,
    ) -> AppResult<DriveFilePage> {
        let page = files::list(
            ctx.platform(),
            ctx.viewer()?,
            folder_id.as_ref().map(|id| id.as_str()),
            page_token.as_deref(),
            page_size,
        )
        .await?;
        Ok(DriveFilePage {
            files: page.files.into_iter().map(DriveFile::from).collect(),
            next_page_token: page.next_page_token,
        })
    }

    /// One file's metadata (WORLDBUILDER).
    async fn drive_file(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Drive's id of the file.")] id: ID,
    ) -> AppResult<DriveFile> {
        Ok(files::metadata(ctx.platform(), ctx.viewer()?, &id)
            .await?
            .into())
    }
}

#[derive(Default)]
pub struct DriveMutation;

#[Object]
impl DriveMutation {
    /// Starts connecting your Google Drive (WORLDBUILDER): open the URL returned in the browser
    /// holding your web session, consent at Google, and land on `returnTo` with
    /// `?drive=connected` (or `?oauth_error=`).
    async fn begin_drive_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "A path on this server, or a URL of an allowed web origin; `/` when absent."
        )]
        return_to: Option<String>,
    ) -> AppResult<String> {
        let viewer = ctx.viewer()?;
        viewer.require_role(Role::Worldbuilder)?;
        crate::accounts::service::begin_drive_consent(
            ctx.platform(),
            viewer,
            return_to.as_deref(),
            &ctx.auth().client,
        )
        .await
    }

    /// Chooses the folder the studio's markdown files live in.
    async fn select_drive_folder(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Drive's id of the folder.")] folder_id: ID,
    ) -> AppResult<DriveStatus> {
        let row = files::select_folder(ctx.platform(), ctx.viewer()?, &folder_id).await?;
        Ok(DriveStatus::of(Some(row)))
    }

    /// Disconnects your Drive (any member: their own): its channels close, Google revokes
    /// the grant, and the connection is forgotten. False when there was none.
    async fn disconnect_drive(&self, ctx: &Context<'_>) -> AppResult<bool> {
        let viewer = ctx.viewer()?;
        connection::disconnect(ctx.platform(), viewer.tenant_id, viewer.user_id).await
    }

    /// Calls Drive with your connection (refreshing it when due) and says whose Drive it is.
    async fn test_drive(&self, ctx: &Context<'_>) -> AppResult<DriveCheck> {
        let check = files::test(ctx.platform(), ctx.viewer()?).await?;
        Ok(DriveCheck {
            ok: true,
            email: check.email,
            storage_used: check.storage_used,
            storage_limit: check.storage_limit,
        })
    }

    /// Replaces a Drive file's content with text (a markdown file's, typically).
    async fn update_drive_file(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Drive's id of the file.")] id: ID,
        #[graphql(desc = "The new content.")] content: String,
    ) -> AppResult<DriveFile> {
        Ok(files::update(ctx.platform(), ctx.viewer()?, &id, &content)
            .await?
            .into())
    }

    /// Shares a Drive file with someone (Google mails them).
    async fn share_drive_file(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Drive's id of the file.")] id: ID,
        #[graphql(desc = "Their email address.")] email: String,
        #[graphql(desc = "What they may do.")] role: DriveShareRole,
    ) -> AppResult<DrivePermission> {
        let permission =
            files::share(ctx.platform(), ctx.viewer()?, &id, &email, role.as_drive()).await?;
        let text = |key: &str| permission[key].as_str().map(str::to_owned);
        Ok(DrivePermission {
            id: text("id"),
            role: text("role"),
            email_address: text("emailAddress"),
        })
    }

    /// Uploads an entity to your chosen Drive folder as its markdown file or as a Google Doc.
    async fn export_entity_to_drive(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entity's type.")] r#type: EntityType,
        #[graphql(desc = "The entity's id.")] entity_id: String,
        #[graphql(
            default_with = "DriveExportFormat::Markdown",
            desc = "Markdown (default) or a Google Doc."
        )]
        format: DriveExportFormat,
    ) -> AppResult<DriveFile> {
        let templates = ctx
            .part::<Arc<TemplateBook>>()?
            .for_tenant(&ctx.platform().pool, ctx.viewer()?.tenant_id)
            .await?;
        let format = match format {
            DriveExportFormat::Markdown => ExportFormat::Markdown,
            DriveExportFormat::GoogleDoc => ExportFormat::GoogleDoc,
        };
        Ok(files::export_entity(
            ctx.platform(),
            &templates,
            ctx.viewer()?,
            r#type,
            &entity_id,
            format,
        )
        .await?
        .into())
    }
}
