//! API connections as a studio uses them: a key given once, sealed in the database and never
//! shown again (only masked), the models a connection offers, a test call through it with its
//! usage — debited in BrainBits on the studio's provider, free on the studio's own keys — and
//! the walls: private addresses unless the operator allows them, other tenants, lower roles.

use serde_json::{Value, json};

use crate::billing_webhooks::configure_billing;
use crate::harness::*;
use crate::llm::OPENAI_STREAM;
use crate::llm_mock::{MockProvider, Reply};

const CREATE: &str = "mutation($input: CreateApiConnectionInput!) {
    createApiConnection(input: $input) { id displayName provider baseUrl model usesStudioKey
        hasApiKey apiKeyMasked metered version } }";
const UPDATE: &str = "mutation($id: ID!, $input: UpdateApiConnectionInput!, $version: Int) {
    updateApiConnection(id: $id, input: $input, expectedVersion: $version) {
        id model hasApiKey apiKeyMasked version } }";
const GET: &str = "query($id: ID!) { apiConnection(id: $id) { id hasApiKey apiKeyMasked model } }";
const MODELS: &str = "query($id: ID!) { listModels(apiConnectionId: $id) { id displayName } }";
const TEST: &str = "mutation($id: ID!) { testApiConnection(id: $id) {
    text model promptTokens completionTokens finishReason attempts metered charged balance } }";
const DASHBOARD: &str = "{ storyDashboard { counts { apiConnections characters }
    health { status message checkedAt connection { id } } } }";
const CONSUME: &str = "mutation($amount: Int!) {
    consumeBrainbits(amount: $amount, operation: \"other\", provider: \"openai\") { balance } }";

/// Creates an API connection as `account` and returns it.
pub async fn create_connection(server: &TestServer, account: &Account, input: Value) -> Value {
    server
        .ok_as(account, CREATE, json!({ "input": input }))
        .await["createApiConnection"]
        .clone()
}

/// A connection to the scripted provider's OpenAI-compatible API with `key`.
pub fn openai_input(mock_url: &str, key: Option<&str>) -> Value {
    json!({
        "displayName": "Local vLLM",
        "provider": "OPENAI_COMPATIBLE",
        "baseUrl": format!("{mock_url}/v1/"),
        "apiKey": key,
        "model": "story-model",
    })
}

/// The agent roles an API group binds, as its input names them (`{role}Id`).
pub const AGENT_ROLES: [&str; 7] = [
    "planner",
    "architect",
    "director",
    "actor",
    "narrator",
    "keeper",
    "replyer",
];

/// An API group binding each agent role to `connection_of(role)`, made the tenant's default.
pub async fn default_group(
    server: &TestServer,
    account: &Account,
    connection_of: impl Fn(&str) -> Value,
) -> Value {
    let mut roles = json!({});
    for role in AGENT_ROLES {
        roles[format!("{role}Id")] = connection_of(role);
    }
    let group = server
        .ok_as(account, "mutation($input: ApiGroupInput!) { createApiGroup(displayName: \"G\", input: $input) { id } }", json!({ "input": roles }))
        .await["createApiGroup"]["id"]
        .clone();
    server
        .ok_as(account, "mutation($group: ID) { updateStoryConfig(defaultApiGroupId: $group) { defaultApiGroupId } }", json!({ "group": group }))
        .await;
    group
}

/// A server whose connections may reach this machine (the scripted providers).
pub async fn server_reaching_localhost() -> TestServer {
    TestServer::start_with(|c| c.llm.allow_private_networks = true).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_is_sealed_at_rest_shown_only_masked_and_changed_or_removed() {
    let server = server_reaching_localhost().await;
    let owner = server.register("keys@example.com", "Key Studio").await;
    let key = "sk-live-0123456789abcdefXYZ";

    let created = create_connection(
        &server,
        &owner,
        openai_input("https://llm.example", Some(key)),
    )
    .await;
    assert_eq!(created["hasApiKey"], true);
    assert_eq!(created["apiKeyMasked"], "sk-l...fXYZ");
    assert_eq!(
        created["baseUrl"], "https://llm.example/v1",
        "the trailing slash goes"
    );
    assert_eq!(created["usesStudioKey"], false);
    assert_eq!(created["metered"], false);
    assert!(!created.to_string().contains(key));

    // Nothing in the database reads as the key: not the documents, not the sealed secret.
    let mut db = server.db().await;
    let readable = count_rows(
        &mut db,
        &format!(
            "SELECT count(*) AS n FROM story_documents d LEFT JOIN story_secrets s
               ON s.tenant_id = d.tenant_id AND s.document_id = d.id
             WHERE d.body::text LIKE '%{key}%' OR s.masked LIKE '%{key}%'
                OR position(convert_to('{key}', 'UTF8') in s.sealed) > 0"
        ),
    )
    .await;
    assert_eq!(readable, 0);
    assert_eq!(
        count_rows(&mut db, "SELECT count(*) AS n FROM story_secrets").await,
        1
    );

    // A short key is all stars; removing it leaves none.
    let id = created["id"].as_str().unwrap();
    let short = server
        .ok_as(
            &owner,
            UPDATE,
            json!({ "id": id, "input": { "apiKey": "abc123" }, "version": 1 }),
        )
        .await["updateApiConnection"]
        .clone();
    assert_eq!(short["apiKeyMasked"], "******");
    assert_eq!(short["version"], 2);
    let stale = server
        .gql_as(
            &owner,
            UPDATE,
            json!({ "id": id, "input": { "model": "x" }, "version": 1 }),
        )
        .await;
    assert_eq!(error_code(&stale), "CONFLICT");
    let removed = server
        .ok_as(
            &owner,
            UPDATE,
            json!({ "id": id, "input": { "removeApiKey": true } }),
        )
        .await["updateApiConnection"]
        .clone();
    assert_eq!(removed["hasApiKey"], false);
    assert_eq!(removed["apiKeyMasked"], Value::Null);
    assert_eq!(
        count_rows(&mut db, "SELECT count(*) AS n FROM story_secrets").await,
        0
    );

    // A key goes only where it was given for: moving the connection to another host forgets
    // it (else an editor could send it to a server of theirs); a new key may come along.
    let keyed = server
        .ok_as(
            &owner,
            UPDATE,
            json!({ "id": id, "input": { "apiKey": "sk-live-kept-0000" } }),
        )
        .await["updateApiConnection"]
        .clone();
    assert_eq!(keyed["hasApiKey"], true);
    let same_host = server
        .ok_as(
            &owner,
            UPDATE,
            json!({ "id": id, "input": { "model": "other", "baseUrl": "https://llm.example/v2" } }),
        )
        .await["updateApiConnection"]
        .clone();
    assert_eq!(
        same_host["hasApiKey"], true,
        "the same origin keeps its key"
    );
    let moved = server
        .ok_as(
            &owner,
            UPDATE,
            json!({ "id": id, "input": { "baseUrl": "https://attacker.example/v1" } }),
        )
        .await["updateApiConnection"]
        .clone();
    assert_eq!(moved["hasApiKey"], false);
    let rekeyed = server
        .ok_as(&owner, UPDATE, json!({ "id": id, "input": { "baseUrl": "https://llm.example/v1", "apiKey": "sk-live-new-1111" } }))
        .await["updateApiConnection"]
        .clone();
    assert_eq!(rekeyed["apiKeyMasked"], "sk-l...1111");

    // Credentials in the URL, a URL that is not one, no model: refused, naming the field.
    for (input, field) in [
        (
            json!({ "displayName": "x", "baseUrl": "https://user:pw@llm.example", "model": "m" }),
            "baseUrl",
        ),
        (
            json!({ "displayName": "x", "baseUrl": "ftp://llm.example", "model": "m" }),
            "baseUrl",
        ),
        (
            json!({ "displayName": "x", "baseUrl": "https://llm.example", "model": " " }),
            "model",
        ),
        (json!({ "displayName": "x", "model": "m" }), "baseUrl"),
        (
            json!({ "displayName": "x", "model": "m", "useStudioKey": true }),
            "useStudioKey",
        ),
    ] {
        let refused = server
            .gql_as(&owner, CREATE, json!({ "input": input }))
            .await;
        assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{refused}");
        assert_eq!(
            refused["errors"][0]["extensions"]["field"], field,
            "{refused}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_lists_its_models_and_answers_a_test_call_with_its_own_key() {
    let server = server_reaching_localhost().await;
    let owner = server.register("calls@example.com", "Call Studio").await;
    let mock = MockProvider::start(vec![
        Reply::json(200, json!({ "object": "list", "data": [
            { "id": "story-model", "object": "model" }, { "id": "other-model", "object": "model" } ] })),
        Reply::stream("text/event-stream", OPENAI_STREAM, 11),
    ])
    .await;
    let connection = create_connection(
        &server,
        &owner,
        openai_input(&mock.url, Some("sk-own-key-123456")),
    )
    .await;
    let id = connection["id"].as_str().unwrap();

    let models = server.ok_as(&owner, MODELS, json!({ "id": id })).await["listModels"].clone();
    assert_eq!(models[0]["id"], "story-model");
    assert_eq!(models[1]["id"], "other-model");

    let reply = server.ok_as(&owner, TEST, json!({ "id": id })).await["testApiConnection"].clone();
    assert_eq!(reply["text"], "The door creaks — open.");
    assert_eq!(reply["promptTokens"], 21);
    assert_eq!(reply["completionTokens"], 6);
    assert_eq!(reply["finishReason"], "stop");
    assert_eq!(
        reply["metered"], false,
        "the tenant's own key is not metered"
    );
    assert_eq!(reply["charged"], 0);

    // The key was opened for the call, and only there.
    let received = mock.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].path, "/v1/models");
    assert_eq!(received[1].path, "/v1/chat/completions");
    for request in &received {
        assert_eq!(request.headers["authorization"], "Bearer sk-own-key-123456");
    }
    assert_eq!(received[1].body["model"], "story-model");

    // The dashboard remembers how the last call went, without calling again.
    let dashboard = server.ok_as(&owner, DASHBOARD, json!({})).await["storyDashboard"].clone();
    assert_eq!(dashboard["counts"]["apiConnections"], 1);
    assert_eq!(dashboard["health"][0]["status"], "OK");
    assert!(dashboard["health"][0]["checkedAt"].is_string());
    assert_eq!(mock.received().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_on_the_studios_provider_are_debited_and_refused_when_nothing_is_left() {
    let mock = MockProvider::start(vec![
        Reply::stream("text/event-stream", OPENAI_STREAM, 64),
        Reply::stream("text/event-stream", OPENAI_STREAM, 64),
    ])
    .await;
    let studio_url = format!("{}/v1", mock.url);
    let server = TestServer::start_with(move |c| {
        configure_billing(c);
        c.llm.studio = Some(loregraph::config::StudioProvider {
            provider: "OPENAI_COMPATIBLE".into(),
            base_url: studio_url,
            api_key: Some("sk-studio-secret".into()),
        });
        c.llm.tokens_per_brainbit = 10;
        c.llm.allow_private_networks = true;
    })
    .await;
    let owner = server
        .register("metered@example.com", "Metered Studio")
        .await;
    let studio = create_connection(
        &server,
        &owner,
        json!({ "displayName": "House model", "model": "story-model", "useStudioKey": true }),
    )
    .await;
    assert_eq!(studio["usesStudioKey"], true);
    assert_eq!(
        studio["baseUrl"],
        Value::Null,
        "the studio's URL is the operator's"
    );
    assert_eq!(studio["hasApiKey"], false);
    assert_eq!(studio["metered"], true);
    let id = studio["id"].as_str().unwrap();

    // 27 tokens at 10 a BrainBit: 3 taken from the free tier's 100.
    let reply = server.ok_as(&owner, TEST, json!({ "id": id })).await["testApiConnection"].clone();
    assert_eq!(reply["metered"], true);
    assert_eq!(reply["charged"], 3);
    assert_eq!(reply["balance"], 97);
    assert_eq!(
        mock.received()[0].headers["authorization"],
        "Bearer sk-studio-secret"
    );
    let mut db = server.db().await;
    assert_eq!(
        count_rows(
            &mut db,
            "SELECT count(*) AS n FROM brainbits_ledger WHERE amount = -3
               AND operation = 'api_connection_test' AND provider = 'openai_compatible'"
        )
        .await,
        1
    );

    // A connection with the tenant's own key on the same provider costs nothing.
    let own = create_connection(
        &server,
        &owner,
        openai_input(&mock.url, Some("sk-own-key-987654")),
    )
    .await;
    let free =
        server.ok_as(&owner, TEST, json!({ "id": own["id"] })).await["testApiConnection"].clone();
    assert_eq!(free["charged"], 0);
    assert_eq!(free["balance"], 97);

    // With nothing left, the call is refused before it reaches the provider.
    server.ok_as(&owner, CONSUME, json!({ "amount": 97 })).await;
    let refused = server.gql_as(&owner, TEST, json!({ "id": id })).await;
    assert_eq!(error_code(&refused), "FORBIDDEN");
    assert_eq!(
        refused["errors"][0]["extensions"]["reason"],
        "insufficient_brainbits"
    );
    assert_eq!(mock.received().len(), 2, "no third call went out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_reach_no_private_address_unless_allowed_and_stay_in_their_tenant() {
    let server = TestServer::start().await;
    let owner = server.register("walls@example.com", "Wall Studio").await;
    let mock = MockProvider::start(vec![]).await;
    let connection = create_connection(
        &server,
        &owner,
        openai_input(&mock.url, Some("sk-wall-key-0000")),
    )
    .await;
    let id = connection["id"].as_str().unwrap();

    // 127.0.0.1 is this machine: never called by default.
    let refused = server.gql_as(&owner, MODELS, json!({ "id": id })).await;
    assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{refused}");
    assert!(mock.received().is_empty());
    let health =
        server.ok_as(&owner, DASHBOARD, json!({})).await["storyDashboard"]["health"].clone();
    assert_eq!(health[0]["status"], "FAILING");
    assert!(
        health[0]["message"]
            .as_str()
            .unwrap()
            .contains("private network")
    );

    // Another tenant sees nothing, changes nothing, calls nothing.
    let outsider = server
        .register("outsider@example.com", "Other Studio")
        .await;
    let seen = server.ok_as(&outsider, GET, json!({ "id": id })).await;
    assert_eq!(seen["apiConnection"], Value::Null);
    for (query, variables) in [
        (UPDATE, json!({ "id": id, "input": { "model": "stolen" } })),
        (TEST, json!({ "id": id })),
        (MODELS, json!({ "id": id })),
        (
            "mutation($id: ID!) { deleteApiConnection(id: $id) }",
            json!({ "id": id }),
        ),
    ] {
        server
            .fails_as(&outsider, query, variables, "NOT_FOUND")
            .await;
    }

    // A PLAYER of the tenant neither reads nor writes connections.
    let player = server
        .invite_member(&owner, "player@example.com", "PLAYER")
        .await;
    server
        .fails_as(&player, GET, json!({ "id": id }), "FORBIDDEN")
        .await;
    server
        .fails_as(
            &player,
            CREATE,
            json!({ "input": openai_input("https://llm.example", None) }),
            "FORBIDDEN",
        )
        .await;
    server
        .fails_as(&player, TEST, json!({ "id": id }), "FORBIDDEN")
        .await;
    let seen = server.ok_as(&player, DASHBOARD, json!({})).await["storyDashboard"].clone();
    assert_eq!(seen["counts"]["apiConnections"], 1);
    assert_eq!(
        seen["health"],
        json!([]),
        "connections are for WORLDBUILDERs"
    );
    let still = server.ok_as(&owner, GET, json!({ "id": id })).await["apiConnection"].clone();
    assert_eq!(still["model"], "story-model");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_planner_outlines_a_resource_through_the_groups_connection_and_the_presets_prompt() {
    let server = server_reaching_localhost().await;
    let studio = server
        .register("planner@example.com", "Planner Studio")
        .await;
    let mock =
        MockProvider::start(vec![Reply::stream("text/event-stream", OPENAI_STREAM, 16)]).await;
    let connection = create_connection(
        &server,
        &studio,
        openai_input(&mock.url, Some("sk-plan-0000")),
    )
    .await;
    let mut roles = json!({});
    for role in AGENT_ROLES {
        roles[format!("{role}Id")] = connection["id"].clone();
    }
    let plan = "mutation($resource: ID!, $group: ID) {
        generateStoryPlan(resourceId: $resource, apiGroupId: $group) {
            outline promptTokens completionTokens charged } }";
    let group = server
        .ok_as(&studio, "mutation($input: ApiGroupInput!) { createApiGroup(displayName: \"G\", input: $input) { id } }", json!({ "input": roles }))
        .await["createApiGroup"]["id"]
        .clone();
    let arya = server
        .ok_as(&studio, "mutation { createCharacterCard(input: { name: \"Arya\", personality: \"Wry.\" }) { id } }", json!({}))
        .await["createCharacterCard"]["id"]
        .clone();
    let book = server
        .ok_as(&studio, "mutation { createLorebook(displayName: \"North\", entries: [{ title: \"The Wall\", content: \"Ice   and\\n night.\" }]) { id } }", json!({}))
        .await["createLorebook"]["id"]
        .clone();
    let resource = server
        .ok_as(&studio, "mutation($input: StoryResourceInput!) { createStoryResource(input: $input) { id } }",
            json!({ "input": { "storyConcept": "A girl crosses the North.", "characterIds": [arya], "lorebookIds": [book] } }))
        .await["createStoryResource"]["id"]
        .clone();

    // No group named and no default: the caller is told what to give.
    let refused = server
        .gql_as(&studio, plan, json!({ "resource": resource }))
        .await;
    assert_eq!(error_code(&refused), "BAD_USER_INPUT");
    assert_eq!(refused["errors"][0]["extensions"]["field"], "apiGroupId");
    assert!(mock.received().is_empty());

    let outlined = server
        .ok_as(
            &studio,
            plan,
            json!({ "resource": resource, "group": group }),
        )
        .await["generateStoryPlan"]
        .clone();
    assert_eq!(outlined["outline"], "The door creaks — open.");
    assert_eq!(outlined["promptTokens"], 21);
    assert_eq!(outlined["charged"], 0);
    let sent = &mock.received()[0].body;
    let messages = sent["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2, "one system and one user message");
    assert!(
        messages[0]["content"]
            .as_str()
            .unwrap()
            .starts_with("Role:\nYou are the planner")
    );
    let user = messages[1]["content"].as_str().unwrap();
    assert!(user.contains("A girl crosses the North."), "{user}");
    assert!(user.contains("- Arya: Wry."), "{user}");
    assert!(
        user.contains("The Wall: Ice and night."),
        "lore, whitespace folded: {user}"
    );
    assert_eq!(sent["temperature"], 0.8, "the planner's preset temperature");

    // Another tenant's resource is not found; a PLAYER plans nothing.
    let outsider = server
        .register("planner-outsider@example.com", "Elsewhere")
        .await;
    server
        .fails_as(
            &outsider,
            plan,
            json!({ "resource": resource, "group": group }),
            "NOT_FOUND",
        )
        .await;
    let player = server
        .invite_member(&studio, "planner-player@example.com", "PLAYER")
        .await;
    server
        .fails_as(
            &player,
            plan,
            json!({ "resource": resource, "group": group }),
            "FORBIDDEN",
        )
        .await;
}

/// An OpenAI-compatible stream whose answer is `text`, in one piece, with its usage.
pub fn openai_answer(text: &str) -> String {
    let chunk = json!({ "id": "c2", "object": "chat.completion.chunk",
        "choices": [{ "index": 0, "delta": { "content": text }, "finish_reason": null }] });
    let end = json!({ "id": "c2", "object": "chat.completion.chunk",
        "choices": [{ "index": 0, "delta": {}, "finish_reason": "stop" }] });
    let usage = json!({ "id": "c2", "object": "chat.completion.chunk", "choices": [],
        "usage": { "prompt_tokens": 40, "completion_tokens": 12, "total_tokens": 52 } });
    format!("data: {chunk}\n\ndata: {end}\n\ndata: {usage}\n\ndata: [DONE]\n\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_replyer_suggests_two_to_five_distinct_replies_from_the_scene_and_transcript() {
    let server = server_reaching_localhost().await;
    let studio = server.register("replies@example.com", "Reply Studio").await;
    let answer = r#"{"suggestions": ["Knock again.", "knock again.", "Leave.", "Shout."]}"#;
    let mock = MockProvider::start(vec![Reply::stream(
        "text/event-stream",
        &openai_answer(answer),
        32,
    )])
    .await;
    let connection = create_connection(&server, &studio, openai_input(&mock.url, None)).await;
    default_group(&server, &studio, |_| connection["id"].clone()).await;
    let arya = server
        .ok_as(
            &studio,
            "mutation { createCharacterCard(input: { name: \"Arya\" }) { id } }",
            json!({}),
        )
        .await["createCharacterCard"]["id"]
        .clone();
    let resource = server
        .ok_as(
            &studio,
            "mutation($input: StoryResourceInput!) { createStoryResource(input: $input) { id } }",
            json!({ "input": { "storyConcept": "A gate at night.", "characterIds": [arya] } }),
        )
        .await["createStoryResource"]["id"]
        .clone();
    let story = server
        .ok_as(&studio, "mutation($input: CreateStoryInput!) { createStory(displayName: \"Gate\", input: $input) { id } }",
            json!({ "input": { "resourceId": resource, "graph": { "startNode": "gate",
                "nodes": [{ "id": "gate", "title": "The gate", "scene": "Snow falls on a shut gate." }] } } }))
        .await["createStory"]["id"]
        .clone();
    let player = server
        .invite_member(&studio, "replies-player@example.com", "PLAYER")
        .await;
    let session = server
        .ok_as(
            &player,
            "mutation($story: ID!) { startStorySession(storyId: $story) { id } }",
            json!({ "story": story }),
        )
        .await["startStorySession"]["id"]
        .clone();
    server
        .ok_as(&player, "mutation($id: ID!) { createSessionMessage(sessionId: $id, input: { kind: PLAYER_INPUT, speakerName: \"Bran\", text: \"I knock.\" }) { sequence } }", json!({ "id": session }))
        .await;

    let suggest = "mutation($id: ID!, $limit: Int) { suggestReplies(sessionId: $id, limit: $limit) { suggestions charged } }";
    server
        .fails_as(
            &player,
            suggest,
            json!({ "id": session, "limit": 6 }),
            "BAD_USER_INPUT",
        )
        .await;
    let other = server
        .invite_member(&studio, "replies-other@example.com", "PLAYER")
        .await;
    server
        .fails_as(&other, suggest, json!({ "id": session }), "FORBIDDEN")
        .await;
    let outsider = server
        .register("replies-outsider@example.com", "Elsewhere")
        .await;
    server
        .fails_as(&outsider, suggest, json!({ "id": session }), "NOT_FOUND")
        .await;
    let theirs = server.ok_as(&outsider, DASHBOARD, json!({})).await["storyDashboard"].clone();
    assert_eq!(
        theirs["counts"]["apiConnections"], 0,
        "a dashboard counts its own tenant only"
    );
    assert!(mock.received().is_empty(), "refusals call nothing");

    let got = server
        .ok_as(&player, suggest, json!({ "id": session }))
        .await["suggestReplies"]
        .clone();
    assert_eq!(
        got["suggestions"],
        json!(["Knock again.", "Leave.", "Shout."])
    );
    let sent = &mock.received()[0].body;
    assert_eq!(sent["response_format"]["type"], "json_object");
    let user = sent["messages"][1]["content"].as_str().unwrap();
    assert!(user.contains("Snow falls on a shut gate."), "{user}");
    assert!(user.contains("Bran: I knock."), "{user}");
    assert!(user.contains("Suggest exactly 3 replies."), "{user}");
}
