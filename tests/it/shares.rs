//! Share links as a studio uses them: an entity, a set of entities and a whole type shared
//! without an account, each showing exactly what it names; a password and an expiry; revoked
//! links and altered codes that find nothing — and other tenants, players and members without
//! the permission kept out.

use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

use crate::entities::create_entity;
use crate::harness::*;

const CREATE_SHARE: &str = "mutation($input: CreateShareInput!) { createShare(input: $input) {
    id code kind title passwordProtected active entities { entityId } } }";
const REVOKE: &str = "mutation($id: ID!) { revokeShare(id: $id) { id active revokedAt } }";
const SHARED_WITH: &str = "query($code: String!, $password: String, $type: EntityType) {
    sharedWith(code: $code, password: $password) { kind title
        entities(type: $type) { total entities { entityType entityId name markdownBody } } } }";

async fn create_share(server: &TestServer, account: &Account, input: Value) -> Value {
    server
        .ok_as(account, CREATE_SHARE, json!({ "input": input }))
        .await["createShare"]
        .clone()
}

/// `GET path` with no account (and the share's password, when given): status and body.
async fn open(server: &TestServer, path: &str, password: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new().get(server.url(path));
    if let Some(password) = password {
        request = request.header("X-Share-Password", password);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn ids(page: &Value) -> Vec<String> {
    page["entities"]
        .as_array()
        .map(|entities| {
            entities
                .iter()
                .map(|e| e["entityId"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_kind_of_share_shows_exactly_what_it_names_until_revoked() {
    let server = TestServer::start().await;
    let owner = server.register("owner@share.test", "Share Studio").await;
    for (kind, id, name) in [
        ("CHARACTER", "rex", "Rex"),
        ("CHARACTER", "mara", "Mara"),
        ("CHARACTER", "secret", "Secret"),
        ("LOCATION", "harbor", "Harbor"),
        ("LOCATION", "keep", "Keep"),
    ] {
        create_entity(&server, &owner, kind, id, name, json!({})).await;
    }

    // One entity.
    let one = create_share(
        &server,
        &owner,
        json!({ "entities": [{ "type": "CHARACTER", "entityId": "rex" }], "title": "Meet Rex" }),
    )
    .await;
    assert_eq!(one["kind"], "ENTITY");
    let code = one["code"].as_str().expect("code").to_owned();
    let response = reqwest::get(server.url(&format!("/api/share/{code}")))
        .await
        .expect("request");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let (status, body) = open(&server, &format!("/api/share/{code}"), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(ids(&body), ["rex"]);
    assert_eq!(body["share"]["title"], "Meet Rex");
    assert!(body["entities"][0].get("createdBy").is_none());
    let (status, _) = open(
        &server,
        &format!("/api/share/{code}/entities/location"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let shared = server.ok(None, SHARED_WITH, json!({ "code": code })).await;
    assert_eq!(shared["sharedWith"]["entities"]["total"], 1);
    assert_eq!(
        shared["sharedWith"]["entities"]["entities"][0]["markdownBody"],
        "# Rex\n"
    );

    // A set: both, and nothing else; one deleted later drops out.
    let set = create_share(
        &server,
        &owner,
        json!({ "entities": [
            { "type": "CHARACTER", "entityId": "mara" },
            { "type": "LOCATION", "entityId": "harbor" }] }),
    )
    .await;
    assert_eq!(set["kind"], "ENTITIES");
    let set_code = set["code"].as_str().expect("code").to_owned();
    let (_, body) = open(&server, &format!("/api/share/{set_code}"), None).await;
    assert_eq!(ids(&body), ["harbor", "mara"]);
    let (_, body) = open(
        &server,
        &format!("/api/share/{set_code}/entities/character"),
        None,
    )
    .await;
    assert_eq!(ids(&body), ["mara"]);
    server
        .ok_as(
            &owner,
            "mutation { deleteEntity(type: LOCATION, entityId: \"harbor\") }",
            json!({}),
        )
        .await;
    let (_, body) = open(&server, &format!("/api/share/{set_code}"), None).await;
    assert_eq!(ids(&body), ["mara"]);

    // A whole type, as it is when opened: a location made later shows; characters never do.
    let whole = create_share(&server, &owner, json!({ "entityType": "LOCATION" })).await;
    let whole_code = whole["code"].as_str().expect("code").to_owned();
    create_entity(&server, &owner, "LOCATION", "mill", "Mill", json!({})).await;
    let (_, body) = open(
        &server,
        &format!("/api/share/{whole_code}/entities/LOCATION"),
        None,
    )
    .await;
    assert_eq!(ids(&body), ["keep", "mill"]);
    let (status, _) = open(
        &server,
        &format!("/api/share/{whole_code}/entities/character"),
        None,
    )
    .await;
    assert_eq!(status, 404);

    // An altered code and an unknown one find nothing, and say nothing more.
    let mut altered = code.clone().into_bytes();
    altered[30] = if altered[30] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).expect("ascii");
    for bad in [
        altered.as_str(),
        "nothing-here",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let (status, body) = open(&server, &format!("/api/share/{bad}"), None).await;
        assert_eq!(status, 404, "{bad}: {body}");
        assert_eq!(body["detail"], "share not found", "{body}");
    }

    // Revoked: gone at once, over REST and GraphQL alike.
    let revoked = server
        .ok_as(&owner, REVOKE, json!({ "id": one["id"] }))
        .await;
    assert_eq!(revoked["revokeShare"]["active"], false);
    let (status, body) = open(&server, &format!("/api/share/{code}"), None).await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (404, Some("share not found"))
    );
    let body = server.gql(None, SHARED_WITH, json!({ "code": code })).await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");

    // Expired: the same.
    let mut db = server.db().await;
    diesel::sql_query(format!(
        "UPDATE shares SET expires_at = now() - interval '1 minute' WHERE id = '{}'",
        set["id"].as_str().expect("id")
    ))
    .execute(&mut db)
    .await
    .expect("expire the share");
    let (status, _) = open(&server, &format!("/api/share/{set_code}"), None).await;
    assert_eq!(status, 404);
    let listed = server
        .ok_as(
            &owner,
            "{ shares { total shares { kind active accessCount } } }",
            json!({}),
        )
        .await;
    assert_eq!(listed["shares"]["total"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_protects_a_share_and_guessing_it_is_limited() {
    let server = TestServer::start().await;
    let owner = server.register("owner@locked.test", "Locked").await;
    create_entity(&server, &owner, "ITEM", "key", "Key", json!({})).await;
    let body = server
        .gql_as(
            &owner,
            CREATE_SHARE,
            json!({ "input": { "entityType": "ITEM", "password": "short" } }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    let body = server
        .gql_as(
            &owner,
            CREATE_SHARE,
            json!({ "input": { "entityType": "ITEM", "expiresAt": "2001-01-01T00:00:00Z" } }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    let body = server
        .gql_as(
            &owner,
            CREATE_SHARE,
            json!({ "input": { "entityType": "ITEM",
                "entities": [{ "type": "ITEM", "entityId": "key" }] } }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");

    let share = create_share(
        &server,
        &owner,
        json!({ "entityType": "ITEM", "password": "open sesame!" }),
    )
    .await;
    assert_eq!(share["passwordProtected"], true);
    let code = share["code"].as_str().expect("code").to_owned();
    let path = format!("/api/share/{code}");
    assert_eq!(open(&server, &path, None).await.0, 401);
    let (status, body) = open(&server, &path, Some("open sesame!")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(ids(&body), ["key"]);
    let shared = server
        .ok(
            None,
            SHARED_WITH,
            json!({ "code": code, "password": "open sesame!" }),
        )
        .await;
    assert_eq!(shared["sharedWith"]["kind"], "TYPE");

    for _ in 0..10 {
        assert_eq!(open(&server, &path, Some("wrong guess")).await.0, 401);
    }
    assert_eq!(open(&server, &path, Some("wrong guess")).await.0, 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shares_are_kept_from_other_tenants_players_and_members_without_the_permission() {
    let server = TestServer::start().await;
    let admin = server.register("admin@guard.test", "Guard").await;
    let player = server
        .invite_member(&admin, "player@guard.test", "PLAYER")
        .await;
    let writer = server
        .invite_member(&admin, "writer@guard.test", "WORLDBUILDER")
        .await;
    let teammate = server
        .invite_member(&admin, "mate@guard.test", "WORLDBUILDER")
        .await;
    let outsider = server.register("admin@thief.test", "Thief").await;
    create_entity(&server, &admin, "CHARACTER", "rex", "Rex", json!({})).await;
    let rex = json!({ "entities": [{ "type": "CHARACTER", "entityId": "rex" }] });

    server
        .fails_as(&player, CREATE_SHARE, json!({ "input": rex }), "FORBIDDEN")
        .await;
    // Another tenant cannot share our entities: they are not there for it.
    server
        .fails_as(
            &outsider,
            CREATE_SHARE,
            json!({ "input": rex }),
            "NOT_FOUND",
        )
        .await;

    // A team's share is its members' to see and revoke.
    let team = server
        .ok_as(
            &admin,
            "mutation { createTeam(input: { name: \"Story\" }) { id } }",
            json!({}),
        )
        .await["createTeam"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    for member in [&writer, &teammate] {
        server
            .ok_as(
                &admin,
                "mutation($t: ID!, $u: ID!) { addTeamMember(teamId: $t, userId: $u) }",
                json!({ "t": team, "u": member.user_id }),
            )
            .await;
    }
    let mut input = rex.clone();
    input["teamId"] = json!(team);
    let team_share = create_share(&server, &writer, input.clone()).await;
    let own = create_share(&server, &teammate, rex.clone()).await;
    let writer_sees = server
        .ok_as(&writer, "{ shares { total shares { id } } }", json!({}))
        .await;
    assert_eq!(writer_sees["shares"]["total"], 1, "{writer_sees}");
    assert_eq!(writer_sees["shares"]["shares"][0]["id"], team_share["id"]);
    server
        .fails_as(&writer, REVOKE, json!({ "id": own["id"] }), "FORBIDDEN")
        .await;
    server
        .fails_as(
            &outsider,
            REVOKE,
            json!({ "id": team_share["id"] }),
            "NOT_FOUND",
        )
        .await;
    assert_eq!(
        server
            .ok_as(&outsider, "{ shares { total } }", json!({}))
            .await["shares"]["total"],
        0
    );
    server
        .ok_as(&teammate, REVOKE, json!({ "id": team_share["id"] }))
        .await;
    assert_eq!(
        server
            .ok_as(&admin, "{ shares { total } }", json!({}))
            .await["shares"]["total"],
        2
    );

    // A team's PLAYER neither sees its links nor hands out their codes.
    server
        .ok_as(
            &admin,
            "mutation($t: ID!, $u: ID!) { addTeamMember(teamId: $t, userId: $u) }",
            json!({ "t": team, "u": player.user_id }),
        )
        .await;
    let live = create_share(&server, &writer, input.clone()).await;
    assert_eq!(
        server
            .ok_as(&player, "{ shares { total } }", json!({}))
            .await["shares"]["total"],
        0
    );
    server
        .fails_as(&player, REVOKE, json!({ "id": live["id"] }), "FORBIDDEN")
        .await;

    // A link dies with its creator's right to make it.
    let own_path = format!("/api/share/{}", own["code"].as_str().expect("code"));
    assert_eq!(open(&server, &own_path, None).await.0, 200);
    server
        .ok_as(
            &admin,
            "mutation($id: ID!) { removeMember(id: $id) }",
            json!({ "id": teammate.user_id }),
        )
        .await;
    assert_eq!(open(&server, &own_path, None).await.0, 404);

    // A member in a group without CREATE_SHARES may not make links, nor keep their links open.
    let live_path = format!("/api/share/{}", live["code"].as_str().expect("code"));
    assert_eq!(open(&server, &live_path, None).await.0, 200);
    let group = server
        .ok_as(
            &admin,
            "mutation { createGroup(input: { name: \"Writers\", preset: \"writers\" }) { id } }",
            json!({}),
        )
        .await["createGroup"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    server
        .ok_as(
            &admin,
            "mutation($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) }",
            json!({ "g": group, "u": writer.user_id }),
        )
        .await;
    let body = server
        .gql_as(&writer, CREATE_SHARE, json!({ "input": rex }))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["reason"], "permission_denied",
        "{body}"
    );
    assert_eq!(open(&server, &live_path, None).await.0, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_opens_at_most_120_share_links_a_minute() {
    let server = TestServer::start().await;
    let mut statuses = Vec::new();
    for _ in 0..121 {
        statuses.push(open(&server, "/api/share/nothing-here", None).await.0);
    }
    assert!(
        statuses[..120].iter().all(|status| *status == 404),
        "{statuses:?}"
    );
    assert_eq!(statuses[120], 429);
}
