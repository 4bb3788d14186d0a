//! Rows and Drive's own shapes (its v3 API's JSON).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::schema::drive_connections;

/// The fields asked of Drive for every file.
pub const FILE_FIELDS: &str =
    "id,name,mimeType,parents,modifiedTime,size,md5Checksum,version,webViewLink,trashed";
pub const FOLDER_MIME: &str = "application/vnd.google-apps.folder";
pub const GOOGLE_DOC_MIME: &str = "application/vnd.google-apps.document";
pub const MARKDOWN_MIME: &str = "text/markdown";

#[derive(Queryable, QueryableByName, Selectable, Clone, Debug)]
#[diesel(table_name = drive_connections)]
pub struct ConnectionRow {
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub google_email: Option<String>,
    pub scopes: String,
    pub sealed_tokens: Vec<u8>,
    pub access_expires_at: DateTime<Utc>,
    pub folder_id: Option<String>,
    pub folder_name: Option<String>,
    pub page_token: Option<String>,
    pub last_synced_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub round_until: Option<DateTime<Utc>>,
    pub connected_at: DateTime<Utc>,
    pub refreshed_at: Option<DateTime<Utc>>,
}

/// What is sealed in `sealed_tokens`.
#[derive(Serialize, Deserialize)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
}

/// A file (or folder) as Drive describes it.
#[derive(Deserialize, Serialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct DriveFile {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub mime_type: String,
    #[serde(default)]
    pub parents: Vec<String>,
    #[serde(default)]
    pub modified_time: Option<DateTime<Utc>>,
    /// Bytes, as a decimal string (absent for Google Docs and folders).
    #[serde(default)]
    pub size: Option<String>,
    #[serde(default)]
    pub md5_checksum: Option<String>,
    /// Grows with every change to the file (a decimal string).
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub web_view_link: Option<String>,
    #[serde(default)]
    pub trashed: bool,
}

impl DriveFile {
    pub fn is_folder(&self) -> bool {
        self.mime_type == FOLDER_MIME
    }
}

/// A page of files.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct FileList {
    #[serde(default)]
    pub files: Vec<DriveFile>,
    #[serde(default)]
    pub next_page_token: Option<String>,
}
