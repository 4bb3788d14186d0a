//! Drive's push notifications and sync worker: the chosen folder's markdown files imported
//! (all of them the first time, then each new version once however its notifications arrive),
//! entity changes written back, Google's 429s retried, the place in the feed kept across a
//! restart, and forged notifications changing nothing.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::drive::{connect, server_on, server_with_drive};
use crate::drive_mock::{Drive, FOLDER};
use crate::harness::{Account, TestServer};
use crate::oidc_mock::Provider;

const REX: &str = "---\nname: Rex Marshall\n---\nA smuggler.\n";
const FORCE: &str =
    "mutation { forceDriveSync { ran imported unchanged failed skipped conflicts } }";
const BODY: &str = "{ entity(type: CHARACTER, entityId: \"rex\") { markdownBody } }";

/// A connected member with the folder `Lore` (holding `CH_rex.md`) chosen; the file's id.
async fn with_folder(
    server: &TestServer,
    google: &Provider,
    drive: &Drive,
    owner: &Account,
) -> String {
    connect(server, google, "owner@example.com").await;
    let lore = drive.add("Lore", FOLDER, "root", b"");
    let rex = drive.add("CH_rex.md", "text/markdown", &lore, REX.as_bytes());
    drive.add("cover.png", "image/png", &lore, b"\x89PNG");
    server
        .ok_as(
            owner,
            "mutation($id: ID!) { selectDriveFolder(folderId: $id) { folder { id } } }",
            json!({ "id": lore }),
        )
        .await;
    rex
}

/// The entity's body, without the file's last line break.
async fn body_of(server: &TestServer, owner: &Account) -> String {
    server.ok_as(owner, BODY, json!({})).await["entity"]["markdownBody"]
        .as_str()
        .unwrap_or_default()
        .trim_end()
        .to_owned()
}

/// Polls until the entity's body is `expected` (the worker runs on its own time).
async fn wait_for_body(server: &TestServer, owner: &Account, expected: &str) {
    for _ in 0..200 {
        if body_of(server, owner).await == expected {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the entity never became {expected:?}");
}

async fn notify(
    server: &TestServer,
    id: &str,
    token: &str,
    state: &str,
    number: u64,
) -> StatusCode {
    server
        .http
        .post(server.url("/api/drive/webhook"))
        .header("x-goog-channel-id", id)
        .header("x-goog-channel-token", token)
        .header("x-goog-resource-state", state)
        .header("x-goog-message-number", number.to_string())
        .header("x-goog-resource-id", "res-1")
        .send()
        .await
        .expect("webhook")
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drive_change_is_imported_once_however_its_notifications_arrive() {
    let google = Provider::start().await;
    let drive = Drive::start().await;
    let server = server_with_drive(&google, &drive).await;
    let owner = server.register("owner@example.com", "Studio").await;
    let rex = with_folder(&server, &google, &drive, &owner).await;

    // The first round reads the whole folder: the markdown file becomes an entity.
    let round = server.ok_as(&owner, FORCE, json!({})).await;
    assert_eq!(
        round["forceDriveSync"],
        json!({ "ran": true, "imported": 1, "unchanged": 0, "failed": 0, "skipped": 1, "conflicts": 0 })
    );
    assert_eq!(body_of(&server, &owner).await, "A smuggler.");
    let status = server
        .ok_as(
            &owner,
            "{ driveSyncStatus { hasFolder started filesTracked lastError } }",
            json!({}),
        )
        .await;
    assert_eq!(
        status["driveSyncStatus"],
        json!({ "hasFolder": true, "started": true, "filesTracked": 1, "lastError": null })
    );

    // A push channel is opened with an unguessable id and token.
    let watch = server
        .ok_as(
            &owner,
            "mutation { registerDriveWatch { address expiresAt } }",
            json!({}),
        )
        .await;
    assert!(
        watch["registerDriveWatch"]["address"]
            .as_str()
            .is_some_and(|a| a.ends_with("/api/drive/webhook"))
    );
    let channel = drive.watches().last().cloned().expect("a channel");
    assert!(channel.id.len() >= 32 && channel.token.len() >= 43);
    assert!(channel.address.ends_with("/api/drive/webhook"));

    // Google says "sync" when the channel opens: nothing to do.
    assert_eq!(
        notify(&server, &channel.id, &channel.token, "sync", 1).await,
        StatusCode::OK
    );
    // Someone edits the file in Drive; the notification comes twice, and an older one late.
    drive.edit(&rex, b"---\nname: Rex Marshall\n---\nRetired smuggler.\n");
    assert_eq!(
        notify(&server, &channel.id, &channel.token, "change", 5).await,
        StatusCode::OK
    );
    assert_eq!(
        notify(&server, &channel.id, &channel.token, "change", 5).await,
        StatusCode::OK
    );
    assert_eq!(
        notify(&server, &channel.id, &channel.token, "change", 4).await,
        StatusCode::OK
    );
    wait_for_body(&server, &owner, "Retired smuggler.").await;
    // Another round finds nothing new: that version was imported once.
    let round = server.ok_as(&owner, FORCE, json!({})).await;
    assert_eq!(round["forceDriveSync"]["imported"], 0, "{round}");
    assert_eq!(
        drive.downloads(&rex),
        2,
        "the file was read for its first and second version only"
    );

    // Forged notifications are refused and take nothing (the channel's count stays).
    let taken = server
        .ok_as(&owner, "{ driveWatchStatus { lastMessage } }", json!({}))
        .await;
    assert_eq!(
        taken["driveWatchStatus"]["lastMessage"], 5,
        "the repeat and the late one took nothing"
    );
    drive.edit(&rex, b"---\nname: Rex Marshall\n---\nForged.\n");
    assert_eq!(
        notify(&server, &channel.id, "a-guess", "change", 9).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        notify(&server, "no-such-channel", &channel.token, "change", 9).await,
        StatusCode::NOT_FOUND
    );
    let missing_token = server
        .http
        .post(server.url("/api/drive/webhook"))
        .header("x-goog-channel-id", &channel.id)
        .header("x-goog-resource-state", "change")
        .send()
        .await
        .expect("webhook");
    assert_eq!(missing_token.status(), StatusCode::NOT_FOUND);
    let taken = server
        .ok_as(&owner, "{ driveWatchStatus { lastMessage } }", json!({}))
        .await;
    assert_eq!(taken["driveWatchStatus"]["lastMessage"], 5);

    // A stopped channel is refused too, and Google was told to stop it.
    let stopped = server
        .ok_as(&owner, "mutation { unregisterDriveWatch }", json!({}))
        .await;
    assert_eq!(stopped["unregisterDriveWatch"], true);
    assert!(drive.watches().last().expect("channel").stopped);
    assert_eq!(
        notify(&server, &channel.id, &channel.token, "change", 10).await,
        StatusCode::NOT_FOUND
    );
    let status = server
        .ok_as(&owner, "{ driveWatchStatus { expiresAt } }", json!({}))
        .await;
    assert_eq!(status["driveWatchStatus"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entity_changes_go_back_to_drive_and_the_feed_survives_a_restart() {
    let google = Provider::start().await;
    let drive = Drive::start().await;
    let server = server_with_drive(&google, &drive).await;
    let owner = server.register("owner@example.com", "Studio").await;
    let rex = with_folder(&server, &google, &drive, &owner).await;
    let database_url = server.database_url.clone();
    server.ok_as(&owner, FORCE, json!({})).await;

    // An edit through the API is written to the Drive file that holds the entity.
    server
        .ok_as(
            &owner,
            "mutation { updateEntity(type: CHARACTER, entityId: \"rex\", input: { markdownBody: \"Captain now.\" }) { entityId } }",
            json!({}),
        )
        .await;
    let mut written = false;
    for _ in 0..200 {
        let content = String::from_utf8(drive.file(&rex).expect("file").content).expect("utf-8");
        if content.contains("Captain now.") {
            written = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(written, "the write-back reached Drive");
    // Its own write comes back through the feed and is not imported again.
    let round = server.ok_as(&owner, FORCE, json!({})).await;
    assert_eq!(round["forceDriveSync"]["imported"], 0, "{round}");
    assert_eq!(drive.downloads(&rex), 1);

    // Google throttles twice: the round retries and gets through.
    drive.edit(&rex, b"---\nname: Rex Marshall\n---\nThrottled but read.\n");
    drive.fail_changes_with(&[
        StatusCode::TOO_MANY_REQUESTS,
        StatusCode::SERVICE_UNAVAILABLE,
    ]);
    let round = server.ok_as(&owner, FORCE, json!({})).await;
    assert_eq!(round["forceDriveSync"]["imported"], 1, "{round}");
    assert_eq!(body_of(&server, &owner).await, "Throttled but read.");

    // A new server on the same database resumes from the saved place in the feed.
    drive.edit(&rex, b"---\nname: Rex Marshall\n---\nAfter the restart.\n");
    let listed_before = drive.list_calls();
    drop(server);
    let restarted = server_on(Some(database_url), &google, &drive, None).await;
    let round = restarted.ok_as(&owner, FORCE, json!({})).await;
    assert_eq!(round["forceDriveSync"]["ran"], true, "{round}");
    assert_eq!(body_of(&restarted, &owner).await, "After the restart.");
    // Read from the saved place in the feed: the folder was not listed again.
    assert_eq!(drive.list_calls(), listed_before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entity_changed_here_and_in_drive_makes_a_sync_conflict() {
    let google = Provider::start().await;
    let drive = Drive::start().await;
    let server = server_with_drive(&google, &drive).await;
    let owner = server.register("owner@example.com", "Studio").await;
    let rex = with_folder(&server, &google, &drive, &owner).await;
    server.ok_as(&owner, FORCE, json!({})).await;

    // The file changes in Drive, and the entity here, before the next round.
    drive.edit(&rex, b"---\nname: Rex Marshall\n---\nDrive says.\n");
    server
        .ok_as(
            &owner,
            "mutation { updateEntity(type: CHARACTER, entityId: \"rex\", input: { markdownBody: \"Here says.\" }) { entityId } }",
            json!({}),
        )
        .await;
    let round = server.ok_as(&owner, FORCE, json!({})).await;
    assert_eq!(round["forceDriveSync"]["conflicts"], 1, "{round}");
    assert_eq!(round["forceDriveSync"]["imported"], 0, "{round}");
    assert_eq!(
        body_of(&server, &owner).await,
        "Here says.",
        "nothing overwritten"
    );

    // The conflict is kept as a desktop client's is, and resolved the same way.
    let conflicts = server
        .ok_as(
            &owner,
            "{ syncConflicts { total conflicts { id entityId oursContent clientId } } }",
            json!({}),
        )
        .await;
    let conflict = &conflicts["syncConflicts"]["conflicts"][0];
    assert_eq!(conflicts["syncConflicts"]["total"], 1);
    assert_eq!(conflict["entityId"], "rex");
    assert_eq!(conflict["clientId"], "google-drive");
    assert!(
        conflict["oursContent"]
            .as_str()
            .is_some_and(|c| c.contains("Drive says."))
    );
    server
        .ok_as(
            &owner,
            "mutation($id: ID!) { resolveConflict(id: $id, pick: OURS) { resolution } }",
            json!({ "id": conflict["id"] }),
        )
        .await;
    assert_eq!(body_of(&server, &owner).await, "Drive says.");
    // The round that found it does not find it again.
    let round = server.ok_as(&owner, FORCE, json!({})).await;
    assert_eq!(round["forceDriveSync"]["conflicts"], 0, "{round}");
}
