//! Catching up from the event log: a node whose relay connection was cut replays what other
//! nodes published meanwhile, each event once; a subscriber resumes after the last `sequence`
//! it saw; the log keeps its tenants apart and forgets what is past its retention.

use std::time::Duration;

use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::{Value, json};

use crate::entities::create_entity;
use crate::harness::*;

const ENTITY_UPDATED: &str = "subscription($since: ID) {
    entityUpdated(since: $since) { action entityId sequence } }";

/// The relay connections of `node` that PostgreSQL lists.
async fn relay_pids_of(db: &mut AsyncPgConnection, node: uuid::Uuid) -> Vec<i32> {
    #[derive(diesel::QueryableByName)]
    struct Pid {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        pid: i32,
    }
    diesel::sql_query(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'loregraph-events ' || $1",
    )
    .bind::<diesel::sql_types::Text, _>(node.to_string())
    .load::<Pid>(db)
    .await
    .expect("relay connections")
    .into_iter()
    .map(|p| p.pid)
    .collect()
}

/// Polls (up to 15 s) until `node`'s relay connection is listed (`up`) or gone (`!up`).
async fn wait_for_relay(db: &mut AsyncPgConnection, node: uuid::Uuid, up: bool) {
    for _ in 0..150 {
        if relay_pids_of(db, node).await.is_empty() != up {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the relay of {node} did not come {}",
        if up { "up" } else { "down" }
    );
}

/// The next entity event's id and sequence number.
async fn next_entity(socket: &mut Socket) -> (String, i64) {
    let event = next_data(socket, "entityUpdated").await;
    let sequence = event["sequence"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a sequence in {event}"));
    (event["entityId"].as_str().expect("id").to_owned(), sequence)
}

/// The error a subscription that could not start answers with (a field error: `next` with
/// the error, then `complete`).
async fn refusal_of(socket: &mut Socket) -> Value {
    let answer = ws_next(socket).await.expect("an answer");
    assert_eq!(answer["type"], "next", "{answer}");
    assert!(answer["payload"]["data"].is_null(), "{answer}");
    let complete = ws_next(socket).await.expect("the end of the subscription");
    assert_eq!(complete["type"], "complete", "{complete}");
    answer["payload"]["errors"][0].clone()
}

/// Asserts that nothing came twice: `account` creates the location `id` on `server`, and that is
/// the next event (events arrive in order, so a repeat of anything before would come first).
async fn nothing_repeated(socket: &mut Socket, server: &TestServer, account: &Account, id: &str) {
    create_entity(server, account, "LOCATION", id, id, json!({})).await;
    assert_eq!(next_entity(socket).await.0, id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_whose_relay_was_cut_replays_what_it_missed_once() {
    let first = TestServer::start().await;
    // The second node waits 4 s before reconnecting its relay: long enough for the first to
    // publish while it cannot hear.
    let second = TestServer::start_on(first.database_url.clone(), |config| {
        config.realtime.relay_retry = Duration::from_secs(4);
    })
    .await;
    let second_node = second.node_id.expect("an in-process node");
    let owner = first.register("owner@relay.test", "Relay").await;
    let mut db = first.db().await;
    wait_for_relay(&mut db, second_node, true).await;
    let mut on_first = subscribe_as(&first, &owner, ENTITY_UPDATED, json!({})).await;
    let mut on_second = subscribe_as(&second, &owner, ENTITY_UPDATED, json!({})).await;

    diesel::sql_query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = 'loregraph-events ' || $1",
    )
    .bind::<diesel::sql_types::Text, _>(second_node.to_string())
    .execute(&mut db)
    .await
    .expect("cut the second node's relay");
    wait_for_relay(&mut db, second_node, false).await;
    let missed = ["ada", "bel", "cyr"];
    for id in missed {
        create_entity(&first, &owner, "CHARACTER", id, id, json!({})).await;
        // Delivered on the first node once logged and notified.
        assert_eq!(next_entity(&mut on_first).await.0, id);
    }
    assert!(
        relay_pids_of(&mut db, second_node).await.is_empty(),
        "precondition: the second node's relay was still away while the first published"
    );

    // Back, the second node delivers what it missed, in order, then what comes live.
    let mut sequences = Vec::new();
    for id in missed {
        let (got, sequence) = next_entity(&mut on_second).await;
        assert_eq!(got, id);
        sequences.push(sequence);
    }
    assert!(sequences.windows(2).all(|w| w[0] < w[1]), "{sequences:?}");
    create_entity(&first, &owner, "CHARACTER", "dov", "Dov", json!({})).await;
    let (live, sequence) = next_entity(&mut on_second).await;
    assert_eq!(live, "dov");
    assert!(sequence > sequences[2]);
    nothing_repeated(&mut on_second, &first, &owner, "end").await;
    second.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_resumes_after_the_last_sequence_it_saw_and_only_its_tenants() {
    let server = TestServer::start().await;
    let owner = server.register("owner@resume.test", "Resume").await;
    let outsider = server.register("owner@elsewhere.test", "Elsewhere").await;
    let mut socket = subscribe_as(&server, &owner, ENTITY_UPDATED, json!({})).await;
    create_entity(&server, &owner, "CHARACTER", "ada", "Ada", json!({})).await;
    let (_, seen) = next_entity(&mut socket).await;
    drop(socket);

    // While it is away: two of its tenant's changes and one of another tenant's.
    create_entity(&server, &owner, "CHARACTER", "bel", "Bel", json!({})).await;
    create_entity(&server, &outsider, "CHARACTER", "spy", "Spy", json!({})).await;
    create_entity(&server, &owner, "LOCATION", "keep", "Keep", json!({})).await;

    let since = json!({ "since": seen.to_string() });
    let mut resumed = subscribe_as(&server, &owner, ENTITY_UPDATED, since).await;
    let (first, first_seq) = next_entity(&mut resumed).await;
    let (second, second_seq) = next_entity(&mut resumed).await;
    assert_eq!((first.as_str(), second.as_str()), ("bel", "keep"));
    assert!(seen < first_seq && first_seq < second_seq);
    create_entity(&server, &owner, "CHARACTER", "cyr", "Cyr", json!({})).await;
    assert_eq!(next_entity(&mut resumed).await.0, "cyr");
    nothing_repeated(&mut resumed, &server, &owner, "end").await;

    // The other tenant, resuming from the very start, hears only its own.
    let mut theirs =
        subscribe_as(&server, &outsider, ENTITY_UPDATED, json!({ "since": "0" })).await;
    assert_eq!(next_entity(&mut theirs).await.0, "spy");
    nothing_repeated(&mut theirs, &server, &outsider, "end").await;

    // A filtered subscription replays only what its filter lets through.
    let locations = "subscription($since: ID) {
        entityUpdated(type: LOCATION, since: $since) { entityId sequence } }";
    let mut places = subscribe_as(&server, &owner, locations, json!({ "since": "0" })).await;
    assert_eq!(next_entity(&mut places).await.0, "keep");
    assert_eq!(next_entity(&mut places).await.0, "end");
    nothing_repeated(&mut places, &server, &owner, "end2").await;

    // A member who joins later is never replayed what happened before they joined.
    let newcomer = server
        .invite_member(&owner, "new@resume.test", "WORLDBUILDER")
        .await;
    let mut joined =
        subscribe_as(&server, &newcomer, ENTITY_UPDATED, json!({ "since": "0" })).await;
    create_entity(&server, &owner, "CHARACTER", "eve", "Eve", json!({})).await;
    assert_eq!(next_entity(&mut joined).await.0, "eve");

    // A sequence that is not one is refused.
    let mut wrong = subscribe_as(&server, &owner, ENTITY_UPDATED, json!({ "since": "soon" })).await;
    let refusal = refusal_of(&mut wrong).await;
    assert_eq!(refusal["extensions"]["code"], "BAD_USER_INPUT", "{refusal}");
    assert_eq!(refusal["extensions"]["field"], "since", "{refusal}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_forgets_what_is_past_its_retention_and_a_resume_from_there_is_refused() {
    let server = TestServer::start_with(|config| {
        config.retention.event_log = Duration::from_secs(3600);
    })
    .await;
    let owner = server.register("owner@forget.test", "Forget").await;
    let root = server.superuser("root@forget.test").await;
    let mut socket = subscribe_as(&server, &owner, ENTITY_UPDATED, json!({})).await;
    create_entity(&server, &owner, "CHARACTER", "old", "Old", json!({})).await;
    let (_, old) = next_entity(&mut socket).await;
    create_entity(&server, &owner, "CHARACTER", "new", "New", json!({})).await;
    let (_, new) = next_entity(&mut socket).await;

    // Everything logged up to `old` is two hours old; `new` is not.
    let mut db = server.db().await;
    diesel::sql_query(
        "UPDATE event_log SET logged_at = now() - interval '2 hours' WHERE seq <= $1",
    )
    .bind::<diesel::sql_types::BigInt, _>(old)
    .execute(&mut db)
    .await
    .expect("age the log");
    let aged = count_rows(
        &mut db,
        &format!("SELECT count(*) AS n FROM event_log WHERE seq <= {old}"),
    )
    .await;
    let report = server
        .ok_as(
            &root,
            "mutation { runRetentionSweep { ran loggedEvents } }",
            json!({}),
        )
        .await["runRetentionSweep"]
        .clone();
    assert_eq!(report["ran"], true);
    assert_eq!(report["loggedEvents"], aged);
    assert_eq!(
        count_rows(
            &mut db,
            &format!("SELECT count(*) AS n FROM event_log WHERE seq <= {old}")
        )
        .await,
        0
    );
    assert_eq!(
        count_rows(
            &mut db,
            &format!("SELECT count(*) AS n FROM event_log WHERE seq = {new}")
        )
        .await,
        1
    );

    // Resuming from before what was removed could miss events: refused, with the reason.
    let before = json!({ "since": (old - 1).to_string() });
    let mut stale = subscribe_as(&server, &owner, ENTITY_UPDATED, before).await;
    let refusal = refusal_of(&mut stale).await;
    assert_eq!(refusal["extensions"]["code"], "BAD_USER_INPUT", "{refusal}");
    assert!(
        refusal["message"]
            .as_str()
            .is_some_and(|m| m.contains("no longer kept")),
        "{refusal}"
    );
    // From the last removed one on, nothing is missing.
    let mut fine = subscribe_as(
        &server,
        &owner,
        ENTITY_UPDATED,
        json!({ "since": old.to_string() }),
    )
    .await;
    assert_eq!(next_entity(&mut fine).await, ("new".to_owned(), new));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_too_large_to_notify_reaches_other_nodes_through_the_log() {
    let server = TestServer::start().await;
    let owner = server.register("owner@large.test", "Large").await;
    let query = "subscription { entityUpdated { action entityId previousEntityId sequence } }";
    let mut socket = subscribe_as(&server, &owner, query, json!({})).await;
    create_entity(&server, &owner, "CHARACTER", "ada", "Ada", json!({})).await;
    next_data(&mut socket, "entityUpdated").await;

    // Another node (played here in SQL, on the wire format nodes speak) logs an event whose
    // 9,000 characters do not fit a notification, and notifies its sequence alone.
    let mut db = server.db().await;
    diesel::sql_query(
        "WITH source AS (
             SELECT tenant_id, kind, jsonb_set(event, '{payload,previous_entity_id}',
                    to_jsonb(repeat('x', 9000))) AS event
               FROM event_log WHERE kind = 'entity' ORDER BY seq DESC LIMIT 1
         ), logged AS (
             INSERT INTO event_log (event_id, tenant_id, kind, node_id, event)
             SELECT gen_random_uuid(), tenant_id, kind, gen_random_uuid(), event FROM source
             RETURNING seq, node_id
         )
         SELECT pg_notify('loregraph_events',
                          json_build_object('node', node_id, 'seq', seq)::text)::text
           FROM logged",
    )
    .execute(&mut db)
    .await
    .expect("log and notify a large event");

    let large = next_data(&mut socket, "entityUpdated").await;
    assert_eq!(large["entityId"], "ada");
    assert_eq!(large["previousEntityId"].as_str().map(str::len), Some(9000));
    nothing_repeated(&mut socket, &server, &owner, "end").await;
}
