//! A small Google Drive (v3) for the Drive tests, on an ephemeral port, speaking its wire
//! format: `about`, `files.list` (the `'<id>' in parents`, folder and trash terms of its query
//! language), `files.get` with `alt=media`, the upload API (`uploadType=multipart` and
//! `media`), and `permissions.create`. Every call must carry a bearer token the test provider
//! issued; the tokens seen are recorded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

macro_rules! authorized {
    ($drive:expr, $headers:expr) => {
        if !$drive.authorized(&$headers) {
            return refused(StatusCode::UNAUTHORIZED, "Invalid Credentials");
        }
    };
}

pub const FOLDER: &str = "application/vnd.google-apps.folder";

#[derive(Clone, Debug)]
pub struct StoredFile {
    pub meta: Value,
    pub content: Vec<u8>,
}

/// A push channel the server opened.
#[derive(Clone, Debug)]
pub struct Watch {
    pub id: String,
    pub token: String,
    pub address: String,
    pub resource_id: String,
    pub stopped: bool,
}

#[derive(Default)]
struct Inner {
    files: Mutex<HashMap<String, StoredFile>>,
    /// The change feed: file ids in the order they changed (a page token is an index).
    changes: Mutex<Vec<String>>,
    watches: Mutex<Vec<Watch>>,
    downloads: Mutex<HashMap<String, usize>>,
    lists: Mutex<usize>,
    /// Answers to give `changes.list` before answering for real (429s, 500s).
    failures: Mutex<Vec<StatusCode>>,
    permissions: Mutex<Vec<(String, Value)>>,
    tokens_seen: Mutex<Vec<String>>,
    next: Mutex<u64>,
}

#[derive(Clone, Default)]
pub struct Drive {
    inner: Arc<Inner>,
    pub base: String,
}

impl Drive {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let drive = Drive {
            base: format!("http://{}", listener.local_addr().expect("addr")),
            ..Drive::default()
        };
        let app = Router::new()
            .route("/drive/v3/about", get(about))
            .route("/drive/v3/changes/startPageToken", get(start_page_token))
            .route("/drive/v3/changes", get(changes))
            .route("/drive/v3/changes/watch", post(watch))
            .route("/drive/v3/channels/stop", post(stop))
            .route("/drive/v3/files", get(list))
            .route("/drive/v3/files/{id}", get(get_file))
            .route("/drive/v3/files/{id}/permissions", post(share))
            .route("/upload/drive/v3/files", post(create))
            .route("/upload/drive/v3/files/{id}", axum::routing::patch(update))
            .with_state(drive.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        drive
    }

    fn next_id(&self, prefix: &str) -> String {
        let mut next = self.inner.next.lock().unwrap();
        *next += 1;
        format!("{prefix}{:04}", *next)
    }

    /// Adds a file (or folder) as if the user made it in Drive's own UI; its id.
    pub fn add(&self, name: &str, mime: &str, parent: &str, content: &[u8]) -> String {
        let id = self.add_quietly(name, mime, parent, content);
        self.inner.changes.lock().unwrap().push(id.clone());
        id
    }

    fn add_quietly(&self, name: &str, mime: &str, parent: &str, content: &[u8]) -> String {
        let id = self.next_id(if mime == FOLDER { "folder" } else { "file" });
        let meta = json!({
            "id": id, "name": name, "mimeType": mime, "parents": [parent], "version": "1",
            "trashed": false, "modifiedTime": chrono::Utc::now().to_rfc3339(),
        });
        self.inner.files.lock().unwrap().insert(
            id.clone(),
            StoredFile {
                meta,
                content: content.to_vec(),
            },
        );
        id
    }

    /// Someone edits a file in Drive: a new version and a change in the feed.
    pub fn edit(&self, id: &str, content: &[u8]) {
        {
            let mut files = self.inner.files.lock().unwrap();
            let file = files.get_mut(id).expect("a file to edit");
            bump(&mut file.meta);
            file.content = content.to_vec();
        }
        self.inner.changes.lock().unwrap().push(id.to_owned());
    }

    pub fn watches(&self) -> Vec<Watch> {
        self.inner.watches.lock().unwrap().clone()
    }

    /// How often files were listed (`files.list`).
    pub fn list_calls(&self) -> usize {
        *self.inner.lists.lock().unwrap()
    }

    /// How often a file's content was downloaded.
    pub fn downloads(&self, id: &str) -> usize {
        self.inner
            .downloads
            .lock()
            .unwrap()
            .get(id)
            .copied()
            .unwrap_or(0)
    }

    /// The next `changes.list` calls answer these statuses first.
    pub fn fail_changes_with(&self, statuses: &[StatusCode]) {
        *self.inner.failures.lock().unwrap() = statuses.to_vec();
    }

    pub fn file(&self, id: &str) -> Option<StoredFile> {
        self.inner.files.lock().unwrap().get(id).cloned()
    }

    pub fn files(&self) -> Vec<StoredFile> {
        self.inner.files.lock().unwrap().values().cloned().collect()
    }

    pub fn permissions(&self) -> Vec<(String, Value)> {
        self.inner.permissions.lock().unwrap().clone()
    }

    /// The bearer tokens calls carried, in order.
    pub fn tokens_seen(&self) -> Vec<String> {
        self.inner.tokens_seen.lock().unwrap().clone()
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned);
        match token {
            Some(token) if token.starts_with("access-") => {
                self.inner.tokens_seen.lock().unwrap().push(token);
                true
            }
            _ => false,
        }
    }
}

fn bump(meta: &mut Value) {
    let version: u64 = meta["version"]
        .as_str()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    meta["version"] = json!((version + 1).to_string());
}

async fn start_page_token(State(drive): State<Drive>, headers: HeaderMap) -> Response {
    authorized!(drive, headers);
    let position = drive.inner.changes.lock().unwrap().len();
    axum::Json(json!({ "startPageToken": position.to_string() })).into_response()
}

/// Two changes a page, so a round reads several.
async fn changes(
    State(drive): State<Drive>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    authorized!(drive, headers);
    let failure = {
        let mut failures = drive.inner.failures.lock().unwrap();
        (!failures.is_empty()).then(|| failures.remove(0))
    };
    if let Some(status) = failure {
        return refused(status, "Rate Limit Exceeded");
    }
    let Some(from) = query.get("pageToken").and_then(|t| t.parse::<usize>().ok()) else {
        return refused(StatusCode::BAD_REQUEST, "Invalid pageToken");
    };
    let feed = drive.inner.changes.lock().unwrap().clone();
    let upto = (from + 2).min(feed.len());
    let listed: Vec<Value> = feed[from.min(upto)..upto]
        .iter()
        .map(|id| match drive.file(id) {
            Some(file) => json!({ "fileId": id, "removed": false, "file": file.meta }),
            None => json!({ "fileId": id, "removed": true }),
        })
        .collect();
    let mut page = json!({ "changes": listed });
    if upto < feed.len() {
        page["nextPageToken"] = json!(upto.to_string());
    } else {
        page["newStartPageToken"] = json!(feed.len().to_string());
    }
    axum::Json(page).into_response()
}

async fn watch(
    State(drive): State<Drive>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    authorized!(drive, headers);
    if !query.contains_key("pageToken") || body["type"] != "web_hook" {
        return refused(StatusCode::BAD_REQUEST, "bad watch request");
    }
    let resource_id = format!("res-{}", drive.watches().len() + 1);
    drive.inner.watches.lock().unwrap().push(Watch {
        id: body["id"].as_str().unwrap_or_default().to_owned(),
        token: body["token"].as_str().unwrap_or_default().to_owned(),
        address: body["address"].as_str().unwrap_or_default().to_owned(),
        resource_id: resource_id.clone(),
        stopped: false,
    });
    axum::Json(json!({
        "kind": "api#channel", "id": body["id"], "resourceId": resource_id,
        "resourceUri": "https://www.googleapis.com/drive/v3/changes", "expiration": body["expiration"],
    }))
    .into_response()
}

async fn stop(
    State(drive): State<Drive>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    authorized!(drive, headers);
    let mut watches = drive.inner.watches.lock().unwrap();
    match watches
        .iter_mut()
        .find(|w| body["id"] == w.id.as_str() && body["resourceId"] == w.resource_id.as_str())
    {
        Some(watch) => {
            watch.stopped = true;
            StatusCode::NO_CONTENT.into_response()
        }
        None => refused(StatusCode::NOT_FOUND, "Channel not found"),
    }
}

fn refused(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error": { "code": status.as_u16(), "message": message } })),
    )
        .into_response()
}

async fn about(State(drive): State<Drive>, headers: HeaderMap) -> Response {
    authorized!(drive, headers);
    axum::Json(json!({
        "user": { "displayName": "Drive Owner", "emailAddress": "owner@gmail.example" },
        "storageQuota": { "usage": "2048", "limit": "16106127360" },
    }))
    .into_response()
}

async fn list(
    State(drive): State<Drive>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    authorized!(drive, headers);
    *drive.inner.lists.lock().unwrap() += 1;
    let q = query.get("q").cloned().unwrap_or_default();
    let parent = q
        .split('\'')
        .nth(1)
        .filter(|_| q.contains("in parents"))
        .map(str::to_owned);
    let folders_only = q.contains(&format!("mimeType = '{FOLDER}'"));
    let mut files: Vec<Value> = drive
        .files()
        .into_iter()
        .map(|f| f.meta)
        .filter(|meta| {
            let in_parent = match (&parent, meta["parents"].as_array()) {
                // The parent is the first quoted term when the query names one.
                (Some(p), Some(parents)) => {
                    let wanted = if q.starts_with("mimeType") {
                        q.split('\'').nth(3).unwrap_or(p)
                    } else {
                        p.as_str()
                    };
                    parents.iter().any(|x| x == wanted)
                }
                _ => true,
            };
            in_parent && meta["trashed"] == false && (!folders_only || meta["mimeType"] == FOLDER)
        })
        .collect();
    files.sort_by_key(|m| m["name"].as_str().unwrap_or_default().to_owned());
    axum::Json(json!({ "files": files })).into_response()
}

async fn get_file(
    State(drive): State<Drive>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    authorized!(drive, headers);
    let Some(file) = drive.file(&id) else {
        return refused(StatusCode::NOT_FOUND, &format!("File not found: {id}."));
    };
    if query.get("alt").map(String::as_str) == Some("media") {
        *drive
            .inner
            .downloads
            .lock()
            .unwrap()
            .entry(id.clone())
            .or_default() += 1;
        let mime = file.meta["mimeType"]
            .as_str()
            .unwrap_or("application/octet-stream")
            .to_owned();
        return ([(header::CONTENT_TYPE, mime)], file.content).into_response();
    }
    axum::Json(file.meta).into_response()
}

async fn share(
    State(drive): State<Drive>,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    authorized!(drive, headers);
    if drive.file(&id).is_none() {
        return refused(StatusCode::NOT_FOUND, "File not found");
    }
    let permission = json!({
        "id": format!("perm-{}", drive.permissions().len() + 1),
        "type": body["type"], "role": body["role"], "emailAddress": body["emailAddress"],
    });
    drive
        .inner
        .permissions
        .lock()
        .unwrap()
        .push((id, permission.clone()));
    axum::Json(permission).into_response()
}

/// `uploadType=multipart`: a `multipart/related` body of the metadata (JSON) and the content.
async fn create(
    State(drive): State<Drive>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    authorized!(drive, headers);
    if query.get("uploadType").map(String::as_str) != Some("multipart") {
        return refused(StatusCode::BAD_REQUEST, "only multipart uploads here");
    }
    let Some(boundary) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.starts_with("multipart/related"))
        .and_then(|v| v.split("boundary=").nth(1))
        .map(|b| b.trim_matches('"').to_owned())
    else {
        return refused(StatusCode::BAD_REQUEST, "not multipart/related");
    };
    let text = String::from_utf8_lossy(&body).into_owned();
    let parts: Vec<&str> = text
        .split(&format!("--{boundary}"))
        .filter(|p| !p.trim().is_empty() && p.trim() != "--")
        .collect();
    let part_body = |part: &str| {
        part.split_once("\r\n\r\n")
            .map(|(_, b)| b.strip_suffix("\r\n").unwrap_or(b).to_owned())
            .unwrap_or_default()
    };
    let (Some(meta), Some(content)) = (parts.first(), parts.get(1)) else {
        return refused(StatusCode::BAD_REQUEST, "two parts expected");
    };
    let Ok(mut meta) = serde_json::from_str::<Value>(&part_body(meta)) else {
        return refused(StatusCode::BAD_REQUEST, "metadata is not JSON");
    };
    let mime = meta["mimeType"]
        .as_str()
        .unwrap_or("application/octet-stream")
        .to_owned();
    let id = drive.next_id("file");
    meta["id"] = json!(id);
    meta["version"] = json!("1");
    meta["trashed"] = json!(false);
    if meta["parents"].is_null() {
        meta["parents"] = json!(["root"]);
    }
    meta["mimeType"] = json!(mime);
    drive.inner.files.lock().unwrap().insert(
        id.clone(),
        StoredFile {
            meta: meta.clone(),
            content: part_body(content).into_bytes(),
        },
    );
    drive.inner.changes.lock().unwrap().push(id);
    axum::Json(meta).into_response()
}

/// `uploadType=media`: the body is the new content.
async fn update(
    State(drive): State<Drive>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    authorized!(drive, headers);
    let mut files = drive.inner.files.lock().unwrap();
    let Some(file) = files.get_mut(&id) else {
        return refused(StatusCode::NOT_FOUND, "File not found");
    };
    bump(&mut file.meta);
    file.content = body.to_vec();
    let meta = file.meta.clone();
    drop(files);
    drive.inner.changes.lock().unwrap().push(id);
    axum::Json(meta).into_response()
}
