//! Drafting a story as a studio does it: a resource with its planned outline, the architect
//! drafting it section by section (its first answer malformed and repaired), progress heard
//! live, the draft finalized into a playable story (twice, one story), the whole loop in one
//! call, a draft deleted with the schemas it made, and the walls between roles and tenants.

use serde_json::{Value, json};

use crate::harness::*;
use crate::llm_mock::{MockProvider, Reply};
use crate::story_connections::{
    create_connection, default_group, openai_answer, openai_input, server_reaching_localhost,
};

const DRAFT_FIELDS: &str = "id version status sectionsDone sections worldSchemaId
    generatedSchemaIds introduction storyId graph { startNode nodes { id characters transitions { to } } }";
const PROGRESS: &str = "subscription { storyDraftProgress { step sectionsDone sections } }";
const SCHEMAS: &str = "{ stateSchemas(first: 50) { nodes { id displayName } } }";

fn answer(value: Value) -> Reply {
    Reply::stream("text/event-stream", &openai_answer(&value.to_string()), 64)
}

fn opening() -> Value {
    json!({ "start_node": "gate", "introduction": "Night in the North.",
        "nodes": [{ "id": "gate", "title": "The gate", "scene": "Snow.", "characters": ["Arya"] }],
        "world_schema": { "fields": [{ "key": "day", "value_type": "int", "default": 1 }] },
        "section_summary": "At the gate." })
}

struct Studio {
    server: TestServer,
    owner: Account,
    architect: MockProvider,
    resource: Value,
}

/// A studio whose architect answers `script`, and a resource planned as `plan`.
async fn studio(email: &str, script: Vec<Reply>, plan: &str) -> Studio {
    let server = server_reaching_localhost().await;
    let owner = server.register(email, "Draft Studio").await;
    let architect = MockProvider::start(script).await;
    let connection = create_connection(&server, &owner, openai_input(&architect.url, None)).await;
    default_group(&server, &owner, |_| connection["id"].clone()).await;
    let arya = server
        .ok_as(
            &owner,
            "mutation { createCharacterCard(input: { name: \"Arya\" }) { id } }",
            json!({}),
        )
        .await["createCharacterCard"]["id"]
        .clone();
    let resource = server
        .ok_as(&owner, "mutation($input: StoryResourceInput!) { createStoryResource(displayName: \"Gate\", input: $input) { id } }",
            json!({ "input": { "storyConcept": "A gate at night.", "characterIds": [arya], "plannedStory": plan } }))
        .await["createStoryResource"]["id"]
        .clone();
    Studio {
        server,
        owner,
        architect,
        resource,
    }
}

async fn schema_count(s: &Studio) -> usize {
    s.server.ok_as(&s.owner, SCHEMAS, json!({})).await["stateSchemas"]["nodes"]
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_story_is_drafted_section_by_section_repaired_once_and_finalized_once() {
    let s = studio(
        "drafts@example.com",
        vec![
            Reply::stream("text/event-stream", &openai_answer("Here is my idea: a gate."), 64),
            answer(opening()),
            answer(json!({ "nodes": [{ "id": "hall", "title": "The hall" }],
                "transition_patches": [{ "node_id": "gate", "add_transitions": [
                    { "to": "hall", "condition": { "key": "day", "op": "gte", "value": 2 } }] }],
                "section_summary": "Into the hall." })),
            answer(json!({ "nodes": [{ "id": "crypt", "title": "The crypt" }],
                "transition_patches": [{ "node_id": "hall", "add_transitions": [{ "to": "crypt" }] }] })),
        ],
        "Opening Situation: Snow at the gate.\n\nSuggested Beats:\n- The hall.\n- The crypt.",
    )
    .await;
    let (server, owner) = (&s.server, &s.owner);
    let mut progress = subscribe_as(server, owner, PROGRESS, json!({})).await;

    let start = format!(
        "mutation($resource: ID!) {{ startStoryDraft(resourceId: $resource) {{ {DRAFT_FIELDS} }} }}"
    );
    let draft = server
        .ok_as(owner, &start, json!({ "resource": s.resource }))
        .await["startStoryDraft"]
        .clone();
    assert_eq!(draft["status"], "BUILDING");
    assert_eq!(draft["sections"].as_array().unwrap().len(), 3);
    assert_eq!(draft["sectionsDone"], 1);
    assert_eq!(draft["introduction"], "Night in the North.");
    assert_eq!(draft["graph"]["startNode"], "gate");
    let arya_id = draft["graph"]["nodes"][0]["characters"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(
        arya_id, "Arya",
        "a name the architect wrote becomes the card's id"
    );
    assert_eq!(
        draft["generatedSchemaIds"],
        json!([draft["worldSchemaId"].clone()])
    );
    let sent = s.architect.received();
    assert_eq!(sent.len(), 2, "one repair call");
    assert_eq!(sent[0].body["temperature"], 0.0);
    let repair = sent[1].body["messages"].as_array().unwrap();
    assert_eq!(repair[2]["content"], "Here is my idea: a gate.");
    assert!(
        repair[3]["content"]
            .as_str()
            .unwrap()
            .contains("could not be used")
    );

    let id = draft["id"].clone();
    let finalize = "mutation($id: ID!) { finalizeStoryDraft(id: $id) { id graphVersion graph { nodes { id } } } }";
    server
        .fails_as(owner, finalize, json!({ "id": id }), "CONFLICT")
        .await;
    let next = format!("mutation($id: ID!) {{ continueStoryDraft(id: $id) {{ {DRAFT_FIELDS} }} }}");
    let second =
        server.ok_as(owner, &next, json!({ "id": id })).await["continueStoryDraft"].clone();
    assert_eq!(second["sectionsDone"], 2);
    assert_eq!(
        second["graph"]["nodes"][0]["transitions"],
        json!([{ "to": "hall" }])
    );
    let third = server.ok_as(owner, &next, json!({ "id": id })).await["continueStoryDraft"].clone();
    assert_eq!(third["status"], "READY_TO_FINALIZE");
    server
        .fails_as(owner, &next, json!({ "id": id }), "CONFLICT")
        .await;

    let story =
        server.ok_as(owner, finalize, json!({ "id": id })).await["finalizeStoryDraft"].clone();
    let nodes: Vec<&str> = story["graph"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert_eq!(nodes, ["gate", "hall", "crypt"]);
    let again =
        server.ok_as(owner, finalize, json!({ "id": id })).await["finalizeStoryDraft"].clone();
    assert_eq!(again["id"], story["id"], "finalizing twice makes one story");

    let steps: Vec<Value> = {
        let mut steps = Vec::new();
        for _ in 0..4 {
            steps.push(next_data(&mut progress, "storyDraftProgress").await);
        }
        steps
    };
    let names: Vec<&str> = steps.iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(names, ["STARTED", "SECTION", "SECTION", "FINALIZED"]);
    assert_eq!(steps[2]["sectionsDone"], 3);

    // The story plays: a session starts at the drafted start node.
    let session = server
        .ok_as(owner, "mutation($story: ID!) { startStorySession(storyId: $story) { state { currentNode world } } }", json!({ "story": story["id"] }))
        .await["startStorySession"]
        .clone();
    assert_eq!(
        session["state"],
        json!({ "currentNode": "gate", "world": { "day": 1 } })
    );

    // Another tenant reaches none of the draft's steps.
    let outsider = server
        .register("drafts-outsider@example.com", "Elsewhere")
        .await;
    let graph = json!({ "startNode": "gate", "nodes": [{ "id": "gate", "title": "Gate" }] });
    for (query, variables) in [
        (next.as_str(), json!({ "id": id })),
        (finalize, json!({ "id": id })),
        (
            "mutation($id: ID!) { deleteStoryDraft(id: $id) }",
            json!({ "id": id }),
        ),
        (
            "mutation($id: ID!, $graph: StoryGraphInput!) { updateDraftGraph(id: $id, graph: $graph) { id } }",
            json!({ "id": id, "graph": graph }),
        ),
    ] {
        server
            .fails_as(&outsider, query, variables, "NOT_FOUND")
            .await;
    }

    // Deleting the finalized draft keeps the schema its story uses.
    let before = schema_count(&s).await;
    server
        .ok_as(
            owner,
            "mutation($id: ID!) { deleteStoryDraft(id: $id) }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(schema_count(&s).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_loop_runs_in_one_call_and_a_discarded_draft_takes_its_schemas() {
    let s = studio(
        "generate@example.com",
        vec![answer(opening())],
        "Snow at the gate.",
    )
    .await;
    let (server, owner) = (&s.server, &s.owner);
    let generate = "mutation($resource: ID!) { generateStory(resourceId: $resource) { id introduction graph { startNode } } }";
    let story = server
        .ok_as(owner, generate, json!({ "resource": s.resource }))
        .await["generateStory"]
        .clone();
    assert_eq!(story["graph"]["startNode"], "gate");
    assert_eq!(story["introduction"], "Night in the North.");

    let before = schema_count(&s).await;
    let start = "mutation($resource: ID!) { startStoryDraft(resourceId: $resource) { id status } }";
    let draft = server
        .ok_as(owner, start, json!({ "resource": s.resource }))
        .await["startStoryDraft"]
        .clone();
    assert_eq!(
        draft["status"], "READY_TO_FINALIZE",
        "a one-section plan is drafted at once"
    );
    assert_eq!(schema_count(&s).await, before + 1);
    let graph = json!({ "startNode": "gate", "nodes": [{ "id": "gate", "title": "Gate" }, { "id": "moat", "title": "Moat", "characters": ["nobody"] }] });
    server
        .fails_as(owner, "mutation($id: ID!, $graph: StoryGraphInput!) { updateDraftGraph(id: $id, graph: $graph) { id } }", json!({ "id": draft["id"], "graph": graph }), "BAD_USER_INPUT")
        .await;
    server
        .ok_as(
            owner,
            "mutation($id: ID!) { deleteStoryDraft(id: $id) }",
            json!({ "id": draft["id"] }),
        )
        .await;
    assert_eq!(
        schema_count(&s).await,
        before,
        "the draft's own schema went with it"
    );

    // A PLAYER drafts nothing; another tenant finds nothing; the architect was not called.
    let calls = s.architect.received().len();
    let player = server
        .invite_member(owner, "generate-player@example.com", "PLAYER")
        .await;
    server
        .fails_as(
            &player,
            start,
            json!({ "resource": s.resource }),
            "FORBIDDEN",
        )
        .await;
    let outsider = server
        .register("generate-outsider@example.com", "Elsewhere")
        .await;
    server
        .fails_as(
            &outsider,
            start,
            json!({ "resource": s.resource }),
            "NOT_FOUND",
        )
        .await;
    let theirs = server
        .ok_as(
            &outsider,
            "query($id: ID!) { storyDraft(id: $id) { id } }",
            json!({ "id": draft["id"] }),
        )
        .await;
    assert_eq!(theirs["storyDraft"], Value::Null);
    assert_eq!(s.architect.received().len(), calls);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_malformed_twice_is_a_clear_error_and_leaves_nothing() {
    let s = studio(
        "malformed@example.com",
        vec![Reply::stream(
            "text/event-stream",
            &openai_answer("{\"nodes\": \"no\"}"),
            64,
        )],
        "Snow at the gate.",
    )
    .await;
    let before = schema_count(&s).await;
    let (status, body) = s
        .server
        .post(
            Some(&s.owner.token),
            "mutation($resource: ID!) { startStoryDraft(resourceId: $resource) { id } }",
            json!({ "resource": s.resource }),
        )
        .await;
    assert_eq!(status, 200);
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("even repaired"), "{message}");
    assert_eq!(s.architect.received().len(), 2);
    assert_eq!(schema_count(&s).await, before);
    let drafts = s
        .server
        .ok_as(&s.owner, "{ storyDrafts { nodes { id } } }", json!({}))
        .await;
    assert_eq!(drafts["storyDrafts"]["nodes"], json!([]));
}
