//! A project folder kept in sync: bound by an ADMIN only under the projects root; files
//! created, saved by rename (as editors do) and deleted change the entities; changes made
//! through GraphQL (an edit, a rename) change the files; the folder vanishing is reported and
//! survived; and no other tenant or lower role gets in.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::*;

const BIND: &str = "mutation($path: String!) { bindProjectFolder(path: $path) { bound path } }";
const STATUS: &str = "{ syncStatus { bound path running state message pendingChanges
    lastResult { created updated deleted unchanged failed errors { path message } } } }";
const ENTITY: &str =
    "query($id: String!) { entity(type: CHARACTER, entityId: $id) { fields markdownBody } }";

/// Waits (up to 20 s) until `check` holds; the watcher works in the background.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("gave up waiting: {what}");
}

async fn entity(server: &TestServer, account: &Account, id: &str) -> Value {
    server.ok_as(account, ENTITY, json!({ "id": id })).await["entity"].clone()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bound_folder_and_the_entities_follow_each_other() {
    let root = tempfile::tempdir().expect("root");
    let project = root.path().join("world");
    std::fs::create_dir_all(project.join("Characters")).expect("folders");
    // A file that is there before the folder is bound.
    std::fs::write(
        project.join("Characters/CH_ann.md"),
        "---\nname: Ann\nage: 31\nfriends:\n  - character_id: rex\n---\n# Ann\n",
    )
    .expect("write");
    let root_path = root.path().to_path_buf();
    let server = TestServer::start_with(move |config| config.projects_root = Some(root_path)).await;
    let owner = server.register("folder@example.com", "Folder").await;
    let writer = server
        .invite_member(&owner, "folder-writer@example.com", "WORLDBUILDER")
        .await;
    let stranger = server.register("folder-b@example.com", "B").await;

    for outside in ["../", "/tmp", "world/../..", "nowhere"] {
        server
            .fails_as(&owner, BIND, json!({ "path": outside }), "BAD_USER_INPUT")
            .await;
    }
    server
        .fails_as(&writer, BIND, json!({ "path": "world" }), "FORBIDDEN")
        .await;
    let bound = server.ok_as(&owner, BIND, json!({ "path": "world" })).await;
    assert_eq!(bound["bindProjectFolder"]["path"], "world");
    eventually("the file already there is imported", || async {
        entity(&server, &owner, "ann").await["fields"]["age"] == 31
    })
    .await;

    // A new file, then an editor's save: a temporary file renamed over it.
    let rex = project.join("Characters/CH_rex.md");
    std::fs::write(&rex, "---\nname: Rex\nage: 40\n---\nBody\n").expect("write");
    eventually("a new file becomes an entity", || async {
        entity(&server, &owner, "rex").await["fields"]["age"] == 40
    })
    .await;
    let swap = project.join("Characters/.CH_rex.md.swp");
    std::fs::write(&swap, "---\nname: Rex\nage: 41 # older now\n---\nBody\n").expect("write");
    std::fs::rename(&swap, &rex).expect("rename over");
    eventually("a save by rename is read", || async {
        entity(&server, &owner, "rex").await["fields"]["age"] == 41
    })
    .await;
    // The watcher's import leaves the writer's file alone (its comment stays).
    assert!(read(&rex).contains("# older now"), "{}", read(&rex));

    // A change through GraphQL reaches the file.
    server
        .ok_as(
            &writer,
            "mutation { updateEntity(type: CHARACTER, entityId: \"rex\", input: {fields: {age: 50}}) { version } }",
            json!({}),
        )
        .await;
    eventually("an API edit is written to the file", || async {
        read(&rex).contains("age: 50")
    })
    .await;

    // A rename through GraphQL renames the file.
    server
        .ok_as(
            &writer,
            "mutation { renameEntity(type: CHARACTER, entityId: \"rex\", newEntityId: \"rex_marshall\") { entityId } }",
            json!({}),
        )
        .await;
    let renamed = project.join("Characters/CH_rex_marshall.md");
    eventually("a rename renames the file", || async {
        renamed.exists() && !rex.exists()
    })
    .await;
    assert!(read(&renamed).contains("id: rex_marshall"));
    // The rename rewrote Ann's reference, and her file with it.
    let ann = project.join("Characters/CH_ann.md");
    eventually(
        "a reference rewritten by a rename reaches its file",
        || async { read(&ann).contains("character_id: rex_marshall") },
    )
    .await;

    // Deleting the file sends the entity to the recycle bin.
    std::fs::remove_file(&renamed).expect("remove");
    eventually("a deleted file deletes its entity", || async {
        entity(&server, &owner, "rex_marshall").await.is_null()
    })
    .await;
    let status = server.ok_as(&owner, STATUS, json!({})).await;
    assert_eq!(status["syncStatus"]["state"], "WATCHING", "{status}");
    assert_eq!(status["syncStatus"]["bound"], true);

    // A broken file is reported, the rest goes on.
    std::fs::write(
        project.join("Characters/CH_bad.md"),
        "---\nname: [unclosed\n---\n",
    )
    .expect("write");
    eventually("a broken file is reported", || async {
        let status = server.ok_as(&owner, STATUS, json!({})).await;
        status["syncStatus"]["lastResult"]["errors"]
            .to_string()
            .contains("CH_bad.md")
    })
    .await;
    std::fs::remove_file(project.join("Characters/CH_bad.md")).expect("remove");

    // The folder disappears: reported, and picked up again when it is back.
    let aside = root.path().join("aside");
    std::fs::rename(&project, &aside).expect("move the folder away");
    eventually("a missing folder is reported", || async {
        server.ok_as(&owner, STATUS, json!({})).await["syncStatus"]["state"] == "FOLDER_MISSING"
    })
    .await;
    std::fs::rename(&aside, &project).expect("bring it back");
    eventually("the folder is watched again", || async {
        server.ok_as(&owner, STATUS, json!({})).await["syncStatus"]["state"] == "WATCHING"
    })
    .await;
    std::fs::write(
        project.join("Characters/CH_mara.md"),
        "---\nname: Mara\n---\n",
    )
    .expect("write");
    eventually("files are read again", || async {
        !entity(&server, &owner, "mara").await.is_null()
    })
    .await;

    // A burst: thirty files created, ten of them deleted at once; what is left is what counts.
    let mut socket = subscribe_as(
        &server,
        &owner,
        "subscription { syncCompleted { source created deleted } }",
        json!({}),
    )
    .await;
    for i in 0..30 {
        std::fs::write(
            project.join(format!("Characters/CH_extra_{i:02}.md")),
            format!("---\nname: Extra {i}\n---\n"),
        )
        .expect("write");
    }
    for i in 0..10 {
        std::fs::remove_file(project.join(format!("Characters/CH_extra_{i:02}.md")))
            .expect("remove");
    }
    eventually("a burst settles to what is on disk", || async {
        let mut db = server.db().await;
        count_rows(
            &mut db,
            "SELECT count(*) AS n FROM entities WHERE entity_id LIKE 'extra_%' AND deleted_at IS NULL",
        )
        .await
            == 20
    })
    .await;
    let event = next_data(&mut socket, "syncCompleted").await;
    assert_eq!(event["source"], "WATCHER", "{event}");

    // One entity by hand, both ways.
    let saved = server
        .ok_as(
            &writer,
            "mutation { saveToMarkdown(type: CHARACTER, entityId: \"ann\") }",
            json!({}),
        )
        .await;
    assert_eq!(saved["saveToMarkdown"], "Characters/CH_ann.md");
    std::fs::write(
        project.join("Characters/CH_ann.md"),
        "---\nname: Ann\nage: 32\n---\n# Ann\n",
    )
    .expect("write");
    let loaded = server
        .ok_as(
            &writer,
            "mutation { loadFromMarkdown(type: CHARACTER, entityId: \"ann\") { failed } }",
            json!({}),
        )
        .await;
    assert_eq!(loaded["loadFromMarkdown"]["failed"], 0, "{loaded}");
    assert_eq!(entity(&server, &owner, "ann").await["fields"]["age"], 32);
    let checked = server
        .ok_as(
            &writer,
            "{ checkChanges { files { path action } deleted } }",
            json!({}),
        )
        .await;
    assert_eq!(checked["checkChanges"]["files"], json!([]), "{checked}");

    // Another tenant sees no folder and cannot take this one; a player cannot sync.
    let theirs = server.ok_as(&stranger, STATUS, json!({})).await;
    assert_eq!(theirs["syncStatus"]["bound"], false);
    server
        .fails_as(&stranger, BIND, json!({ "path": "world" }), "CONFLICT")
        .await;
    // Nor a folder inside it (its watcher would read this studio's files).
    server
        .fails_as(
            &stranger,
            BIND,
            json!({ "path": "world/Characters" }),
            "CONFLICT",
        )
        .await;
    let player = server
        .invite_member(&owner, "folder-player@example.com", "PLAYER")
        .await;
    server
        .fails_as(
            &player,
            "mutation { refreshAll { created } }",
            json!({}),
            "FORBIDDEN",
        )
        .await;
    server
        .fails_as(
            &stranger,
            "mutation { refreshAll { created } }",
            json!({}),
            "NOT_FOUND",
        )
        .await;
}
