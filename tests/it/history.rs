//! Entity history: a revision for every write (create, update, delete, restore, rename) with
//! its author, paged newest first; comparing two versions of an entity or two entities (field
//! changes, markdown line diff, unified diff); writes that change nothing store nothing; and
//! the wall between tenants.

use serde_json::{Value, json};

use crate::entities::create_entity;
use crate::harness::*;

const HISTORY: &str = "query($type: EntityType!, $id: String!, $offset: Int, $limit: Int) {
    entityHistory(type: $type, entityId: $id, offset: $offset, limit: $limit) {
        total offset limit
        revisions { version action actor { id } createdAt entityId name status fields markdownBody } } }";

const COMPARISON_FIELDS: &str = "identical
    fieldChanges { field change oldValue newValue }
    markdownLines { kind oldLine newLine text }
    unifiedDiff";

const UPDATE: &str = "mutation($type: EntityType!, $id: String!, $input: UpdateEntityInput!) {
    updateEntity(type: $type, entityId: $id, input: $input) { entityId name fields markdownBody version } }";

fn compare_versions_query() -> String {
    format!(
        "query($type: EntityType!, $id: String!, $from: Int!, $to: Int!) {{
            compareEntityVersions(type: $type, entityId: $id, from: $from, to: $to) {{ {COMPARISON_FIELDS} }} }}"
    )
}

fn compare_entities_query() -> String {
    format!(
        "query($left: EntityRefInput!, $right: EntityRefInput!) {{
            compareEntities(left: $left, right: $right) {{ {COMPARISON_FIELDS} }} }}"
    )
}

async fn history(
    server: &TestServer,
    account: &Account,
    entity_id: &str,
    variables: Value,
) -> Value {
    let mut variables = variables;
    variables["type"] = json!("CHARACTER");
    variables["id"] = json!(entity_id);
    server.ok_as(account, HISTORY, variables).await["entityHistory"].clone()
}

async fn compare_versions(
    server: &TestServer,
    account: &Account,
    entity_id: &str,
    from: i32,
    to: i32,
) -> Value {
    server
        .gql_as(
            account,
            &compare_versions_query(),
            json!({ "type": "CHARACTER", "id": entity_id, "from": from, "to": to }),
        )
        .await
}

async fn update(server: &TestServer, account: &Account, entity_id: &str, input: Value) -> Value {
    server
        .ok_as(
            account,
            UPDATE,
            json!({ "type": "CHARACTER", "id": entity_id, "input": input }),
        )
        .await["updateEntity"]
        .clone()
}

fn column<'a>(page: &'a Value, key: &str) -> Vec<&'a Value> {
    page["revisions"]
        .as_array()
        .expect("revisions")
        .iter()
        .map(|r| &r[key])
        .collect()
}

fn versions(page: &Value) -> Vec<i64> {
    column(page, "version")
        .into_iter()
        .map(|v| v.as_i64().expect("version"))
        .collect()
}

fn kinds(comparison: &Value) -> Vec<String> {
    comparison["markdownLines"]
        .as_array()
        .expect("markdownLines")
        .iter()
        .map(|l| l["kind"].as_str().expect("kind").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_stores_a_revision_with_its_author() {
    let server = TestServer::start().await;
    let admin = server.register("admin@example.com", "Studio").await;
    let builder = server
        .invite_member(&admin, "builder@example.com", "WORLDBUILDER")
        .await;
    let player = server
        .invite_member(&admin, "player@example.com", "PLAYER")
        .await;

    // v1 created by the admin.
    let rex = create_entity(
        &server,
        &admin,
        "CHARACTER",
        "rex",
        "Rex",
        json!({ "age": 34 }),
    )
    .await;
    assert_eq!(rex["version"], 1);
    let page = history(&server, &admin, "rex", json!({})).await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["revisions"][0]["action"], "CREATED");
    assert_eq!(page["revisions"][0]["actor"]["id"], admin.user_id.as_str());

    // v2 updated by the builder.
    let updated = update(&server, &builder, "rex", json!({ "name": "Rex Marshall" })).await;
    assert_eq!(updated["version"], 2);

    // v3 deleted by the admin; the history of a recycled entity is still there.
    let data = server
        .ok_as(
            &admin,
            "mutation { deleteEntity(type: CHARACTER, entityId: \"rex\") }",
            json!({}),
        )
        .await;
    assert_eq!(data["deleteEntity"], true);
    let page = history(&server, &admin, "rex", json!({})).await;
    assert_eq!(page["total"], 3);
    assert_eq!(page["revisions"][0]["version"], 3);
    assert_eq!(page["revisions"][0]["action"], "DELETED");

    // v4 restored by the builder.
    let data = server
        .ok_as(
            &builder,
            "mutation { restoreEntity(type: CHARACTER, entityId: \"rex\") { version } }",
            json!({}),
        )
        .await;
    assert_eq!(data["restoreEntity"]["version"], 4);

    // v5 renamed by the admin.
    let data = server
        .ok_as(
            &admin,
            "mutation { renameEntity(type: CHARACTER, entityId: \"rex\", newEntityId: \"rex_marshall\") { entityId version } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["renameEntity"],
        json!({ "entityId": "rex_marshall", "version": 5 })
    );

    // The whole history, newest first, under the new id; any member may read it.
    let page = history(&server, &player, "rex_marshall", json!({})).await;
    assert_eq!(page["total"], 5);
    assert_eq!(page["offset"], 0);
    assert_eq!(versions(&page), [5, 4, 3, 2, 1]);
    assert_eq!(
        column(&page, "action"),
        [
            &json!("RENAMED"),
            &json!("RESTORED"),
            &json!("DELETED"),
            &json!("UPDATED"),
            &json!("CREATED")
        ]
    );
    let actors: Vec<&Value> = page["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["actor"]["id"])
        .collect();
    let (a, b) = (json!(admin.user_id), json!(builder.user_id));
    assert_eq!(actors, [&a, &b, &a, &b, &a]);
    // Each revision is the entity as that write left it.
    assert_eq!(
        column(&page, "entityId"),
        [
            &json!("rex_marshall"),
            &json!("rex"),
            &json!("rex"),
            &json!("rex"),
            &json!("rex")
        ]
    );
    assert_eq!(
        column(&page, "name"),
        [
            &json!("Rex Marshall"),
            &json!("Rex Marshall"),
            &json!("Rex Marshall"),
            &json!("Rex Marshall"),
            &json!("Rex")
        ]
    );
    for revision in page["revisions"].as_array().unwrap() {
        assert_eq!(revision["fields"], json!({ "age": 34 }));
        assert_eq!(revision["markdownBody"], "# Rex\n");
        assert_eq!(revision["status"], "ACTIVE");
        assert!(revision["createdAt"].is_string(), "{revision}");
    }
    let data = server
        .ok_as(
            &admin,
            "{ entity(type: CHARACTER, entityId: \"rex_marshall\") { version } }",
            json!({}),
        )
        .await;
    assert_eq!(data["entity"]["version"], 5);

    // In pages.
    let page = history(&server, &admin, "rex_marshall", json!({ "limit": 2 })).await;
    assert_eq!(page["total"], 5);
    assert_eq!(page["limit"], 2);
    assert_eq!(versions(&page), [5, 4]);
    let page = history(
        &server,
        &admin,
        "rex_marshall",
        json!({ "offset": 2, "limit": 2 }),
    )
    .await;
    assert_eq!(page["offset"], 2);
    assert_eq!(versions(&page), [3, 2]);
    let page = history(
        &server,
        &admin,
        "rex_marshall",
        json!({ "offset": 4, "limit": 2 }),
    )
    .await;
    assert_eq!(page["total"], 5);
    assert_eq!(versions(&page), [1]);
    let body = server
        .gql_as(
            &admin,
            HISTORY,
            json!({ "type": "CHARACTER", "id": "rex_marshall", "limit": 201 }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");

    // The old id names nothing any more, nor does an id never used.
    let data = server
        .ok_as(&admin, HISTORY, json!({ "type": "CHARACTER", "id": "rex" }))
        .await;
    assert!(data["entityHistory"].is_null(), "{data}");
    let data = server
        .ok_as(
            &admin,
            HISTORY,
            json!({ "type": "LOCATION", "id": "rex_marshall" }),
        )
        .await;
    assert!(data["entityHistory"].is_null(), "{data}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comparing_versions_lists_field_changes_and_markdown_line_changes() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    // v1: markdown "# Rex\n".
    create_entity(
        &server,
        &owner,
        "CHARACTER",
        "rex",
        "Rex",
        json!({ "age": 34, "gender": "male", "nickname": "Rexy" }),
    )
    .await;
    // v2: renamed, one field changed, one removed, one added, a markdown line added.
    let v2 = update(
        &server,
        &owner,
        "rex",
        json!({
            "name": "Rex Marshall",
            "fields": { "age": 35, "nickname": null, "personality_traits": ["loyal"] },
            "markdownBody": "# Rex\nA smuggler from the docks.\n"
        }),
    )
    .await;
    assert_eq!(v2["version"], 2);
    // v3: one markdown line replaced.
    let v3 = update(
        &server,
        &owner,
        "rex",
        json!({ "markdownBody": "# Rex\nA pilot from the docks.\n" }),
    )
    .await;
    assert_eq!(v3["version"], 3);

    let body = compare_versions(&server, &owner, "rex", 1, 2).await;
    let comparison = &body["data"]["compareEntityVersions"];
    assert_eq!(comparison["identical"], false, "{body}");
    assert_eq!(
        comparison["fieldChanges"],
        json!([
            { "field": "name", "change": "CHANGED", "oldValue": "Rex", "newValue": "Rex Marshall" },
            { "field": "age", "change": "CHANGED", "oldValue": 34, "newValue": 35 },
            { "field": "nickname", "change": "REMOVED", "oldValue": "Rexy", "newValue": null },
            { "field": "personality_traits", "change": "ADDED", "oldValue": null, "newValue": ["loyal"] },
        ])
    );
    assert_eq!(
        comparison["markdownLines"],
        json!([
            { "kind": "EQUAL", "oldLine": 1, "newLine": 1, "text": "# Rex" },
            { "kind": "INSERT", "oldLine": null, "newLine": 2, "text": "A smuggler from the docks." },
        ])
    );
    let diff = comparison["unifiedDiff"].as_str().expect("unifiedDiff");
    assert!(diff.contains("+A smuggler from the docks.\n"), "{diff}");
    assert!(
        !diff.contains("-# Rex"),
        "an unchanged line is context: {diff}"
    );

    // A replaced line is a deletion and an insertion.
    let body = compare_versions(&server, &owner, "rex", 2, 3).await;
    let comparison = &body["data"]["compareEntityVersions"];
    assert_eq!(comparison["identical"], false, "{body}");
    assert_eq!(comparison["fieldChanges"], json!([]));
    assert_eq!(kinds(comparison), ["EQUAL", "DELETE", "INSERT"]);
    assert_eq!(
        comparison["markdownLines"][1],
        json!({ "kind": "DELETE", "oldLine": 2, "newLine": null, "text": "A smuggler from the docks." })
    );
    assert_eq!(
        comparison["markdownLines"][2],
        json!({ "kind": "INSERT", "oldLine": null, "newLine": 2, "text": "A pilot from the docks." })
    );
    let diff = comparison["unifiedDiff"].as_str().expect("unifiedDiff");
    assert!(
        diff.contains("-A smuggler from the docks.\n+A pilot from the docks.\n"),
        "{diff}"
    );

    // Backwards works too: from the newest to the first.
    let body = compare_versions(&server, &owner, "rex", 3, 1).await;
    let comparison = &body["data"]["compareEntityVersions"];
    assert_eq!(
        comparison["fieldChanges"][0],
        json!({ "field": "name", "change": "CHANGED", "oldValue": "Rex Marshall", "newValue": "Rex" }),
        "{body}"
    );
    let diff = comparison["unifiedDiff"].as_str().expect("unifiedDiff");
    assert!(diff.contains("-A pilot from the docks.\n"), "{diff}");

    // A version compared with itself is identical.
    let body = compare_versions(&server, &owner, "rex", 2, 2).await;
    let comparison = &body["data"]["compareEntityVersions"];
    assert_eq!(comparison["identical"], true, "{body}");
    assert_eq!(comparison["fieldChanges"], json!([]));
    assert_eq!(kinds(comparison), ["EQUAL", "EQUAL"]);
    assert_eq!(comparison["unifiedDiff"], "");

    // Versions that do not exist are blamed on the argument naming them.
    for (from, to, field) in [(9, 1, "from"), (1, 9, "to"), (0, 2, "from"), (1, -1, "to")] {
        let body = compare_versions(&server, &owner, "rex", from, to).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{from}→{to}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    let body = compare_versions(&server, &owner, "nobody", 1, 1).await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comparing_two_entities_shows_how_they_differ() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    create_entity(
        &server,
        &owner,
        "CHARACTER",
        "rex",
        "Rex",
        json!({ "age": 34, "gender": "male" }),
    )
    .await;
    create_entity(
        &server,
        &owner,
        "CHARACTER",
        "mara",
        "Mara",
        json!({ "age": 29, "gender": "male", "nickname": "Ghost" }),
    )
    .await;
    create_entity(
        &server,
        &owner,
        "LOCATION",
        "dock",
        "Dock",
        json!({ "location_type": "harbor" }),
    )
    .await;
    let rex = json!({ "type": "CHARACTER", "entityId": "rex" });
    let mara = json!({ "type": "CHARACTER", "entityId": "mara" });
    let dock = json!({ "type": "LOCATION", "entityId": "dock" });

    let data = server
        .ok_as(
            &owner,
            &compare_entities_query(),
            json!({ "left": rex, "right": mara }),
        )
        .await;
    let comparison = &data["compareEntities"];
    assert_eq!(comparison["identical"], false);
    assert_eq!(
        comparison["fieldChanges"],
        json!([
            { "field": "entity_id", "change": "CHANGED", "oldValue": "rex", "newValue": "mara" },
            { "field": "name", "change": "CHANGED", "oldValue": "Rex", "newValue": "Mara" },
            { "field": "age", "change": "CHANGED", "oldValue": 34, "newValue": 29 },
            { "field": "nickname", "change": "ADDED", "oldValue": null, "newValue": "Ghost" },
        ])
    );
    assert_eq!(kinds(comparison), ["DELETE", "INSERT"]);
    let diff = comparison["unifiedDiff"].as_str().expect("unifiedDiff");
    assert!(diff.contains("-# Rex\n+# Mara\n"), "{diff}");

    // Across types.
    let data = server
        .ok_as(
            &owner,
            &compare_entities_query(),
            json!({ "left": rex, "right": dock }),
        )
        .await;
    let changes = data["compareEntities"]["fieldChanges"].as_array().unwrap();
    assert!(
        changes.contains(&json!({ "field": "location_type", "change": "ADDED", "oldValue": null, "newValue": "harbor" })),
        "{changes:?}"
    );
    assert!(
        changes.contains(
            &json!({ "field": "gender", "change": "REMOVED", "oldValue": "male", "newValue": null })
        ),
        "{changes:?}"
    );

    // An entity compared with itself is identical.
    let data = server
        .ok_as(
            &owner,
            &compare_entities_query(),
            json!({ "left": mara, "right": mara }),
        )
        .await;
    assert_eq!(data["compareEntities"]["identical"], true);
    assert_eq!(data["compareEntities"]["fieldChanges"], json!([]));
    assert_eq!(data["compareEntities"]["unifiedDiff"], "");

    // Only live entities compare.
    let body = server
        .gql_as(
            &owner,
            &compare_entities_query(),
            json!({ "left": rex, "right": { "type": "CHARACTER", "entityId": "nobody" } }),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    server
        .ok_as(
            &owner,
            "mutation { deleteEntity(type: CHARACTER, entityId: \"mara\") }",
            json!({}),
        )
        .await;
    let body = server
        .gql_as(
            &owner,
            &compare_entities_query(),
            json!({ "left": mara, "right": rex }),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_that_changes_nothing_stores_no_revision() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    create_entity(
        &server,
        &owner,
        "CHARACTER",
        "rex",
        "Rex",
        json!({ "age": 34 }),
    )
    .await;

    // The same values again, a removal of a key that is not there, or nothing at all.
    for input in [
        json!({ "name": "Rex", "status": "ACTIVE", "fields": { "age": 34 }, "markdownBody": "# Rex\n" }),
        json!({ "fields": { "nickname": null } }),
        json!({}),
    ] {
        let rex = update(&server, &owner, "rex", input.clone()).await;
        assert_eq!(rex["version"], 1, "{input} → {rex}");
    }
    let data = server
        .ok_as(
            &owner,
            "mutation { renameEntity(type: CHARACTER, entityId: \"rex\", newEntityId: \"rex\") { version } }",
            json!({}),
        )
        .await;
    assert_eq!(data["renameEntity"]["version"], 1);
    let page = history(&server, &owner, "rex", json!({})).await;
    assert_eq!(page["total"], 1);
    assert_eq!(versions(&page), [1]);

    // A real change does.
    let rex = update(&server, &owner, "rex", json!({ "fields": { "age": 35 } })).await;
    assert_eq!(rex["version"], 2);
    let page = history(&server, &owner, "rex", json!({})).await;
    assert_eq!(page["total"], 2);
    assert_eq!(versions(&page), [2, 1]);
    assert_eq!(page["revisions"][0]["fields"], json!({ "age": 35 }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenant_sees_no_history_and_cannot_compare() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    let other = server.register("other@example.com", "Other").await;
    create_entity(
        &server,
        &owner,
        "CHARACTER",
        "rex",
        "Rex",
        json!({ "age": 34 }),
    )
    .await;
    update(&server, &owner, "rex", json!({ "name": "Rex Marshall" })).await;

    let data = server
        .ok_as(&other, HISTORY, json!({ "type": "CHARACTER", "id": "rex" }))
        .await;
    assert!(data["entityHistory"].is_null(), "{data}");
    let body = compare_versions(&server, &other, "rex", 1, 2).await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    let rex = json!({ "type": "CHARACTER", "entityId": "rex" });
    let body = server
        .gql_as(
            &other,
            &compare_entities_query(),
            json!({ "left": rex, "right": rex }),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");

    // The same id in the other tenant is another entity with a history of its own.
    create_entity(&server, &other, "CHARACTER", "rex", "Other Rex", json!({})).await;
    let page = history(&server, &other, "rex", json!({})).await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["revisions"][0]["name"], "Other Rex");
    assert_eq!(page["revisions"][0]["actor"]["id"], other.user_id.as_str());
    let body = compare_versions(&server, &other, "rex", 1, 2).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "to", "{body}");
    let body = server
        .gql_as(
            &other,
            &compare_entities_query(),
            json!({ "left": rex, "right": rex }),
        )
        .await;
    assert_eq!(body["data"]["compareEntities"]["identical"], true, "{body}");

    // The owner's history is untouched.
    let page = history(&server, &owner, "rex", json!({})).await;
    assert_eq!(page["total"], 2);
    assert_eq!(page["revisions"][0]["name"], "Rex Marshall");
    let body = compare_versions(&server, &owner, "rex", 1, 2).await;
    assert_eq!(
        body["data"]["compareEntityVersions"]["identical"], false,
        "{body}"
    );

    // Anonymous callers are turned away.
    let body = server
        .gql(None, HISTORY, json!({ "type": "CHARACTER", "id": "rex" }))
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    let body = server
        .gql(
            None,
            &compare_versions_query(),
            json!({ "type": "CHARACTER", "id": "rex", "from": 1, "to": 2 }),
        )
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
}
