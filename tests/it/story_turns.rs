//! Live play as a player lives it: a studio binds each agent to its own scripted model, a
//! player starts a session and plays turns over the WebSocket — the keeper's valid operations
//! made and its invalid ones reported, the director's hop through a guarded transition, a
//! stranger brought in, narration and an actor's thought, action and words streamed in order —
//! then a turn that fails at the narrator and one cancelled mid-stream, each leaving the
//! session exactly as it was, a second turn refused while one runs, a turn over Server-Sent
//! Events, and the walls between players and tenants.

use serde_json::{Value, json};

use crate::harness::*;
use crate::llm_mock::{MockProvider, Reply};
use crate::story_connections::{
    create_connection, default_group, openai_answer, openai_input, server_reaching_localhost,
};

const RUN_TURN: &str = "subscription($id: ID!, $input: String!) {
  runTurn(sessionId: $id, playerInput: $input) {
    __typename
    ... on TurnStarted { sequence turnIndex sessionVersion }
    ... on PlayerInputRecorded { sequence text }
    ... on KeeperApplied { sequence phase applied { type key value } rejected { reason } }
    ... on DirectorCompleted { sequence transition { from to } nodeId
        beats { kind speakerId purpose } roleActions { kind characterId name } ignored }
    ... on SessionCharacterCreated { sequence character { id name } }
    ... on SessionCharacterEntered { sequence characterId name }
    ... on SessionCharacterLeft { sequence characterId name }
    ... on BeatStarted { sequence beat kind speakerName }
    ... on TextDelta { sequence beat channel text }
    ... on BeatCompleted { sequence beat narration thought action dialogue usage { agent charged } }
    ... on TurnCompleted { sequence turnIndex charged calls: usage { agent stage }
        snapshot { version turnIndex currentNode { id } sceneCharacters { name temporary }
            state { world } sessionCharacters { name } } }
    ... on TurnFailed { sequence stage code message cancelled }
  } }";
const SNAPSHOT: &str = "query($id: ID!) { sessionSnapshot(sessionId: $id) {
    version turnIndex turnRunning currentNode { id } state { world } } }";
const TRANSCRIPT: &str = "query($id: ID!) { sessionMessages(sessionId: $id, first: 50) {
    nodes { turnIndex kind speakerName text } } }";

/// A JSON answer of the scripted model (the agents that answer in JSON).
fn json_reply(answer: Value) -> Reply {
    Reply::stream("text/event-stream", &openai_answer(&answer.to_string()), 64)
}

/// A streamed answer in small pieces (cut anywhere, tags included).
fn streamed(text: &str) -> Reply {
    let pieces: Vec<String> = text
        .chars()
        .collect::<Vec<_>>()
        .chunks(4)
        .map(|c| c.iter().collect())
        .collect();
    let mut body = String::new();
    for piece in pieces {
        let chunk = json!({ "id": "t", "object": "chat.completion.chunk",
            "choices": [{ "index": 0, "delta": { "content": piece }, "finish_reason": null }] });
        body.push_str(&format!("data: {chunk}\n\n"));
    }
    let usage = json!({ "id": "t", "object": "chat.completion.chunk", "choices": [],
        "usage": { "prompt_tokens": 30, "completion_tokens": 10, "total_tokens": 40 } });
    body.push_str(&format!("data: {usage}\n\ndata: [DONE]\n\n"));
    Reply::stream("text/event-stream", &body, 48)
}

/// A streamed answer that stops after `text` and keeps the connection open (a model stalling).
fn hanging(text: &str) -> Reply {
    let chunk = json!({ "id": "t", "object": "chat.completion.chunk",
        "choices": [{ "index": 0, "delta": { "content": text }, "finish_reason": null }] });
    Reply::stream("text/event-stream", &format!("data: {chunk}\n\n"), 256).then_hang()
}

/// The code a refused subscription gets (an `error` message, or a `next` carrying errors).
async fn refusal_code(socket: &mut Socket) -> String {
    let message = ws_next(socket).await.expect("a refusal");
    let errors = match message["type"].as_str() {
        Some("error") => message["payload"].clone(),
        _ => message["payload"]["errors"].clone(),
    };
    errors[0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("a refusal, not {message}"))
        .to_owned()
}

struct Table {
    server: TestServer,
    studio: Account,
    player: Account,
    session: Value,
    story: Value,
    keeper: MockProvider,
    director: MockProvider,
    narrator: MockProvider,
    actor: MockProvider,
}

async fn id(
    server: &TestServer,
    account: &Account,
    query: &str,
    variables: Value,
    root: &str,
) -> Value {
    server.ok_as(account, query, variables).await[root]["id"].clone()
}

/// A studio whose agents each call their own scripted model, a story of a gate and a hall
/// (the hall is reached once `day` is 2), and a player's session of it.
async fn table(narrator_script: Vec<Reply>) -> Table {
    let server = server_reaching_localhost().await;
    let studio = server.register("turns@example.com", "Turn Studio").await;
    let keeper = MockProvider::start(vec![
        json_reply(json!({ "operations": [
            { "type": "SetState", "key": "day", "value": 2 },
            { "type": "SetState", "key": "moon", "value": "full" },
            { "type": "SetCurrentNode", "node_id": "hall" } ] })),
        json_reply(json!({ "operations": [] })),
    ])
    .await;
    let director = MockProvider::start(vec![json_reply(json!({
        "role_actions": [{ "type": "create_and_enter", "name": "Guard", "personality": "Gruff." }],
        "beats": [
            { "type": "narrator", "purpose": "describe_transition" },
            { "type": "actor", "speaker_id": "Arya", "purpose": "react_to_player" },
            { "type": "actor", "speaker_id": "Hodor" } ] }))])
    .await;
    let narrator = MockProvider::start(narrator_script).await;
    let actor = MockProvider::start(vec![streamed(
        "<thought>He is cold.</thought>\n<action>Arya waves.</action><dialogue>Come in.</dialogue>",
    )])
    .await;
    let mut connections = std::collections::HashMap::new();
    for (role, mock) in [
        ("director", &director),
        ("actor", &actor),
        ("narrator", &narrator),
        ("keeper", &keeper),
    ] {
        let connection = create_connection(&server, &studio, openai_input(&mock.url, None)).await;
        connections.insert(role, connection["id"].clone());
    }
    // The agents a turn does not call share the keeper's.
    default_group(&server, &studio, |role| {
        connections
            .get(role)
            .unwrap_or(&connections["keeper"])
            .clone()
    })
    .await;
    let world = id(&server, &studio, "mutation($input: StateSchemaInput!) { createStateSchema(displayName: \"World\", input: $input) { id } }",
        json!({ "input": { "fields": [{ "key": "day", "valueType": "INT", "default": 1 }] } }), "createStateSchema").await;
    let arya = id(
        &server,
        &studio,
        "mutation { createCharacterCard(input: { name: \"Arya\", personality: \"Wry.\" }) { id } }",
        json!({}),
        "createCharacterCard",
    )
    .await;
    let lore = id(&server, &studio, "mutation($entries: [LorebookEntryInput!]) { createLorebook(displayName: \"North\", entries: $entries) { id } }",
        json!({ "entries": [
            { "title": "Winter", "content": "Winter   is\ncoming.", "alwaysInclude": true },
            { "title": "The Wall", "content": "Ice and night.", "keywords": ["wall"] },
            { "title": "Dragons", "content": "Gone.", "keywords": ["dragon"] } ] }), "createLorebook").await;
    let resource = id(&server, &studio, "mutation($input: StoryResourceInput!) { createStoryResource(input: $input) { id } }",
        json!({ "input": { "storyConcept": "A gate at night.", "characterIds": [arya], "lorebookIds": [lore] } }), "createStoryResource").await;
    let story = id(&server, &studio, "mutation($input: CreateStoryInput!) { createStory(displayName: \"Gate\", input: $input) { id } }",
        json!({ "input": { "resourceId": resource, "worldSchemaId": world, "introduction": "Night in the North.",
            "graph": { "startNode": "gate", "nodes": [
                { "id": "gate", "title": "The gate", "scene": "Snow on a shut gate by the wall.",
                  "transitions": [{ "to": "hall", "condition": { "key": "day", "op": "GTE", "value": 2 } }] },
                { "id": "hall", "title": "The hall", "scene": "A warm hall.", "goal": "Be welcomed.",
                  "characters": [arya] } ] } } }), "createStory").await;
    let player = server
        .invite_member(&studio, "turns-player@example.com", "PLAYER")
        .await;
    let session = id(
        &server,
        &player,
        "mutation($story: ID!) { startStorySession(storyId: $story) { id } }",
        json!({ "story": story }),
        "startStorySession",
    )
    .await;
    Table {
        server,
        studio,
        player,
        session,
        story,
        keeper,
        director,
        narrator,
        actor,
    }
}

/// Subscribes to a turn as `account` on a new socket.
async fn start_turn(table: &Table, account: &Account, input: &str) -> Socket {
    let mut socket = connect_as(&table.server, &account.token).await;
    ws_send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": RUN_TURN,
            "variables": { "id": table.session, "input": input } } }),
    )
    .await;
    socket
}

/// The turn's events until it completes or fails.
async fn events(socket: &mut Socket) -> Vec<Value> {
    let mut events = Vec::new();
    loop {
        let message = ws_next(socket).await.expect("a message");
        match message["type"].as_str() {
            Some("next") => {
                assert!(message["payload"]["errors"].is_null(), "{message}");
                events.push(message["payload"]["data"]["runTurn"].clone());
            }
            Some("complete") => return events,
            _ => panic!("unexpected {message}"),
        }
    }
}

/// Reads the turn's events up to its first text delta (the model is streaming).
async fn until_text(socket: &mut Socket) {
    loop {
        let message = ws_next(socket).await.expect("an event");
        if message["payload"]["data"]["runTurn"]["__typename"] == "TextDelta" {
            return;
        }
    }
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["__typename"].as_str().unwrap())
        .filter(|kind| *kind != "TextDelta")
        .collect()
}

/// The text one beat's deltas of one channel make.
fn streamed_text(events: &[Value], beat: i64, channel: &str) -> String {
    events
        .iter()
        .filter(|e| e["__typename"] == "TextDelta" && e["beat"] == beat && e["channel"] == channel)
        .map(|e| e["text"].as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_streams_in_order_moves_the_story_and_is_saved_whole() {
    let t = table(vec![streamed("The hall is warm; the wall is far.")]).await;
    let mut socket = start_turn(&t, &t.player, "  I knock at the gate by the wall.  ").await;
    let events = events(&mut socket).await;
    let sequences: Vec<i64> = events
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(
        sequences,
        (1..=events.len() as i64).collect::<Vec<_>>(),
        "numbered in order, none lost"
    );
    assert_eq!(
        kinds(&events),
        [
            "TurnStarted",
            "PlayerInputRecorded",
            "KeeperApplied",
            "DirectorCompleted",
            "SessionCharacterCreated",
            "SessionCharacterEntered",
            "BeatStarted",
            "BeatCompleted",
            "BeatStarted",
            "BeatCompleted",
            "KeeperApplied",
            "TurnCompleted"
        ]
    );
    assert_eq!(events[1]["text"], "I knock at the gate by the wall.");

    let keeper = &events[2];
    assert_eq!(keeper["phase"], "AFTER_INPUT");
    assert_eq!(
        keeper["applied"],
        json!([{ "type": "SET_STATE", "key": "day", "value": 2 }])
    );
    let reasons: Vec<&str> = keeper["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(
        reasons[0].contains("moon"),
        "an unknown key is refused: {reasons:?}"
    );
    assert!(reasons[1].contains("may not move the story"), "{reasons:?}");

    let director = &events[3];
    assert_eq!(
        director["transition"],
        json!({ "from": "gate", "to": "hall" }),
        "day 2 opens the hall"
    );
    assert_eq!(director["nodeId"], "hall");
    assert_eq!(director["roleActions"][0]["kind"], "CREATE_AND_ENTER");
    assert_eq!(
        director["beats"].as_array().unwrap().len(),
        2,
        "Hodor is no one here"
    );
    assert!(director["ignored"][0].as_str().unwrap().contains("Hodor"));
    assert_eq!(events[4]["character"]["name"], "Guard");
    assert_eq!(events[5]["name"], "Guard");

    // Beat 0 narrates, beat 1 is Arya's: the deltas make the texts the beats completed with.
    let narration = streamed_text(&events, 0, "NARRATION");
    assert_eq!(narration, "The hall is warm; the wall is far.");
    let completed: Vec<&Value> = events
        .iter()
        .filter(|e| e["__typename"] == "BeatCompleted")
        .collect();
    assert_eq!(completed[0]["narration"], narration.as_str());
    assert_eq!(streamed_text(&events, 1, "THOUGHT"), "He is cold.");
    assert_eq!(streamed_text(&events, 1, "ACTION"), "Arya waves.");
    assert_eq!(streamed_text(&events, 1, "DIALOGUE"), "Come in.");
    assert_eq!(completed[1]["dialogue"], "Come in.");
    assert_eq!(completed[1]["usage"]["agent"], "ACTOR");

    let done = events.last().unwrap();
    assert_eq!(done["turnIndex"], 1);
    let calls: Vec<&str> = done["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["agent"].as_str().unwrap())
        .collect();
    assert_eq!(calls, ["KEEPER", "DIRECTOR", "NARRATOR", "ACTOR", "KEEPER"]);
    let snapshot = &done["snapshot"];
    assert_eq!(snapshot["currentNode"]["id"], "hall");
    assert_eq!(snapshot["state"]["world"], json!({ "day": 2 }));
    assert_eq!(
        snapshot["sceneCharacters"],
        json!([
        { "name": "Arya", "temporary": false }, { "name": "Guard", "temporary": true } ])
    );
    let read = t
        .server
        .ok_as(&t.player, SNAPSHOT, json!({ "id": t.session }))
        .await["sessionSnapshot"]
        .clone();
    assert_eq!(read["version"], snapshot["version"]);
    assert_eq!(read["turnRunning"], false);

    let lines = t
        .server
        .ok_as(&t.player, TRANSCRIPT, json!({ "id": t.session }))
        .await["sessionMessages"]["nodes"]
        .clone();
    let kinds: Vec<&str> = lines
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["PLAYER_INPUT", "NARRATION", "THOUGHT", "ACTION", "DIALOGUE"]
    );
    assert!(
        lines
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["turnIndex"] == 1)
    );

    // What the agents were told: the narrator the lore the scene brings up (and the base
    // entry), the actor their own card with {{char}} filled, the keeper the schemas.
    let told = t.narrator.received()[0].body["messages"][1]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        told.contains("Winter: Winter is coming."),
        "the base entry, folded: {told}"
    );
    assert!(
        told.contains("The Wall: Ice and night."),
        "`wall` in the input: {told}"
    );
    assert!(!told.contains("Dragons"), "{told}");
    assert!(
        told.contains("User: I knock at the gate by the wall."),
        "the shared history: {told}"
    );
    let actor_system = t.actor.received()[0].body["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(actor_system.contains("You are Arya"), "{actor_system}");
    let keeper_user = t.keeper.received()[0].body["messages"][1]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(keeper_user.contains("\"day\""), "{keeper_user}");
    assert_eq!(
        t.director.received()[0].body["response_format"]["type"],
        "json_object"
    );

    // The studio edits the story meanwhile; the session plays on the version it started with,
    // turn after turn, and keeps the values its turns set.
    let edited = json!({ "startNode": "gate", "nodes": [
        { "id": "gate", "title": "The gate", "transitions": [{ "to": "hall" }] },
        { "id": "hall", "title": "The great hall" } ] });
    t.server
        .ok_as(&t.studio, "mutation($id: ID!, $graph: StoryGraphInput!) { updateStory(id: $id, graph: $graph) { graphVersion } }", json!({ "id": t.story, "graph": edited }))
        .await;
    let renamed = t
        .server
        .ok_as(&t.player, "mutation($id: ID!) { updateStorySession(id: $id, displayName: \"Night watch\") { displayName graphVersion } }", json!({ "id": t.session }))
        .await["updateStorySession"]
        .clone();
    assert_eq!(
        renamed,
        json!({ "displayName": "Night watch", "graphVersion": 1 })
    );
    let mut socket = start_turn(&t, &t.player, "I sit by the fire.").await;
    let second = self::events(&mut socket).await;
    let done = second.last().unwrap();
    assert_eq!(done["__typename"], "TurnCompleted", "{done}");
    assert_eq!(done["turnIndex"], 2);
    let told = t.narrator.received()[1].body["messages"][1]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        told.contains("The hall\nA warm hall."),
        "the session's own version: {told}"
    );
    assert!(!told.contains("The great hall"), "{told}");
    let variables = t
        .server
        .ok_as(
            &t.player,
            "query($id: ID!) { sessionVariables(sessionId: $id) { world } }",
            json!({ "id": t.session }),
        )
        .await["sessionVariables"]
        .clone();
    assert_eq!(variables["world"], json!({ "day": 2 }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_or_cancelled_turn_leaves_the_session_as_it_was_and_one_runs_at_a_time() {
    let t = table(vec![
        Reply::json(400, json!({ "error": { "message": "bad request" } })),
        hanging("The hall "),
        streamed("Quiet."),
    ])
    .await;
    let before = t
        .server
        .ok_as(&t.player, SNAPSHOT, json!({ "id": t.session }))
        .await["sessionSnapshot"]
        .clone();

    // The narrator refuses: the turn fails there, and nothing of it stays.
    let mut socket = start_turn(&t, &t.player, "I knock.").await;
    let failed = events(&mut socket).await;
    let last = failed.last().unwrap();
    assert_eq!(last["__typename"], "TurnFailed");
    assert_eq!(last["stage"], "NARRATOR");
    assert_eq!(last["cancelled"], false);
    let after = t
        .server
        .ok_as(&t.player, SNAPSHOT, json!({ "id": t.session }))
        .await["sessionSnapshot"]
        .clone();
    assert_eq!(
        after, before,
        "the keeper's and director's changes were not kept"
    );
    let lines = t
        .server
        .ok_as(&t.player, TRANSCRIPT, json!({ "id": t.session }))
        .await["sessionMessages"]["nodes"]
        .clone();
    assert_eq!(lines, json!([]));

    // The narrator hangs mid-stream: a second turn and a session edit are refused meanwhile;
    // cancelling stops the call upstream and rolls the turn back.
    let mut socket = start_turn(&t, &t.player, "I knock again.").await;
    until_text(&mut socket).await;
    let mut second = start_turn(&t, &t.player, "Me too.").await;
    assert_eq!(refusal_code(&mut second).await, "CONFLICT");
    t.server
        .fails_as(&t.player, "mutation($id: ID!) { updatePlayerDescription(sessionId: $id, description: \"Tall.\") { id } }", json!({ "id": t.session }), "CONFLICT")
        .await;
    let running = t
        .server
        .ok_as(&t.player, SNAPSHOT, json!({ "id": t.session }))
        .await["sessionSnapshot"]
        .clone();
    assert_eq!(running["turnRunning"], true);
    let cancelled = t
        .server
        .ok_as(
            &t.player,
            "mutation($id: ID!) { cancelTurn(sessionId: $id) }",
            json!({ "id": t.session }),
        )
        .await;
    assert_eq!(cancelled["cancelTurn"], true);
    let rest = events(&mut socket).await;
    let last = rest.last().unwrap();
    assert_eq!(last["__typename"], "TurnFailed");
    assert_eq!(last["cancelled"], true);
    assert_eq!(last["code"], "CANCELLED");
    assert_eq!(last["stage"], "NARRATOR");
    assert!(
        t.narrator.client_hung_up().await,
        "the narrator's stream was closed upstream"
    );
    let after = t
        .server
        .ok_as(&t.player, SNAPSHOT, json!({ "id": t.session }))
        .await["sessionSnapshot"]
        .clone();
    assert_eq!(after["version"], before["version"]);
    assert_eq!(after["turnRunning"], false);
    let no_turn = t
        .server
        .ok_as(
            &t.player,
            "mutation($id: ID!) { cancelTurn(sessionId: $id) }",
            json!({ "id": t.session }),
        )
        .await;
    assert_eq!(no_turn["cancelTurn"], false);

    // Over Server-Sent Events, for clients without WebSockets: the same turn, to its end.
    let response = t
        .server
        .http
        .post(t.server.url("/graphql"))
        .bearer_auth(&t.player.token)
        .header("accept", "text/event-stream")
        .json(&json!({ "query": RUN_TURN, "variables": { "id": t.session, "input": "Hello?" } }))
        .send()
        .await
        .expect("an event stream");
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let body = response.text().await.expect("the stream to its end");
    let streamed: Vec<Value> = body
        .split("\n\n")
        .filter(|event| event.starts_with("event: next"))
        .map(|event| {
            let data = event
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .unwrap();
            serde_json::from_str::<Value>(data).unwrap()["data"]["runTurn"].clone()
        })
        .collect();
    assert!(body.trim_end().ends_with("event: complete"), "{body}");
    let last = streamed.last().unwrap();
    assert_eq!(last["__typename"], "TurnCompleted", "{last}");
    assert_eq!(last["turnIndex"], 1, "the failed turns counted for nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_sessions_player_plays_it_and_other_tenants_do_not_see_it() {
    let t = table(vec![hanging("Quiet ")]).await;
    let before = t
        .server
        .ok_as(&t.player, SNAPSHOT, json!({ "id": t.session }))
        .await["sessionSnapshot"]
        .clone();
    let other = t
        .server
        .invite_member(&t.studio, "turns-other@example.com", "PLAYER")
        .await;
    let mut socket = start_turn(&t, &other, "Mine now.").await;
    assert_eq!(refusal_code(&mut socket).await, "FORBIDDEN");
    t.server
        .fails_as(
            &other,
            "mutation($id: ID!) { cancelTurn(sessionId: $id) }",
            json!({ "id": t.session }),
            "FORBIDDEN",
        )
        .await;
    let outsider = t
        .server
        .register("turns-outsider@example.com", "Elsewhere")
        .await;
    // Every new operation on a session: another tenant finds nothing, another player may read
    // but not change.
    for (query, code_outside, code_other) in [
        (
            "mutation($id: ID!) { updateStorySession(id: $id, displayName: \"Mine\") { id } }",
            "NOT_FOUND",
            "FORBIDDEN",
        ),
        (
            "mutation($id: ID!) { enterScene(sessionId: $id, characterId: \"x\") }",
            "NOT_FOUND",
            "FORBIDDEN",
        ),
        (
            "mutation($id: ID!) { updateSessionCharacter(sessionId: $id, id: \"x\", input: { name: \"Y\" }) { id } }",
            "NOT_FOUND",
            "FORBIDDEN",
        ),
        (
            "mutation($id: ID!) { deleteSessionCharacter(sessionId: $id, id: \"x\") }",
            "NOT_FOUND",
            "FORBIDDEN",
        ),
        (
            "query($id: ID!) { sessionVariables(sessionId: $id) { world } }",
            "NOT_FOUND",
            "",
        ),
        (
            "query($id: ID!) { sessionCharacters(sessionId: $id) { id } }",
            "NOT_FOUND",
            "",
        ),
    ] {
        t.server
            .fails_as(&outsider, query, json!({ "id": t.session }), code_outside)
            .await;
        if !code_other.is_empty() {
            t.server
                .fails_as(&other, query, json!({ "id": t.session }), code_other)
                .await;
        }
    }
    let mut socket = start_turn(&t, &outsider, "Hello.").await;
    assert_eq!(refusal_code(&mut socket).await, "NOT_FOUND");
    t.server
        .fails_as(&outsider, SNAPSHOT, json!({ "id": t.session }), "NOT_FOUND")
        .await;
    let mut socket = start_turn(&t, &t.player, "   ").await;
    assert_eq!(refusal_code(&mut socket).await, "BAD_USER_INPUT");
    assert!(t.keeper.received().is_empty(), "refusals call nothing");

    // A client that leaves the stream cancels its turn: the call upstream is closed, the
    // session stays as it was and is free for the next turn.
    let mut socket = start_turn(&t, &t.player, "Hello.").await;
    until_text(&mut socket).await;
    drop(socket);
    assert!(
        t.narrator.client_hung_up().await,
        "the narrator's stream was closed upstream"
    );
    let mut after = Value::Null;
    for _ in 0..100 {
        after = t
            .server
            .ok_as(&t.player, SNAPSHOT, json!({ "id": t.session }))
            .await["sessionSnapshot"]
            .clone();
        if after["turnRunning"] == false {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(after, before, "rolled back and released");
}
