//! Stories as a studio makes them: a resource made playable with its schemas and a graph of
//! scenes that must hold together (reachable, within the cast, keys of the bound schemas), a
//! graph edit that makes a new version while the old one stays readable, the references that
//! keep a story's resource and schemas in place, and the walls between tenants and roles.

use serde_json::{Value, json};

use crate::harness::*;

const CREATE_SCHEMA: &str = "mutation($name: String!, $input: StateSchemaInput!) {
    createStateSchema(displayName: $name, input: $input) { id } }";
const CREATE_STORY: &str = "mutation($name: String!, $input: CreateStoryInput!) {
    createStory(displayName: $name, input: $input) { id version graphVersion
        graph { startNode nodes { id transitions { to condition { scope key op value } } } } } }";
const UPDATE_GRAPH: &str = "mutation($id: ID!, $graph: StoryGraphInput!, $version: Int) {
    updateStory(id: $id, graph: $graph, expectedVersion: $version) { version graphVersion } }";
const GRAPH_VERSION: &str = "query($id: ID!, $version: Int!) {
    storyGraphVersion(storyId: $id, version: $version) { startNode nodes { id } } }";
const STORY: &str = "query($id: ID!) { story(id: $id) { id displayName graphVersion } }";

async fn id_of(
    server: &TestServer,
    account: &Account,
    query: &str,
    variables: Value,
    root: &str,
) -> String {
    server.ok_as(account, query, variables).await[root]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

struct World {
    resource: String,
    world: String,
    arya: String,
}

async fn world(server: &TestServer, account: &Account) -> World {
    let world = id_of(server, account, CREATE_SCHEMA, json!({ "name": "World", "input": { "fields": [
        { "key": "weather", "valueType": "STRING", "default": "rain", "enumValues": ["rain", "sun"] },
        { "key": "day", "valueType": "INT", "default": 1 } ] } }), "createStateSchema").await;
    let trust = id_of(
        server,
        account,
        CREATE_SCHEMA,
        json!({ "name": "Trust", "input": { "fields": [
        { "key": "trust", "valueType": "INT", "default": 0 } ] } }),
        "createStateSchema",
    )
    .await;
    let arya = id_of(
        server,
        account,
        "mutation($input: CharacterCardInput!) { createCharacterCard(input: $input) { id } }",
        json!({ "input": { "name": "Arya", "schemaId": trust } }),
        "createCharacterCard",
    )
    .await;
    let resource = id_of(
        server,
        account,
        "mutation($input: StoryResourceInput!) { createStoryResource(input: $input) { id } }",
        json!({ "input": { "storyConcept": "Winterfell at night.", "characterIds": [arya] } }),
        "createStoryResource",
    )
    .await;
    World {
        resource,
        world,
        arya,
    }
}

fn graph(arya: &str) -> Value {
    json!({ "startNode": "gate", "nodes": [
        { "id": "gate", "title": "The gate", "scene": "Snow.", "transitions": [
            { "to": "hall", "condition": { "key": "day", "op": "GTE", "value": 2 } },
            { "to": "crypt", "condition": { "scope": "CHARACTER", "character": arya, "key": "trust", "op": "GT", "value": 3 } } ] },
        { "id": "hall", "title": "The hall", "characters": [arya], "transitions": [{ "to": "gate" }],
          "onEnterUpdates": [{ "type": "SET_STATE", "key": "weather", "value": "sun" }] },
        { "id": "crypt", "title": "The crypt", "transitions": [{ "to": "gate" }] } ] })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_story_graph_holds_together_and_each_edit_is_a_new_version() {
    let server = TestServer::start().await;
    let studio = server.register("stories@example.com", "Story Studio").await;
    let w = world(&server, &studio).await;
    let input = json!({ "resourceId": w.resource, "worldSchemaId": w.world,
        "introduction": "Night falls.", "graph": graph(&w.arya) });
    let story = server
        .ok_as(
            &studio,
            CREATE_STORY,
            json!({ "name": "Winterfell", "input": input }),
        )
        .await["createStory"]
        .clone();
    assert_eq!(story["graphVersion"], 1);
    assert_eq!(
        story["graph"]["nodes"][0]["transitions"][1]["condition"]["scope"],
        "CHARACTER"
    );
    let id = story["id"].as_str().unwrap().to_owned();

    // Graphs that do not hold together are refused, naming why.
    let mut lost = graph(&w.arya);
    lost["nodes"][2]["id"] = json!("cellar");
    lost["nodes"][0]["transitions"]
        .as_array_mut()
        .unwrap()
        .pop();
    let mut stranger = graph(&w.arya);
    stranger["nodes"][1]["characters"] = json!([w.world]);
    let mut off_schema = graph(&w.arya);
    off_schema["nodes"][0]["transitions"][0]["condition"]["key"] = json!("moon");
    let mut off_enum = graph(&w.arya);
    off_enum["nodes"][1]["onEnterUpdates"][0]["value"] = json!("snow");
    for (bad, says) in [
        (lost, "no path from the start node"),
        (stranger, "not in the story's cast"),
        (off_schema, "not a key of the world's schema"),
        (off_enum, "does not fit `weather`"),
    ] {
        let refused = server
            .gql_as(&studio, UPDATE_GRAPH, json!({ "id": id, "graph": bad }))
            .await;
        assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{refused}");
        assert!(
            refused["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(says),
            "{refused}"
        );
    }
    let unbound = json!({ "resourceId": w.resource, "graph": graph(&w.arya) });
    server
        .fails_as(
            &studio,
            CREATE_STORY,
            json!({ "name": "No world", "input": unbound }),
            "BAD_USER_INPUT",
        )
        .await;

    // An edit is a new version; the first stays readable.
    let mut shorter = graph(&w.arya);
    shorter["nodes"][0]["transitions"]
        .as_array_mut()
        .unwrap()
        .remove(1);
    shorter["nodes"].as_array_mut().unwrap().pop();
    let edited = server
        .ok_as(
            &studio,
            UPDATE_GRAPH,
            json!({ "id": id, "graph": shorter, "version": 1 }),
        )
        .await["updateStory"]
        .clone();
    assert_eq!(edited, json!({ "version": 2, "graphVersion": 2 }));
    let first = server
        .ok_as(&studio, GRAPH_VERSION, json!({ "id": id, "version": 1 }))
        .await;
    assert_eq!(
        first["storyGraphVersion"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let second = server
        .ok_as(&studio, GRAPH_VERSION, json!({ "id": id, "version": 2 }))
        .await;
    assert_eq!(
        second["storyGraphVersion"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let none = server
        .ok_as(&studio, GRAPH_VERSION, json!({ "id": id, "version": 3 }))
        .await;
    assert_eq!(none["storyGraphVersion"], Value::Null);
    server
        .fails_as(
            &studio,
            UPDATE_GRAPH,
            json!({ "id": id, "graph": graph(&w.arya), "version": 1 }),
            "CONFLICT",
        )
        .await;

    // The story holds its resource and its world schema.
    let refused = server
        .gql_as(
            &studio,
            "mutation($id: ID!) { deleteStoryResource(id: $id) }",
            json!({ "id": w.resource }),
        )
        .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["referrers"][0]["kind"], "STORY",
        "{refused}"
    );
    let refused = server
        .gql_as(
            &studio,
            "mutation($id: ID!) { deleteStateSchema(id: $id) }",
            json!({ "id": w.world }),
        )
        .await;
    assert_eq!(error_code(&refused), "CONFLICT");

    // Another tenant sees and changes nothing, and cannot build on this tenant's resource.
    let outsider = server
        .register("story-outsider@example.com", "Outsider Studio")
        .await;
    assert_eq!(
        server.ok_as(&outsider, STORY, json!({ "id": id })).await["story"],
        Value::Null
    );
    let hidden = server
        .ok_as(&outsider, GRAPH_VERSION, json!({ "id": id, "version": 1 }))
        .await;
    assert_eq!(hidden["storyGraphVersion"], Value::Null);
    server
        .fails_as(
            &outsider,
            UPDATE_GRAPH,
            json!({ "id": id, "graph": graph(&w.arya) }),
            "NOT_FOUND",
        )
        .await;
    let borrowed = json!({ "resourceId": w.resource, "graph": { "startNode": "a", "nodes": [{ "id": "a", "title": "A" }] } });
    server
        .fails_as(
            &outsider,
            CREATE_STORY,
            json!({ "name": "Mine", "input": borrowed }),
            "BAD_USER_INPUT",
        )
        .await;

    // A PLAYER reads the story but does not write it.
    let player = server
        .invite_member(&studio, "story-player@example.com", "PLAYER")
        .await;
    assert_eq!(
        server.ok_as(&player, STORY, json!({ "id": id })).await["story"]["graphVersion"],
        2
    );
    server
        .fails_as(
            &player,
            UPDATE_GRAPH,
            json!({ "id": id, "graph": graph(&w.arya) }),
            "FORBIDDEN",
        )
        .await;

    // Deleted, the story lets its resource go.
    server
        .ok_as(
            &studio,
            "mutation($id: ID!) { deleteStory(id: $id) }",
            json!({ "id": id }),
        )
        .await;
    server
        .ok_as(
            &studio,
            "mutation($id: ID!) { deleteStoryResource(id: $id) }",
            json!({ "id": w.resource }),
        )
        .await;
}

const START: &str = "mutation($story: ID!) { startStorySession(storyId: $story) {
    id graphVersion ownerId state { currentNode activeCharacters world turnIndex } } }";
const VARIABLES: &str = "mutation($id: ID!, $ops: [StateOperationInput!]!) {
    updateSessionVariables(sessionId: $id, operations: $ops) { version state { world } } }";
const SESSION: &str =
    "query($id: ID!) { storySession(id: $id) { graphVersion state { currentNode world } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_starts_at_the_start_keeps_its_graph_and_changes_only_by_checked_variables() {
    let server = TestServer::start().await;
    let studio = server
        .register("sessions@example.com", "Session Studio")
        .await;
    let w = world(&server, &studio).await;
    let input =
        json!({ "resourceId": w.resource, "worldSchemaId": w.world, "graph": graph(&w.arya) });
    let story = id_of(
        &server,
        &studio,
        CREATE_STORY,
        json!({ "name": "Winterfell", "input": input }),
        "createStory",
    )
    .await;

    let player = server
        .invite_member(&studio, "session-player@example.com", "PLAYER")
        .await;
    let session = server
        .ok_as(&player, START, json!({ "story": story }))
        .await["startStorySession"]
        .clone();
    assert_eq!(session["graphVersion"], 1);
    assert_eq!(session["ownerId"], player.user_id.as_str());
    assert_eq!(session["state"]["currentNode"], "gate");
    assert_eq!(
        session["state"]["world"],
        json!({ "weather": "rain", "day": 1 }),
        "the schema's defaults"
    );
    assert_eq!(session["state"]["turnIndex"], 0);
    let id = session["id"].as_str().unwrap().to_owned();
    let dashboard = server
        .ok_as(&studio, "{ storyDashboard { counts { stories sessions } recentStories { id } recentSessions { id } } }", json!({}))
        .await["storyDashboard"]
        .clone();
    assert_eq!(dashboard["counts"], json!({ "stories": 1, "sessions": 1 }));
    assert_eq!(dashboard["recentStories"][0]["id"], story.as_str());
    assert_eq!(dashboard["recentSessions"][0]["id"], id.as_str());

    // The story's graph moves on; the session stays on the version it started with.
    let mut shorter = graph(&w.arya);
    shorter["nodes"][0]["transitions"]
        .as_array_mut()
        .unwrap()
        .remove(1);
    shorter["nodes"].as_array_mut().unwrap().pop();
    server
        .ok_as(
            &studio,
            UPDATE_GRAPH,
            json!({ "id": story, "graph": shorter }),
        )
        .await;
    assert_eq!(
        server.ok_as(&player, SESSION, json!({ "id": id })).await["storySession"]["graphVersion"],
        1
    );

    // Variables change by the six state operations, checked, all or none.
    let changed = server
        .ok_as(
            &player,
            VARIABLES,
            json!({ "id": id, "ops": [
            { "type": "SET_STATE", "key": "day", "value": 3 },
            { "type": "SET_CHARACTER_STATE", "character": w.arya, "key": "trust", "value": 5 } ] }),
        )
        .await["updateSessionVariables"]
        .clone();
    assert_eq!(changed["state"]["world"]["day"], 3);
    for ops in [
        json!([{ "type": "SET_STATE", "key": "day", "value": 4 }, { "type": "SET_STATE", "key": "weather", "value": "snow" }]),
        json!([{ "type": "SET_CURRENT_NODE", "nodeId": "hall" }]),
        json!([{ "type": "SET_PLAYER_STATE", "key": "hp", "value": 1 }]),
    ] {
        server
            .fails_as(
                &player,
                VARIABLES,
                json!({ "id": id, "ops": ops }),
                "BAD_USER_INPUT",
            )
            .await;
    }
    let kept = server.ok_as(&player, SESSION, json!({ "id": id })).await["storySession"].clone();
    assert_eq!(
        kept["state"]["world"]["day"], 3,
        "a refused batch changes nothing"
    );

    // Its player, their description and its preset are the owner's to set; each is checked.
    let profile = id_of(
        &server,
        &studio,
        "mutation { createPlayerProfile(input: { name: \"Bran\" }) { id } }",
        json!({}),
        "createPlayerProfile",
    )
    .await;
    let preset = id_of(
        &server,
        &studio,
        "mutation { createPreset(displayName: \"Grim\") { id } }",
        json!({}),
        "createPreset",
    )
    .await;
    let set = server
        .ok_as(&player, "mutation($id: ID!, $profile: ID) { setSessionPlayerProfile(sessionId: $id, playerProfileId: $profile) { playerProfileId } }",
            json!({ "id": id, "profile": profile }))
        .await;
    assert_eq!(
        set["setSessionPlayerProfile"]["playerProfileId"],
        profile.as_str()
    );
    let described = server
        .ok_as(&player, "mutation($id: ID!) { updatePlayerDescription(sessionId: $id, description: \"  A broken boy.  \") { playerDescription } }", json!({ "id": id }))
        .await;
    assert_eq!(
        described["updatePlayerDescription"]["playerDescription"],
        "A broken boy."
    );
    let configured = server
        .ok_as(&player, "mutation($id: ID!, $preset: ID) { updateSessionConfig(sessionId: $id, presetId: $preset) { presetId } }", json!({ "id": id, "preset": preset }))
        .await;
    assert_eq!(
        configured["updateSessionConfig"]["presetId"],
        preset.as_str()
    );
    server
        .fails_as(&player, "mutation($id: ID!, $profile: ID) { setSessionPlayerProfile(sessionId: $id, playerProfileId: $profile) { id } }",
            json!({ "id": id, "profile": preset }), "BAD_USER_INPUT")
        .await;
    let refused = server
        .gql_as(
            &studio,
            "mutation($id: ID!) { deletePlayerProfile(id: $id) }",
            json!({ "id": profile }),
        )
        .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["referrers"][0]["kind"], "SESSION",
        "{refused}"
    );

    // The session holds its story; others may read it, only its owner or a WORLDBUILDER change it.
    let refused = server
        .gql_as(
            &studio,
            "mutation($id: ID!) { deleteStory(id: $id) }",
            json!({ "id": story }),
        )
        .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["referrers"][0]["kind"], "SESSION",
        "{refused}"
    );
    let other_player = server
        .invite_member(&studio, "other-player@example.com", "PLAYER")
        .await;
    assert_eq!(
        server
            .ok_as(&other_player, SESSION, json!({ "id": id }))
            .await["storySession"]["state"]["currentNode"],
        "gate"
    );
    server
        .fails_as(
            &other_player,
            VARIABLES,
            json!({ "id": id, "ops": [{ "type": "SET_STATE", "key": "day", "value": 9 }] }),
            "FORBIDDEN",
        )
        .await;
    server
        .fails_as(
            &other_player,
            "mutation($id: ID!) { deleteStorySession(id: $id) }",
            json!({ "id": id }),
            "FORBIDDEN",
        )
        .await;
    let outsider = server
        .register("session-outsider@example.com", "Elsewhere")
        .await;
    assert_eq!(
        server.ok_as(&outsider, SESSION, json!({ "id": id })).await["storySession"],
        Value::Null
    );
    server
        .fails_as(
            &outsider,
            VARIABLES,
            json!({ "id": id, "ops": [] }),
            "NOT_FOUND",
        )
        .await;
    server
        .fails_as(&outsider, START, json!({ "story": story }), "NOT_FOUND")
        .await;

    // The transcript: appended in order, read by cursor, corrected and trimmed by its owner.
    let add = "mutation($id: ID!, $input: CreateSessionMessageInput!) {
        createSessionMessage(sessionId: $id, input: $input) { sequence turnIndex kind speakerName text } }";
    let lines = [
        json!({ "kind": "PLAYER_INPUT", "text": "I knock." }),
        json!({ "kind": "NARRATION", "text": "The gate creaks." }),
        json!({ "kind": "DIALOGUE", "speakerId": w.arya, "speakerName": "Arya", "text": "Who's there?" }),
    ];
    for (index, line) in lines.iter().enumerate() {
        let added = server
            .ok_as(&player, add, json!({ "id": id, "input": line }))
            .await["createSessionMessage"]
            .clone();
        assert_eq!(added["sequence"], index + 1);
        assert_eq!(added["turnIndex"], 0);
    }
    let list = "query($id: ID!, $after: String) { sessionMessages(sessionId: $id, first: 2, after: $after) {
        nodes { sequence kind text } pageInfo { hasNextPage endCursor } } }";
    let first = server.ok_as(&player, list, json!({ "id": id })).await["sessionMessages"].clone();
    assert_eq!(first["nodes"][0]["kind"], "PLAYER_INPUT");
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    let rest = server
        .ok_as(
            &other_player,
            list,
            json!({ "id": id, "after": first["pageInfo"]["endCursor"] }),
        )
        .await["sessionMessages"]
        .clone();
    assert_eq!(
        rest["nodes"],
        json!([{ "sequence": 3, "kind": "DIALOGUE", "text": "Who's there?" }])
    );
    let fix = "mutation($id: ID!) { updateSessionMessage(sessionId: $id, sequence: 2, input: { text: \"The gate groans.\" }) { text } }";
    assert_eq!(
        server.ok_as(&player, fix, json!({ "id": id })).await["updateSessionMessage"]["text"],
        "The gate groans."
    );
    server
        .fails_as(&other_player, fix, json!({ "id": id }), "FORBIDDEN")
        .await;
    let drop_line = "mutation($id: ID!) { deleteSessionMessage(sessionId: $id, sequence: 1) }";
    server.ok_as(&player, drop_line, json!({ "id": id })).await;
    server
        .fails_as(&player, drop_line, json!({ "id": id }), "NOT_FOUND")
        .await;
    server
        .fails_as(
            &player,
            add,
            json!({ "id": id, "input": { "kind": "NARRATION", "text": "  " } }),
            "BAD_USER_INPUT",
        )
        .await;
    server
        .fails_as(&outsider, list, json!({ "id": id }), "NOT_FOUND")
        .await;
    server
        .fails_as(
            &outsider,
            add,
            json!({ "id": id, "input": { "kind": "NARRATION", "text": "Mine." } }),
            "NOT_FOUND",
        )
        .await;
    server
        .fails_as(
            &outsider,
            "mutation($id: ID!) { deleteSessionMessage(sessionId: $id, sequence: 2) }",
            json!({ "id": id }),
            "NOT_FOUND",
        )
        .await;

    server
        .ok_as(
            &player,
            "mutation($id: ID!) { deleteStorySession(id: $id) }",
            json!({ "id": id }),
        )
        .await;
    server
        .ok_as(
            &studio,
            "mutation($id: ID!) { deleteStory(id: $id) }",
            json!({ "id": story }),
        )
        .await;
    let mut db = server.db().await;
    assert_eq!(
        count_rows(&mut db, "SELECT count(*) AS n FROM story_session_messages").await,
        0,
        "the transcript went with its session"
    );
}
