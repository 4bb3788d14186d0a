//! Presets as a studio tunes them: every agent's built-in prompt always there, its own texts
//! added where it wants them, built-ins moved or switched off but never rewritten or deleted,
//! required entries on, and the preview of the exact messages an agent would receive.

use serde_json::{Value, json};

use crate::harness::*;

const CREATE: &str = "mutation($name: String!, $agents: [AgentSettingsInput!]) {
    createPreset(displayName: $name, agents: $agents) { id
        agents { agent temperature maxTokens historyLimit } } }";
const NARRATOR: &str = "query($id: ID!) { preset(id: $id) { agent(agent: NARRATOR) {
    modules { moduleId title messageRole order builtIn }
    entries { entryId kind moduleId enabled order required contextKey } } } }";
const PREVIEW: &str = "query($id: ID!, $mode: PreviewMode!, $context: JSON) {
    presetPreview(presetId: $id, agent: NARRATOR, mode: $mode, context: $context) {
        messages { role content } unresolvedContextKeys } }";
const ADD_ENTRY: &str = "mutation($id: ID!, $input: PresetEntryInput!) {
    createPresetEntry(presetId: $id, agent: NARRATOR, input: $input) { version } }";
const UPDATE_ENTRY: &str = "mutation($id: ID!, $entry: String!, $input: PresetEntryUpdate!) {
    updatePresetEntry(presetId: $id, agent: NARRATOR, entryId: $entry, input: $input) { version } }";
const DELETE_ENTRY: &str = "mutation($id: ID!, $entry: String!) {
    deletePresetEntry(presetId: $id, agent: NARRATOR, entryId: $entry) { version } }";
const ADD_MODULE: &str = "mutation($id: ID!, $input: PresetModuleInput!) {
    createPresetModule(presetId: $id, agent: NARRATOR, input: $input) { version } }";

async fn preview(
    server: &TestServer,
    account: &Account,
    id: &str,
    mode: &str,
    context: Value,
) -> Value {
    server
        .ok_as(
            account,
            PREVIEW,
            json!({ "id": id, "mode": mode, "context": context }),
        )
        .await["presetPreview"]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preset_holds_every_agents_built_in_prompt_and_previews_its_messages() {
    let server = TestServer::start().await;
    let owner = server
        .register("presets@example.com", "Preset Studio")
        .await;
    let preset = server
        .ok_as(
            &owner,
            CREATE,
            json!({ "name": "House style",
            "agents": [{ "agent": "NARRATOR", "temperature": 1.1, "historyLimit": 12 }] }),
        )
        .await["createPreset"]
        .clone();
    let agents = preset["agents"].as_array().unwrap();
    assert_eq!(agents.len(), 7);
    assert_eq!(agents[0]["agent"], "PLANNER");
    assert_eq!(
        agents[4],
        json!({ "agent": "NARRATOR", "temperature": 1.1, "maxTokens": 768, "historyLimit": 12 })
    );
    let id = preset["id"].as_str().unwrap();

    let narrator =
        server.ok_as(&owner, NARRATOR, json!({ "id": id })).await["preset"]["agent"].clone();
    let modules: Vec<&str> = narrator["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["moduleId"].as_str().unwrap())
        .collect();
    assert_eq!(
        modules,
        [
            "role",
            "task",
            "static_context",
            "dynamic_context",
            "output"
        ]
    );
    let entries = narrator["entries"].as_array().unwrap();
    let role = entries
        .iter()
        .find(|e| e["entryId"] == "narrator_role_core")
        .unwrap();
    assert_eq!(role["required"], true);
    assert!(
        entries
            .iter()
            .any(|e| e["entryId"] == "narrator_scene" && e["kind"] == "BUILT_IN_CONTEXT_REF")
    );

    let template = preview(&server, &owner, id, "TEMPLATE", Value::Null).await;
    assert_eq!(template["messages"][0]["role"], "SYSTEM");
    assert!(
        template["messages"][0]["content"]
            .as_str()
            .unwrap()
            .starts_with("Role:\nYou are the narrator")
    );
    assert!(
        template["messages"][1]["content"]
            .as_str()
            .unwrap()
            .contains("Story:\n[context: introduction]")
    );

    // The studio's own text, in the story module after the built-in there.
    server
        .ok_as(&owner, ADD_ENTRY, json!({ "id": id, "input": { "entryId": "house_rules",
            "displayName": "House rules", "moduleId": "static_context", "text": "Never kill a dog." } }))
        .await;
    let runtime = preview(
        &server,
        &owner,
        id,
        "RUNTIME",
        json!({ "introduction": "Winter is here.", "scene": "The crypt.", "lore": "" }),
    )
    .await;
    let user = runtime["messages"][1]["content"].as_str().unwrap();
    assert!(
        user.starts_with("Story:\nWinter is here.\n\nNever kill a dog.\n\nNow:\nThe crypt."),
        "{user}"
    );
    assert_eq!(
        runtime["unresolvedContextKeys"],
        json!(["shared_history", "beat"])
    );

    // Switched off, a context reference is left out; a required entry stays on; a built-in's
    // text is its own and it cannot be deleted.
    server
        .ok_as(
            &owner,
            UPDATE_ENTRY,
            json!({ "id": id, "entry": "narrator_introduction", "input": { "enabled": false } }),
        )
        .await;
    let runtime = preview(
        &server,
        &owner,
        id,
        "RUNTIME",
        json!({ "introduction": "Winter is here." }),
    )
    .await;
    assert!(
        !runtime["messages"][1]["content"]
            .as_str()
            .unwrap()
            .contains("Winter")
    );
    for (query, variables) in [
        (
            UPDATE_ENTRY,
            json!({ "id": id, "entry": "narrator_role_core", "input": { "enabled": false } }),
        ),
        (
            UPDATE_ENTRY,
            json!({ "id": id, "entry": "narrator_task_core", "input": { "text": "Be brief." } }),
        ),
        (DELETE_ENTRY, json!({ "id": id, "entry": "narrator_scene" })),
        (
            ADD_ENTRY,
            json!({ "id": id, "input": { "displayName": "x", "moduleId": "nowhere", "text": "x" } }),
        ),
        (
            ADD_ENTRY,
            json!({ "id": id, "input": { "displayName": "x", "moduleId": "task", "text": "  " } }),
        ),
        (
            CREATE,
            json!({ "name": "Hot", "agents": [{ "agent": "ACTOR", "temperature": 3.0 }] }),
        ),
    ] {
        server
            .fails_as(&owner, query, variables, "BAD_USER_INPUT")
            .await;
    }
    server
        .fails_as(
            &owner,
            ADD_ENTRY,
            json!({ "id": id, "input": { "entryId": "house_rules",
            "displayName": "Again", "moduleId": "task", "text": "x" } }),
            "CONFLICT",
        )
        .await;

    // A custom module goes into the user message after the built-ins.
    server
        .ok_as(
            &owner,
            ADD_MODULE,
            json!({ "id": id, "input": { "moduleId": "style", "title": "Style guide" } }),
        )
        .await;
    server
        .ok_as(
            &owner,
            ADD_ENTRY,
            json!({ "id": id, "input": { "displayName": "Tone",
            "moduleId": "style", "text": "Grim and terse." } }),
        )
        .await;
    let template = preview(&server, &owner, id, "TEMPLATE", Value::Null).await;
    assert!(
        template["messages"][1]["content"]
            .as_str()
            .unwrap()
            .ends_with("Style guide:\nGrim and terse.")
    );
    server
        .ok_as(
            &owner,
            DELETE_ENTRY,
            json!({ "id": id, "entry": "house_rules" }),
        )
        .await;

    // The tenant's default preset until it goes.
    let set =
        "mutation($preset: ID) { updateStoryConfig(defaultPresetId: $preset) { defaultPresetId } }";
    server.ok_as(&owner, set, json!({ "preset": id })).await;
    server
        .ok_as(
            &owner,
            "mutation($id: ID!) { deletePreset(id: $id) }",
            json!({ "id": id }),
        )
        .await;
    let config = server
        .ok_as(&owner, "{ storyConfig { defaultPresetId } }", json!({}))
        .await;
    assert_eq!(config["storyConfig"]["defaultPresetId"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_player_previews_but_does_not_edit_and_another_tenant_sees_nothing() {
    let server = TestServer::start().await;
    let owner = server.register("tune@example.com", "Tune Studio").await;
    let id = server
        .ok_as(&owner, CREATE, json!({ "name": "Ours" }))
        .await["createPreset"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let player = server
        .invite_member(&owner, "reader@example.com", "PLAYER")
        .await;
    let seen = preview(&server, &player, &id, "TEMPLATE", Value::Null).await;
    assert_eq!(seen["messages"].as_array().unwrap().len(), 2);
    server
        .fails_as(
            &player,
            ADD_MODULE,
            json!({ "id": id, "input": { "title": "Mine" } }),
            "FORBIDDEN",
        )
        .await;
    let outsider = server
        .register("stranger@example.com", "Stranger Studio")
        .await;
    server
        .fails_as(
            &outsider,
            PREVIEW,
            json!({ "id": id, "mode": "TEMPLATE" }),
            "NOT_FOUND",
        )
        .await;
    server
        .fails_as(
            &outsider,
            ADD_MODULE,
            json!({ "id": id, "input": { "title": "Mine" } }),
            "NOT_FOUND",
        )
        .await;
}
