//! The story library as a studio builds it: state schemas with checked fields, lorebooks and
//! their entries, player profiles, character cards, story resources and API groups, each
//! referring to the others; what is still referred to cannot be deleted (CONFLICT naming the
//! referrers); lists by name a page at a time; the tenant's defaults; and the walls between
//! tenants and roles.

use serde_json::{Value, json};

use crate::harness::*;
use crate::story_connections::{create_connection, openai_input};

const CREATE_SCHEMA: &str = "mutation($name: String, $input: StateSchemaInput!) {
    createStateSchema(displayName: $name, input: $input) {
        id displayName version description fields { key valueType default description enumValues } } }";
const CREATE_CHARACTER: &str = "mutation($name: String, $input: CharacterCardInput!) {
    createCharacterCard(displayName: $name, input: $input) {
        id displayName name tags folder schemaId schema { id displayName } } }";
const UPDATE_CHARACTER: &str = "mutation($id: ID!, $version: Int, $input: CharacterCardInput) {
    updateCharacterCard(id: $id, expectedVersion: $version, input: $input) { id version name } }";
const GET_CHARACTER: &str = "query($id: ID!) { characterCard(id: $id) { id name } }";
const CHARACTERS: &str = "query($search: String, $first: Int, $after: String) {
    characterCards(search: $search, first: $first, after: $after) {
        nodes { displayName } pageInfo { hasNextPage endCursor } } }";
const CREATE_LOREBOOK: &str = "mutation($name: String!, $entries: [LorebookEntryInput!]) {
    createLorebook(displayName: $name, entries: $entries) {
        id version entries { entryId title keywords enabled alwaysInclude } } }";
const ADD_ENTRY: &str = "mutation($book: ID!, $input: LorebookEntryInput!) {
    createLorebookEntry(lorebookId: $book, input: $input) { version entries { entryId title } } }";
const UPDATE_ENTRY: &str = "mutation($book: ID!, $entry: ID!, $input: LorebookEntryUpdate!) {
    updateLorebookEntry(lorebookId: $book, entryId: $entry, input: $input) {
        entry(entryId: $entry) { title content enabled keywords } } }";
const DELETE_ENTRY: &str = "mutation($book: ID!, $entry: ID!) {
    deleteLorebookEntry(lorebookId: $book, entryId: $entry) { entries { entryId } } }";
const CREATE_RESOURCE: &str = "mutation($name: String, $input: StoryResourceInput!) {
    createStoryResource(displayName: $name, input: $input) {
        id displayName characters { name } lorebooks { id } playerSchemaSeed { id } } }";
const CREATE_GROUP: &str = "mutation($name: String!, $input: ApiGroupInput!) {
    createApiGroup(displayName: $name, input: $input) {
        id connections { role connection { id model } } } }";
const SET_CONFIG: &str = "mutation($group: ID, $preset: ID) {
    updateStoryConfig(defaultApiGroupId: $group, defaultPresetId: $preset) {
        defaultApiGroupId defaultPresetId defaultApiGroup { id } } }";
const CONFIG: &str = "{ storyConfig { defaultApiGroupId defaultApiGroup { id } } }";

fn delete(kind: &str) -> String {
    format!("mutation($id: ID!) {{ delete{kind}(id: $id) }}")
}

async fn create_schema(server: &TestServer, account: &Account, name: &str) -> String {
    let input = json!({ "fields": [
        { "key": "mood", "valueType": "STRING", "default": "calm", "enumValues": ["calm", "angry"] },
        { "key": "trust", "valueType": "INT", "default": 3, "description": "How far they trust the player" },
    ] });
    server
        .ok_as(
            account,
            CREATE_SCHEMA,
            json!({ "name": name, "input": input }),
        )
        .await["createStateSchema"]["id"]
        .as_str()
        .expect("schema id")
        .to_owned()
}

async fn create_character(
    server: &TestServer,
    account: &Account,
    name: &str,
    schema: Option<&str>,
) -> Value {
    let input = json!({ "name": name, "personality": "Wry.", "schemaId": schema,
        "tags": ["hero", " Hero ", "north"], "folder": "Heroes" });
    server
        .ok_as(account, CREATE_CHARACTER, json!({ "input": input }))
        .await["createCharacterCard"]
        .clone()
}

fn referrer_names(body: &Value) -> Vec<String> {
    body["errors"][0]["extensions"]["referrers"]
        .as_array()
        .unwrap_or_else(|| panic!("referrers in {body}"))
        .iter()
        .map(|r| {
            format!(
                "{}:{}",
                r["kind"].as_str().unwrap(),
                r["name"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_schemas_check_every_field() {
    let server = TestServer::start().await;
    let owner = server
        .register("schemas@example.com", "Schema Studio")
        .await;
    let created = server
        .ok_as(&owner, CREATE_SCHEMA, json!({ "name": " World ", "input": { "description": " The world ",
            "fields": [{ "key": "weather", "valueType": "STRING", "default": "rain", "enumValues": ["rain", "sun"] },
                       { "key": "inventory", "valueType": "ARRAY", "default": ["rope"] }] } }))
        .await["createStateSchema"]
        .clone();
    assert_eq!(created["displayName"], "World");
    assert_eq!(created["description"], "The world");
    assert_eq!(created["version"], 1);
    assert_eq!(created["fields"][0]["enumValues"], json!(["rain", "sun"]));
    assert_eq!(created["fields"][1]["default"], json!(["rope"]));

    for fields in [
        json!([{ "key": "mood", "valueType": "STRING", "default": "sad", "enumValues": ["calm"] }]),
        json!([{ "key": "bag", "valueType": "ARRAY", "enumValues": [[1]] }]),
        json!([{ "key": "hp", "valueType": "INT", "default": 1.5 }]),
        json!([{ "key": "hp", "valueType": "INT" }, { "key": "hp", "valueType": "FLOAT" }]),
        json!([{ "key": "bad key!", "valueType": "BOOL" }]),
        json!([{ "key": "mood", "valueType": "STRING", "enumValues": ["a", "a"] }]),
    ] {
        let refused = server
            .gql_as(
                &owner,
                CREATE_SCHEMA,
                json!({ "name": "Bad", "input": { "fields": fields } }),
            )
            .await;
        assert_eq!(
            error_code(&refused),
            "BAD_USER_INPUT",
            "{fields} → {refused}"
        );
        assert_eq!(refused["errors"][0]["extensions"]["field"], "fields");
    }
    let nameless = server
        .gql_as(
            &owner,
            CREATE_SCHEMA,
            json!({ "name": "  ", "input": { "fields": [] } }),
        )
        .await;
    assert_eq!(error_code(&nameless), "BAD_USER_INPUT");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lorebook_entries_are_added_changed_and_removed_one_by_one() {
    let server = TestServer::start().await;
    let owner = server.register("lore@example.com", "Lore Studio").await;
    let book = server
        .ok_as(&owner, CREATE_LOREBOOK, json!({ "name": "Northern lore", "entries": [
            { "entryId": "wall", "title": "The Wall", "content": "Ice.", "keywords": [" wall ", ""] } ] }))
        .await["createLorebook"]
        .clone();
    assert_eq!(book["entries"][0]["keywords"], json!(["wall"]));
    assert_eq!(book["entries"][0]["enabled"], true);
    assert_eq!(book["entries"][0]["alwaysInclude"], false);
    let id = book["id"].as_str().unwrap();

    let added = server
        .ok_as(
            &owner,
            ADD_ENTRY,
            json!({ "book": id, "input": { "title": "Crows", "content": "Black." } }),
        )
        .await["createLorebookEntry"]
        .clone();
    assert_eq!(added["version"], 2);
    let crows = added["entries"][1]["entryId"].as_str().unwrap().to_owned();
    assert_eq!(crows.len(), 36, "a new entry gets a UUID");

    let taken = server
        .gql_as(
            &owner,
            ADD_ENTRY,
            json!({ "book": id, "input": { "entryId": "wall", "title": "Again", "content": "" } }),
        )
        .await;
    assert_eq!(error_code(&taken), "CONFLICT");

    let changed = server
        .ok_as(
            &owner,
            UPDATE_ENTRY,
            json!({ "book": id, "entry": crows,
            "input": { "content": "Sworn brothers.", "enabled": false, "keywords": ["crow"] } }),
        )
        .await["updateLorebookEntry"]["entry"]
        .clone();
    assert_eq!(
        changed,
        json!({ "title": "Crows", "content": "Sworn brothers.", "enabled": false, "keywords": ["crow"] })
    );

    let left = server
        .ok_as(&owner, DELETE_ENTRY, json!({ "book": id, "entry": "wall" }))
        .await["deleteLorebookEntry"]["entries"]
        .clone();
    assert_eq!(left, json!([{ "entryId": crows }]));
    server
        .fails_as(
            &owner,
            DELETE_ENTRY,
            json!({ "book": id, "entry": "wall" }),
            "NOT_FOUND",
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_is_still_referred_to_cannot_be_deleted_and_the_refusal_names_the_referrers() {
    let server = TestServer::start().await;
    let owner = server.register("refs@example.com", "Ref Studio").await;
    let schema = create_schema(&server, &owner, "Hero state").await;
    let character = create_character(&server, &owner, "Arya", Some(&schema)).await;
    assert_eq!(
        character["displayName"], "Arya",
        "named after the character"
    );
    assert_eq!(
        character["tags"],
        json!(["hero", "north"]),
        "trimmed, repeats gone"
    );
    assert_eq!(character["schema"]["displayName"], "Hero state");
    let book = server
        .ok_as(&owner, CREATE_LOREBOOK, json!({ "name": "Lore" }))
        .await["createLorebook"]["id"]
        .clone();
    let resource = server
        .ok_as(&owner, CREATE_RESOURCE, json!({ "input": {
            "storyConcept": "A girl crosses the North\nto find her sister.",
            "characterIds": [character["id"]], "lorebookIds": [book], "playerSchemaIdSeed": schema } }))
        .await["createStoryResource"]
        .clone();
    assert_eq!(resource["displayName"], "A girl crosses the North");
    assert_eq!(resource["characters"], json!([{ "name": "Arya" }]));
    assert_eq!(resource["playerSchemaSeed"]["id"], schema.as_str());

    let refused = server
        .gql_as(&owner, &delete("StateSchema"), json!({ "id": schema }))
        .await;
    assert_eq!(error_code(&refused), "CONFLICT");
    let mut names = referrer_names(&refused);
    names.sort();
    assert_eq!(
        names,
        ["CHARACTER:Arya", "STORY_RESOURCE:A girl crosses the North"]
    );
    let refused = server
        .gql_as(
            &owner,
            &delete("CharacterCard"),
            json!({ "id": character["id"] }),
        )
        .await;
    assert_eq!(
        referrer_names(&refused),
        ["STORY_RESOURCE:A girl crosses the North"]
    );
    let refused = server
        .gql_as(&owner, &delete("Lorebook"), json!({ "id": book }))
        .await;
    assert_eq!(error_code(&refused), "CONFLICT");

    // A reference must name a document of the right kind.
    let wrong = server
        .gql_as(
            &owner,
            CREATE_RESOURCE,
            json!({ "input": { "storyConcept": "x", "characterIds": [schema] } }),
        )
        .await;
    assert_eq!(error_code(&wrong), "BAD_USER_INPUT");
    let empty = server
        .gql_as(
            &owner,
            CREATE_RESOURCE,
            json!({ "input": { "storyConcept": "x", "characterIds": [] } }),
        )
        .await;
    assert_eq!(error_code(&empty), "BAD_USER_INPUT");

    // Once the resource is gone, so are its references; then the rest can go, in order.
    server
        .ok_as(
            &owner,
            &delete("StoryResource"),
            json!({ "id": resource["id"] }),
        )
        .await;
    server
        .ok_as(&owner, &delete("Lorebook"), json!({ "id": book }))
        .await;
    server
        .ok_as(
            &owner,
            &delete("CharacterCard"),
            json!({ "id": character["id"] }),
        )
        .await;
    server
        .ok_as(&owner, &delete("StateSchema"), json!({ "id": schema }))
        .await;
    let mut db = server.db().await;
    assert_eq!(
        count_rows(&mut db, "SELECT count(*) AS n FROM story_links").await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_group_binds_a_connection_to_each_role_and_holds_it() {
    let server = TestServer::start().await;
    let owner = server.register("groups@example.com", "Group Studio").await;
    let fast = create_connection(
        &server,
        &owner,
        openai_input("https://fast.example", Some("sk-fast-00000")),
    )
    .await;
    let deep = create_connection(&server, &owner, openai_input("https://deep.example", None)).await;
    let roles = [
        "planner",
        "architect",
        "director",
        "actor",
        "narrator",
        "keeper",
        "replyer",
    ];
    let mut input = json!({});
    for role in roles {
        let connection = if role == "architect" { &deep } else { &fast };
        input[format!("{role}Id")] = connection["id"].clone();
    }
    let group = server
        .ok_as(
            &owner,
            CREATE_GROUP,
            json!({ "name": "Default", "input": input }),
        )
        .await["createApiGroup"]
        .clone();
    let bound = group["connections"].as_array().unwrap();
    assert_eq!(bound.len(), 7);
    assert_eq!(
        bound[1],
        json!({ "role": "ARCHITECT", "connection": { "id": deep["id"], "model": "story-model" } })
    );

    // Every role is required; each must be a connection of the tenant.
    let mut missing = input.clone();
    missing.as_object_mut().unwrap().remove("keeperId");
    let refused = server
        .gql_as(
            &owner,
            CREATE_GROUP,
            json!({ "name": "Half", "input": missing }),
        )
        .await;
    assert!(refused["errors"].is_array(), "{refused}");
    let schema = create_schema(&server, &owner, "Not a connection").await;
    let mut wrong = input.clone();
    wrong["replyerId"] = json!(schema);
    server
        .fails_as(
            &owner,
            CREATE_GROUP,
            json!({ "name": "Wrong", "input": wrong }),
            "BAD_USER_INPUT",
        )
        .await;

    // The group holds its connections; it is the tenant's default until it goes.
    let refused = server
        .gql_as(
            &owner,
            &delete("ApiConnection"),
            json!({ "id": deep["id"] }),
        )
        .await;
    assert_eq!(referrer_names(&refused), ["API_GROUP:Default"]);
    let config = server
        .ok_as(&owner, SET_CONFIG, json!({ "group": group["id"] }))
        .await["updateStoryConfig"]
        .clone();
    assert_eq!(config["defaultApiGroup"]["id"], group["id"]);
    server
        .fails_as(
            &owner,
            SET_CONFIG,
            json!({ "group": fast["id"] }),
            "BAD_USER_INPUT",
        )
        .await;
    server
        .ok_as(&owner, &delete("ApiGroup"), json!({ "id": group["id"] }))
        .await;
    let config = server.ok_as(&owner, CONFIG, json!({})).await["storyConfig"].clone();
    assert_eq!(config["defaultApiGroupId"], Value::Null);
    server
        .ok_as(
            &owner,
            &delete("ApiConnection"),
            json!({ "id": deep["id"] }),
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libraries_page_by_name_and_change_only_what_was_read() {
    let server = TestServer::start().await;
    let owner = server.register("pages@example.com", "Page Studio").await;
    for name in ["Eddard", "arya", "Bran", "Catelyn", "Sansa"] {
        create_character(&server, &owner, name, None).await;
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = server
            .ok_as(&owner, CHARACTERS, json!({ "first": 2, "after": after }))
            .await["characterCards"]
            .clone();
        for node in page["nodes"].as_array().unwrap() {
            seen.push(node["displayName"].as_str().unwrap().to_owned());
        }
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(
        seen,
        ["arya", "Bran", "Catelyn", "Eddard", "Sansa"],
        "by name, any case"
    );
    let found = server
        .ok_as(&owner, CHARACTERS, json!({ "search": "AN" }))
        .await["characterCards"]["nodes"]
        .clone();
    assert_eq!(
        found,
        json!([{ "displayName": "Bran" }, { "displayName": "Sansa" }])
    );

    let bran = create_character(&server, &owner, "Bran II", None).await;
    let input = json!({ "name": "Bran the Broken" });
    let changed = server
        .ok_as(
            &owner,
            UPDATE_CHARACTER,
            json!({ "id": bran["id"], "version": 1, "input": input }),
        )
        .await["updateCharacterCard"]
        .clone();
    assert_eq!(changed["version"], 2);
    server
        .fails_as(
            &owner,
            UPDATE_CHARACTER,
            json!({ "id": bran["id"], "version": 1, "input": input }),
            "CONFLICT",
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenant_and_a_player_are_kept_out() {
    let server = TestServer::start().await;
    let owner = server.register("wall@example.com", "Wall Studio").await;
    let schema = create_schema(&server, &owner, "Private").await;
    let character = create_character(&server, &owner, "Jon", Some(&schema)).await;
    let id = character["id"].as_str().unwrap();

    let outsider = server.register("other@example.com", "Other Studio").await;
    let book = server
        .ok_as(&owner, CREATE_LOREBOOK, json!({ "name": "Ours", "entries": [{ "entryId": "a", "title": "A", "content": "." }] }))
        .await["createLorebook"]["id"]
        .clone();
    for (query, variables) in [
        (
            ADD_ENTRY,
            json!({ "book": book, "input": { "title": "Theirs", "content": "." } }),
        ),
        (
            UPDATE_ENTRY,
            json!({ "book": book, "entry": "a", "input": { "title": "Theirs" } }),
        ),
        (DELETE_ENTRY, json!({ "book": book, "entry": "a" })),
    ] {
        server
            .fails_as(&outsider, query, variables, "NOT_FOUND")
            .await;
    }
    let seen = server
        .ok_as(&outsider, GET_CHARACTER, json!({ "id": id }))
        .await;
    assert_eq!(seen["characterCard"], Value::Null);
    let listed = server.ok_as(&outsider, CHARACTERS, json!({})).await;
    assert_eq!(listed["characterCards"]["nodes"], json!([]));
    server
        .fails_as(
            &outsider,
            UPDATE_CHARACTER,
            json!({ "id": id, "input": { "name": "Mine" } }),
            "NOT_FOUND",
        )
        .await;
    server
        .fails_as(
            &outsider,
            &delete("CharacterCard"),
            json!({ "id": id }),
            "NOT_FOUND",
        )
        .await;
    // Nor may another tenant's schema be referred to.
    let input = json!({ "name": "Thief", "schemaId": schema });
    server
        .fails_as(
            &outsider,
            CREATE_CHARACTER,
            json!({ "input": input }),
            "BAD_USER_INPUT",
        )
        .await;
    // A cursor of one tenant's list means nothing in another's.
    let page = server
        .ok_as(&owner, CHARACTERS, json!({ "first": 1 }))
        .await;
    let cursor = page["characterCards"]["pageInfo"]["endCursor"].clone();
    server
        .fails_as(
            &outsider,
            CHARACTERS,
            json!({ "after": cursor }),
            "BAD_USER_INPUT",
        )
        .await;

    // A PLAYER reads the cast but writes nothing.
    let player = server
        .invite_member(&owner, "player@example.com", "PLAYER")
        .await;
    let read = server
        .ok_as(&player, GET_CHARACTER, json!({ "id": id }))
        .await;
    assert_eq!(read["characterCard"]["name"], "Jon");
    server
        .fails_as(
            &player,
            CREATE_CHARACTER,
            json!({ "input": { "name": "Hodor" } }),
            "FORBIDDEN",
        )
        .await;
    server
        .fails_as(
            &player,
            UPDATE_CHARACTER,
            json!({ "id": id, "input": { "name": "Hodor" } }),
            "FORBIDDEN",
        )
        .await;
    server
        .fails_as(
            &player,
            &delete("CharacterCard"),
            json!({ "id": id }),
            "FORBIDDEN",
        )
        .await;
    server
        .fails_as(
            &player,
            "{ apiGroups { nodes { id } } }",
            json!({}),
            "FORBIDDEN",
        )
        .await;
}
