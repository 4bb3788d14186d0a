//! Drive v3 over HTTP with a member's access token: the few calls loregraph makes, each answer
//! read within a bound, each refusal turned into the error a client should see.

use std::time::Duration;

use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::model::{DriveFile, FILE_FIELDS, FileList};
use crate::error::AppError;

/// Drive's JSON answers are small; files have their own bound.
const MAX_JSON_BYTES: usize = 1024 * 1024;

/// Why Drive did not do what was asked.
#[derive(Debug)]
pub enum DriveError {
    /// The access token was refused (expired early, or revoked at Google).
    Unauthorized,
    NotFound,
    Forbidden(String),
    /// Drive found the request malformed (a page token it does not know...).
    BadRequest(String),
    /// The file is larger than the configured bound (in bytes).
    TooLarge(usize),
    /// Not something this call can do to that kind of item (ours to say, in these words).
    Unsuitable(&'static str),
    /// Too many requests, or Google's trouble: worth another try later.
    Retryable(String),
    Other(String),
}

impl From<DriveError> for AppError {
    fn from(error: DriveError) -> Self {
        match error {
            DriveError::Unauthorized => AppError::Forbidden {
                message: "Google refused this Drive connection; connect Drive again".into(),
                reason: Some("drive_reconnect"),
            },
            DriveError::NotFound => {
                AppError::not_found("no such Drive file (or not shared with this app)")
            }
            // Google's own words go to the log (`send`), not to clients.
            DriveError::Forbidden(_) => AppError::forbidden(
                "Google Drive refused this (no access to the file, or it cannot be read this way)",
            ),
            DriveError::BadRequest(_) => {
                AppError::bad_input("Google Drive refused the request as malformed")
            }
            DriveError::Unsuitable(message) => AppError::bad_input(message),
            DriveError::TooLarge(limit) => AppError::PayloadTooLarge(format!(
                "the file is larger than {} MiB",
                limit / (1024 * 1024)
            )),
            DriveError::Retryable(_) => {
                AppError::Upstream("Google Drive is busy or unavailable; try again later".into())
            }
            DriveError::Other(_) => AppError::Upstream("Google Drive could not do this".into()),
        }
    }
}

/// Drive's API for one access token.
pub struct Drive<'a> {
    pub http: &'a reqwest::Client,
    /// `https://www.googleapis.com` or a stand-in.
    pub base: &'a str,
    pub token: &'a str,
    pub max_file_bytes: usize,
}

impl<'a> Drive<'a> {
    /// The Drive API configured for this server, called with `token`.
    pub fn of(platform: &'a crate::context::Platform, token: &'a str) -> Self {
        Self {
            http: platform.providers.http().client(),
            base: &platform.config.drive.api_base,
            token,
            max_file_bytes: platform.config.drive.max_file_bytes,
        }
    }
}

impl Drive<'_> {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        limit: usize,
    ) -> Result<(Vec<u8>, Option<String>), DriveError> {
        let response = request
            .bearer_auth(self.token)
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .map_err(|e| {
                DriveError::Retryable(if e.is_timeout() {
                    "Google did not answer in time".into()
                } else {
                    "Google could not be reached".into()
                })
            })?;
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = read_bounded(response, limit).await?;
        if status.is_success() {
            return Ok((body, content_type));
        }
        let message: String = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| {
                v["error"]["message"]
                    .as_str()
                    .map(|m| m.chars().take(300).collect())
            })
            .unwrap_or_else(|| format!("HTTP {status}"));
        tracing::info!(%status, %message, "Google Drive refused a call");
        Err(match status {
            StatusCode::UNAUTHORIZED => DriveError::Unauthorized,
            StatusCode::BAD_REQUEST => DriveError::BadRequest(message),
            StatusCode::NOT_FOUND => DriveError::NotFound,
            StatusCode::TOO_MANY_REQUESTS => DriveError::Retryable(message),
            // Drive says "rate limit exceeded" with 403 too.
            StatusCode::FORBIDDEN if message.to_ascii_lowercase().contains("rate limit") => {
                DriveError::Retryable(message)
            }
            StatusCode::FORBIDDEN => DriveError::Forbidden(message),
            status if status.is_server_error() => DriveError::Retryable(message),
            _ => DriveError::Other(message),
        })
    }

    async fn json<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, DriveError> {
        let (body, _) = self.send(request, MAX_JSON_BYTES).await?;
        serde_json::from_slice(&body).map_err(|error| {
            tracing::warn!(%error, "Drive sent an answer we cannot read");
            DriveError::Other("Google sent an answer we cannot read".into())
        })
    }

    /// Who the token belongs to and their storage (`about.get`).
    pub async fn about(&self) -> Result<Value, DriveError> {
        self.json(self.http.get(self.url("/drive/v3/about")).query(&[(
            "fields",
            "user(displayName,emailAddress),storageQuota(limit,usage)",
        )]))
        .await
    }

    /// A page of the files matching `q` (Drive's query language), by name.
    pub async fn list(
        &self,
        q: &str,
        page_token: Option<&str>,
        page_size: u32,
    ) -> Result<FileList, DriveError> {
        let fields = format!("nextPageToken,files({FILE_FIELDS})");
        let page_size = page_size.clamp(1, 1000).to_string();
        let mut query = vec![
            ("q", q),
            ("fields", fields.as_str()),
            ("pageSize", page_size.as_str()),
            ("orderBy", "folder,name"),
            ("spaces", "drive"),
        ];
        if let Some(token) = page_token {
            query.push(("pageToken", token));
        }
        self.json(self.http.get(self.url("/drive/v3/files")).query(&query))
            .await
    }

    pub async fn get(&self, file_id: &str) -> Result<DriveFile, DriveError> {
        self.json(
            self.http
                .get(self.url(&format!("/drive/v3/files/{file_id}")))
                .query(&[("fields", FILE_FIELDS)]),
        )
        .await
    }

    /// The file's bytes (`alt=media`), refused past the configured bound; and their type.
    pub async fn download(&self, file_id: &str) -> Result<(Vec<u8>, Option<String>), DriveError> {
        self.send(
            self.http
                .get(self.url(&format!("/drive/v3/files/{file_id}")))
                .query(&[("alt", "media")]),
            self.max_file_bytes,
        )
        .await
    }

    /// Replaces the file's content (`uploadType=media`).
    pub async fn update_content(
        &self,
        file_id: &str,
        content: Vec<u8>,
        mime: &str,
    ) -> Result<DriveFile, DriveError> {
        self.json(
            self.http
                .patch(self.url(&format!("/upload/drive/v3/files/{file_id}")))
                .query(&[("uploadType", "media"), ("fields", FILE_FIELDS)])
                .header(header::CONTENT_TYPE, mime)
                .body(content),
        )
        .await
    }

    /// Creates a file from `metadata` and `content` in one multipart upload. A metadata
    /// `mimeType` of a Google type (a Google Doc) makes Drive convert the content.
    pub async fn create(
        &self,
        metadata: &Value,
        content: Vec<u8>,
        content_type: &str,
    ) -> Result<DriveFile, DriveError> {
        let boundary = format!("loregraph-{}", uuid::Uuid::new_v4().simple());
        let mut body = Vec::with_capacity(content.len() + 512);
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{metadata}\r\n\
                 --{boundary}\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(&content);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        self.json(
            self.http
                .post(self.url("/upload/drive/v3/files"))
                .query(&[("uploadType", "multipart"), ("fields", FILE_FIELDS)])
                .header(
                    header::CONTENT_TYPE,
                    format!("multipart/related; boundary={boundary}"),
                )
                .body(body),
        )
        .await
    }

    /// Gives `email` a `role` (reader, commenter, writer) on the file; Google mails them.
    pub async fn share(&self, file_id: &str, email: &str, role: &str) -> Result<Value, DriveError> {
        self.json(
            self.http
                .post(self.url(&format!("/drive/v3/files/{file_id}/permissions")))
                .query(&[
                    ("sendNotificationEmail", "true"),
                    ("fields", "id,type,role,emailAddress"),
                ])
                .json(&json!({ "type": "user", "role": role, "emailAddress": email })),
        )
        .await
    }
}

/// A change in the Drive (`changes.list`).
#[derive(serde::Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    #[serde(default)]
    pub file_id: Option<String>,
    #[serde(default)]
    pub removed: bool,
    #[serde(default)]
    pub file: Option<DriveFile>,
}

/// A page of changes: either `next_page_token` (more to read) or `new_start_page_token` (the
/// place to resume from next time).
#[derive(serde::Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct ChangePage {
    #[serde(default)]
    pub changes: Vec<Change>,
    #[serde(default)]
    pub next_page_token: Option<String>,
    #[serde(default)]
    pub new_start_page_token: Option<String>,
}

/// A push channel Drive opened (`changes.watch`).
#[derive(serde::Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Channel {
    pub id: String,
    #[serde(default)]
    pub resource_id: Option<String>,
    /// Milliseconds since the epoch, as a decimal string.
    #[serde(default)]
    pub expiration: Option<String>,
}

impl Drive<'_> {
    /// Where the change feed stands now (`changes.getStartPageToken`).
    pub async fn start_page_token(&self) -> Result<String, DriveError> {
        let answer: Value = self
            .json(self.http.get(self.url("/drive/v3/changes/startPageToken")))
            .await?;
        answer["startPageToken"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| DriveError::Other("Google sent no start page token".into()))
    }

    /// The changes after `page_token`.
    pub async fn changes(&self, page_token: &str) -> Result<ChangePage, DriveError> {
        let fields =
            format!("nextPageToken,newStartPageToken,changes(fileId,removed,file({FILE_FIELDS}))");
        self.json(self.http.get(self.url("/drive/v3/changes")).query(&[
            ("pageToken", page_token),
            ("fields", fields.as_str()),
            ("includeRemoved", "true"),
            ("spaces", "drive"),
            ("pageSize", "100"),
        ]))
        .await
    }

    /// Opens a push channel for changes after `page_token`: Google posts to `address` with the
    /// channel's id and `token` until `expiration_ms`.
    pub async fn watch(
        &self,
        page_token: &str,
        channel_id: &str,
        address: &str,
        token: &str,
        expiration_ms: i64,
    ) -> Result<Channel, DriveError> {
        self.json(
            self.http
                .post(self.url("/drive/v3/changes/watch"))
                .query(&[("pageToken", page_token)])
                .json(&json!({
                    "id": channel_id, "type": "web_hook", "address": address,
                    "token": token, "expiration": expiration_ms.to_string(),
                })),
        )
        .await
    }

    /// Closes a push channel (`channels.stop`).
    pub async fn stop(&self, channel_id: &str, resource_id: &str) -> Result<(), DriveError> {
        self.send(
            self.http
                .post(self.url("/drive/v3/channels/stop"))
                .json(&json!({ "id": channel_id, "resourceId": resource_id })),
            MAX_JSON_BYTES,
        )
        .await
        .map(|_| ())
    }
}

async fn read_bounded(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, DriveError> {
    let too_large = || DriveError::TooLarge(limit);
    if response
        .content_length()
        .is_some_and(|len| len > limit as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|_| DriveError::Retryable("Google's answer broke off".into()))?
    {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A Drive file id as Drive makes them (letters, digits, `-` and `_`), or BAD_USER_INPUT: ids
/// go into URLs and queries.
pub fn check_file_id(field: &'static str, id: &str) -> Result<(), AppError> {
    let ok = (1..=200).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(AppError::bad_field(field, "this is not a Drive file id"))
    }
}
