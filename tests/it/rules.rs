//! Rules: the template package's rule sets are in force for every tenant; a studio adds its
//! own checked rules, changes the package's in its own copy, switches rules off, and has its
//! entities judged — machine-checkable rules passed or failed with what they found, prose ones
//! left for review. Players only read; other tenants see none of it.

use serde_json::{Value, json};

use crate::entities::create_entity;
use crate::harness::*;

pub(crate) const NAMING: &str = "---
rule_id: naming
name: Naming
applies_to: [location]
rules:
  - id: loc_ids
    rule: Location ids are lower snake case
    validation_type: error
    field: id
    pattern: '[a-z][a-z0-9_]*'
";

pub(crate) const VALIDATE: &str = "query($type: EntityType!, $id: String!) {
    validateAgainstRules(type: $type, entityId: $id) {
        entityId valid errors warnings needsReview
        verdicts { outcome severity messages rule { id ruleSetId } } } }";

const SET_FIELDS: &str =
    "id origin revision enabled source rules { id severity checkable enabled }";

/// Each rule's outcome and messages, by rule id.
pub(crate) async fn verdicts(
    server: &TestServer,
    account: &Account,
    entity_type: &str,
    id: &str,
) -> (Value, Vec<(String, String, Vec<String>)>) {
    let data = server
        .ok_as(account, VALIDATE, json!({ "type": entity_type, "id": id }))
        .await;
    let validation = data["validateAgainstRules"].clone();
    let list = validation["verdicts"]
        .as_array()
        .expect("verdicts")
        .iter()
        .map(|v| {
            (
                v["rule"]["id"].as_str().unwrap_or_default().to_owned(),
                v["outcome"].as_str().unwrap_or_default().to_owned(),
                v["messages"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|m| m.as_str().map(str::to_owned))
                    .collect(),
            )
        })
        .collect();
    (validation, list)
}

pub(crate) fn outcome<'a>(
    list: &'a [(String, String, Vec<String>)],
    rule: &str,
) -> Option<(&'a str, &'a [String])> {
    list.iter()
        .find(|(id, _, _)| id == rule)
        .map(|(_, outcome, messages)| (outcome.as_str(), messages.as_slice()))
}

pub(crate) async fn set_of(server: &TestServer, account: &Account, id: &str) -> Value {
    let query = format!("query($id: String!) {{ ruleSet(id: $id) {{ {SET_FIELDS} }} }}");
    server.ok_as(account, &query, json!({ "id": id })).await["ruleSet"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_studio_judges_its_characters_by_the_package_rules_and_its_own() {
    let server = TestServer::start().await;
    let admin = server.register("admin@canon.test", "Canon").await;
    let writer = server
        .invite_member(&admin, "writer@canon.test", "WORLDBUILDER")
        .await;
    let player = server
        .invite_member(&admin, "player@canon.test", "PLAYER")
        .await;
    let outsider = server.register("admin@rival.test", "Rival").await;

    // The package's sets are in force, with the machine-checkable rules marked.
    let data = server
        .ok_as(&player, "{ rules { id origin rules { id checkable } } rulesIndex { entityType rules checkable ruleSetIds } }", json!({}))
        .await;
    let sets = data["rules"].as_array().expect("sets");
    let dialogue = sets
        .iter()
        .find(|s| s["id"] == "dialogue_flow")
        .expect("dialogue_flow");
    assert_eq!(dialogue["origin"], "PACKAGE");
    assert_eq!(
        dialogue["rules"]
            .as_array()
            .expect("rules")
            .iter()
            .filter(|r| r["checkable"] == true)
            .count(),
        1,
        "only dial_002 (forbidden phrases) is checkable: {dialogue}"
    );
    let character_index = data["rulesIndex"]
        .as_array()
        .expect("index")
        .iter()
        .find(|e| e["entityType"] == "CHARACTER")
        .expect("CHARACTER");
    assert_eq!(
        character_index["ruleSetIds"],
        json!(["assembly_constraints", "dialogue_flow"])
    );

    create_entity(
        &server,
        &writer,
        "CHARACTER",
        "mara",
        "Mara",
        json!({ "age": 300, "personality_traits": ["totally fearless", "cool-headed"] }),
    )
    .await;

    // The studio's own rules for characters: a range and required fields.
    let add = "mutation($input: CreateRuleInput!) { addRule(type: CHARACTER, input: $input) { id origin revision rules { id } } }";
    let set = server
        .ok_as(
            &writer,
            add,
            json!({ "input": { "id": "age_range", "text": "Characters live at most 120 years.",
                "severity": "ERROR", "check": { "field": "age", "min": 0, "max": 120 } } }),
        )
        .await["addRule"]
        .clone();
    assert_eq!(set["id"], "custom_character");
    assert_eq!(set["origin"], "TENANT");
    assert_eq!(set["revision"], 1);
    server
        .ok_as(
            &writer,
            add,
            json!({ "input": { "id": "has_gender", "text": "Every character has a gender.",
                "severity": "WARNING", "check": { "required_fields": ["gender", "age"] } } }),
        )
        .await;
    server
        .fails_as(
            &writer,
            add,
            json!({ "input": { "id": "dial_001", "text": "x", "severity": "INFO" } }),
            "CONFLICT",
        )
        .await;
    server
        .fails_as(
            &writer,
            add,
            json!({ "input": { "id": "bad_check", "text": "x", "severity": "INFO", "check": { "colour": "red" } } }),
            "BAD_USER_INPUT",
        )
        .await;

    let (validation, list) = verdicts(&server, &player, "CHARACTER", "mara").await;
    assert_eq!(validation["valid"], false, "{validation}");
    assert_eq!(
        outcome(&list, "age_range"),
        Some(("FAILED", &["age is 300, outside 0 to 120".to_owned()][..]))
    );
    assert_eq!(
        outcome(&list, "has_gender"),
        Some(("FAILED", &["gender is missing".to_owned()][..]))
    );
    let (found, messages) = outcome(&list, "dial_002").expect("dial_002 judged");
    assert_eq!(found, "FAILED");
    assert_eq!(
        messages,
        [
            "\"totally\" appears in personality_traits[0]",
            "\"cool\" appears in personality_traits[1]"
        ],
        "whole words in any case, a hyphen ending one: {messages:?}"
    );
    assert_eq!(
        outcome(&list, "dial_001").map(|o| o.0),
        Some("NEEDS_REVIEW")
    );
    assert_eq!(
        validation["errors"], 2,
        "age_range and dial_002: {validation}"
    );
    assert_eq!(validation["warnings"], 1);

    // A rule changed: its check widened; a package rule changed in the tenant's copy.
    let update = "mutation($rule: String!, $input: UpdateRuleInput!) {
        updateRule(type: CHARACTER, ruleId: $rule, input: $input) { id origin revision rules { id severity } } }";
    server
        .ok_as(&writer, update, json!({ "rule": "age_range", "input": { "check": { "field": "age", "min": 0, "max": 500 } } }))
        .await;
    let copy = server
        .ok_as(
            &writer,
            update,
            json!({ "rule": "dial_002", "input": { "severity": "WARNING" } }),
        )
        .await["updateRule"]
        .clone();
    assert_eq!(copy["id"], "dialogue_flow");
    assert_eq!(copy["origin"], "TENANT_COPY");
    assert_eq!(copy["revision"], 1);
    let (validation, list) = verdicts(&server, &writer, "CHARACTER", "mara").await;
    assert_eq!(outcome(&list, "age_range").map(|o| o.0), Some("PASSED"));
    assert_eq!(
        validation["valid"], true,
        "the only error left was dial_002, now a warning: {validation}"
    );
    assert_eq!(validation["warnings"], 2);

    // Switched off, a rule is not judged; a name that is no rule is refused.
    let settings = "mutation($ids: [String!]!) { updateRuleSettings(input: { disabledRules: $ids }) { disabledRules } }";
    server
        .ok_as(
            &writer,
            settings,
            json!({ "ids": ["dial_002", "has_gender"] }),
        )
        .await;
    server
        .fails_as(
            &writer,
            settings,
            json!({ "ids": ["no_such_rule"] }),
            "BAD_USER_INPUT",
        )
        .await;
    let (validation, list) = verdicts(&server, &writer, "CHARACTER", "mara").await;
    assert!(outcome(&list, "dial_002").is_none() && outcome(&list, "has_gender").is_none());
    assert_eq!(validation["warnings"], 0);
    let rules_for = server
        .ok_as(
            &player,
            "{ rulesFor(type: CHARACTER) { id enabled ruleSetId } }",
            json!({}),
        )
        .await;
    let dial_002 = rules_for["rulesFor"]
        .as_array()
        .expect("rules")
        .iter()
        .find(|r| r["id"] == "dial_002")
        .cloned();
    assert_eq!(
        dial_002,
        Some(json!({ "id": "dial_002", "enabled": false, "ruleSetId": "dialogue_flow" }))
    );

    // A package rule deleted from the copy; the copy reset brings the package's set back.
    server
        .ok_as(
            &writer,
            "mutation { deleteRule(type: CHARACTER, ruleId: \"dial_005\") { id } }",
            json!({}),
        )
        .await;
    let copy = set_of(&server, &writer, "dialogue_flow").await;
    assert!(!copy["rules"].to_string().contains("dial_005"), "{copy}");
    assert!(
        copy["source"]
            .as_str()
            .expect("source")
            .contains("dial_002")
    );
    assert_eq!(
        server
            .ok_as(
                &writer,
                "mutation { resetRuleSet(id: \"dialogue_flow\") }",
                json!({})
            )
            .await["resetRuleSet"],
        true
    );
    let package = set_of(&server, &writer, "dialogue_flow").await;
    assert_eq!(package["origin"], "PACKAGE");
    assert!(package["rules"].to_string().contains("dial_005"));

    // A package rule id the studio took over keeps the package's set from coming back whole.
    server
        .ok_as(
            &writer,
            "mutation { deleteRule(type: CHARACTER, ruleId: \"dial_003\") { id } }",
            json!({}),
        )
        .await;
    server
        .ok_as(&writer, add, json!({ "input": { "id": "dial_003", "text": "Our own voice rule.", "severity": "INFO" } }))
        .await;
    server
        .fails_as(
            &writer,
            "mutation { resetRuleSet(id: \"dialogue_flow\") }",
            json!({}),
            "CONFLICT",
        )
        .await;

    // A whole set switched off by its id.
    server
        .ok_as(
            &writer,
            settings,
            json!({ "ids": ["assembly_constraints"] }),
        )
        .await;
    let (_, list) = verdicts(&server, &writer, "CHARACTER", "mara").await;
    assert!(
        !list.iter().any(|(id, _, _)| id.starts_with("asm_")),
        "{list:?}"
    );
    assert!(outcome(&list, "age_range").is_some());

    // A type's system prompt.
    let prompted = server
        .ok_as(
            &writer,
            "mutation { setRuleSystemPrompt(type: CHARACTER, prompt: \"Write in a period voice.\") { systemPrompts { entityType prompt } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        prompted["setRuleSystemPrompt"]["systemPrompts"],
        json!([{ "entityType": "CHARACTER", "prompt": "Write in a period voice." }])
    );

    // A player reads the rules but changes none of them.
    for (query, variables) in [
        (
            add,
            json!({ "input": { "id": "p_rule", "text": "x", "severity": "INFO" } }),
        ),
        (
            update,
            json!({ "rule": "age_range", "input": { "severity": "INFO" } }),
        ),
        (settings, json!({ "ids": [] })),
        (
            "mutation { resetRuleSet(id: \"custom_character\") }",
            json!({}),
        ),
        (
            "mutation { setRuleSystemPrompt(type: CHARACTER, prompt: \"x\") { disabledRules } }",
            json!({}),
        ),
        ("mutation { reloadRules { ruleSets } }", json!({})),
        (
            "mutation($s: String!) { saveRuleSet(source: $s) { id } }",
            json!({ "s": NAMING }),
        ),
        (
            "mutation { deleteRule(type: CHARACTER, ruleId: \"age_range\") { id } }",
            json!({}),
        ),
    ] {
        server
            .fails_as(&player, query, variables, "FORBIDDEN")
            .await;
    }
    // Nor may a tenant ADMIN reload the server's package.
    server
        .fails_as(
            &admin,
            "mutation { reloadRules { ruleSets } }",
            json!({}),
            "FORBIDDEN",
        )
        .await;

    // Another tenant: the package only, none of Canon's rules, settings or entities.
    let theirs = server
        .ok_as(
            &outsider,
            "{ rules { id origin } ruleSettings { disabledRules systemPrompts { prompt } } }",
            json!({}),
        )
        .await;
    assert!(
        !theirs["rules"].to_string().contains("custom_character"),
        "{theirs}"
    );
    assert_eq!(
        theirs["ruleSettings"],
        json!({ "disabledRules": [], "systemPrompts": [] })
    );
    server
        .fails_as(
            &outsider,
            VALIDATE,
            json!({ "type": "CHARACTER", "id": "mara" }),
            "NOT_FOUND",
        )
        .await;
    server
        .fails_as(
            &outsider,
            update,
            json!({ "rule": "age_range", "input": { "severity": "INFO" } }),
            "NOT_FOUND",
        )
        .await;
    server
        .fails_as(
            &outsider,
            "mutation { deleteRule(type: CHARACTER, ruleId: \"age_range\") { id } }",
            json!({}),
            "NOT_FOUND",
        )
        .await;
    assert_eq!(
        server
            .ok_as(
                &outsider,
                "mutation { resetRuleSet(id: \"custom_character\") }",
                json!({})
            )
            .await["resetRuleSet"],
        false
    );
    assert!(
        set_of(&server, &writer, "custom_character").await["rules"]
            .to_string()
            .contains("age_range")
    );
}
