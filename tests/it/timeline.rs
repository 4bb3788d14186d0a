//! A studio's timeline: populated from its entities (births, deaths, foundings, EVENT dates,
//! TIMELINE entries on the world's own calendar), read in order and by filter, checked for what
//! cannot be true, exported. A second population changes nothing; players read but do not
//! populate; another tenant's timeline holds none of it.

use serde_json::{Value, json};

use crate::entities::create_entity;
use crate::harness::*;

const POPULATE: &str = "mutation { autoPopulateTimeline {
    created updated removed unchanged unplaced skipped complete } }";
const TIMELINE: &str = "query($filter: TimelineFilter, $first: Int, $after: String) {
    timeline(filter: $filter, first: $first, after: $after) {
        edges { cursor node { title kind date year precision approximate participants location
            source { entityId } } }
        pageInfo { hasNextPage endCursor } } }";
const CONFLICTS: &str = "{ timelineConflicts { kind message events { title } } }";
const ERAS: &str = "mutation($eras: [TimelineEraInput!]!) {
    setTimelineEras(eras: $eras) { name abbreviation offset } }";

fn titles(page: &Value) -> Vec<String> {
    page["timeline"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|edge| {
            edge["node"]["title"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

async fn timeline(server: &TestServer, account: &Account, variables: Value) -> Value {
    server.ok_as(account, TIMELINE, variables).await
}

async fn conflict_kinds(server: &TestServer, account: &Account) -> Vec<String> {
    let mut kinds: Vec<String> =
        server.ok_as(account, CONFLICTS, json!({})).await["timelineConflicts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| c["kind"].as_str().unwrap_or_default().to_owned())
            .collect();
    kinds.sort();
    kinds
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_studio_populates_its_timeline_reads_it_in_order_and_finds_what_cannot_be() {
    let server = TestServer::start().await;
    let admin = server.register("admin@ages.test", "Ages").await;
    let writer = server
        .invite_member(&admin, "writer@ages.test", "WORLDBUILDER")
        .await;
    let player = server
        .invite_member(&admin, "player@ages.test", "PLAYER")
        .await;
    let outsider = server.register("admin@other-ages.test", "Other Ages").await;

    // The world's own calendar: year 312 of the Third Age is year 3312.
    let eras = json!([{ "name": "Third Age", "abbreviation": "TA", "offset": 3000 }]);
    server
        .fails_as(&player, ERAS, json!({ "eras": eras }), "FORBIDDEN")
        .await;
    let body = server
        .gql_as(
            &writer,
            ERAS,
            json!({ "eras": [{ "name": "Age 2", "offset": 1 }] }),
        )
        .await;
    assert_eq!(
        error_code(&body),
        "BAD_USER_INPUT",
        "an era's name holds no digits: {body}"
    );
    for bad in [
        json!([{ "name": "BC", "offset": 1 }]),
        json!([{ "name": "Third Age", "offset": 1 }, { "name": "Fourth Age", "abbreviation": "third age", "offset": 2 }]),
    ] {
        let body = server.gql_as(&writer, ERAS, json!({ "eras": bad })).await;
        assert_eq!(
            error_code(&body),
            "BAD_USER_INPUT",
            "the common era's words, a name twice: {body}"
        );
    }
    assert_eq!(
        server.ok_as(&writer, ERAS, json!({ "eras": eras })).await["setTimelineEras"],
        json!([{ "name": "Third Age", "abbreviation": "TA", "offset": 3000 }])
    );

    let entity = |kind: &'static str, id: &'static str, name: &'static str, fields: Value| {
        let (server, writer) = (&server, &writer);
        async move { create_entity(server, writer, kind, id, name, fields).await }
    };
    entity(
        "CHARACTER",
        "rex",
        "Rex",
        json!({ "birth_year": 1180, "death_year": 1230,
        "key_dates": [{ "year": 1200, "event": "Knighted" }] }),
    )
    .await;
    entity("CHARACTER", "ana", "Ana", json!({ "birth_year": "1210" })).await;
    entity("LOCATION", "keep", "Keep", json!({ "founded_year": 1190 })).await;
    entity(
        "EVENT",
        "siege",
        "The Siege",
        json!({ "date": "1240", "end_date": "1241",
        "location": "keep", "participants": ["rex", "ana"], "exclusive": true }),
    )
    .await;
    entity(
        "EVENT",
        "council",
        "The Council",
        json!({ "date": "c. 1185", "location": "keep",
        "participants": ["ana"] }),
    )
    .await;
    entity(
        "EVENT",
        "duel",
        "The Duel",
        json!({ "date": "1240-06-10", "participants": ["ana"],
        "exclusive": true }),
    )
    .await;
    entity("EVENT", "dream", "The Dream", json!({ "date": "long ago" })).await;
    entity(
        "TIMELINE",
        "chronicle",
        "Chronicle",
        json!({ "entries": [
        { "year": "312 TA", "event": "The Crowning", "entity_refs": ["rex"] }] }),
    )
    .await;

    server
        .fails_as(&player, POPULATE, json!({}), "FORBIDDEN")
        .await;
    let first = server.ok_as(&writer, POPULATE, json!({})).await["autoPopulateTimeline"].clone();
    assert_eq!(
        first,
        json!({ "created": 10, "updated": 0, "removed": 0, "unchanged": 0, "unplaced": 1, "skipped": 0, "complete": true })
    );
    // The same entities make the same timeline.
    let again = server.ok_as(&writer, POPULATE, json!({})).await["autoPopulateTimeline"].clone();
    assert_eq!(
        again,
        json!({ "created": 0, "updated": 0, "removed": 0, "unchanged": 10, "unplaced": 1, "skipped": 0, "complete": true })
    );

    // In time order, whatever the calendar; every member reads it.
    let all = timeline(&server, &player, json!({ "first": 50 })).await;
    assert_eq!(
        titles(&all),
        [
            "Birth of Rex",
            "The Council",
            "Founding of Keep",
            "Knighted",
            "Birth of Ana",
            "Death of Rex",
            "The Siege",
            "The Duel",
            "The Crowning"
        ]
    );
    let edges = all["timeline"]["edges"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let council = &edges[1]["node"];
    assert_eq!(
        (
            council["year"].clone(),
            council["approximate"].clone(),
            council["kind"].clone()
        ),
        (json!(1185), json!(true), json!("EVENT"))
    );
    assert_eq!(council["location"], "location:keep");
    assert_eq!(council["source"]["entityId"], "council");
    assert_eq!(edges[7]["node"]["precision"], "DAY");
    assert_eq!(edges[8]["node"]["year"], 3312);
    assert_eq!(edges[8]["node"]["participants"], json!(["character:rex"]));

    // By date range, by entity, by kind; a page at a time.
    let between = json!({ "filter": { "from": "1200", "to": "1235" } });
    assert_eq!(
        titles(&timeline(&server, &player, between).await),
        ["Knighted", "Birth of Ana", "Death of Rex"]
    );
    let ana = json!({ "filter": { "entities": [{ "type": "CHARACTER", "entityId": "ana" }] } });
    assert_eq!(
        titles(&timeline(&server, &player, ana).await),
        ["The Council", "Birth of Ana", "The Siege", "The Duel"]
    );
    let kinds = json!({ "filter": { "kinds": ["BIRTH", "DEATH"], "types": ["CHARACTER"] } });
    assert_eq!(
        titles(&timeline(&server, &player, kinds).await),
        ["Birth of Rex", "Birth of Ana", "Death of Rex"]
    );
    let page = timeline(&server, &player, json!({ "first": 4 })).await;
    assert_eq!(page["timeline"]["pageInfo"]["hasNextPage"], true);
    let cursor = page["timeline"]["pageInfo"]["endCursor"].clone();
    let next = timeline(&server, &player, json!({ "first": 4, "after": cursor })).await;
    assert_eq!(
        titles(&next),
        ["Birth of Ana", "Death of Rex", "The Siege", "The Duel"]
    );
    let body = server
        .gql_as(
            &player,
            TIMELINE,
            json!({ "filter": { "from": "when the stars fell" } }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");

    // What could not be placed is said so.
    let unplaced = server
        .ok_as(
            &player,
            "{ unplacedTimelineEvents { title date placed } }",
            json!({}),
        )
        .await;
    assert_eq!(
        unplaced["unplacedTimelineEvents"],
        json!([{ "title": "The Dream", "date": "long ago", "placed": false }])
    );

    // Rex fights after his death and is crowned long after it, Ana sits in council before her
    // birth and before the keep was founded, and is at the siege and the duel at once.
    assert_eq!(
        conflict_kinds(&server, &player).await,
        [
            "AFTER_DEATH",
            "AFTER_DEATH",
            "BEFORE_BIRTH",
            "BEFORE_LOCATION_EXISTED",
            "OVERLAPPING_EXCLUSIVE"
        ]
    );
    let conflicts = server.ok_as(&player, CONFLICTS, json!({})).await;
    let text = conflicts.to_string();
    assert!(
        text.contains("character:rex takes part in “The Siege” (1240) after their death"),
        "{text}"
    );

    // Exports.
    let export = |format: &'static str| {
        let (server, player) = (&server, &player);
        async move {
            server
                .ok_as(player, &format!("{{ exportTimeline(format: {format}) {{ fileName mediaType content events }} }}"), json!({}))
                .await["exportTimeline"]
                .clone()
        }
    };
    let csv = export("CSV").await;
    assert_eq!(csv["events"], 10);
    let content = csv["content"].as_str().unwrap_or_default();
    assert_eq!(content.lines().count(), 11, "{content}");
    assert!(content.starts_with("id,date,end_date,year,"), "{content}");
    assert!(
        content.contains(",-300,") || !content.contains("'-"),
        "dates are not quoted away"
    );
    let json_export = export("JSON").await;
    let parsed: Value = serde_json::from_str(json_export["content"].as_str().unwrap_or_default())
        .expect("the JSON export parses");
    assert_eq!(parsed.as_array().map(Vec::len), Some(10));
    assert_eq!(parsed[9]["title"], "The Dream", "the unplaced last");
    let ranged = server
        .ok_as(
            &player,
            "{ exportTimeline(format: CSV, filter: {from: \"1230\", kinds: [DEATH, EVENT]}) { events content } }",
            json!({}),
        )
        .await["exportTimeline"]
        .clone();
    assert_eq!(
        ranged["events"], 3,
        "Death of Rex, the siege, the duel: {ranged}"
    );
    let markdown = export("MARKDOWN").await;
    let content = markdown["content"].as_str().unwrap_or_default();
    assert!(
        content.contains("## 1240") && content.contains("## Not placed"),
        "{content}"
    );

    // The entities change; populating again follows them.
    server
        .ok_as(
            &writer,
            "mutation { updateEntity(type: CHARACTER, entityId: \"rex\",
            input: { fields: { death_year: 1250 } }) { version } }",
            json!({}),
        )
        .await;
    server
        .ok_as(
            &writer,
            "mutation { deleteEntity(type: EVENT, entityId: \"dream\") }",
            json!({}),
        )
        .await;
    let third = server.ok_as(&writer, POPULATE, json!({})).await["autoPopulateTimeline"].clone();
    assert_eq!(
        (
            third["updated"].clone(),
            third["removed"].clone(),
            third["unplaced"].clone()
        ),
        (json!(1), json!(1), json!(0))
    );
    assert_eq!(
        conflict_kinds(&server, &player).await,
        [
            "AFTER_DEATH",
            "BEFORE_BIRTH",
            "BEFORE_LOCATION_EXISTED",
            "OVERLAPPING_EXCLUSIVE"
        ],
        "Rex now lives through the siege"
    );

    // Another tenant has a timeline of its own, and the studio's cursors mean nothing to it.
    assert_eq!(
        titles(&timeline(&server, &outsider, json!({})).await),
        Vec::<String>::new()
    );
    assert_eq!(
        conflict_kinds(&server, &outsider).await,
        Vec::<String>::new()
    );
    let body = server
        .gql_as(&outsider, TIMELINE, json!({ "first": 4, "after": cursor }))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    let theirs = server.ok_as(&outsider, POPULATE, json!({})).await["autoPopulateTimeline"].clone();
    assert_eq!(theirs["created"], 0);
    assert_eq!(
        server
            .ok_as(&outsider, "{ timelineEras { name } }", json!({}))
            .await["timelineEras"],
        json!([])
    );
}
