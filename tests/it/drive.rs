//! Google Drive: a member connects through Google's consent (offline, PKCE), the tokens are
//! sealed at rest, refreshed when due and revoked on disconnect; folders are picked, files
//! listed, read, written and shared, and entities exported as markdown or Google Docs —
//! each member reaching only their own connection.

use loregraph::config::{ProviderId, ProviderSettings};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::drive_mock::{Drive, FOLDER};
use crate::harness::{Account, PASSWORD, TestServer, count_rows, error_code};
use crate::oidc_mock::{CLIENT_ID, CLIENT_SECRET, Person, Provider};

pub async fn server_with_drive(google: &Provider, drive: &Drive) -> TestServer {
    server_on(fresh(), google, drive, None).await
}

fn fresh() -> Option<String> {
    None
}

pub async fn server_on(
    database: Option<String>,
    google: &Provider,
    drive: &Drive,
    secrets_key: Option<[u8; 32]>,
) -> TestServer {
    let issuer = google.issuer().to_owned();
    let base = drive.base.clone();
    let configure = move |config: &mut loregraph::config::AppConfig| {
        config.identity.providers.push(ProviderSettings {
            id: ProviderId::Google,
            issuer,
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
        });
        config.drive.api_base = base;
        if let Some(key) = secrets_key {
            config.llm.secrets_key = Some(key);
        }
    };
    match database {
        Some(url) => TestServer::start_on(url, configure).await,
        None => TestServer::start_with(configure).await,
    }
}

/// A browser signed in with a password, and its CSRF token.
pub struct Browser {
    http: reqwest::Client,
    csrf: String,
}

impl Browser {
    async fn sign_in(server: &TestServer, email: &str) -> Self {
        Self::sign_in_with(server, email, PASSWORD).await
    }

    async fn sign_in_with(server: &TestServer, email: &str, password: &str) -> Self {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let body: Value = http
            .post(server.url("/api/auth/web/login"))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .expect("login")
            .json()
            .await
            .expect("json");
        Self {
            http,
            csrf: body["csrf_token"].as_str().expect("csrf").to_owned(),
        }
    }

    async fn graphql(&self, server: &TestServer, query: &str, variables: Value) -> Value {
        self.http
            .post(server.url("/graphql"))
            .header("x-csrf-token", &self.csrf)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("graphql")
            .json()
            .await
            .expect("json")
    }

    async fn location(&self, url: &str) -> String {
        let response = self.http.get(url).send().await.expect("get");
        assert_eq!(response.status(), StatusCode::FOUND, "{response:?}");
        response.headers()["location"]
            .to_str()
            .expect("location")
            .to_owned()
    }
}

/// Connects `email`'s Drive through Google's consent; the browser that did it.
pub async fn connect(server: &TestServer, google: &Provider, email: &str) -> Browser {
    let browser = Browser::sign_in(server, email).await;
    let begun = browser
        .graphql(
            server,
            "mutation { beginDriveConnection(returnTo: \"/settings\") }",
            json!({}),
        )
        .await;
    let consent = begun["data"]["beginDriveConnection"]
        .as_str()
        .unwrap_or_else(|| panic!("{begun}"))
        .to_owned();
    google.signs_in(Person::verified("g-drive", "owner@gmail.example"));
    let callback = browser.location(&consent).await;
    assert!(
        callback.contains("/api/auth/oauth/google/drive/callback"),
        "{callback}"
    );
    assert_eq!(
        browser.location(&callback).await,
        "/settings?drive=connected"
    );
    browser
}

const STATUS: &str =
    "{ driveStatus { connected googleEmail scopes folder { id name } lastError } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drive_connection_is_sealed_refreshed_and_revoked() {
    let google = Provider::start().await;
    let drive = Drive::start().await;
    let server = server_with_drive(&google, &drive).await;
    let owner = server.register("owner@example.com", "Studio").await;
    let browser = connect(&server, &google, "owner@example.com").await;

    // Google was asked for Drive, offline, with the consent screen shown.
    let asked = google.seen(|seen| seen.authorizations.last().cloned().expect("asked"));
    assert!(asked["scope"].contains("https://www.googleapis.com/auth/drive.file"));
    assert_eq!(asked["access_type"], "offline");
    assert_eq!(asked["prompt"], "consent");
    assert_eq!(asked["code_challenge_method"], "S256");
    let status = server.ok_as(&owner, STATUS, json!({})).await;
    assert_eq!(status["driveStatus"]["connected"], true);
    assert_eq!(status["driveStatus"]["googleEmail"], "owner@gmail.example");

    // At rest the tokens are sealed: neither appears in the row.
    let first_access = google.seen(|seen| seen.access_tokens.last().cloned().expect("a token"));
    let mut db = server.db().await;
    assert_eq!(
        count_rows(
            &mut db,
            &format!(
                "SELECT count(*) AS n FROM drive_connections WHERE position('{first_access}'::bytea in sealed_tokens) > 0 \
                 OR position('refresh-'::bytea in sealed_tokens) > 0"
            )
        )
        .await,
        0
    );

    // Drive answers with the token Google issued.
    let check = server
        .ok_as(
            &owner,
            "mutation { testDrive { ok email storageUsed } }",
            json!({}),
        )
        .await;
    assert_eq!(check["testDrive"]["email"], "owner@gmail.example");
    assert_eq!(check["testDrive"]["storageUsed"], 2048);
    assert_eq!(drive.tokens_seen().last(), Some(&first_access));

    // A token about to expire is refreshed before the call.
    use diesel_async::RunQueryDsl;
    diesel::sql_query(
        "UPDATE drive_connections SET access_expires_at = now() + interval '10 seconds'",
    )
    .execute(&mut db)
    .await
    .expect("age the token");
    server
        .ok_as(&owner, "mutation { testDrive { ok } }", json!({}))
        .await;
    let refreshed = google.seen(|seen| seen.access_tokens.last().cloned().expect("a token"));
    assert_ne!(refreshed, first_access);
    assert_eq!(drive.tokens_seen().last(), Some(&refreshed));
    assert!(google.seen(|seen| {
        seen.token_requests
            .iter()
            .any(|form| form.get("grant_type").map(String::as_str) == Some("refresh_token"))
    }));

    // Another server with another secrets key cannot open them (a stolen database neither).
    let elsewhere = server_on(
        Some(server.database_url.clone()),
        &google,
        &drive,
        Some([9; 32]),
    )
    .await;
    let stranger_view = elsewhere
        .gql_as(&owner, "mutation { testDrive { ok } }", json!({}))
        .await;
    assert_eq!(error_code(&stranger_view), "FORBIDDEN", "{stranger_view}");
    assert_eq!(
        stranger_view["errors"][0]["extensions"]["reason"],
        "drive_reconnect"
    );

    // The owner revokes the grant at Google: the next refresh is refused, the connection says
    // so and asks for a reconnect.
    google.revoke_grants();
    diesel::sql_query("UPDATE drive_connections SET access_expires_at = now()")
        .execute(&mut db)
        .await
        .expect("expire the token");
    let body = server
        .gql_as(&owner, "mutation { testDrive { ok } }", json!({}))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["reason"], "drive_reconnect",
        "{body}"
    );
    let status = server.ok_as(&owner, STATUS, json!({})).await;
    assert!(
        status["driveStatus"]["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("connect Drive again"))
    );

    // Disconnecting revokes the grant at Google and forgets the connection.
    let body = browser
        .graphql(&server, "mutation { disconnectDrive }", json!({}))
        .await;
    assert_eq!(body["data"]["disconnectDrive"], true, "{body}");
    assert_eq!(google.seen(|seen| seen.revoked.len()), 1);
    assert!(google.seen(|seen| seen.revoked[0].starts_with("refresh-")));
    let status = server.ok_as(&owner, STATUS, json!({})).await;
    assert_eq!(status["driveStatus"]["connected"], false);
    let body = server
        .gql_as(&owner, "mutation { testDrive { ok } }", json!({}))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["reason"],
        "drive_not_connected"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_member_reaches_only_their_own_drive() {
    let google = Provider::start().await;
    let drive = Drive::start().await;
    let server = server_with_drive(&google, &drive).await;
    let owner = server.register("owner@example.com", "Studio").await;
    connect(&server, &google, "owner@example.com").await;

    // Another tenant's admin, and a player of the same tenant, get nowhere near it.
    let outsider: Account = server
        .register("outsider@example.com", "Other studio")
        .await;
    let status = server.ok_as(&outsider, STATUS, json!({})).await;
    assert_eq!(status["driveStatus"]["connected"], false);
    let body = server
        .gql_as(&outsider, "{ driveFiles { files { id } } }", json!({}))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["reason"],
        "drive_not_connected"
    );
    let player = server
        .invite_member(&owner, "player@example.com", "PLAYER")
        .await;
    let status = server.ok_as(&player, STATUS, json!({})).await;
    assert_eq!(
        status["driveStatus"]["connected"], false,
        "the player's own: none"
    );
    server
        .fails_as(
            &player,
            "mutation { testDrive { ok } }",
            json!({}),
            "FORBIDDEN",
        )
        .await;
    // Disconnecting someone else's Drive is not a thing: the outsider disconnects nothing.
    let body = server
        .ok_as(&outsider, "mutation { disconnectDrive }", json!({}))
        .await;
    assert_eq!(body["disconnectDrive"], false);
    let status = server.ok_as(&owner, STATUS, json!({})).await;
    assert_eq!(status["driveStatus"]["connected"], true);
    // Nor can a consent be carried into another member's session.
    // (`invite_member` gives the player this password.)
    let player_browser =
        Browser::sign_in_with(&server, "player@example.com", "correct horse battery").await;
    let owner_browser = Browser::sign_in(&server, "owner@example.com").await;
    let begun = owner_browser
        .graphql(&server, "mutation { beginDriveConnection }", json!({}))
        .await;
    let consent = begun["data"]["beginDriveConnection"]
        .as_str()
        .expect("url")
        .to_owned();
    let callback = owner_browser.location(&consent).await;
    assert_eq!(
        player_browser.location(&callback).await,
        "/?oauth_error=wrong_browser"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drive_files_are_picked_read_written_shared_and_entities_exported() {
    let google = Provider::start().await;
    let drive = Drive::start().await;
    let server = server_with_drive(&google, &drive).await;
    let owner = server.register("owner@example.com", "Studio").await;
    connect(&server, &google, "owner@example.com").await;
    let lore = drive.add("Lore", FOLDER, "root", b"");
    drive.add("Holiday photos", FOLDER, "root", b"");
    drive.add("notes.txt", "text/plain", "root", b"not a folder");

    // The picker shows folders only; one is chosen.
    let folders = server
        .ok_as(&owner, "{ driveFolders { id name isFolder } }", json!({}))
        .await;
    assert_eq!(
        folders["driveFolders"],
        json!([
            { "id": "folder0002", "name": "Holiday photos", "isFolder": true },
            { "id": lore, "name": "Lore", "isFolder": true },
        ])
    );
    let body = server
        .gql_as(
            &owner,
            "mutation($id: ID!) { selectDriveFolder(folderId: $id) { folder { id } } }",
            json!({ "id": "file0003" }),
        )
        .await;
    assert_eq!(
        error_code(&body),
        "BAD_USER_INPUT",
        "a file is not a folder"
    );
    let chosen = server
        .ok_as(
            &owner,
            "mutation($id: ID!) { selectDriveFolder(folderId: $id) { folder { id name } } }",
            json!({ "id": lore }),
        )
        .await;
    assert_eq!(chosen["selectDriveFolder"]["folder"]["name"], "Lore");

    // An entity goes to that folder as its markdown file, and as a Google Doc.
    server
        .ok_as(
            &owner,
            "mutation { createEntity(type: CHARACTER, input: { entityId: \"rex\", name: \"Rex Marshall\", markdownBody: \"A smuggler.\" }) { entityId } }",
            json!({}),
        )
        .await;
    let markdown = server
        .ok_as(
            &owner,
            "mutation { exportEntityToDrive(type: CHARACTER, entityId: \"rex\") { id name mimeType parents } }",
            json!({}),
        )
        .await["exportEntityToDrive"]
        .clone();
    assert_eq!(markdown["name"], "CH_rex.md");
    assert_eq!(markdown["mimeType"], "text/markdown");
    assert_eq!(markdown["parents"], json!([lore]));
    let stored = drive
        .file(markdown["id"].as_str().expect("id"))
        .expect("stored");
    let text = String::from_utf8(stored.content).expect("utf-8");
    assert!(
        text.starts_with("---\n") && text.contains("Rex Marshall") && text.contains("A smuggler."),
        "{text}"
    );
    let doc = server
        .ok_as(
            &owner,
            "mutation { exportEntityToDrive(type: CHARACTER, entityId: \"rex\", format: GOOGLE_DOC) { name mimeType } }",
            json!({}),
        )
        .await;
    assert_eq!(
        doc["exportEntityToDrive"],
        json!({ "name": "CH_rex", "mimeType": "application/vnd.google-apps.document" })
    );
    let missing = server
        .gql_as(
            &owner,
            "mutation { exportEntityToDrive(type: CHARACTER, entityId: \"nobody\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&missing), "NOT_FOUND");

    // The folder lists both; the markdown file downloads, changes and is shared.
    let listed = server
        .ok_as(
            &owner,
            "{ driveFiles { files { name } nextPageToken } }",
            json!({}),
        )
        .await;
    assert_eq!(
        listed["driveFiles"]["files"],
        json!([{ "name": "CH_rex" }, { "name": "CH_rex.md" }])
    );
    let id = markdown["id"].as_str().expect("id").to_owned();
    let downloaded = server
        .http
        .get(server.url(&format!("/api/drive/files/{id}/download")))
        .bearer_auth(&owner.token)
        .send()
        .await
        .expect("download");
    assert_eq!(downloaded.status(), StatusCode::OK);
    assert_eq!(downloaded.headers()["content-type"], "text/markdown");
    assert!(
        downloaded
            .text()
            .await
            .expect("text")
            .contains("A smuggler.")
    );
    let updated = server
        .ok_as(
            &owner,
            "mutation($id: ID!) { updateDriveFile(id: $id, content: \"# Rex\\nRetired.\") { version } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(updated["updateDriveFile"]["version"], "2");
    assert_eq!(drive.file(&id).expect("file").content, b"# Rex\nRetired.");
    let shared = server
        .ok_as(
            &owner,
            "mutation($id: ID!) { shareDriveFile(id: $id, email: \"Editor@Example.com\", role: WRITER) { role emailAddress } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        shared["shareDriveFile"],
        json!({ "role": "writer", "emailAddress": "editor@example.com" })
    );
    assert_eq!(drive.permissions().len(), 1);

    // Ids that are not Drive's never reach a URL.
    let body = server
        .gql_as(&owner, "{ driveFile(id: \"../about\") { id } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    let body = server
        .gql_as(&owner, "{ driveFile(id: \"gone\") { id } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    // Someone else's token downloads nothing of it.
    let outsider = server.register("outsider@example.com", "Other").await;
    let refused = server
        .http
        .get(server.url(&format!("/api/drive/files/{id}/download")))
        .bearer_auth(&outsider.token)
        .send()
        .await
        .expect("download");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}
