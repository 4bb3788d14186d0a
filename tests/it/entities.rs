//! Worldbuilding entities: create, read, list, update, delete, with validation, roles and
//! tenant isolation.

use serde_json::{Value, json};

use crate::harness::*;

pub const ENTITY_FIELDS: &str =
    "entityType entityId name status fields markdownBody version isValid validationErrors";

/// Creates an entity as `account` and returns it (failing the test on any error).
pub async fn create_entity(
    server: &TestServer,
    account: &Account,
    entity_type: &str,
    entity_id: &str,
    name: &str,
    fields: Value,
) -> Value {
    let query = format!(
        "mutation($type: EntityType!, $input: CreateEntityInput!) {{
            createEntity(type: $type, input: $input) {{ {ENTITY_FIELDS} }} }}"
    );
    let data = server
        .ok_as(
            account,
            &query,
            json!({ "type": entity_type, "input": {
                "entityId": entity_id, "name": name, "fields": fields,
                "markdownBody": format!("# {name}\n")
            }}),
        )
        .await;
    data["createEntity"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worldbuilder_creates_reads_lists_updates_and_deletes_an_entity() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;

    let rex = create_entity(
        &server,
        &owner,
        "CHARACTER",
        "rex_marshall",
        "Rex Marshall",
        json!({ "age": 34, "gender": "male", "personality_traits": ["resourceful", "paranoid"] }),
    )
    .await;
    assert_eq!(rex["entityId"], "rex_marshall");
    assert_eq!(rex["status"], "ACTIVE");
    assert_eq!(rex["version"], 1);
    assert_eq!(rex["isValid"], true, "{rex}");
    assert_eq!(
        rex["fields"]["personality_traits"],
        json!(["resourceful", "paranoid"])
    );

    let data = server
        .ok_as(
            &owner,
            &format!(
                "{{ entity(type: CHARACTER, entityId: \"rex_marshall\") {{ {ENTITY_FIELDS} }} }}"
            ),
            json!({}),
        )
        .await;
    assert_eq!(data["entity"]["name"], "Rex Marshall");
    assert_eq!(data["entity"]["markdownBody"], "# Rex Marshall\n");
}

const LIST: &str = "query($type: EntityType!, $offset: Int, $limit: Int, $status: EntityStatus, $sortBy: EntitySortField, $sortOrder: SortOrder, $search: String) {
    entities(type: $type, offset: $offset, limit: $limit, status: $status, sortBy: $sortBy, sortOrder: $sortOrder, search: $search) {
        total offset limit entities { entityId name status } } }";

const UPDATE: &str = "mutation($type: EntityType!, $id: String!, $input: UpdateEntityInput!) {
    updateEntity(type: $type, entityId: $id, input: $input) { entityId name status fields markdownBody version } }";

fn ids(page: &Value) -> Vec<String> {
    page["entities"]
        .as_array()
        .expect("entities")
        .iter()
        .map(|e| e["entityId"].as_str().expect("entityId").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_page_filter_and_sort_and_updates_merge_fields() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    for (id, name) in [("cara", "Cara"), ("abe", "Abe"), ("bea", "Bea")] {
        create_entity(&server, &owner, "CHARACTER", id, name, json!({})).await;
    }
    server
        .ok_as(
            &owner,
            UPDATE,
            json!({ "type": "CHARACTER", "id": "abe", "input": { "status": "DRAFT" } }),
        )
        .await;

    // Default order: most recently changed first.
    let data = server
        .ok_as(&owner, LIST, json!({ "type": "CHARACTER" }))
        .await;
    assert_eq!(data["entities"]["total"], 3);
    assert_eq!(data["entities"]["limit"], 50);
    assert_eq!(ids(&data["entities"]), ["abe", "bea", "cara"]);

    let data = server
        .ok_as(&owner, LIST, json!({ "type": "CHARACTER", "sortBy": "NAME", "sortOrder": "ASC", "offset": 1, "limit": 1 }))
        .await;
    assert_eq!(data["entities"]["total"], 3);
    assert_eq!(ids(&data["entities"]), ["bea"]);

    let data = server
        .ok_as(
            &owner,
            LIST,
            json!({ "type": "CHARACTER", "status": "DRAFT" }),
        )
        .await;
    assert_eq!(ids(&data["entities"]), ["abe"]);
    let data = server
        .ok_as(&owner, LIST, json!({ "type": "LOCATION" }))
        .await;
    assert_eq!(data["entities"]["total"], 0);

    for limit in [0, 201] {
        let body = server
            .gql_as(&owner, LIST, json!({ "type": "CHARACTER", "limit": limit }))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    }

    // Fields merge key by key; null removes a key; other keys stay.
    create_entity(
        &server,
        &owner,
        "CHARACTER",
        "rex",
        "Rex",
        json!({ "age": 34, "gender": "male", "fears": ["dark"] }),
    )
    .await;
    let data = server
        .ok_as(
            &owner,
            UPDATE,
            json!({ "type": "CHARACTER", "id": "rex", "input": {
                "fields": { "age": 35, "fears": null, "nickname": "Red" }, "markdownBody": "New body"
            }}),
        )
        .await;
    let rex = &data["updateEntity"];
    assert_eq!(
        rex["fields"],
        json!({ "age": 35, "gender": "male", "nickname": "Red" })
    );
    assert_eq!(rex["name"], "Rex");
    assert_eq!(rex["markdownBody"], "New body");
    assert_eq!(rex["version"], 2);

    // A stale expectedVersion is refused and changes nothing.
    let body = server
        .gql_as(&owner, UPDATE, json!({ "type": "CHARACTER", "id": "rex", "input": { "name": "Stale", "expectedVersion": 1 } }))
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    let data = server
        .ok_as(&owner, UPDATE, json!({ "type": "CHARACTER", "id": "rex", "input": { "name": "Rex II", "expectedVersion": 2 } }))
        .await;
    assert_eq!(data["updateEntity"]["version"], 3);

    let body = server
        .gql_as(
            &owner,
            UPDATE,
            json!({ "type": "CHARACTER", "id": "nobody", "input": { "name": "X" } }),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn structural_input_errors_are_refused_and_nothing_is_saved() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    create_entity(&server, &owner, "CHARACTER", "rex", "Rex", json!({})).await;
    let create = "mutation($input: CreateEntityInput!) { createEntity(type: CHARACTER, input: $input) { entityId } }";
    let cases = [
        (
            json!({ "entityId": "Rex Marshall", "name": "Rex" }),
            "BAD_USER_INPUT",
            Some("entityId"),
        ),
        (
            json!({ "entityId": "_rex", "name": "Rex" }),
            "BAD_USER_INPUT",
            Some("entityId"),
        ),
        (
            json!({ "entityId": "", "name": "Rex" }),
            "BAD_USER_INPUT",
            Some("entityId"),
        ),
        (
            json!({ "entityId": "new_one", "name": "   " }),
            "BAD_USER_INPUT",
            Some("name"),
        ),
        (
            json!({ "entityId": "new_one", "name": "N", "fields": [1, 2] }),
            "BAD_USER_INPUT",
            Some("fields"),
        ),
        (
            json!({ "entityId": "new_one", "name": "N", "fields": "text" }),
            "BAD_USER_INPUT",
            Some("fields"),
        ),
        (
            json!({ "entityId": "new_one", "name": "N", "fields": { "name": "Other" } }),
            "BAD_USER_INPUT",
            Some("fields"),
        ),
        (
            json!({ "entityId": "rex", "name": "Rex again" }),
            "CONFLICT",
            None,
        ),
        (
            json!({ "entityId": "nul", "name": "Bad\u{0}Name" }),
            "BAD_USER_INPUT",
            Some("name"),
        ),
        (
            json!({ "entityId": "nul", "name": "N", "fields": { "motto": "a\u{0}b" } }),
            "BAD_USER_INPUT",
            Some("fields"),
        ),
        (
            json!({ "entityId": "nul", "name": "N", "markdownBody": "x\u{0}" }),
            "BAD_USER_INPUT",
            Some("markdownBody"),
        ),
        (
            json!({ "entityId": "big", "name": "N", "markdownBody": "word ".repeat(40_001) }),
            "BAD_USER_INPUT",
            Some("markdownBody"),
        ),
    ];
    for (input, code, field) in cases {
        let body = server
            .gql_as(&owner, create, json!({ "input": input }))
            .await;
        assert_eq!(error_code(&body), code, "{input} → {body}");
        if let Some(field) = field {
            assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
        }
    }
    let body = server
        .gql_as(
            &owner,
            UPDATE,
            json!({ "type": "CHARACTER", "id": "rex", "input": { "fields": ["x"] } }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    // Text PostgreSQL cannot hold is the caller's mistake wherever it arrives.
    let body = server
        .gql_as(
            &owner,
            "query($id: String!) { entity(type: CHARACTER, entityId: $id) { name } }",
            json!({ "id": "a\u{0}" }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");

    // The same id in another type is fine; a recycled id stays taken until purged.
    create_entity(
        &server,
        &owner,
        "LOCATION",
        "rex",
        "Rex's Garage",
        json!({ "location_type": "garage" }),
    )
    .await;
    server
        .ok_as(
            &owner,
            "mutation { deleteEntity(type: CHARACTER, entityId: \"rex\") }",
            json!({}),
        )
        .await;
    let body = server
        .gql_as(
            &owner,
            create,
            json!({ "input": { "entityId": "rex", "name": "Rex" } }),
        )
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("recycle bin"),
        "{body}"
    );

    let data = server
        .ok_as(&owner, LIST, json!({ "type": "CHARACTER" }))
        .await;
    assert_eq!(
        data["entities"]["total"], 0,
        "nothing but rex was ever saved, and rex is deleted"
    );
    let data = server
        .ok_as(
            &owner,
            "{ recycledEntities { total entities { entityId version } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["recycledEntities"]["total"], 1);
    assert_eq!(data["recycledEntities"]["entities"][0]["version"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_entities_are_saved_with_their_errors_and_references_are_checked() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;

    // The built-in character template says age is an integer.
    let rex = create_entity(
        &server,
        &owner,
        "CHARACTER",
        "rex",
        "Rex",
        json!({ "age": "old" }),
    )
    .await;
    assert_eq!(rex["isValid"], false);
    let errors = rex["validationErrors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].as_str().unwrap().starts_with("age:"),
        "{errors:?}"
    );

    // A faction whose leader does not exist yet: saved, with an error naming field and id.
    let faction = create_entity(
        &server,
        &owner,
        "FACTION",
        "raiders",
        "Raiders",
        json!({ "leader": "vex", "members": ["rex", "ghost"] }),
    )
    .await;
    let errors: Vec<&str> = faction["validationErrors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(
        errors,
        [
            "leader: no character with id `vex`",
            "members: no character with id `ghost`"
        ]
    );

    // Creating the leader fixes the faction's leader error without touching the faction.
    create_entity(&server, &owner, "CHARACTER", "vex", "Vex", json!({})).await;
    let query =
        "{ entity(type: FACTION, entityId: \"raiders\") { isValid validationErrors version } }";
    let data = server.ok_as(&owner, query, json!({})).await;
    assert_eq!(
        data["entity"]["validationErrors"],
        json!(["members: no character with id `ghost`"])
    );
    assert_eq!(data["entity"]["version"], 1);

    // A deleted target turns into an error again, saying where it went; restoring clears it.
    server
        .ok_as(
            &owner,
            "mutation { deleteEntity(type: CHARACTER, entityId: \"vex\") }",
            json!({}),
        )
        .await;
    let data = server.ok_as(&owner, query, json!({})).await;
    assert_eq!(
        data["entity"]["validationErrors"][0],
        "leader: character `vex` is in the recycle bin"
    );
    server
        .ok_as(
            &owner,
            "mutation { restoreEntity(type: CHARACTER, entityId: \"vex\") { entityId } }",
            json!({}),
        )
        .await;
    server
        .ok_as(&owner, UPDATE, json!({ "type": "FACTION", "id": "raiders", "input": { "fields": { "members": ["rex"] } } }))
        .await;
    let data = server.ok_as(&owner, query, json!({})).await;
    assert_eq!(data["entity"]["isValid"], true, "{data}");

    // Bulk re-validation counts what is valid and what is not.
    let data = server
        .ok_as(
            &owner,
            "mutation { validateEntities { checked valid invalid invalidEntities { entity { entityId } errors } } }",
            json!({}),
        )
        .await;
    let summary = &data["validateEntities"];
    assert_eq!(summary["checked"], 3);
    assert_eq!(summary["valid"], 2);
    assert_eq!(summary["invalid"], 1);
    assert_eq!(summary["invalidEntities"][0]["entity"]["entityId"], "rex");
    let data = server
        .ok_as(
            &owner,
            "mutation { validateEntities(type: FACTION) { checked valid invalid } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["validateEntities"],
        json!({ "checked": 1, "valid": 1, "invalid": 0 })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn players_read_worldbuilders_write_and_admins_purge() {
    let server = TestServer::start().await;
    let admin = server.register("admin@example.com", "Studio").await;
    let player = server
        .invite_member(&admin, "player@example.com", "PLAYER")
        .await;
    let builder = server
        .invite_member(&admin, "builder@example.com", "WORLDBUILDER")
        .await;

    create_entity(&server, &builder, "CHARACTER", "rex", "Rex", json!({})).await;
    let data = server
        .ok_as(
            &player,
            "{ entity(type: CHARACTER, entityId: \"rex\") { name createdBy { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["entity"]["name"], "Rex");
    assert_eq!(data["entity"]["createdBy"]["id"], builder.user_id.as_str());

    let writes = [
        "mutation { createEntity(type: CHARACTER, input: { entityId: \"p\", name: \"P\" }) { entityId } }",
        "mutation { updateEntity(type: CHARACTER, entityId: \"rex\", input: { name: \"X\" }) { entityId } }",
        "mutation { deleteEntity(type: CHARACTER, entityId: \"rex\") }",
        "mutation { renameEntity(type: CHARACTER, entityId: \"rex\", newEntityId: \"rexy\") { entityId } }",
    ];
    for mutation in writes {
        let body = server.gql_as(&player, mutation, json!({})).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{mutation} → {body}");
    }
    server.ok_as(&builder, writes[2], json!({})).await;
    for purge in [
        "mutation { purgeEntity(type: CHARACTER, entityId: \"rex\") }",
        "mutation { emptyRecycleBin }",
    ] {
        let body = server.gql_as(&builder, purge, json!({})).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    }
    let data = server
        .ok_as(
            &admin,
            "mutation { purgeEntity(type: CHARACTER, entityId: \"rex\") }",
            json!({}),
        )
        .await;
    assert_eq!(data["purgeEntity"], true);
    let data = server
        .ok_as(&admin, "{ recycledEntities { total } entityHistory(type: CHARACTER, entityId: \"rex\") { total } }", json!({}))
        .await;
    assert_eq!(data["recycledEntities"]["total"], 0);
    assert!(
        data["entityHistory"].is_null(),
        "a purged entity's history goes with it"
    );

    // Anonymous callers get nothing.
    let body = server
        .gql(
            None,
            "{ entity(type: CHARACTER, entityId: \"rex\") { name } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checking_an_entity_id_says_whether_it_is_free_and_suggests_one() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    create_entity(&server, &owner, "CHARACTER", "rex", "Rex", json!({})).await;
    create_entity(&server, &owner, "CHARACTER", "rex_2", "Rex 2", json!({})).await;
    let query = "query($id: String!, $type: EntityType) { checkEntityId(entityId: $id, type: $type) { valid available reason suggestion } }";

    let data = server
        .ok_as(&owner, query, json!({ "id": "rex", "type": "CHARACTER" }))
        .await;
    assert_eq!(data["checkEntityId"]["available"], false);
    assert_eq!(data["checkEntityId"]["suggestion"], "rex_3");
    let data = server
        .ok_as(&owner, query, json!({ "id": "rex", "type": "LOCATION" }))
        .await;
    assert_eq!(data["checkEntityId"]["available"], true);
    let data = server.ok_as(&owner, query, json!({ "id": "rex" })).await;
    assert_eq!(
        data["checkEntityId"]["available"], false,
        "taken in some type"
    );
    let data = server
        .ok_as(&owner, query, json!({ "id": "Rex Marshall!" }))
        .await;
    assert_eq!(data["checkEntityId"]["valid"], false);
    assert_eq!(data["checkEntityId"]["suggestion"], "rex_marshall");

    let other = server.register("other@example.com", "Other").await;
    let data = server
        .ok_as(&other, query, json!({ "id": "rex", "type": "CHARACTER" }))
        .await;
    assert_eq!(
        data["checkEntityId"]["available"], true,
        "ids are per tenant"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenant_can_neither_see_nor_touch_an_entity() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    let outsider = server
        .register("outsider@example.com", "Rival Studio")
        .await;
    create_entity(&server, &owner, "CHARACTER", "rex", "Rusty Rex", json!({})).await;
    create_entity(
        &server,
        &owner,
        "LOCATION",
        "garage",
        "Garage",
        json!({ "location_type": "garage" }),
    )
    .await;
    server
        .ok_as(
            &owner,
            "mutation { deleteEntity(type: LOCATION, entityId: \"garage\") }",
            json!({}),
        )
        .await;

    let reads = server
        .ok_as(
            &outsider,
            "{ entity(type: CHARACTER, entityId: \"rex\") { name }
               entities(type: CHARACTER) { total }
               search(query: \"rusty\") { entity { entityId } }
               recent { entityId }
               recycledEntities { total }
               entityGraph(type: CHARACTER, entityId: \"rex\") { nodes { entityId } }
               universeGraph { nodes { entityId } }
               entityHistory(type: CHARACTER, entityId: \"rex\") { total } }",
            json!({}),
        )
        .await;
    assert_eq!(
        reads,
        json!({
            "entity": null, "entities": { "total": 0 }, "search": [], "recent": [],
            "recycledEntities": { "total": 0 }, "entityGraph": null, "universeGraph": { "nodes": [] },
            "entityHistory": null
        })
    );

    let writes = [
        "mutation { updateEntity(type: CHARACTER, entityId: \"rex\", input: { name: \"Mine\" }) { entityId } }",
        "mutation { deleteEntity(type: CHARACTER, entityId: \"rex\") }",
        "mutation { renameEntity(type: CHARACTER, entityId: \"rex\", newEntityId: \"stolen\") { entityId } }",
        "mutation { restoreEntity(type: LOCATION, entityId: \"garage\") { entityId } }",
        "mutation { purgeEntity(type: LOCATION, entityId: \"garage\") }",
        "mutation { createRelationship(from: { type: CHARACTER, entityId: \"rex\" }, to: { type: CHARACTER, entityId: \"rex\" }, kind: \"x\") { kind } }",
        "{ compareEntityVersions(type: CHARACTER, entityId: \"rex\", from: 1, to: 1) { identical } }",
    ];
    for operation in writes {
        let body = server.gql_as(&outsider, operation, json!({})).await;
        assert_eq!(error_code(&body), "NOT_FOUND", "{operation} → {body}");
    }
    let data = server
        .ok_as(&outsider, "mutation { emptyRecycleBin }", json!({}))
        .await;
    assert_eq!(data["emptyRecycleBin"], 0);

    // The owner's entities are untouched.
    let data = server
        .ok_as(&owner, "{ entity(type: CHARACTER, entityId: \"rex\") { name version } recycledEntities { total } }", json!({}))
        .await;
    assert_eq!(data["entity"], json!({ "name": "Rusty Rex", "version": 1 }));
    assert_eq!(data["recycledEntities"]["total"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_updates_of_one_entity_all_land() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    create_entity(&server, &owner, "CHARACTER", "rex", "Rex", json!({})).await;
    let update = "mutation($input: UpdateEntityInput!) {
        updateEntity(type: CHARACTER, entityId: \"rex\", input: $input) { version } }";
    // Twelve writers at once, each setting a key of its own: a write that lost the race for
    // the row reads it again and merges onto the winner's version, so no key goes missing.
    let writers = (0..12).map(|n| {
        let (server, owner) = (&server, &owner);
        async move {
            server
                .ok_as(
                    owner,
                    update,
                    json!({ "input": { "fields": { format!("key_{n}"): n } } }),
                )
                .await
        }
    });
    futures_util::future::join_all(writers).await;
    let rex = server
        .ok_as(
            &owner,
            "{ entity(type: CHARACTER, entityId: \"rex\") { version fields } entityHistory(type: CHARACTER, entityId: \"rex\", limit: 50) { total } }",
            json!({}),
        )
        .await;
    for n in 0..12 {
        assert_eq!(rex["entity"]["fields"][format!("key_{n}")], n, "{rex}");
    }
    assert_eq!(rex["entity"]["version"], 13, "{rex}");
    assert_eq!(
        rex["entityHistory"]["total"], 13,
        "one revision per write: {rex}"
    );
}
