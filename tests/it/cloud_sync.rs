//! Cloud sync for desktop clients: two clients edit one entity from the same base — the first
//! push applies, the second becomes a conflict with all three versions; retried pushes apply
//! once; resolving applies once; pulls give every change once, in order (edits, deletes,
//! purges, renames); and the walls between roles and tenants.

use serde_json::{Value, json};

use crate::harness::*;

const PULL: &str = "query($since: String) { pullChanges(since: $since) {
    cursor hasMore changes { rowId entityType entityId previousEntityId action version content } } }";

const PUSH: &str = "mutation($client: String!, $changes: [PushChangeInput!]!) {
    pushChanges(clientId: $client, changes: $changes) {
        changeId status version conflictId errors replayed } }";

const CONFLICTS: &str =
    "query($all: Boolean) { syncConflicts(includeResolved: $all) { total conflicts {
    id entityType entityId baseVersion baseContent theirsVersion theirsContent oursContent
    clientId resolution } } }";

const RESOLVE: &str = "mutation($id: ID!, $pick: ConflictPick!, $content: String) {
    resolveConflict(id: $id, pick: $pick, content: $content) { id resolution } }";

async fn pull(server: &TestServer, account: &Account, since: Option<&str>) -> Value {
    server.ok_as(account, PULL, json!({ "since": since })).await["pullChanges"].clone()
}

async fn push(server: &TestServer, account: &Account, client: &str, changes: Value) -> Value {
    server
        .ok_as(
            account,
            PUSH,
            json!({ "client": client, "changes": changes }),
        )
        .await["pushChanges"]
        .clone()
}

fn rex(age: u32, line: &str) -> String {
    format!("---\nid: rex\nentity_type: character\nname: Rex\nage: {age}\n---\n{line}\n")
}

fn actions(pulled: &Value) -> Vec<(String, String)> {
    pulled["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            (
                c["action"].as_str().unwrap_or_default().to_owned(),
                c["entityId"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_edit_one_entity_and_the_second_becomes_a_conflict() {
    let server = TestServer::start().await;
    let owner = server.register("desk@example.com", "Desk").await;
    let writer = server
        .invite_member(&owner, "laptop@example.com", "WORLDBUILDER")
        .await;
    let mut socket = subscribe_as(
        &server,
        &owner,
        "subscription { syncCompleted { source created updated deleted conflicts } }",
        json!({}),
    )
    .await;

    // The desktop creates rex; both clients pull it.
    let created = push(
        &server,
        &owner,
        "desktop",
        json!([{ "changeId": "d-1", "type": "CHARACTER", "entityId": "rex", "content": rex(40, "Base.") }]),
    )
    .await;
    assert_eq!(created[0]["status"], "APPLIED", "{created}");
    assert_eq!(created[0]["version"], 1);
    let event = next_data(&mut socket, "syncCompleted").await;
    assert_eq!(event["source"], "PUSH");
    assert_eq!(event["created"], 1);
    let first = pull(&server, &writer, None).await;
    assert_eq!(actions(&first), [("CREATED".to_owned(), "rex".to_owned())]);
    assert!(
        first["changes"][0]["content"]
            .as_str()
            .unwrap_or_default()
            .contains("age: 40")
    );
    let cursor = first["cursor"].as_str().expect("cursor").to_owned();

    // Both edit from version 1: the desktop's push applies, the laptop's is kept aside.
    let mine = json!([{ "changeId": "d-2", "type": "CHARACTER", "entityId": "rex",
                        "baseVersion": 1, "content": rex(41, "Desktop.") }]);
    let theirs = json!([{ "changeId": "l-1", "type": "CHARACTER", "entityId": "rex",
                          "baseVersion": 1, "content": rex(42, "Laptop.") }]);
    let applied = push(&server, &owner, "desktop", mine.clone()).await;
    assert_eq!(applied[0]["status"], "APPLIED");
    assert_eq!(applied[0]["version"], 2);
    next_data(&mut socket, "syncCompleted").await;
    let conflicted = push(&server, &writer, "laptop", theirs.clone()).await;
    assert_eq!(conflicted[0]["status"], "CONFLICT", "{conflicted}");
    let conflict_id = conflicted[0]["conflictId"]
        .as_str()
        .expect("conflict id")
        .to_owned();
    let event = next_data(&mut socket, "syncCompleted").await;
    assert_eq!(event["conflicts"], 1);

    // Retries answer as the first time and apply nothing again.
    let again = push(&server, &writer, "laptop", theirs).await;
    assert_eq!(again[0]["replayed"], true);
    assert_eq!(again[0]["conflictId"], conflict_id.as_str());
    let again = push(&server, &owner, "desktop", mine).await;
    assert_eq!(again[0]["replayed"], true);
    assert_eq!(again[0]["version"], 2);
    // The same content as is here, even from a stale base, agrees: no second conflict.
    let same = json!([{ "changeId": "l-2", "type": "CHARACTER", "entityId": "rex",
                        "baseVersion": 1, "content": rex(41, "Desktop.") }]);
    let agreed = push(&server, &writer, "laptop", same).await;
    assert_eq!(agreed[0]["status"], "APPLIED", "{agreed}");
    assert_eq!(agreed[0]["version"], 2);

    let data = server.ok_as(&owner, CONFLICTS, json!({})).await;
    let conflicts = &data["syncConflicts"];
    assert_eq!(conflicts["total"], 1, "{conflicts}");
    let conflict = &conflicts["conflicts"][0];
    assert_eq!(conflict["baseVersion"], 1);
    assert!(
        conflict["baseContent"]
            .as_str()
            .unwrap_or_default()
            .contains("Base.")
    );
    assert_eq!(conflict["theirsVersion"], 2);
    assert!(
        conflict["theirsContent"]
            .as_str()
            .unwrap_or_default()
            .contains("Desktop.")
    );
    assert!(
        conflict["oursContent"]
            .as_str()
            .unwrap_or_default()
            .contains("Laptop.")
    );
    assert_eq!(conflict["clientId"], "laptop");

    // MERGED needs the merged file (refused without it, nothing resolved).
    server
        .fails_as(
            &writer,
            RESOLVE,
            json!({ "id": conflict_id, "pick": "MERGED" }),
            "BAD_USER_INPUT",
        )
        .await;

    // Resolving applies the laptop's version once; a second resolution is refused.
    let resolved = server
        .ok_as(
            &writer,
            RESOLVE,
            json!({ "id": conflict_id, "pick": "OURS" }),
        )
        .await;
    assert_eq!(resolved["resolveConflict"]["resolution"], "OURS");
    server
        .fails_as(
            &writer,
            RESOLVE,
            json!({ "id": conflict_id, "pick": "THEIRS" }),
            "CONFLICT",
        )
        .await;
    let data = server.ok_as(&owner, CONFLICTS, json!({})).await;
    assert_eq!(data["syncConflicts"]["total"], 0);

    // The pull after the first gives each change once, in order.
    let next = pull(&server, &writer, Some(&cursor)).await;
    let changes = next["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 2, "{next}");
    assert_eq!(changes[0]["version"], 2);
    assert!(
        changes[0]["content"]
            .as_str()
            .unwrap_or_default()
            .contains("Desktop.")
    );
    assert_eq!(changes[1]["version"], 3);
    assert!(
        changes[1]["content"]
            .as_str()
            .unwrap_or_default()
            .contains("Laptop.")
    );
    let cursor = next["cursor"].as_str().expect("cursor").to_owned();
    let nothing = pull(&server, &writer, Some(&cursor)).await;
    assert_eq!(nothing["changes"], json!([]));
    assert_eq!(nothing["cursor"], cursor.as_str());

    // A rename, a delete and a purge reach the clients too.
    server
        .ok_as(
            &owner,
            "mutation { renameEntity(type: CHARACTER, entityId: \"rex\", newEntityId: \"rex_marshall\") { entityId } }",
            json!({}),
        )
        .await;
    let deleted = push(
        &server,
        &owner,
        "desktop",
        json!([{ "changeId": "d-3", "type": "CHARACTER", "entityId": "rex_marshall",
                 "baseVersion": 4, "deleted": true }]),
    )
    .await;
    assert_eq!(deleted[0]["status"], "APPLIED", "{deleted}");
    let last = pull(&server, &writer, Some(&cursor)).await;
    assert_eq!(
        actions(&last),
        [
            ("RENAMED".to_owned(), "rex_marshall".to_owned()),
            ("DELETED".to_owned(), "rex_marshall".to_owned()),
        ],
        "{last}"
    );
    assert_eq!(last["changes"][0]["previousEntityId"], "rex");
    assert!(last["changes"][1]["content"].is_null());
    let row_id = last["changes"][0]["rowId"].clone();
    assert_eq!(last["changes"][1]["rowId"], row_id, "one entity throughout");
    // A purge takes the entity's history with it and leaves its tombstone.
    server
        .ok_as(
            &owner,
            "mutation { purgeEntity(type: CHARACTER, entityId: \"rex_marshall\") }",
            json!({}),
        )
        .await;
    let cursor = last["cursor"].as_str().expect("cursor");
    let purged = pull(&server, &writer, Some(cursor)).await;
    assert_eq!(
        actions(&purged),
        [("PURGED".to_owned(), "rex_marshall".to_owned())]
    );
    assert_eq!(purged["changes"][0]["rowId"], row_id);
    // A client starting now hears of nothing but the tombstone.
    let fresh = pull(&server, &writer, None).await;
    assert_eq!(
        actions(&fresh),
        [("PURGED".to_owned(), "rex_marshall".to_owned())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_need_a_writer_and_tenants_never_meet() {
    let server = TestServer::start().await;
    let owner = server.register("sync-a@example.com", "A").await;
    let player = server
        .invite_member(&owner, "sync-player@example.com", "PLAYER")
        .await;
    let stranger = server.register("sync-b@example.com", "B").await;
    let change = json!([{ "changeId": "1", "type": "CHARACTER", "entityId": "rex", "content": rex(1, "A.") }]);
    server
        .fails_as(
            &player,
            PUSH,
            json!({ "client": "p", "changes": change }),
            "FORBIDDEN",
        )
        .await;
    push(&server, &owner, "a", change.clone()).await;
    // A player reads the feed; another tenant's feed is its own.
    assert_eq!(actions(&pull(&server, &player, None).await).len(), 1);
    assert_eq!(pull(&server, &stranger, None).await["changes"], json!([]));
    // The same change id in another tenant is another change; a stale base there conflicts
    // only with that tenant's entity.
    let theirs = push(&server, &stranger, "b", change).await;
    assert_eq!(theirs[0]["status"], "APPLIED");
    assert_eq!(theirs[0]["replayed"], false);
    let stale = json!([{ "changeId": "2", "type": "CHARACTER", "entityId": "rex",
                         "baseVersion": 7, "content": rex(2, "B.") }]);
    let conflict = push(&server, &stranger, "b", stale).await;
    let conflict_id = conflict[0]["conflictId"]
        .as_str()
        .expect("conflict")
        .to_owned();
    let data = server
        .ok_as(&owner, CONFLICTS, json!({ "all": true }))
        .await;
    assert_eq!(data["syncConflicts"]["total"], 0);
    server
        .fails_as(
            &owner,
            RESOLVE,
            json!({ "id": conflict_id, "pick": "OURS" }),
            "NOT_FOUND",
        )
        .await;
    // A cursor is bound to its tenant: B's cursor is refused for A.
    let cursor = pull(&server, &stranger, None).await["cursor"]
        .as_str()
        .expect("cursor")
        .to_owned();
    let body = server
        .gql_as(&owner, PULL, json!({ "since": cursor }))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    // A push naming one entity and carrying another's file is rejected, writing nothing.
    let wrong = json!([{ "changeId": "3", "type": "CHARACTER", "entityId": "mara", "content": rex(3, "A.") }]);
    let rejected = push(&server, &owner, "a", wrong).await;
    assert_eq!(rejected[0]["status"], "REJECTED", "{rejected}");
}
