//! A person's own settings and AI keys: a document of known keys, changed a key at a time and
//! refused whole when one is wrong; provider keys sealed at rest, shown by their last four
//! characters only, and used for the calls their owner makes through a connection without a
//! key of its own (not metered) — and nobody else's settings or keys in reach.

use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

use crate::harness::*;
use crate::llm::OPENAI_STREAM;
use crate::llm_mock::{MockProvider, Reply};
use crate::story_connections::{create_connection, openai_input, server_reaching_localhost};

const SETTINGS: &str = "{ userSettings { theme locale timezone defaultAiProvider editorFontSize
    reduceMotion updatedAt } }";
const UPDATE: &str = "mutation($input: UserSettingsInput!) { updateUserSettings(input: $input) {
    theme locale timezone defaultAiProvider editorFontSize reduceMotion } }";
const SET_KEY: &str = "mutation($provider: LlmProvider!, $key: String!, $url: String) {
    setProviderKey(provider: $provider, key: $key, baseUrl: $url) { provider lastFour origin } }";
const KEYS: &str = "{ providerKeys { provider lastFour } }";
const TEST_CALL: &str =
    "mutation($id: ID!) { testApiConnection(id: $id) { text metered charged } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_change_a_key_at_a_time_and_refuse_what_is_not_a_setting() {
    let server = TestServer::start().await;
    let me = server.register("me@settings.test", "Mine").await;
    let other = server.register("other@settings.test", "Theirs").await;

    let fresh = server.ok_as(&me, SETTINGS, json!({})).await["userSettings"].clone();
    assert_eq!(fresh["theme"], Value::Null);
    assert_eq!(fresh["updatedAt"], Value::Null);

    let changed = server
        .ok_as(
            &me,
            UPDATE,
            json!({ "input": { "theme": "DARK", "locale": "en-GB", "timezone": "Europe/Paris",
                "defaultAiProvider": "ANTHROPIC", "editorFontSize": 14 } }),
        )
        .await["updateUserSettings"]
        .clone();
    assert_eq!(
        changed,
        json!({ "theme": "DARK", "locale": "en-GB", "timezone": "Europe/Paris",
            "defaultAiProvider": "ANTHROPIC", "editorFontSize": 14, "reduceMotion": null })
    );

    // Absent stays; null goes back to the default.
    let changed = server
        .ok_as(
            &me,
            UPDATE,
            json!({ "input": { "locale": null, "reduceMotion": true } }),
        )
        .await["updateUserSettings"]
        .clone();
    assert_eq!(changed["theme"], "DARK");
    assert_eq!(changed["locale"], Value::Null);
    assert_eq!(changed["reduceMotion"], true);

    // One wrong value refuses the whole change.
    for input in [
        json!({ "locale": "English", "theme": "LIGHT" }),
        json!({ "timezone": "Europe/../etc", "theme": "LIGHT" }),
        json!({ "editorFontSize": 100, "theme": "LIGHT" }),
    ] {
        server
            .fails_as(&me, UPDATE, json!({ "input": input }), "BAD_USER_INPUT")
            .await;
    }
    let kept = server.ok_as(&me, SETTINGS, json!({})).await["userSettings"].clone();
    assert_eq!(kept["theme"], "DARK");
    assert!(kept["updatedAt"].is_string());

    // Each person sees their own.
    let theirs = server.ok_as(&other, SETTINGS, json!({})).await["userSettings"].clone();
    assert_eq!(theirs["theme"], Value::Null);
    let body = server.gql(None, SETTINGS, json!({})).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_key_is_sealed_shown_by_its_last_four_and_pays_for_its_owners_calls() {
    let server = server_reaching_localhost().await;
    let owner = server.register("owner@byok.test", "BYOK").await;
    let writer = server
        .invite_member(&owner, "writer@byok.test", "WORLDBUILDER")
        .await;
    let mock = MockProvider::start(vec![
        Reply::stream("text/event-stream", OPENAI_STREAM, 11),
        Reply::stream("text/event-stream", OPENAI_STREAM, 11),
        Reply::stream("text/event-stream", OPENAI_STREAM, 11),
    ])
    .await;
    // A connection without a key of its own.
    let connection = create_connection(&server, &owner, openai_input(&mock.url, None)).await;
    let id = connection["id"].as_str().expect("id").to_owned();

    server
        .fails_as(
            &writer,
            SET_KEY,
            json!({ "provider": "OPENAI_COMPATIBLE", "key": "short" }),
            "BAD_USER_INPUT",
        )
        .await;
    // A key goes only where its owner said: plain http elsewhere is refused.
    server
        .fails_as(
            &writer,
            SET_KEY,
            json!({ "provider": "OPENAI_COMPATIBLE", "key": "sk-long-enough-key",
                "url": "http://evil.example/v1" }),
            "BAD_USER_INPUT",
        )
        .await;
    let secret = "sk-writers-own-key-7xq9";
    let set = server
        .ok_as(
            &writer,
            SET_KEY,
            json!({ "provider": "OPENAI_COMPATIBLE", "key": secret }),
        )
        .await;
    assert_eq!(
        set["setProviderKey"],
        json!({ "provider": "OPENAI_COMPATIBLE", "lastFour": "7xq9",
            "origin": "https://api.openai.com" })
    );
    // Kept for OpenAI's own address, it is not sent to the connection's other server.
    server.ok_as(&writer, TEST_CALL, json!({ "id": id })).await;
    assert!(mock.received()[0].headers.get("authorization").is_none());
    let set = server
        .ok_as(
            &writer,
            SET_KEY,
            json!({ "provider": "OPENAI_COMPATIBLE", "key": secret, "url": mock.url }),
        )
        .await;
    assert_eq!(
        set["setProviderKey"]["origin"],
        mock.url.trim_end_matches('/')
    );
    assert_eq!(
        server.ok_as(&writer, KEYS, json!({})).await["providerKeys"][0]["lastFour"],
        "7xq9"
    );
    assert_eq!(
        server.ok_as(&owner, KEYS, json!({})).await["providerKeys"],
        json!([])
    );

    // At rest the key is not there to read.
    let mut db = server.db().await;
    #[derive(diesel::QueryableByName)]
    struct Stored {
        #[diesel(sql_type = diesel::sql_types::Bytea)]
        sealed_key: Vec<u8>,
        #[diesel(sql_type = diesel::sql_types::Text)]
        last_four: String,
    }
    let stored: Vec<Stored> =
        diesel::sql_query("SELECT sealed_key, last_four FROM user_provider_keys")
            .load(&mut db)
            .await
            .expect("read the keys");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].last_four, "7xq9");
    let sealed = &stored[0].sealed_key;
    assert!(
        !sealed
            .windows(secret.len())
            .any(|window| window == secret.as_bytes()),
        "the key is readable in the database"
    );

    // The writer's call goes out with the writer's key, unmetered; the owner's with none.
    let reply =
        server.ok_as(&writer, TEST_CALL, json!({ "id": id })).await["testApiConnection"].clone();
    assert_eq!(reply["metered"], false);
    assert_eq!(reply["charged"], 0);
    server.ok_as(&owner, TEST_CALL, json!({ "id": id })).await;
    let received = mock.received();
    assert_eq!(received.len(), 3);
    assert_eq!(
        received[1].headers["authorization"],
        format!("Bearer {secret}")
    );
    assert!(received[2].headers.get("authorization").is_none());

    // Forgotten, it is used no more.
    let deleted = server
        .ok_as(
            &writer,
            "mutation { deleteProviderKey(provider: OPENAI_COMPATIBLE) }",
            json!({}),
        )
        .await;
    assert_eq!(deleted["deleteProviderKey"], true);
    assert_eq!(
        server.ok_as(&writer, KEYS, json!({})).await["providerKeys"],
        json!([])
    );
}
