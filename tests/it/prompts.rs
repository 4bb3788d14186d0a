//! Prompt templates filled from a studio's entities: every variable with a value filled, every
//! one without reported and left as written; a batch in the order asked; the variables a type
//! offers. Another tenant's entities fill nothing.

use serde_json::json;

use crate::entities::create_entity;
use crate::harness::*;

const RESOLVE: &str = "query($template: String!, $entity: EntityRefInput!) {
    resolvePromptTemplate(template: $template, entity: $entity) {
        entityId text missing used complete entity { name } } }";
const BATCH: &str = "query($template: String!, $entities: [EntityRefInput!]!) {
    resolvePromptTemplates(template: $template, entities: $entities) {
        entityId text missing complete entity { entityId } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prompt_template_is_filled_from_entities_and_names_what_is_missing() {
    let server = TestServer::start().await;
    let admin = server.register("admin@prompts.test", "Prompts").await;
    let player = server
        .invite_member(&admin, "player@prompts.test", "PLAYER")
        .await;
    let outsider = server
        .register("admin@other-prompts.test", "Other Prompts")
        .await;
    create_entity(
        &server,
        &admin,
        "CHARACTER",
        "rex",
        "Rex Marshall",
        json!({
        "age": 34, "personality_traits": ["brave", "loud"] }),
    )
    .await;
    create_entity(
        &server,
        &admin,
        "CHARACTER",
        "ann",
        "Ann Marshall",
        json!({ "age": 31 }),
    )
    .await;

    let template = "{{entity.name}} ({{ entity.age }}) is {{entity.personality_traits}}. \
                    Nickname: {{entity.nickname}}.";
    let one = server
        .ok_as(
            &player,
            RESOLVE,
            json!({ "template": template,
            "entity": { "type": "CHARACTER", "entityId": "rex" } }),
        )
        .await["resolvePromptTemplate"]
        .clone();
    assert_eq!(
        one["text"],
        "Rex Marshall (34) is brave, loud. Nickname: {{entity.nickname}}."
    );
    assert_eq!(one["missing"], json!(["entity.nickname"]));
    assert_eq!(one["complete"], false);
    assert_eq!(one["entity"]["name"], "Rex Marshall");

    let batch = server
        .ok_as(
            &player,
            BATCH,
            json!({ "template": "{{entity.name}} is {{entity.age}}",
            "entities": [
                { "type": "CHARACTER", "entityId": "ann" },
                { "type": "CHARACTER", "entityId": "ghost" },
                { "type": "CHARACTER", "entityId": "rex" }
            ] }),
        )
        .await["resolvePromptTemplates"]
        .clone();
    assert_eq!(batch[0]["text"], "Ann Marshall is 31");
    assert_eq!(batch[0]["complete"], true);
    assert_eq!(batch[1]["entity"], json!(null));
    assert_eq!(batch[1]["text"], json!(null));
    assert_eq!(batch[2]["text"], "Rex Marshall is 34");

    let fields = server
        .ok_as(
            &player,
            "{ availableTemplateFields(type: CHARACTER) { variable kind description } }",
            json!({}),
        )
        .await;
    let variables: Vec<&str> = fields["availableTemplateFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["variable"].as_str().unwrap())
        .collect();
    for wanted in [
        "entity.name",
        "entity.body",
        "entity.age",
        "entity.personality_traits",
    ] {
        assert!(variables.contains(&wanted), "{wanted} in {variables:?}");
    }

    // A template that does not read is refused; another tenant fills nothing from ours.
    let body = server
        .gql_as(
            &player,
            RESOLVE,
            json!({ "template": "{{world.name}}",
            "entity": { "type": "CHARACTER", "entityId": "rex" } }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    server
        .fails_as(
            &outsider,
            RESOLVE,
            json!({ "template": template,
            "entity": { "type": "CHARACTER", "entityId": "rex" } }),
            "NOT_FOUND",
        )
        .await;
    let theirs = server
        .ok_as(
            &outsider,
            BATCH,
            json!({ "template": template,
            "entities": [{ "type": "CHARACTER", "entityId": "rex" }] }),
        )
        .await;
    assert_eq!(theirs["resolvePromptTemplates"][0]["text"], json!(null));
}
