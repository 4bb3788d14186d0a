//! The MUD's lists by cursor are their offset lists (see `connections` for the walk and the
//! comparison): worlds, rooms by zone, characters by name, chat, live sessions in both
//! orders, players and a character's axis events; a chat cursor of one tenant is refused in
//! another; and the lists for ADMIN (these and the members) or SUPERUSER (the tenants) refuse
//! lower roles.

use serde_json::json;

use crate::connections::{
    List, PAGE, assert_foreign_cursor_refused, assert_walks_are_listed, listed,
};
use crate::harness::*;
use crate::mud::{create_character, create_room, create_world};
use crate::play::{SET_POLICY, apply, keep_with_hall_and_yard, play, policy, say};

async fn create_world_as(server: &TestServer, owner: &Account, world: &str, active: bool) {
    let query = "mutation($input: CreateWorldInput!) { createWorld(input: $input) { id } }";
    let input = json!({ "worldId": world, "name": world, "isActive": active });
    server.ok_as(owner, query, json!({ "input": input })).await;
}

async fn create_room_in(server: &TestServer, owner: &Account, room: &str, zone: Option<&str>) {
    let query = "mutation($input: CreateRoomInput!) {
        createRoom(worldId: \"alpha\", input: $input) { roomId } }";
    let input = json!({ "roomId": room, "zoneId": zone, "name": room });
    server.ok_as(owner, query, json!({ "input": input })).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worlds_rooms_and_characters_by_cursor_are_their_offset_lists() {
    let server = TestServer::start().await;
    let owner = server.register("owner@worlds.test", "Worlds").await;
    let player = server
        .invite_member(&owner, "player@worlds.test", "PLAYER")
        .await;
    // Made out of key order; two of them closed.
    for (world, active) in [
        ("zeta", true),
        ("alpha", true),
        ("kappa", false),
        ("mid", true),
        ("beta", true),
        ("delta", false),
        ("omega", true),
    ] {
        create_world_as(&server, &owner, world, active).await;
    }
    // Rooms of two zones and rooms of none (those last), made out of order.
    for room in ["quay", "pier", "dock3", "berth", "slip"] {
        create_room(&server, &owner, "alpha", room).await;
    }
    for (room, zone) in [
        ("gate", None),
        ("stall", Some("market")),
        ("attic", None),
        ("fountain", Some("market")),
    ] {
        create_room_in(&server, &owner, room, zone).await;
    }
    // Names in both cases, and the same name (ignoring case) in two worlds.
    for (account, world, name) in [
        (&owner, "alpha", "bea"),
        (&owner, "alpha", "Ada"),
        (&player, "alpha", "Finn"),
        (&owner, "alpha", "carl"),
        (&owner, "alpha", "Dora"),
        (&owner, "alpha", "eve"),
        (&player, "beta", "ada"),
        (&player, "beta", "Bea"),
        (&player, "beta", "gus"),
        (&player, "beta", "Hal"),
        (&player, "beta", "ivy"),
    ] {
        create_character(&server, account, json!({ "worldId": world, "name": name })).await;
    }
    let me = server
        .ok_as(&player, "{ me { username } }", json!({}))
        .await;
    let username = me["me"]["username"].as_str().expect("username");

    let alpha = "world(worldId: \"alpha\")";
    let lists = [
        List::new("worlds", "worlds", "worldId").both_ways(),
        List::new("worlds", "worlds", "worldId").args("onlyActive: true"),
        List::new("rooms", "rooms", "roomId")
            .inside(alpha)
            .both_ways(),
        List::new("rooms", "rooms", "roomId")
            .inside(alpha)
            .args("zoneId: \"docks\""),
        List::new("characters", "characters", "id").both_ways(),
        List::new("characters", "characters", "id").args("worldId: \"alpha\""),
        List::new("characters", "characters", "id").args("mine: true"),
        List::new("characters", "characters", "id").args(format!("username: \"{username}\"")),
        // Names are unique in a world (ignoring case): they tell its characters apart.
        List::new("characters", "characters", "name")
            .inside(alpha)
            .both_ways(),
    ];
    assert_walks_are_listed(&server, &owner, &lists).await;
    // And the lists are in the order they promise.
    let order = [
        (
            0,
            vec!["alpha", "beta", "delta", "kappa", "mid", "omega", "zeta"],
        ),
        (
            2,
            vec![
                "berth", "dock3", "pier", "quay", "slip", "fountain", "stall", "attic", "gate",
            ],
        ),
        (8, vec!["Ada", "bea", "carl", "Dora", "eve", "Finn"]),
    ];
    for (n, expected) in order {
        assert_eq!(listed(&server, &owner, &lists[n]).await, expected);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_sessions_and_players_by_cursor_are_their_offset_lists() {
    let server = TestServer::start().await;
    let owner = server.register("owner@keep.test", "Keep").await;
    let builder = server
        .invite_member(&owner, "builder@keep.test", "WORLDBUILDER")
        .await;
    let mut players = Vec::new();
    for n in 0..4 {
        let player = server
            .invite_member(&owner, &format!("p{n}@keep.test"), "PLAYER")
            .await;
        players.push(player);
    }
    let outsider = server.register("owner@away.test", "Away").await;
    keep_with_hall_and_yard(&server, &builder).await;
    play(&server, &players[0], "Ada", "hall").await;
    play(&server, &players[1], "Bo", "hall").await;
    play(&server, &players[2], "Cy", "yard").await;
    for (player, room, channel, recipient, text) in [
        (0, "hall", "SAY", None, "Hello"),
        (2, "yard", "SAY", None, "Anyone?"),
        (1, "hall", "SAY", None, "Hi, Ada"),
        (1, "hall", "WHISPER", Some("Ada"), "Psst"),
        (2, "yard", "YELL", None, "Up here!"),
        (0, "hall", "SAY", None, "Who yells?"),
        (1, "hall", "SAY", None, "Cy does"),
    ] {
        say(&server, &players[player], room, channel, recipient, text).await;
    }

    let chat = || List::new("chatMessages", "messages", "id");
    let lists = [
        chat().both_ways(),
        chat().args("worldId: \"keep\" roomId: \"hall\""),
        List::new("activeSessions", "sessions", "sessionId").both_ways(),
        // The admin's own session moves to the start with each page asked: it comes first,
        // once, and every other one stays where it was.
        List::new("connections", "sessions", "sessionId"),
        List::new("players", "players", "id").both_ways(),
        List::new("players", "players", "id").args("search: \"member\""),
    ];
    assert_walks_are_listed(&server, &owner, &lists).await;
    assert_foreign_cursor_refused(&server, &owner, &outsider, &chat()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_characters_axis_events_by_cursor_are_its_offset_list() {
    let server = TestServer::start().await;
    let owner = server.register("owner@vale.test", "Vale").await;
    create_world(&server, &owner, "vale").await;
    let vars = json!({ "world": "vale", "policy": policy(0.5, json!([])) });
    server.ok_as(&owner, SET_POLICY, vars).await;
    let created = create_character(
        &server,
        &owner,
        json!({ "worldId": "vale", "name": "Ada", "seed": 3 }),
    )
    .await;
    let ada = created["characterId"].as_str().expect("id").to_owned();
    // Its seeded profile, then six events of its own.
    for n in 0..6 {
        let delta = if n % 2 == 0 { 0.05 } else { -0.03 };
        apply(
            &server,
            &owner,
            &ada,
            json!([{ "axis": "dominance", "delta": delta }]),
        )
        .await;
    }

    let events = List::new("characterAxisEvents", "events", "eventId")
        .args(format!("characterId: \"{ada}\""))
        .both_ways();
    assert_walks_are_listed(&server, &owner, &[events]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_for_admins_and_superusers_refuse_lower_roles() {
    let server = TestServer::start().await;
    let owner = server.register("owner@roles.test", "Roles").await;
    let builder = server
        .invite_member(&owner, "builder@roles.test", "WORLDBUILDER")
        .await;
    let player = server
        .invite_member(&owner, "player@roles.test", "PLAYER")
        .await;
    let root = server.superuser("root@roles.test").await;

    let for_admins = [
        List::new("users", "users", "id"),
        List::new("chatMessages", "messages", "id"),
        List::new("activeSessions", "sessions", "sessionId"),
        List::new("connections", "sessions", "sessionId"),
        List::new("players", "players", "id"),
    ];
    let tenants = List::new("tenants", "tenants", "id");
    let first = json!({ "first": PAGE });
    for list in &for_admins {
        let query = list.connection_query();
        for below in [&builder, &player] {
            server
                .fails_as(below, &query, first.clone(), "FORBIDDEN")
                .await;
        }
        server.ok_as(&owner, &query, first.clone()).await;
    }
    let query = tenants.connection_query();
    for below in [&owner, &builder] {
        server
            .fails_as(below, &query, first.clone(), "FORBIDDEN")
            .await;
    }
    server.ok_as(&root, &query, first).await;
}
