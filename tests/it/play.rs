//! Play in a MUD world: axis policies, labels and events with hand-computed scores (clamping and
//! the 1e-12 rule included), seeded profiles of new characters, and chat — heard live in the
//! room (yells next door, whispers only by their parties), moving axes by the world's chat
//! rules, moderated and pruned by admins; every operation refused across tenants.

use serde_json::{Value, json};

use crate::harness::*;
use crate::mud::{create_character, create_room, create_world};

pub const SET_POLICY: &str = "mutation($world: String!, $policy: AxisPolicyInput!) {
    setAxisPolicy(worldId: $world, policy: $policy) {
        axisPolicyVersion axisPolicy { seedSpread axes { name labels { name ordinal min max } } } } }";
const APPLY: &str = "mutation($input: ApplyAxisEventInput!) {
    applyAxisEvent(input: $input) { eventId eventType metadata { key value }
        deltas { axisName oldScore newScore delta } } }";
const STATE: &str = "query($id: ID!) { characterAxisState(characterId: $id) {
    characterId worldId stateSeed stateVersion stateUpdatedAt baseState currentState
    axes { axisId axisName axisScore axisLabel } } }";
const EVENTS: &str =
    "query($id: ID!, $limit: Int) { characterAxisEvents(characterId: $id, limit: $limit) {
    characterId events { eventId worldId eventType eventTypeDescription timestamp
        metadata { key value } deltas { axisName oldScore newScore delta } } } }";
const SEND: &str = "mutation($world: String!, $room: String!, $channel: ChatChannel!,
    $recipient: String, $text: String!) {
    sendChat(worldId: $world, roomId: $room, channel: $channel, recipient: $recipient, text: $text) {
        id username characterName channel recipientName text message worldId roomId } }";
const HEAR: &str = "subscription($world: String!, $room: String!) {
    chatMessages(worldId: $world, roomId: $room) { text channel characterName username roomId } }";
const MODERATE: &str = "query($world: String, $room: String) {
    chatMessages(worldId: $world, roomId: $room) {
        total messages { username message worldId roomId channel } } }";
const PRUNE: &str = "mutation($hours: Int!, $world: String, $room: String) {
    pruneChat(maxAgeHours: $hours, worldId: $world, roomId: $room) { success message prunedCount } }";
const MOVE: &str = "mutation($id: ID!, $room: String!) {
    updateCharacter(id: $id, input: { roomId: $room }) { id } }";
const ENTER: &str = "mutation($id: ID!) { enterWorld(characterId: $id) { id } }";

/// Dominance with labels whose bounds meet (0.25 and 0.75 belong to two labels each: the lower
/// ordinal wins) and warmth without labels.
pub fn policy(seed_spread: f64, rules: Value) -> Value {
    json!({
        "seedSpread": seed_spread,
        "axes": [
            { "name": "dominance", "labels": [
                { "name": "submissive", "max": 0.25 },
                { "name": "balanced", "min": 0.25, "max": 0.75 },
                { "name": "dominant", "min": 0.75 } ] },
            { "name": "warmth" } ],
        "chat": { "rules": rules }
    })
}

fn score(state: &Value, axis: &str) -> (f64, Value) {
    let entry = state["axes"]
        .as_array()
        .expect("axes")
        .iter()
        .find(|a| a["axisName"] == axis)
        .unwrap_or_else(|| panic!("no axis {axis} in {state}"));
    (
        entry["axisScore"].as_f64().expect("score"),
        entry["axisLabel"].clone(),
    )
}

fn assert_close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() < 1e-9,
        "expected {expected}, got {actual}"
    );
}

pub async fn apply(server: &TestServer, account: &Account, id: &str, deltas: Value) -> Value {
    server
        .ok_as(
            account,
            APPLY,
            json!({ "input": { "characterId": id, "eventType": "scripted", "deltas": deltas,
                    "metadata": [{ "key": "why", "value": "test" }] } }),
        )
        .await["applyAxisEvent"]
        .clone()
}

async fn state_of(server: &TestServer, account: &Account, id: &str) -> Value {
    server.ok_as(account, STATE, json!({ "id": id })).await["characterAxisState"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axis_policies_label_scores_and_events_move_them_exactly() {
    let server = TestServer::start().await;
    let owner = server.register("owner@axes.test", "Axes").await;
    let builder = server
        .invite_member(&owner, "builder@axes.test", "WORLDBUILDER")
        .await;
    let player = server
        .invite_member(&owner, "player@axes.test", "PLAYER")
        .await;
    let other_player = server
        .invite_member(&owner, "other@axes.test", "PLAYER")
        .await;
    let outsider = server.register("owner@elsewhere.test", "Elsewhere").await;
    create_world(&server, &builder, "vale").await;
    create_world(&server, &builder, "twin").await;

    // Only builders set policies, and only valid ones.
    let vars = json!({ "world": "vale", "policy": policy(0.5, json!([])) });
    server
        .fails_as(&player, SET_POLICY, vars.clone(), "FORBIDDEN")
        .await;
    server
        .fails_as(&outsider, SET_POLICY, vars.clone(), "NOT_FOUND")
        .await;
    let bad = json!({ "world": "vale", "policy": policy(0.5,
        json!([{ "axis": "charm", "kind": "SHARED_DRAIN", "base": 0.1 }])) });
    server
        .fails_as(&builder, SET_POLICY, bad, "BAD_USER_INPUT")
        .await;
    let world = server.ok_as(&builder, SET_POLICY, vars).await["setAxisPolicy"].clone();
    let version = world["axisPolicyVersion"]
        .as_str()
        .expect("version")
        .to_owned();
    assert_eq!(version.len(), 64);
    // Ordinals are filled in from the labels' positions.
    assert_eq!(
        world["axisPolicy"]["axes"][0]["labels"][2]["ordinal"], 2,
        "{world}"
    );
    let twin = json!({ "world": "twin", "policy": policy(0.5, json!([])) });
    server.ok_as(&builder, SET_POLICY, twin).await;

    // A new character starts from its seeded profile: scores drawn from the seed within
    // 0.5 ± 0.25, recorded as an event from 0.5, and its base snapshot is that start.
    let created = create_character(
        &server,
        &player,
        json!({ "worldId": "vale", "seed": 7, "name": "Ada" }),
    )
    .await;
    let ada = created["characterId"].as_str().expect("id").to_owned();
    assert_eq!(created["entityState"]["state_version"], version.as_str());
    let state = state_of(&server, &player, &ada).await;
    assert_eq!(state["stateVersion"], version.as_str());
    assert_eq!(state["stateSeed"], 7);
    assert_eq!(state["baseState"], state["currentState"]);
    assert_eq!(state["currentState"], created["entityState"]);
    let (seeded, _) = score(&state, "dominance");
    assert!((0.25..0.75).contains(&seeded), "{seeded}");
    // The same seed in a world under the same policy draws the same profile.
    let twin_ada = create_character(
        &server,
        &player,
        json!({ "worldId": "twin", "seed": 7, "name": "Ada" }),
    )
    .await;
    let twin_state = state_of(
        &server,
        &player,
        twin_ada["characterId"].as_str().expect("id"),
    )
    .await;
    assert_eq!(
        twin_state["axes"][0]["axisScore"],
        state["axes"][0]["axisScore"]
    );
    assert_eq!(
        twin_state["axes"][1]["axisScore"],
        state["axes"][1]["axisScore"]
    );
    let events =
        server.ok_as(&player, EVENTS, json!({ "id": ada })).await["characterAxisEvents"].clone();
    let first = &events["events"][0];
    assert_eq!(first["eventType"], "seeded_profile");
    assert_eq!(first["worldId"], "vale");
    assert!(
        first["metadata"]
            .as_array()
            .expect("metadata")
            .contains(&json!({ "key": "seed", "value": "7" }))
    );
    let delta = first["deltas"]
        .as_array()
        .expect("deltas")
        .iter()
        .find(|d| d["axisName"] == "dominance")
        .expect("a dominance delta")
        .clone();
    assert_eq!(delta["oldScore"], 0.5);
    assert_close(delta["newScore"].as_f64().expect("new"), seeded);
    assert_close(delta["delta"].as_f64().expect("delta"), seeded - 0.5);

    // Deltas clamp at 1: the recorded delta is what was applied.
    let clamped = apply(
        &server,
        &builder,
        &ada,
        json!([{ "axis": "dominance", "delta": 1.0 }]),
    )
    .await;
    assert_eq!(clamped["deltas"][0]["newScore"], 1.0);
    assert_close(
        clamped["deltas"][0]["delta"].as_f64().expect("delta"),
        1.0 - seeded,
    );
    assert_eq!(
        clamped["metadata"],
        json!([{ "key": "why", "value": "test" }])
    );
    // Pushing past the bound, or by less than 1e-12, records no delta (the event is kept).
    let nothing = apply(
        &server,
        &builder,
        &ada,
        json!([{ "axis": "dominance", "delta": 0.5 }, { "axis": "warmth", "delta": 5e-13 }]),
    )
    .await;
    assert_eq!(nothing["deltas"], json!([]));
    let latest = server
        .ok_as(&player, EVENTS, json!({ "id": ada, "limit": 1 }))
        .await["characterAxisEvents"]["events"][0]
        .clone();
    assert_eq!(latest["eventId"], nothing["eventId"]);
    let state = state_of(&server, &player, &ada).await;
    assert_eq!(score(&state, "dominance"), (1.0, json!("dominant")));

    // Labels: at 0.25 both "submissive" and "balanced" hold, the first by ordinal wins; the
    // same at 0.75 between "balanced" and "dominant"; deltas in one event add up.
    apply(
        &server,
        &builder,
        &ada,
        json!([{ "axis": "dominance", "delta": -0.5 }, { "axis": "dominance", "delta": -0.25 }]),
    )
    .await;
    let state = state_of(&server, &player, &ada).await;
    assert_eq!(score(&state, "dominance"), (0.25, json!("submissive")));
    assert_eq!(
        state["currentState"]["axes"]["dominance"]["label"],
        "submissive"
    );
    assert_ne!(state["baseState"], state["currentState"]);
    apply(
        &server,
        &builder,
        &ada,
        json!([{ "axis": "dominance", "delta": 0.5 }]),
    )
    .await;
    let state = state_of(&server, &player, &ada).await;
    assert_eq!(score(&state, "dominance"), (0.75, json!("balanced")));
    apply(
        &server,
        &builder,
        &ada,
        json!([{ "axis": "dominance", "delta": 0.125 }]),
    )
    .await;
    assert_eq!(
        score(&state_of(&server, &player, &ada).await, "dominance"),
        (0.875, json!("dominant"))
    );
    // Warmth has no labels.
    assert_eq!(score(&state, "warmth").1, Value::Null);

    // Newest first, bounded.
    let events = server
        .ok_as(&player, EVENTS, json!({ "id": ada, "limit": 2 }))
        .await["characterAxisEvents"]["events"]
        .clone();
    assert_eq!(events.as_array().map(Vec::len), Some(2));
    assert_eq!(events[0]["deltas"][0]["newScore"], 0.875);
    assert_eq!(events[1]["deltas"][0]["newScore"], 0.75);
    server
        .fails_as(
            &player,
            EVENTS,
            json!({ "id": ada, "limit": 0 }),
            "BAD_USER_INPUT",
        )
        .await;

    // Unknown axes and bad deltas are refused; players cannot script events.
    let unknown = json!({ "input": { "characterId": ada, "eventType": "x",
        "deltas": [{ "axis": "charm", "delta": 0.1 }] } });
    server
        .fails_as(&builder, APPLY, unknown.clone(), "BAD_USER_INPUT")
        .await;
    server.fails_as(&player, APPLY, unknown, "FORBIDDEN").await;

    // Another player may not read Ada's axes; the tenant's admin may; outsiders find nothing.
    server
        .fails_as(&other_player, STATE, json!({ "id": ada }), "FORBIDDEN")
        .await;
    server.ok_as(&owner, STATE, json!({ "id": ada })).await;
    server
        .fails_as(&outsider, STATE, json!({ "id": ada }), "NOT_FOUND")
        .await;
    server
        .fails_as(&outsider, EVENTS, json!({ "id": ada }), "NOT_FOUND")
        .await;
    let outsider_event = json!({ "input": { "characterId": ada, "eventType": "x",
        "deltas": [{ "axis": "dominance", "delta": -0.5 }] } });
    server
        .fails_as(&outsider, APPLY, outsider_event, "NOT_FOUND")
        .await;
    assert_eq!(
        score(&state_of(&server, &player, &ada).await, "dominance").0,
        0.875
    );
}

/// World "keep" with a hall whose north exit leads to a yard.
pub async fn keep_with_hall_and_yard(server: &TestServer, builder: &Account) {
    create_world(server, builder, "keep").await;
    server
        .ok_as(
            builder,
            "mutation { createRoom(worldId: \"keep\", input: { roomId: \"hall\", name: \"Hall\",
                exits: { north: \"yard\" } }) { roomId } }",
            json!({}),
        )
        .await;
    create_room(server, builder, "keep", "yard").await;
}

/// A player whose character stands in `room` of world "keep" and whose session plays it.
pub async fn play(server: &TestServer, player: &Account, name: &str, room: &str) -> String {
    let created = create_character(
        server,
        player,
        json!({ "worldId": "keep", "name": name, "seed": 1 }),
    )
    .await;
    let id = created["characterId"].as_str().expect("id").to_owned();
    server
        .ok_as(player, MOVE, json!({ "id": id, "room": room }))
        .await;
    server.ok_as(player, ENTER, json!({ "id": id })).await;
    id
}

pub async fn say(
    server: &TestServer,
    player: &Account,
    room: &str,
    channel: &str,
    recipient: Option<&str>,
    text: &str,
) -> Value {
    server
        .ok_as(
            player,
            SEND,
            json!({ "world": "keep", "room": room, "channel": channel,
                    "recipient": recipient, "text": text }),
        )
        .await["sendChat"]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_is_heard_where_it_should_be_and_moves_axes_by_the_worlds_rules() {
    let server = TestServer::start().await;
    let owner = server.register("owner@keep.test", "Keep").await;
    let builder = server
        .invite_member(&owner, "builder@keep.test", "WORLDBUILDER")
        .await;
    let ada_player = server
        .invite_member(&owner, "ada@keep.test", "PLAYER")
        .await;
    let bo_player = server.invite_member(&owner, "bo@keep.test", "PLAYER").await;
    let outsider = server.register("owner@away.test", "Away").await;

    keep_with_hall_and_yard(&server, &builder).await;
    create_room(&server, &builder, "keep", "cellar").await;
    // Seed spread 0: everyone starts at 0.5 exactly, so the chat arithmetic can be done by hand.
    let rules = json!([
        { "axis": "dominance", "kind": "DOMINANCE_SHIFT", "base": 0.5, "threshold": 0.1 },
        { "axis": "warmth", "kind": "SHARED_DRAIN", "base": 0.125 },
        { "axis": "warmth", "kind": "NO_EFFECT", "base": 0.9 }
    ]);
    server
        .ok_as(
            &builder,
            SET_POLICY,
            json!({ "world": "keep", "policy": policy(0.0, rules) }),
        )
        .await;
    let ada = play(&server, &ada_player, "Ada", "hall").await;
    let bo = play(&server, &bo_player, "Bo", "hall").await;
    // With no spread, Bo's seeded profile moved nothing, and is still his first event.
    let bo_events = server
        .ok_as(&bo_player, EVENTS, json!({ "id": bo }))
        .await["characterAxisEvents"]["events"]
        .clone();
    assert_eq!(bo_events.as_array().map(Vec::len), Some(1));
    assert_eq!(bo_events[0]["eventType"], "seeded_profile");
    assert_eq!(bo_events[0]["deltas"], json!([]));
    // A builder listening in the hall (no character there, so no axis moves for them; a
    // builder listens anywhere).
    let cy_player = server
        .invite_member(&owner, "cy@keep.test", "WORLDBUILDER")
        .await;
    create_world(&server, &outsider, "keep").await;
    create_room(&server, &outsider, "keep", "hall").await;
    play(&server, &outsider, "Ada", "hall").await;
    apply(
        &server,
        &builder,
        &ada,
        json!([{ "axis": "dominance", "delta": 0.25 }]),
    )
    .await;

    let room = |room: &str| json!({ "world": "keep", "room": room });
    let mut bo_hears = subscribe_as(&server, &bo_player, HEAR, room("hall")).await;
    let mut owner_hears_hall = subscribe_as(&server, &owner, HEAR, room("hall")).await;
    let mut owner_hears_yard = subscribe_as(&server, &owner, HEAR, room("yard")).await;
    let mut ada_hears = subscribe_as(&server, &ada_player, HEAR, room("hall")).await;
    let mut cy_hears = subscribe_as(&server, &cy_player, HEAR, room("hall")).await;
    // Another tenant with a world and room of the same keys hears only its own.
    let mut outsider_hears = subscribe_as(&server, &outsider, HEAR, room("hall")).await;
    // A room of another tenant's world is not there to listen to: the subscription fails
    // as it starts, with one result carrying the error.
    let mut refused = connect_as(&server, &outsider.token).await;
    ws_send(
        &mut refused,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": HEAR,
                "variables": { "world": "keep", "room": "yard" } } }),
    )
    .await;
    let refusal = ws_next(&mut refused).await.expect("an answer");
    assert_eq!(
        refusal["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{refusal}"
    );

    // SAY: heard in the room. Dominance 0.75 vs 0.5: gap 0.25 ≥ 0.1, so Ada gains and Bo loses
    // 0.5 × 1.0 × 0.25 = 0.125; warmth drains 0.125 × 1.0 from both.
    let said = say(&server, &ada_player, "hall", "SAY", None, "Hello, Bo").await;
    assert_eq!(said["characterName"], "Ada");
    assert_eq!(said["message"], "Hello, Bo");
    let heard = next_data(&mut bo_hears, "chatMessages").await;
    assert_eq!(heard["text"], "Hello, Bo");
    assert_eq!(heard["channel"], "SAY");
    assert_eq!(heard["username"], said["username"]);
    assert_eq!(
        next_data(&mut owner_hears_hall, "chatMessages").await["text"],
        "Hello, Bo"
    );
    assert_eq!(
        next_data(&mut ada_hears, "chatMessages").await["text"],
        "Hello, Bo"
    );
    assert_eq!(
        next_data(&mut cy_hears, "chatMessages").await["text"],
        "Hello, Bo"
    );
    let ada_state = state_of(&server, &ada_player, &ada).await;
    let bo_state = state_of(&server, &bo_player, &bo).await;
    assert_eq!(score(&ada_state, "dominance").0, 0.875);
    assert_eq!(score(&bo_state, "dominance").0, 0.375);
    assert_eq!(score(&ada_state, "warmth").0, 0.375);
    assert_eq!(score(&bo_state, "warmth").0, 0.375);

    // YELL: heard next door too. Gap 0.5: 0.5 × 1.5 × 0.5 = 0.375 — Ada clamps at 1 (+0.125
    // recorded), Bo drops to 0; warmth drains 0.125 × 1.5 = 0.1875.
    say(&server, &ada_player, "hall", "YELL", None, "Dinner!").await;
    let next_door = next_data(&mut owner_hears_yard, "chatMessages").await;
    assert_eq!(
        (next_door["text"].as_str(), next_door["roomId"].as_str()),
        (Some("Dinner!"), Some("hall"))
    );
    assert_eq!(
        next_data(&mut bo_hears, "chatMessages").await["channel"],
        "YELL"
    );
    assert_eq!(
        next_data(&mut owner_hears_hall, "chatMessages").await["text"],
        "Dinner!"
    );
    let ada_events = server
        .ok_as(&ada_player, EVENTS, json!({ "id": ada, "limit": 1 }))
        .await["characterAxisEvents"]["events"][0]
        .clone();
    assert_eq!(ada_events["eventType"], "chat_interaction");
    assert!(
        ada_events["metadata"]
            .as_array()
            .expect("metadata")
            .contains(&json!({ "key": "channel", "value": "yell" }))
    );
    let dominance = ada_events["deltas"]
        .as_array()
        .expect("deltas")
        .iter()
        .find(|d| d["axisName"] == "dominance")
        .expect("dominance moved")
        .clone();
    assert_eq!(
        (
            dominance["oldScore"].clone(),
            dominance["newScore"].clone(),
            dominance["delta"].clone()
        ),
        (json!(0.875), json!(1.0), json!(0.125))
    );
    let bo_state = state_of(&server, &bo_player, &bo).await;
    assert_eq!(score(&bo_state, "dominance"), (0.0, json!("submissive")));
    assert_eq!(score(&bo_state, "warmth").0, 0.1875);

    // WHISPER: only its parties hear it; the admin listening in the hall gets the next SAY
    // first. Whisper multiplier 0.5: warmth drains 0.0625; dominance is already at its bounds.
    say(&server, &ada_player, "hall", "WHISPER", Some("bo"), "psst").await;
    let whispered = next_data(&mut bo_hears, "chatMessages").await;
    assert_eq!(
        (whispered["text"].as_str(), whispered["channel"].as_str()),
        (Some("psst"), Some("WHISPER"))
    );
    say(&server, &bo_player, "hall", "SAY", None, "Bye").await;
    assert_eq!(
        next_data(&mut owner_hears_hall, "chatMessages").await["text"],
        "Bye"
    );
    assert_eq!(
        next_data(&mut bo_hears, "chatMessages").await["text"],
        "Bye"
    );
    let bo_state = state_of(&server, &bo_player, &bo).await;
    // 0.1875 − 0.0625 (whisper) − 0.125 (Bo's SAY) = 0
    assert_eq!(score(&bo_state, "warmth").0, 0.0);
    // The sender hears their own whisper; a bystander in the room does not.
    for expected in ["Dinner!", "psst", "Bye"] {
        assert_eq!(
            next_data(&mut ada_hears, "chatMessages").await["text"],
            expected
        );
    }
    for expected in ["Dinner!", "Bye"] {
        assert_eq!(
            next_data(&mut cy_hears, "chatMessages").await["text"],
            expected
        );
    }
    // The other tenant's room of the same keys heard none of it: its first message is its own.
    say(&server, &outsider, "hall", "SAY", None, "Ours").await;
    assert_eq!(
        next_data(&mut outsider_hears, "chatMessages").await["text"],
        "Ours"
    );

    // What cannot be said.
    let attempts = [
        (
            &ada_player,
            "hall",
            "WHISPER",
            Some("Ada"),
            "to myself",
            "BAD_USER_INPUT",
        ),
        (
            &ada_player,
            "hall",
            "WHISPER",
            None,
            "to nobody",
            "BAD_USER_INPUT",
        ),
        (
            &ada_player,
            "hall",
            "SAY",
            Some("Bo"),
            "aimed",
            "BAD_USER_INPUT",
        ),
        (
            &ada_player,
            "hall",
            "WHISPER",
            Some("Nobody"),
            "hm",
            "BAD_USER_INPUT",
        ),
        (&ada_player, "hall", "SAY", None, "   ", "BAD_USER_INPUT"),
        (&ada_player, "yard", "SAY", None, "not there", "CONFLICT"),
        (
            &ada_player,
            "attic",
            "SAY",
            None,
            "no such room",
            "NOT_FOUND",
        ),
        (
            &builder,
            "hall",
            "SAY",
            None,
            "no character",
            "BAD_USER_INPUT",
        ),
        // The outsider's own "keep" has no yard; ours is out of reach.
        (&outsider, "yard", "SAY", None, "intruding", "NOT_FOUND"),
    ];
    for (account, room, channel, recipient, text, code) in attempts {
        server
            .fails_as(
                account,
                SEND,
                json!({ "world": "keep", "room": room, "channel": channel,
                        "recipient": recipient, "text": text }),
                code,
            )
            .await;
    }

    // Moderation: newest first, whispers and yells marked.
    let log = server
        .ok_as(&owner, MODERATE, json!({ "world": "keep", "room": "hall" }))
        .await["chatMessages"]["messages"]
        .clone();
    let messages: Vec<&str> = log
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["message"].as_str())
        .collect();
    assert_eq!(
        messages,
        ["Bye", "[WHISPER] psst", "[YELL] Dinner!", "Hello, Bo"]
    );
    assert_eq!(log[0]["worldId"], "keep");
    assert_eq!(log[0]["roomId"], "hall");
    server
        .fails_as(&ada_player, MODERATE, json!({}), "FORBIDDEN")
        .await;
    let elsewhere = server.ok_as(&outsider, MODERATE, json!({})).await;
    let theirs: Vec<&str> = elsewhere["chatMessages"]["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["message"].as_str())
        .collect();
    assert_eq!(theirs, ["Ours"]);

    // Pruning: at least an hour; a room needs its world; admins only; per tenant.
    let prune = |hours: i64, world: Option<&str>, room: Option<&str>| json!({ "hours": hours, "world": world, "room": room });
    server
        .fails_as(&owner, PRUNE, prune(0, None, None), "BAD_USER_INPUT")
        .await;
    server
        .fails_as(
            &owner,
            PRUNE,
            prune(1, None, Some("hall")),
            "BAD_USER_INPUT",
        )
        .await;
    server
        .fails_as(&ada_player, PRUNE, prune(1, None, None), "FORBIDDEN")
        .await;
    // Two messages are made three hours old.
    let mut db = server.db().await;
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query(
            "UPDATE chat_messages SET created_at = now() - interval '3 hours'
             WHERE text IN ('Hello, Bo', 'Dinner!')",
        ),
        &mut db,
    )
    .await
    .expect("aged");
    let outsiders = server.ok_as(&outsider, PRUNE, prune(1, None, None)).await;
    assert_eq!(outsiders["pruneChat"]["prunedCount"], 0);
    let recent = server
        .ok_as(&owner, PRUNE, prune(4, Some("keep"), Some("hall")))
        .await;
    assert_eq!(recent["pruneChat"]["prunedCount"], 0);
    let pruned = server
        .ok_as(&owner, PRUNE, prune(2, Some("keep"), Some("hall")))
        .await;
    assert_eq!(pruned["pruneChat"]["prunedCount"], 2);
    assert_eq!(pruned["pruneChat"]["success"], true);
    let left = server.ok_as(&owner, MODERATE, json!({})).await;
    assert_eq!(left["chatMessages"]["total"], 2);
    let theirs = server.ok_as(&outsider, MODERATE, json!({})).await;
    assert_eq!(theirs["chatMessages"]["total"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn characters_talking_over_each_other_never_deadlock() {
    let server = TestServer::start().await;
    let owner = server.register("owner@busy.test", "Busy").await;
    let ada_player = server
        .invite_member(&owner, "ada@busy.test", "PLAYER")
        .await;
    let bo_player = server.invite_member(&owner, "bo@busy.test", "PLAYER").await;
    create_world(&server, &owner, "keep").await;
    create_room(&server, &owner, "keep", "hall").await;
    let rules = json!([
        { "axis": "dominance", "kind": "DOMINANCE_SHIFT", "base": 0.01, "threshold": 0.0 },
        { "axis": "warmth", "kind": "SHARED_DRAIN", "base": 0.001 }
    ]);
    server
        .ok_as(
            &owner,
            SET_POLICY,
            json!({ "world": "keep", "policy": policy(0.5, rules) }),
        )
        .await;
    let ada = play(&server, &ada_player, "Ada", "hall").await;
    play(&server, &bo_player, "Bo", "hall").await;

    // Both speak twenty times at once, each exchange locking both characters.
    let talk = |player: &Account, n: usize| {
        let server = &server;
        let player = player.clone();
        async move {
            server
                .gql_as(
                    &player,
                    SEND,
                    json!({ "world": "keep", "room": "hall", "channel": "SAY",
                            "text": format!("line {n}") }),
                )
                .await
        }
    };
    let mut calls = Vec::new();
    for n in 0..20 {
        calls.push(talk(&ada_player, n));
        calls.push(talk(&bo_player, n));
    }
    for body in futures_util::future::join_all(calls).await {
        assert!(body["errors"].is_null(), "{body}");
    }
    // Every exchange was recorded: 40 chat events plus the seeded profile for Ada.
    let events = server
        .ok_as(&ada_player, EVENTS, json!({ "id": ada, "limit": 200 }))
        .await["characterAxisEvents"]["events"]
        .clone();
    assert_eq!(events.as_array().map(Vec::len), Some(41));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_player_hears_a_room_only_while_a_character_of_theirs_stands_in_it() {
    let server = TestServer::start().await;
    let owner = server.register("owner@rooms.test", "Rooms").await;
    let builder = server
        .invite_member(&owner, "builder@rooms.test", "WORLDBUILDER")
        .await;
    let speaker = server
        .invite_member(&owner, "ann@rooms.test", "PLAYER")
        .await;
    let listener = server
        .invite_member(&owner, "ben@rooms.test", "PLAYER")
        .await;
    keep_with_hall_and_yard(&server, &builder).await;
    play(&server, &speaker, "Ann", "hall").await;
    let ben = play(&server, &listener, "Ben", "yard").await;

    let room = |room: &str| json!({ "world": "keep", "room": room });
    // Ben listens to the hall from the yard; the builder listens to the hall from nowhere.
    let mut ben_hears_hall = subscribe_as(&server, &listener, HEAR, room("hall")).await;
    let mut builder_hears_hall = subscribe_as(&server, &builder, HEAR, room("hall")).await;
    let mut ben_hears_yard = subscribe_as(&server, &listener, HEAR, room("yard")).await;

    say(&server, &speaker, "hall", "SAY", None, "Only the hall").await;
    assert_eq!(
        next_data(&mut builder_hears_hall, "chatMessages").await["text"],
        "Only the hall"
    );
    // A yell carries to the yard, where Ben stands: he hears it there, not in the hall.
    say(&server, &speaker, "hall", "YELL", None, "Everyone!").await;
    assert_eq!(
        next_data(&mut builder_hears_hall, "chatMessages").await["text"],
        "Everyone!"
    );
    assert_eq!(
        next_data(&mut ben_hears_yard, "chatMessages").await["text"],
        "Everyone!"
    );
    // Once Ben walks into the hall, the same subscription hears it; and what it hears first is
    // what was said after he came in (messages arrive in order, so had the hall's earlier
    // words reached him from the yard, they would come first).
    server
        .ok_as(&listener, MOVE, json!({ "id": ben, "room": "hall" }))
        .await;
    say(&server, &speaker, "hall", "SAY", None, "Welcome, Ben").await;
    assert_eq!(
        next_data(&mut ben_hears_hall, "chatMessages").await["text"],
        "Welcome, Ben"
    );

    // Resuming from the start replays what each heard as it was said, not where they stand
    // now: Ben, in the hall for the last message only, is replayed that one; the builder all.
    const HEAR_SINCE: &str = "subscription($world: String!, $room: String!, $since: ID) {
        chatMessages(worldId: $world, roomId: $room, since: $since) { text sequence } }";
    let from_start = json!({ "world": "keep", "room": "hall", "since": "0" });
    let mut ben_resumes = subscribe_as(&server, &listener, HEAR_SINCE, from_start.clone()).await;
    let replayed = next_data(&mut ben_resumes, "chatMessages").await;
    assert_eq!(replayed["text"], "Welcome, Ben");
    assert!(replayed["sequence"].is_string(), "{replayed}");
    ws_send(&mut ben_resumes, json!({ "type": "ping" })).await;
    assert_eq!(
        ws_next(&mut ben_resumes).await,
        Ok(json!({ "type": "pong" }))
    );
    let mut builder_resumes = subscribe_as(&server, &builder, HEAR_SINCE, from_start).await;
    for text in ["Only the hall", "Everyone!", "Welcome, Ben"] {
        assert_eq!(
            next_data(&mut builder_resumes, "chatMessages").await["text"],
            text
        );
    }
}
