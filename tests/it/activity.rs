//! The activity feed and the dashboard as a studio uses them: who did what (entities written,
//! an asset uploaded, a note, invites sent, accepted and revoked, BrainBits spent), newest
//! first with the actor; narrowed by kind and by time; paged by cursor through items of one
//! instant without a duplicate; forged and foreign cursors refused; the dashboard's numbers
//! matching what was made — and other tenants, players and worldbuilders kept to their part.

use std::collections::HashSet;

use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

use crate::assets::{png, upload};
use crate::billing_webhooks::billing_server;
use crate::entities::create_entity;
use crate::harness::*;

const ACTIVITY: &str = "query($since: DateTime, $kinds: [ActivityKind!], $first: Int,
        $after: String) {
    activity(since: $since, kinds: $kinds, first: $first, after: $after) {
        edges { cursor node { id at kind verb actor { id } entityType entityId subjectId name
                              role amount } }
        pageInfo { hasNextPage hasPreviousPage endCursor } } }";
const DASHBOARD: &str = "{ dashboardStatistics {
    entities recycledEntities entitiesByType { entityType live recycled } assets notes members
    storage { liveAssets liveAssetBytes recycledAssets recycledAssetBytes storedFiles storedBytes }
    brainbits { periodStart periodEnd used balance allowance }
    recentChanges { kind verb name entityType entityId actor { id } } } }";
const RENAME_REX: &str = "mutation { updateEntity(type: CHARACTER, entityId: \"rex\",
    input: { name: \"Rex the Bold\" }) { version } }";
const CREATE_NOTE: &str = "mutation($title: String!) {
    createNote(input: { title: $title, content: \"Written down.\" }) { id } }";
const CREATE_INVITE: &str = "mutation($email: String!, $role: Role!) {
    createInvite(email: $email, role: $role) { invite { id } } }";
const REVOKE_INVITE: &str = "mutation($id: ID!) { revokeInvite(id: $id) { id } }";
const CONSUME: &str = "mutation($amount: Int!) {
    consumeBrainbits(amount: $amount, operation: \"generate\", provider: \"openai\") { charged } }";

/// One page of `activity` as `account` reads it: its items and its `pageInfo`.
async fn page(server: &TestServer, account: &Account, variables: Value) -> (Vec<Value>, Value) {
    let data = server.ok_as(account, ACTIVITY, variables).await;
    let edges = data["activity"]["edges"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let items = edges.into_iter().map(|edge| edge["node"].clone()).collect();
    (items, data["activity"]["pageInfo"].clone())
}

/// What each item says: "KIND VERB name".
fn told(items: &[Value]) -> Vec<String> {
    let text = |value: &Value| value.as_str().unwrap_or("-").to_owned();
    items
        .iter()
        .map(|item| {
            let (kind, verb) = (text(&item["kind"]), text(&item["verb"]));
            format!("{kind} {verb} {}", text(&item["name"]))
        })
        .collect()
}

/// The items without the period's allowance, which the period's first debit or read of the
/// balance credits, whenever that was.
fn without_allowance(items: Vec<Value>) -> (Vec<Value>, Vec<Value>) {
    items
        .into_iter()
        .partition(|item| item["verb"] != "CREDITED")
}

async fn note(server: &TestServer, account: &Account, title: &str) {
    server
        .ok_as(account, CREATE_NOTE, json!({ "title": title }))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_tells_who_did_what_newest_first() {
    let server = billing_server().await;
    let admin = server.register("admin@feed.test", "Feed Studio").await;
    create_entity(&server, &admin, "CHARACTER", "rex", "Rex", json!({})).await;
    server.ok_as(&admin, RENAME_REX, json!({})).await;
    let map = upload(&server, &admin, "map.png", png(8, 8)).await;
    note(&server, &admin, "Session one").await;
    let maker = server
        .invite_member(&admin, "maker@feed.test", "WORLDBUILDER")
        .await;
    let late = server
        .ok_as(
            &admin,
            CREATE_INVITE,
            json!({ "email": "late@feed.test", "role": "PLAYER" }),
        )
        .await["createInvite"]["invite"]["id"]
        .clone();
    server
        .ok_as(&admin, REVOKE_INVITE, json!({ "id": late }))
        .await;
    server.ok_as(&admin, CONSUME, json!({ "amount": 7 })).await;

    let (all, info) = page(&server, &admin, json!({})).await;
    assert_eq!(info["hasNextPage"], false, "{info}");
    let (items, allowance) = without_allowance(all);
    assert_eq!(
        told(&items),
        [
            "BILLING CONSUMED generate",
            "INVITE REVOKED late@feed.test",
            "INVITE INVITED late@feed.test",
            "INVITE ACCEPTED maker@feed.test",
            "INVITE INVITED maker@feed.test",
            "NOTE CREATED Session one",
            "ASSET UPLOADED map.png",
            "ENTITY UPDATED Rex the Bold",
            "ENTITY CREATED Rex",
        ]
    );
    // Who did it, and what to.
    let actors: Vec<&Value> = items.iter().map(|item| &item["actor"]["id"]).collect();
    let admin_id = json!(admin.user_id);
    let maker_id = json!(maker.user_id);
    let expected = [
        &admin_id,
        &Value::Null,
        &admin_id,
        &maker_id,
        &admin_id,
        &admin_id,
        &admin_id,
        &admin_id,
        &admin_id,
    ];
    assert_eq!(actors, expected);
    assert_eq!(items[0]["amount"], -7);
    assert_eq!(items[2]["role"], "PLAYER");
    assert_eq!(items[3]["role"], "WORLDBUILDER");
    assert_eq!(items[6]["subjectId"], map["id"]);
    let rex = &items[7];
    assert_eq!(
        (&rex["entityType"], &rex["entityId"], &rex["subjectId"]),
        (&json!("CHARACTER"), &json!("rex"), &Value::Null)
    );
    // The period's allowance, credited by the first debit: no one's doing.
    assert_eq!(allowance.len(), 1, "{allowance:?}");
    assert_eq!(allowance[0]["amount"], 100);
    assert_eq!(allowance[0]["actor"], Value::Null);

    // Only the kinds asked for.
    let (entities, _) = page(&server, &admin, json!({ "kinds": ["ENTITY"] })).await;
    assert_eq!(
        told(&entities),
        ["ENTITY UPDATED Rex the Bold", "ENTITY CREATED Rex"]
    );
    let (people, _) = page(&server, &admin, json!({ "kinds": ["NOTE", "INVITE"] })).await;
    assert_eq!(told(&people), told(&items[1..6]));

    // Only what happened after an instant: here, after the note was written.
    let since = items[5]["at"].clone();
    let (later, _) = page(&server, &admin, json!({ "since": since })).await;
    let (later, _) = without_allowance(later);
    assert_eq!(told(&later), told(&items[..5]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_walks_every_item_once_and_refuses_forged_cursors() {
    let server = TestServer::start().await;
    let admin = server.register("admin@pages.test", "Pages").await;
    for n in 0..6 {
        let id = format!("c{n:03}");
        create_entity(&server, &admin, "CHARACTER", &id, &id, json!({})).await;
    }
    for title in ["First notes", "Second notes", "Third notes"] {
        note(&server, &admin, title).await;
    }
    // One instant for all of them (one statement, one `now()`), as the writes of one
    // transaction (an import) share it: pages must break the ties the same way every time.
    let mut db = server.db().await;
    diesel::sql_query(
        "WITH revisions AS (UPDATE entity_revisions SET created_at = now() - interval '1 hour'
                            WHERE tenant_id = $1::uuid)
         UPDATE notes SET created_at = now() - interval '1 hour' WHERE tenant_id = $1::uuid",
    )
    .bind::<Text, _>(&admin.tenant_id)
    .execute(&mut db)
    .await
    .expect("one instant for every write");

    let (all, info) = page(&server, &admin, json!({ "first": 100 })).await;
    assert_eq!(all.len(), 9, "{all:?}");
    assert_eq!(info["hasNextPage"], false);
    let ids = |items: &[Value]| -> Vec<String> {
        items
            .iter()
            .map(|item| item["id"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let mut walked = Vec::new();
    let mut after = Value::Null;
    for pages in 1.. {
        assert!(pages <= 5, "the walk never ended: {walked:?}");
        let variables = json!({ "first": 2, "after": after });
        let (items, info) = page(&server, &admin, variables).await;
        walked.extend(ids(&items));
        assert_eq!(info["hasPreviousPage"], pages > 1);
        if info["hasNextPage"] == false {
            break;
        }
        after = info["endCursor"].clone();
    }
    assert_eq!(walked, ids(&all));
    assert_eq!(walked.iter().collect::<HashSet<_>>().len(), 9);

    // A cursor altered, made up, or given out for other kinds: refused.
    let (_, info) = page(&server, &admin, json!({ "first": 2 })).await;
    let cursor = info["endCursor"].as_str().expect("a cursor").to_owned();
    let first = cursor.chars().next().expect("a cursor is not empty");
    let altered = format!("{}{}", if first == 'A' { 'B' } else { 'A' }, &cursor[1..]);
    for bad in [altered.as_str(), "not-a-cursor", "e30.AAAA"] {
        server
            .fails_as(&admin, ACTIVITY, json!({ "after": bad }), "BAD_USER_INPUT")
            .await;
    }
    server
        .fails_as(
            &admin,
            ACTIVITY,
            json!({ "after": cursor, "kinds": ["NOTE"] }),
            "BAD_USER_INPUT",
        )
        .await;
    // Pages hold 1 to 100 items.
    for first in [0, 101] {
        let variables = json!({ "first": first });
        server
            .fails_as(&admin, ACTIVITY, variables, "BAD_USER_INPUT")
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_tenants_players_and_worldbuilders_see_only_their_part() {
    let server = TestServer::start().await;
    let admin = server.register("admin@walls.test", "Walls").await;
    let maker = server
        .invite_member(&admin, "maker@walls.test", "WORLDBUILDER")
        .await;
    let player = server
        .invite_member(&admin, "player@walls.test", "PLAYER")
        .await;
    let outsider = server.register("admin@elsewhere.test", "Elsewhere").await;
    create_entity(&server, &admin, "LOCATION", "keep", "Keep", json!({})).await;
    note(&server, &admin, "Keep notes").await;
    // Reading the balance credits the period's allowance: a BILLING item.
    server
        .ok_as(&admin, "{ brainbitsBalance { balance } }", json!({}))
        .await;

    // The ADMIN reads every kind.
    let (everything, info) = page(&server, &admin, json!({})).await;
    let kinds: HashSet<&str> = everything
        .iter()
        .filter_map(|item| item["kind"].as_str())
        .collect();
    assert_eq!(
        kinds,
        HashSet::from(["ENTITY", "NOTE", "INVITE", "BILLING"]),
        "{everything:?}"
    );

    // A WORLDBUILDER reads what worldbuilders share: no invites, no BrainBits.
    let (shared, _) = page(&server, &maker, json!({})).await;
    assert_eq!(
        told(&shared),
        ["NOTE CREATED Keep notes", "ENTITY CREATED Keep"]
    );
    for kinds in [json!(["BILLING"]), json!(["INVITE", "ENTITY"])] {
        server
            .fails_as(&maker, ACTIVITY, json!({ "kinds": kinds }), "FORBIDDEN")
            .await;
    }
    server.ok_as(&maker, DASHBOARD, json!({})).await;

    // A PLAYER reads the world, not the studio's log.
    server
        .fails_as(&player, ACTIVITY, json!({}), "FORBIDDEN")
        .await;
    server
        .fails_as(&player, DASHBOARD, json!({}), "FORBIDDEN")
        .await;

    // Another tenant sees none of it, and this tenant's cursors mean nothing there.
    let (theirs, _) = page(&server, &outsider, json!({})).await;
    assert_eq!(theirs, Vec::<Value>::new());
    let cursor = info["endCursor"].clone();
    assert!(cursor.is_string(), "{info}");
    server
        .fails_as(
            &outsider,
            ACTIVITY,
            json!({ "after": cursor }),
            "BAD_USER_INPUT",
        )
        .await;
    // And signed out, nothing at all.
    let body = server.gql(None, ACTIVITY, json!({})).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_counts_what_the_tenant_made() {
    let server = billing_server().await;
    let admin = server.register("admin@dash.test", "Dash").await;
    let maker = server
        .invite_member(&admin, "maker@dash.test", "WORLDBUILDER")
        .await;
    let outsider = server.register("admin@dash-other.test", "Other").await;
    create_entity(&server, &admin, "CHARACTER", "rex", "Rex", json!({})).await;
    create_entity(&server, &admin, "CHARACTER", "ada", "Ada", json!({})).await;
    create_entity(&server, &admin, "LOCATION", "keep", "Keep", json!({})).await;
    server
        .ok_as(
            &admin,
            "mutation { deleteEntity(type: LOCATION, entityId: \"keep\") }",
            json!({}),
        )
        .await;
    // The same picture twice (stored once) and another one, recycled.
    let (picture, other) = (png(8, 8), png(9, 9));
    let (picture_len, other_len) = (picture.len() as i64, other.len() as i64);
    upload(&server, &admin, "a.png", picture.clone()).await;
    upload(&server, &admin, "b.png", picture).await;
    let recycled = upload(&server, &admin, "c.png", other).await;
    server
        .ok_as(
            &admin,
            "mutation($id: ID!) { deleteAsset(id: $id) }",
            json!({ "id": recycled["id"] }),
        )
        .await;
    note(&server, &maker, "Big plans").await;
    server.ok_as(&admin, CONSUME, json!({ "amount": 7 })).await;

    let dash = server.ok_as(&maker, DASHBOARD, json!({})).await["dashboardStatistics"].clone();
    assert_eq!(dash["entities"], 2);
    assert_eq!(dash["recycledEntities"], 1);
    assert_eq!(dash["assets"], 2);
    assert_eq!(dash["notes"], 1);
    assert_eq!(dash["members"], 2);
    let by_type = dash["entitiesByType"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(by_type.len(), 16);
    let count = |entity_type: &str| {
        by_type
            .iter()
            .find(|count| count["entityType"] == entity_type)
            .map(|count| (count["live"].clone(), count["recycled"].clone()))
    };
    assert_eq!(count("CHARACTER"), Some((json!(2), json!(0))));
    assert_eq!(count("LOCATION"), Some((json!(0), json!(1))));
    assert_eq!(
        dash["storage"],
        json!({
            "liveAssets": 2,
            "liveAssetBytes": 2 * picture_len,
            "recycledAssets": 1,
            "recycledAssetBytes": other_len,
            "storedFiles": 2,
            "storedBytes": picture_len + other_len,
        })
    );
    let brainbits = &dash["brainbits"];
    assert_eq!(brainbits["used"], 7);
    assert_eq!(brainbits["balance"], 93);
    assert_eq!(brainbits["allowance"], 100);
    let (start, end) = (&brainbits["periodStart"], &brainbits["periodEnd"]);
    assert!(start.as_str() < end.as_str(), "{start} {end}");
    let changes = dash["recentChanges"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        told(&changes),
        [
            "ENTITY DELETED Keep",
            "ENTITY CREATED Keep",
            "ENTITY CREATED Ada",
            "ENTITY CREATED Rex",
        ]
    );
    assert_eq!(changes[0]["actor"]["id"], admin.user_id.as_str());

    // Another tenant's numbers are its own.
    let theirs = server.ok_as(&outsider, DASHBOARD, json!({})).await["dashboardStatistics"].clone();
    assert_eq!(theirs["entities"], 0);
    assert_eq!(theirs["assets"], 0);
    assert_eq!(theirs["notes"], 0);
    assert_eq!(theirs["members"], 1);
    assert_eq!(theirs["storage"]["storedBytes"], 0);
    assert_eq!(theirs["brainbits"]["used"], 0);
    assert_eq!(theirs["brainbits"]["balance"], 100);
    assert_eq!(theirs["recentChanges"], json!([]));
}
