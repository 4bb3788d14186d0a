//! The MUD's administration: worlds, rooms and characters under the role rules; usernames and
//! seed 002's user management; sessions in worlds, the operations views and kicks that close
//! live sockets; and every operation refused across tenants.

use serde_json::{Value, json};

use crate::admin::{create_api_key, create_invite};
use crate::entities::create_entity;
use crate::harness::*;

const CREATE_WORLD: &str = "mutation($input: CreateWorldInput!) {
    createWorld(input: $input) { id worldId name description config isActive universe { entityId } } }";
const CREATE_ROOM: &str = "mutation($world: String!, $input: CreateRoomInput!) {
    createRoom(worldId: $world, input: $input) { roomId zoneId name exits world { worldId } } }";
const CREATE_CHARACTER: &str = "mutation($input: CreateCharacterInput!) {
    createCharacter(input: $input) { success message characterId characterName worldId seed entityState
        character { id name stateSeed owner { username } world { worldId } } } }";
const WORLD: &str = "query($world: String!) { world(worldId: $world) {
    worldId isActive rooms { total rooms { roomId } } characters { total characters { name } } } }";

pub async fn create_world(server: &TestServer, account: &Account, world_id: &str) -> Value {
    server
        .ok_as(
            account,
            CREATE_WORLD,
            json!({ "input": { "worldId": world_id, "name": format!("The {world_id}") } }),
        )
        .await["createWorld"]
        .clone()
}

pub async fn create_room(server: &TestServer, account: &Account, world: &str, room: &str) -> Value {
    server
        .ok_as(
            account,
            CREATE_ROOM,
            json!({ "world": world, "input": { "roomId": room, "zoneId": "docks", "name": room } }),
        )
        .await["createRoom"]
        .clone()
}

pub async fn create_character(server: &TestServer, account: &Account, input: Value) -> Value {
    server
        .ok_as(account, CREATE_CHARACTER, json!({ "input": input }))
        .await["createCharacter"]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worldbuilders_build_worlds_and_players_make_characters() {
    let server = TestServer::start().await;
    let owner = server.register("owner@mud.test", "Mud").await;
    let builder = server
        .invite_member(&owner, "builder@mud.test", "WORLDBUILDER")
        .await;
    let player = server
        .invite_member(&owner, "player@mud.test", "PLAYER")
        .await;
    create_entity(&server, &owner, "UNIVERSE", "verse", "Verse", json!({})).await;

    let world = server
        .ok_as(
            &builder,
            CREATE_WORLD,
            json!({ "input": { "worldId": "pipeworks", "name": "Pipeworks",
                    "description": "Steam and brass", "config": { "spawnRoom": "gate" },
                    "universeId": "verse" } }),
        )
        .await["createWorld"]
        .clone();
    assert_eq!(world["universe"]["entityId"], "verse");
    assert_eq!(world["config"]["spawnRoom"], "gate");
    assert_eq!(world["isActive"], true);
    // Players play; they do not build.
    server
        .fails_as(
            &player,
            CREATE_WORLD,
            json!({ "input": { "worldId": "mine", "name": "Mine" } }),
            "FORBIDDEN",
        )
        .await;
    // Keys are checked and unique.
    let body = server
        .gql_as(
            &builder,
            CREATE_WORLD,
            json!({ "input": { "worldId": "Pipe Works", "name": "Bad" } }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "worldId",
        "{body}"
    );
    server
        .fails_as(
            &builder,
            CREATE_WORLD,
            json!({ "input": { "worldId": "pipeworks", "name": "Again" } }),
            "CONFLICT",
        )
        .await;

    let room = create_room(&server, &builder, "pipeworks", "gate").await;
    assert_eq!(room["world"]["worldId"], "pipeworks");
    create_room(&server, &builder, "pipeworks", "yard").await;
    server
        .fails_as(
            &builder,
            CREATE_ROOM,
            json!({ "world": "pipeworks", "input": { "roomId": "gate", "name": "Twice" } }),
            "CONFLICT",
        )
        .await;
    let body = server
        .gql_as(
            &builder,
            CREATE_ROOM,
            json!({ "world": "pipeworks", "input": { "roomId": "hall", "name": "Hall",
                    "exits": { "north": 7 } } }),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "exits", "{body}");

    // The generator: the same seed gives the same name, in any world; a taken name moves on
    // to the next seed.
    create_world(&server, &builder, "annex").await;
    let first = create_character(
        &server,
        &player,
        json!({ "worldId": "pipeworks", "seed": 42 }),
    )
    .await;
    let expected = loregraph::mud::names::generate(42);
    assert_eq!(first["characterName"], expected.as_str());
    assert_eq!(
        (&first["seed"], &first["worldId"]),
        (&json!(42), &json!("pipeworks"))
    );
    assert_eq!(first["character"]["owner"]["username"], "player");
    assert_eq!(first["character"]["stateSeed"], 42);
    let elsewhere =
        create_character(&server, &player, json!({ "worldId": "annex", "seed": 42 })).await;
    assert_eq!(elsewhere["characterName"], expected.as_str());
    let next = create_character(
        &server,
        &player,
        json!({ "worldId": "pipeworks", "seed": 42 }),
    )
    .await;
    assert_eq!(next["seed"], 43);
    assert_eq!(
        next["characterName"],
        loregraph::mud::names::generate(43).as_str()
    );
    // Names are unique per world, ignoring case.
    server
        .fails_as(
            &player,
            CREATE_CHARACTER,
            json!({ "input": { "worldId": "pipeworks", "name": expected.to_uppercase() } }),
            "CONFLICT",
        )
        .await;

    // The player moves their character; another player may not.
    let character_id = first["characterId"].as_str().expect("id").to_owned();
    const MOVE: &str = "mutation($id: ID!, $room: String, $inventory: JSON) {
        updateCharacter(id: $id, input: { roomId: $room, inventory: $inventory }) {
            room { roomId zoneId } inventory movedAt } }";
    let moved = server
        .ok_as(
            &player,
            MOVE,
            json!({ "id": character_id, "room": "yard", "inventory": ["lamp"] }),
        )
        .await;
    assert_eq!(moved["updateCharacter"]["room"]["roomId"], "yard");
    assert_eq!(moved["updateCharacter"]["inventory"], json!(["lamp"]));
    let other = server
        .invite_member(&owner, "other@mud.test", "PLAYER")
        .await;
    server
        .fails_as(
            &other,
            MOVE,
            json!({ "id": character_id, "room": "gate" }),
            "FORBIDDEN",
        )
        .await;
    server
        .fails_as(
            &player,
            MOVE,
            json!({ "id": character_id, "room": "nowhere" }),
            "BAD_USER_INPUT",
        )
        .await;

    let seen = server
        .ok_as(&other, WORLD, json!({ "world": "pipeworks" }))
        .await;
    assert_eq!(seen["world"]["rooms"]["total"], 2);
    assert_eq!(seen["world"]["characters"]["total"], 2);

    // Another tenant: nothing to see, nothing to change.
    let outsider = server
        .register("outsider@elsewhere.test", "Elsewhere")
        .await;
    let seen = server
        .ok_as(&outsider, WORLD, json!({ "world": "pipeworks" }))
        .await;
    assert_eq!(seen["world"], Value::Null);
    for (query, variables) in [
        (
            "mutation { updateWorld(worldId: \"pipeworks\", input: { name: \"Mine\" }) { worldId } }",
            json!({}),
        ),
        (
            "mutation { activateWorld(worldId: \"pipeworks\", active: false) { worldId } }",
            json!({}),
        ),
        (
            CREATE_ROOM,
            json!({ "world": "pipeworks", "input": { "roomId": "x", "name": "X" } }),
        ),
        (
            CREATE_CHARACTER,
            json!({ "input": { "worldId": "pipeworks" } }),
        ),
        (MOVE, json!({ "id": character_id, "room": "gate" })),
    ] {
        let body = server.gql_as(&outsider, query, variables).await;
        assert_eq!(error_code(&body), "NOT_FOUND", "{query}: {body}");
    }
    let seen = server
        .ok_as(
            &outsider,
            "query($id: ID!) { character(id: $id) { name } }",
            json!({ "id": character_id }),
        )
        .await;
    assert_eq!(seen["character"], Value::Null);
    let seen = server
        .ok_as(&outsider, "{ worlds { total } }", json!({}))
        .await;
    assert_eq!(seen["worlds"]["total"], 0);
}

const MANAGE_CHARACTER: &str = "mutation($id: ID!, $action: ManageCharacterAction!) {
    manageCharacter(characterId: $id, action: $action) { success message characterId action } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_provision_characters_below_them_and_superusers_remove_them() {
    let server = TestServer::start().await;
    let owner = server.register("owner@mud.test", "Mud").await;
    let player = server
        .invite_member(&owner, "player@mud.test", "PLAYER")
        .await;
    create_world(&server, &owner, "pipeworks").await;

    let made = create_character(
        &server,
        &owner,
        json!({ "worldId": "pipeworks", "targetUsername": "player", "name": "Ada" }),
    )
    .await;
    assert_eq!(made["character"]["owner"]["username"], "player");
    // Players make characters only for themselves.
    let for_owner = json!({ "input": { "worldId": "pipeworks", "targetUsername": "owner" } });
    server
        .fails_as(&player, CREATE_CHARACTER, for_owner.clone(), "FORBIDDEN")
        .await;

    // Removal is for superusers only.
    let id = made["characterId"].as_str().expect("id").to_owned();
    server
        .fails_as(
            &owner,
            MANAGE_CHARACTER,
            json!({ "id": id, "action": "TOMBSTONE" }),
            "FORBIDDEN",
        )
        .await;
    // The tenant's owner becomes a superuser (`loregraph admin create-superuser`) and creates
    // a second ADMIN, who provisions for those below them only.
    let root = server.superuser("owner@mud.test").await;
    server
        .ok_as(&root, CREATE_USER, new_user("coadmin", "ADMIN"))
        .await;
    let co_admin = Account::from_payload(&server.login("coadmin", PASSWORD).await["data"]["login"]);
    server
        .fails_as(&co_admin, CREATE_CHARACTER, for_owner, "FORBIDDEN")
        .await;
    create_character(
        &server,
        &co_admin,
        json!({ "worldId": "pipeworks", "targetUsername": "player", "name": "Bo" }),
    )
    .await;
    server
        .fails_as(
            &co_admin,
            MANAGE_CHARACTER,
            json!({ "id": made["characterId"], "action": "DELETE" }),
            "FORBIDDEN",
        )
        .await;
    let done = server
        .ok_as(
            &root,
            MANAGE_CHARACTER,
            json!({ "id": id, "action": "TOMBSTONE" }),
        )
        .await;
    assert_eq!(done["manageCharacter"]["action"], "TOMBSTONE");
    let tombstone = server
        .ok_as(
            &root,
            "query($id: ID!) { character(id: $id) { name isTombstoned owner { id } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(tombstone["character"]["isTombstoned"], true);
    assert_eq!(tombstone["character"]["owner"], Value::Null);
    assert_ne!(tombstone["character"]["name"], "Ada");
    // The name is free again; the tombstone keeps its history until deleted.
    let again = create_character(
        &server,
        &player,
        json!({ "worldId": "pipeworks", "name": "Ada" }),
    )
    .await;
    assert_eq!(again["characterName"], "Ada");
    server
        .ok_as(
            &root,
            MANAGE_CHARACTER,
            json!({ "id": id, "action": "DELETE" }),
        )
        .await;
    // A superuser acting in another tenant does not reach this tenant's characters, and a
    // character is made only for a member of the tenant.
    let elsewhere = server.superuser("root@elsewhere.test").await;
    server
        .fails_as(
            &elsewhere,
            MANAGE_CHARACTER,
            json!({ "id": again["characterId"], "action": "DELETE" }),
            "NOT_FOUND",
        )
        .await;
    server
        .fails_as(
            &root,
            CREATE_CHARACTER,
            json!({ "input": { "worldId": "pipeworks", "targetUsername": "root" } }),
            "NOT_FOUND",
        )
        .await;
    let gone = server
        .ok_as(
            &root,
            "query($id: ID!) { character(id: $id) { name } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(gone["character"], Value::Null);
}

const MANAGE_USER: &str = "mutation($input: ManageUserInput!) {
    manageUser(input: $input) { success message user { username isActive role } } }";
const CREATE_USER: &str = "mutation($input: CreateUserInput!) {
    createUser(input: $input) { success message user { id username role } } }";
const PLAYERS: &str = "{ players { total players { username passwordHash role accountOrigin
    characterCount isOnlineAccount isOnlineInWorld onlineWorldIds isActive } } }";

fn new_user(username: &str, role: &str) -> Value {
    json!({ "input": { "username": username, "email": format!("{username}@mud.test"),
            "password": PASSWORD, "passwordConfirm": PASSWORD, "role": role } })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usernames_and_user_management_follow_the_role_rules() {
    let server = TestServer::start().await;
    let owner = server.register("owner@mud.test", "Mud").await;
    // A chosen username at registration; a clash is a CONFLICT, a bad one BAD_USER_INPUT.
    let register =
        "mutation($input: RegisterInput!) { register(input: $input) { user { username } } }";
    let input = |email: &str, username: Value| {
        json!({ "input": { "email": email, "password": PASSWORD, "displayName": "X",
                "tenantName": "X", "username": username } })
    };
    let chosen = server
        .ok(None, register, input("z@x.test", json!("Zed")))
        .await;
    assert_eq!(chosen["register"]["user"]["username"], "Zed");
    let body = server
        .gql(None, register, input("z2@x.test", json!("zed")))
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    let body = server
        .gql(None, register, input("z3@x.test", json!("z")))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "username",
        "{body}"
    );
    // Derived ones are numbered when the local part is taken.
    let derived = server
        .ok(None, register, input("zed@other.test", Value::Null))
        .await;
    assert_eq!(derived["register"]["user"]["username"], "zed_2");

    // createUser: passwords confirmed; admins create only roles below their own.
    let body = server
        .gql_as(
            &owner,
            CREATE_USER,
            json!({ "input": { "username": "pat", "email": "pat@mud.test", "password": PASSWORD,
                    "passwordConfirm": "something else", "role": "PLAYER" } }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "passwordConfirm",
        "{body}"
    );
    server
        .fails_as(&owner, CREATE_USER, new_user("boss", "ADMIN"), "FORBIDDEN")
        .await;
    let pat = server
        .ok_as(&owner, CREATE_USER, new_user("pat", "PLAYER"))
        .await;
    assert_eq!(pat["createUser"]["user"]["role"], "PLAYER");
    // The new account signs in by username too.
    let login = server.login("pat", PASSWORD).await;
    assert_eq!(login["data"]["login"]["role"], "PLAYER", "{login}");
    let pat_account = Account::from_payload(&login["data"]["login"]);
    server
        .fails_as(
            &pat_account,
            CREATE_USER,
            new_user("sam", "PLAYER"),
            "FORBIDDEN",
        )
        .await;

    // players: the seed's fields, hashes cut to 20 characters and "…".
    let players = server.ok_as(&owner, PLAYERS, json!({})).await;
    let rows = players["players"]["players"].as_array().expect("players");
    let row = rows
        .iter()
        .find(|p| p["username"] == "pat")
        .expect("pat is listed");
    let hash = row["passwordHash"].as_str().expect("hash");
    assert!(hash.ends_with('…') && hash.chars().count() == 21, "{hash}");
    assert_eq!(row["accountOrigin"], "ADMIN");
    assert_eq!(row["isOnlineAccount"], true);
    assert_eq!(row["isOnlineInWorld"], false);
    server
        .fails_as(&pat_account, PLAYERS, json!({}), "FORBIDDEN")
        .await;

    // manageUser: role change, ban (sign-in refused), unban, password change, delete.
    let manage = |action: &str, extra: Value| {
        let mut input = json!({ "targetUsername": "pat", "action": action });
        if let (Some(input), Some(extra)) = (input.as_object_mut(), extra.as_object()) {
            input.extend(extra.clone());
        }
        json!({ "input": input })
    };
    let changed = server
        .ok_as(
            &owner,
            MANAGE_USER,
            manage("CHANGE_ROLE", json!({ "newRole": "WORLDBUILDER" })),
        )
        .await;
    assert_eq!(changed["manageUser"]["user"]["role"], "WORLDBUILDER");
    let body = server
        .gql_as(&owner, MANAGE_USER, manage("CHANGE_ROLE", json!({})))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "newRole",
        "{body}"
    );
    let banned = server
        .ok_as(&owner, MANAGE_USER, manage("BAN", json!({})))
        .await;
    assert_eq!(banned["manageUser"]["user"]["isActive"], false);
    let body = server.login("pat", PASSWORD).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    server
        .ok_as(&owner, MANAGE_USER, manage("UNBAN", json!({})))
        .await;
    server
        .fails_as(
            &owner,
            MANAGE_USER,
            manage("CHANGE_PASSWORD", json!({ "newPassword": "short" })),
            "BAD_USER_INPUT",
        )
        .await;
    server
        .ok_as(
            &owner,
            MANAGE_USER,
            manage(
                "CHANGE_PASSWORD",
                json!({ "newPassword": "a brand new password" }),
            ),
        )
        .await;
    let body = server.login("pat", "a brand new password").await;
    assert_eq!(body["data"]["login"]["role"], "WORLDBUILDER", "{body}");
    // Deleting is for superusers; admins cannot touch an equal, and nobody outside the tenant.
    server
        .fails_as(
            &owner,
            MANAGE_USER,
            manage("DELETE", json!({})),
            "FORBIDDEN",
        )
        .await;
    let outsider = server
        .register("outsider@elsewhere.test", "Elsewhere")
        .await;
    // Another tenant's ADMIN cannot even tell whether the username exists.
    for action in ["BAN", "DELETE"] {
        let body = server
            .gql_as(&outsider, MANAGE_USER, manage(action, json!({})))
            .await;
        assert_eq!(error_code(&body), "NOT_FOUND", "{action}: {body}");
    }
    let theirs = server.ok_as(&outsider, PLAYERS, json!({})).await;
    assert_eq!(theirs["players"]["total"], 1);
    // The tenant's owner becomes a superuser (`loregraph admin create-superuser`).
    let root = server.superuser("owner@mud.test").await;
    // An admin cannot act on someone at or above them.
    server
        .ok_as(&root, CREATE_USER, new_user("coadmin", "ADMIN"))
        .await;
    let co_admin = Account::from_payload(&server.login("coadmin", PASSWORD).await["data"]["login"]);
    for target in ["owner", "coadmin"] {
        let body = server
            .gql_as(
                &co_admin,
                MANAGE_USER,
                json!({ "input": { "targetUsername": target, "action": "BAN" } }),
            )
            .await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{target}: {body}");
    }
    let deleted = server
        .ok_as(&root, MANAGE_USER, manage("DELETE", json!({})))
        .await;
    assert_eq!(deleted["manageUser"]["user"], Value::Null);
    let body = server.login("pat", "a brand new password").await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
}

const ENTER: &str = "mutation($id: ID!) { enterWorld(characterId: $id) { name } }";
const ACTIVE_SESSIONS: &str =
    "{ activeSessions { total sessions { sessionId username characterName clientType expiresAt } }
    connections { total sessions { sessionId ageSeconds } } }";
/// The newest live session of `username`, as `admin` sees it in `activeSessions`.
async fn live_session_of(server: &TestServer, admin: &Account, username: &str) -> Value {
    let sessions = server.ok_as(admin, ACTIVE_SESSIONS, json!({})).await;
    sessions["activeSessions"]["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .find(|s| s["username"] == username)
        .cloned()
        .unwrap_or_else(|| panic!("no live session of {username}: {sessions}"))
}

const WORLD_STATUS: &str = "{ worldStatus { worlds { worldId isActive isOnline activeSessionCount
    activeCharacterCount activeCharacters { characterName username sessionId clientType } } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_enter_worlds_and_admins_watch_and_kick_them() {
    let server = TestServer::start().await;
    let owner = server.register("owner@mud.test", "Mud").await;
    let player = server
        .invite_member(&owner, "player@mud.test", "PLAYER")
        .await;
    create_world(&server, &owner, "pipeworks").await;
    create_room(&server, &owner, "pipeworks", "gate").await;
    let character = create_character(
        &server,
        &player,
        json!({ "worldId": "pipeworks", "name": "Ada" }),
    )
    .await;
    let id = character["characterId"].as_str().expect("id").to_owned();
    server
        .ok_as(
            &player,
            "mutation($id: ID!) { updateCharacter(id: $id, input: { roomId: \"gate\" }) { name } }",
            json!({ "id": id }),
        )
        .await;

    // Only the owner enters with a character, only with a session, only into an open world.
    server
        .fails_as(&owner, ENTER, json!({ "id": id }), "FORBIDDEN")
        .await;
    let (_, key) = create_api_key(&server, &player, "bot").await;
    let (_, body) = server.post(Some(&key), ENTER, json!({ "id": id })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    const ACTIVATE: &str = "mutation($active: Boolean!) {
        activateWorld(worldId: \"pipeworks\", active: $active) { isActive } }";
    server
        .ok_as(&owner, ACTIVATE, json!({ "active": false }))
        .await;
    server
        .fails_as(&player, ENTER, json!({ "id": id }), "CONFLICT")
        .await;
    server
        .ok_as(&owner, ACTIVATE, json!({ "active": true }))
        .await;
    const LEAVE: &str = "mutation { leaveWorld }";
    server.ok_as(&player, ENTER, json!({ "id": id })).await;
    assert_eq!(
        server.ok_as(&player, LEAVE, json!({})).await["leaveWorld"],
        true
    );
    assert_eq!(
        server.ok_as(&player, LEAVE, json!({})).await["leaveWorld"],
        false
    );
    let entered = server.ok_as(&player, ENTER, json!({ "id": id })).await;
    assert_eq!(entered["enterWorld"]["name"], "Ada");

    let sessions = server.ok_as(&owner, ACTIVE_SESSIONS, json!({})).await;
    let playing = live_session_of(&server, &owner, "player").await;
    assert_eq!(playing["characterName"], "Ada");
    assert_eq!(playing["clientType"], "api");
    // Entering from a second session takes the character over: one session plays it at a time.
    let tui = server
        .ok(
            None,
            "mutation { login(email: \"player\", password: \"correct horse battery\", clientType: TUI) {
                accessToken refreshToken user { id } tenant { id } } }",
            json!({}),
        )
        .await;
    let tui = Account::from_payload(&tui["login"]);
    server.ok_as(&tui, ENTER, json!({ "id": id })).await;
    let taken = server.ok_as(&owner, ACTIVE_SESSIONS, json!({})).await;
    let playing_ada: Vec<&Value> = taken["activeSessions"]["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .filter(|s| s["characterName"] == "Ada")
        .collect();
    assert_eq!(playing_ada.len(), 1, "{taken}");
    assert_eq!(playing_ada[0]["clientType"], "tui");
    server.ok_as(&player, ENTER, json!({ "id": id })).await;
    assert!(sessions["connections"]["sessions"][0]["ageSeconds"].as_i64() >= Some(0));
    let status = server.ok_as(&owner, WORLD_STATUS, json!({})).await;
    let world = &status["worldStatus"]["worlds"][0];
    assert_eq!(
        (
            &world["worldId"],
            &world["isOnline"],
            &world["activeSessionCount"],
            &world["activeCharacterCount"]
        ),
        (&json!("pipeworks"), &json!(true), &json!(1), &json!(1))
    );
    assert_eq!(world["activeCharacters"][0]["username"], "player");
    let locations = server
        .ok_as(
            &owner,
            "{ playerLocations { total locations { characterName worldId zoneId roomId } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        locations["playerLocations"]["locations"][0],
        json!({ "characterName": "Ada", "worldId": "pipeworks", "zoneId": "docks", "roomId": "gate" })
    );
    let players = server.ok_as(&owner, PLAYERS, json!({})).await;
    let row = players["players"]["players"]
        .as_array()
        .expect("players")
        .iter()
        .find(|p| p["username"] == "player")
        .cloned()
        .expect("the player");
    assert_eq!(row["isOnlineInWorld"], true);
    assert_eq!(row["onlineWorldIds"], json!(["pipeworks"]));
    assert_eq!(row["characterCount"], 1);

    // The player cannot watch; another tenant sees only itself.
    server
        .fails_as(&player, ACTIVE_SESSIONS, json!({}), "FORBIDDEN")
        .await;
    let outsider = server
        .register("outsider@elsewhere.test", "Elsewhere")
        .await;
    let theirs = server.ok_as(&outsider, ACTIVE_SESSIONS, json!({})).await;
    assert_eq!(theirs["activeSessions"]["total"], 1);
    let theirs = server.ok_as(&outsider, WORLD_STATUS, json!({})).await;
    assert_eq!(theirs["worldStatus"]["worlds"], json!([]));
    let theirs = server
        .ok_as(&outsider, "{ playerLocations { total } }", json!({}))
        .await;
    assert_eq!(theirs["playerLocations"]["total"], 0);
    let session_id = playing["sessionId"].as_str().expect("session").to_owned();
    let kick_session = "mutation($id: ID!) { kickSession(targetSessionId: $id, reason: \"spam\") { success message } }";
    let kick_character =
        "mutation($id: ID!) { kickCharacter(characterId: $id) { success removedSessions } }";
    server
        .fails_as(
            &outsider,
            kick_session,
            json!({ "id": session_id }),
            "NOT_FOUND",
        )
        .await;
    server
        .fails_as(&outsider, kick_character, json!({ "id": id }), "NOT_FOUND")
        .await;
    server
        .fails_as(&player, kick_character, json!({ "id": id }), "FORBIDDEN")
        .await;

    // Kicking the character ends the session playing it and closes its live socket.
    let mut socket = subscribe_as(
        &server,
        &player,
        "subscription { entityUpdated { entityId } }",
        json!({}),
    )
    .await;
    let kicked = server
        .ok_as(&owner, kick_character, json!({ "id": id }))
        .await;
    assert_eq!(
        kicked["kickCharacter"],
        json!({ "success": true, "removedSessions": 1 })
    );
    assert_eq!(ws_next(&mut socket).await, Err(4401));
    server
        .fails_as(&player, "{ me { id } }", json!({}), "UNAUTHENTICATED")
        .await;
    let again = server
        .ok_as(&owner, kick_character, json!({ "id": id }))
        .await;
    assert_eq!(again["kickCharacter"]["success"], false);

    // kickSession does the same for one session.
    let login = server
        .login("player@mud.test", "correct horse battery")
        .await;
    let player = Account::from_payload(&login["data"]["login"]);
    let mut socket = connect_as(&server, &player.token).await;
    let session_id = live_session_of(&server, &owner, "player").await["sessionId"].clone();
    let kicked = server
        .ok_as(&owner, kick_session, json!({ "id": session_id }))
        .await;
    assert_eq!(kicked["kickSession"]["success"], true);
    assert_eq!(ws_next(&mut socket).await, Err(4401));
    // Admins cannot kick themselves or their equals.
    let own_session = live_session_of(&server, &owner, "owner").await["sessionId"].clone();
    server
        .fails_as(
            &owner,
            kick_session,
            json!({ "id": own_session }),
            "FORBIDDEN",
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_superuser_stops_the_server_and_it_stops_gracefully() {
    let server = TestServer::start().await;
    let owner = server.register("owner@mud.test", "Mud").await;
    const STOP: &str = "mutation { stopServer { success message } }";
    // A tenant's ADMIN cannot stop a server shared with other tenants.
    server.fails_as(&owner, STOP, json!({}), "FORBIDDEN").await;

    let root = server.superuser("root@everywhere.test").await;
    let mut socket = connect_as(&server, &owner.token).await;
    let stopped = server.ok_as(&root, STOP, json!({})).await;
    assert_eq!(stopped["stopServer"]["success"], true);
    // Live sockets are told the server is going away, then it stops taking requests.
    assert_eq!(ws_next(&mut socket).await, Err(1001));
    let mut refused = false;
    for _ in 0..100 {
        if server.http.get(server.url("/health")).send().await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(refused, "the server still answers after stopServer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_that_switches_tenant_stops_playing_its_character() {
    let server = TestServer::start().await;
    let owner = server.register("owner@mud.test", "Mud").await;
    // The player runs a studio of their own and joins the MUD's tenant as a PLAYER.
    let player = server.register("player@own.test", "Own").await;
    let (_, token) = create_invite(&server, &owner, "player@own.test", "PLAYER").await;
    server
        .ok_as(
            &player,
            "mutation($token: String!) { acceptInvite(token: $token) { id } }",
            json!({ "token": token }),
        )
        .await;
    const SELECT: &str = "mutation($t: ID!) { selectTenant(tenantId: $t) { accessToken refreshToken user { id } tenant { id } } }";
    let in_mud = Account::from_payload(
        &server
            .ok_as(&player, SELECT, json!({ "t": owner.tenant_id }))
            .await["selectTenant"],
    );
    create_world(&server, &owner, "pipeworks").await;
    let character = create_character(
        &server,
        &in_mud,
        json!({ "worldId": "pipeworks", "name": "Ada" }),
    )
    .await;
    server
        .ok_as(&in_mud, ENTER, json!({ "id": character["characterId"] }))
        .await;
    let status = server.ok_as(&owner, WORLD_STATUS, json!({})).await;
    assert_eq!(status["worldStatus"]["worlds"][0]["activeSessionCount"], 1);

    // Back in their own studio, the same session plays nothing: neither tenant sees the
    // MUD's character on it.
    let at_home = Account::from_payload(
        &server
            .ok_as(&in_mud, SELECT, json!({ "t": player.tenant_id }))
            .await["selectTenant"],
    );
    let home = server.ok_as(&at_home, ACTIVE_SESSIONS, json!({})).await;
    let sessions = home["activeSessions"]["sessions"]
        .as_array()
        .expect("sessions");
    assert!(!sessions.is_empty());
    assert!(
        sessions.iter().all(|s| s["characterName"].is_null()),
        "{home}"
    );
    let status = server.ok_as(&owner, WORLD_STATUS, json!({})).await;
    assert_eq!(status["worldStatus"]["worlds"][0]["activeSessionCount"], 0);
    assert_eq!(status["worldStatus"]["worlds"][0]["isOnline"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn existing_accounts_get_valid_distinct_usernames_from_the_migration() {
    use diesel_async::{AsyncConnection, RunQueryDsl};
    let url = fresh_database().await;
    // Back to just before the MUD migration, with accounts whose derived names would clash.
    let mut reverted = Vec::new();
    while reverted.last().map(String::as_str) != Some("20261130000005") {
        // A bound, not a count: every later migration is reverted on the way.
        assert!(
            reverted.len() < 100,
            "the MUD migration was never reverted: {reverted:?}"
        );
        reverted.push(
            loregraph::db::migrations::revert_last(&url)
                .await
                .expect("revert"),
        );
    }
    let mut conn = diesel_async::AsyncPgConnection::establish(&url)
        .await
        .expect("connect");
    for (n, email) in [
        "ann@a.test",
        "ANN@b.test",
        "ann_2@c.test",
        "_bob@d.test",
        "x@e.test",
    ]
    .iter()
    .enumerate()
    {
        diesel::sql_query(format!(
            "INSERT INTO users (id, email, display_name, password_hash, created_at)
             VALUES (gen_random_uuid(), '{email}', 'X', 'hash', now() + interval '{n} seconds')"
        ))
        .execute(&mut conn)
        .await
        .expect("an account from before usernames");
    }
    loregraph::db::migrations::run_pending(&url)
        .await
        .expect("the migration runs on these accounts");

    #[derive(diesel::QueryableByName)]
    struct Named {
        #[diesel(sql_type = diesel::sql_types::Text)]
        username: String,
    }
    let names: Vec<String> = diesel::sql_query("SELECT username FROM users ORDER BY created_at")
        .load::<Named>(&mut conn)
        .await
        .expect("usernames")
        .into_iter()
        .map(|n| n.username)
        .collect();
    assert_eq!(names, ["ann", "ANN_2", "ann_2_2", "bob", "xuser"]);
    for name in &names {
        loregraph::accounts::usernames::validate("username", name).expect("a valid username");
    }
}
