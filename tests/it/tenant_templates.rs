//! A studio makes a type's template its own: its JSON Schema judges the studio's entities (and
//! those already written are judged again in the background, the counts streamed), its
//! markdown template orders the studio's files and stamps their version, its AI instructions
//! are the studio's. Each change is a version; a reset puts the package's back. Players read
//! but do not change; other tenants and anonymous readers keep the package's.

use serde_json::{Value, json};

use crate::entities::create_entity;
use crate::harness::*;

const SCHEMA: &str = "{ entitySchema(type: CHARACTER) { source jsonSchema } }";
const UPDATE: &str = "mutation($input: TemplateInput!, $version: Int) {
    updateTemplate(type: CHARACTER, input: $input, expectedVersion: $version) {
        version change content schema revalidation { state } } }";
const RESET: &str =
    "mutation($version: Int) { resetTemplate(type: CHARACTER, expectedVersion: $version) {
    version change content schema } }";
const VERSIONS: &str = "{ templateVersions(type: CHARACTER) {
    version change createdBy { email } revalidation { state checked valid invalid error } } }";
const CHANGES: &str =
    "subscription { templateChanged { entityType version revalidation checked valid invalid } }";
const ENTITY: &str = "query($id: String!) { entity(type: CHARACTER, entityId: $id) {
    isValid validationErrors } }";
const INSTRUCTIONS: &str =
    "{ templateInstructions(type: CHARACTER) { entityType instructions source } }";
const SET_INSTRUCTIONS: &str = "mutation($text: String, $version: Int) {
    updateTemplateInstructions(type: CHARACTER, instructions: $text, expectedVersion: $version) {
        version change content revalidation { state } } }";
const EXPORT: &str =
    "query($id: String!) { exportEntity(type: CHARACTER, entityId: $id) { content } }";

fn ages() -> Value {
    json!({
        "type": "object",
        "required": ["age"],
        "properties": { "age": { "type": "integer", "minimum": 0 } }
    })
}

async fn entity(server: &TestServer, account: &Account, id: &str) -> Value {
    server.ok_as(account, ENTITY, json!({ "id": id })).await["entity"].clone()
}

/// The next `templateChanged` event that is not PENDING: where a re-validation ended.
async fn revalidated(socket: &mut Socket, version: i64) -> Value {
    loop {
        let change = next_data(socket, "templateChanged").await;
        assert_eq!(change["entityType"], "CHARACTER");
        if change["version"] == version && change["revalidation"] != "PENDING" {
            return change;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_studio_gives_a_type_its_own_schema_and_its_entities_are_judged_again() {
    let server = TestServer::start().await;
    let admin = server.register("admin@schemas.test", "Schemas").await;
    let writer = server
        .invite_member(&admin, "writer@schemas.test", "WORLDBUILDER")
        .await;
    let player = server
        .invite_member(&admin, "player@schemas.test", "PLAYER")
        .await;
    let outsider = server
        .register("admin@other-schemas.test", "Other Schemas")
        .await;

    let rex = create_entity(
        &server,
        &writer,
        "CHARACTER",
        "rex",
        "Rex",
        json!({ "age": 30 }),
    )
    .await;
    let ana = create_entity(&server, &writer, "CHARACTER", "ana", "Ana", json!({})).await;
    assert_eq!(
        (rex["isValid"].clone(), ana["isValid"].clone()),
        (json!(true), json!(true))
    );
    let builtin = server.ok(None, SCHEMA, json!({})).await["entitySchema"].clone();
    assert_eq!(builtin["source"], "BUILTIN");

    let mut changes = subscribe_as(&server, &player, CHANGES, json!({})).await;
    let first = server
        .ok_as(
            &writer,
            UPDATE,
            json!({ "input": { "schema": ages() }, "version": 0 }),
        )
        .await["updateTemplate"]
        .clone();
    assert_eq!(first["version"], 1);
    assert_eq!(first["change"], "TEMPLATE");
    assert_eq!(first["schema"], ages());
    assert!(
        first["content"].is_null(),
        "the markdown template stays the package's"
    );

    // The entities already written are judged again in the background: Ana has no age.
    let done = revalidated(&mut changes, 1).await;
    assert_eq!(
        done,
        json!({ "entityType": "CHARACTER", "version": 1, "revalidation": "DONE",
                "checked": 2, "valid": 1, "invalid": 1 })
    );
    let ana = entity(&server, &player, "ana").await;
    assert_eq!(ana["isValid"], false);
    assert!(ana["validationErrors"].to_string().contains("age"), "{ana}");
    assert_eq!(entity(&server, &player, "rex").await["isValid"], true);
    let versions = server.ok_as(&writer, VERSIONS, json!({})).await["templateVersions"].clone();
    assert_eq!(
        versions,
        json!([{ "version": 1, "change": "TEMPLATE", "createdBy": { "email": "writer@schemas.test" },
                 "revalidation": { "state": "DONE", "checked": 2, "valid": 1, "invalid": 1, "error": null } }])
    );

    // New writes meet the studio's schema at once; the schema reads as the studio's to its
    // members only.
    let bo = create_entity(
        &server,
        &writer,
        "CHARACTER",
        "bo",
        "Bo",
        json!({ "age": -3 }),
    )
    .await;
    assert_eq!(bo["isValid"], false, "{bo}");
    let theirs = create_entity(&server, &outsider, "CHARACTER", "ana", "Ana", json!({})).await;
    assert_eq!(
        theirs["isValid"], true,
        "another tenant keeps the package's schema"
    );
    assert_eq!(
        server.ok_as(&player, SCHEMA, json!({})).await["entitySchema"],
        json!({ "source": "TENANT", "jsonSchema": ages() })
    );
    assert_eq!(
        server.ok(None, SCHEMA, json!({})).await["entitySchema"],
        builtin
    );
    assert_eq!(
        server.ok_as(&outsider, SCHEMA, json!({})).await["entitySchema"],
        builtin
    );

    // Players do not change templates, stale versions are told, and schemas that would not
    // work are refused with the part named.
    server
        .fails_as(
            &player,
            UPDATE,
            json!({ "input": { "schema": ages() } }),
            "FORBIDDEN",
        )
        .await;
    server
        .fails_as(&player, RESET, json!({}), "FORBIDDEN")
        .await;
    server
        .fails_as(
            &writer,
            UPDATE,
            json!({ "input": { "schema": ages() }, "version": 0 }),
            "CONFLICT",
        )
        .await;
    for bad in [
        json!({ "type": 12 }),
        json!([1, 2]),
        json!({ "properties": { "name": { "type": "string", "pattern": "^(?=a)" } } }),
        json!({ "$ref": "https://example.com/schema.json" }),
        json!({ "patternProperties": (0..101).map(|n| (format!("^f{n}$"), json!({}))).collect::<serde_json::Map<_, _>>() }),
    ] {
        let body = server
            .gql_as(&writer, UPDATE, json!({ "input": { "schema": bad } }))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "schema", "{body}");
    }
    for (bad, why) in [
        ("---\nname: [unclosed\n---\n# Body\n", "does not read"),
        ("---\nentity_type: location\n---\n# Body\n", "location"),
    ] {
        let body = server
            .gql_as(&writer, UPDATE, json!({ "input": { "content": bad } }))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap_or_default()
                .contains(why),
            "{body}"
        );
    }
    // A change that changes nothing is refused too.
    server
        .fails_as(
            &writer,
            UPDATE,
            json!({ "input": { "schema": ages() } }),
            "BAD_USER_INPUT",
        )
        .await;
    assert_eq!(
        server.ok_as(&player, VERSIONS, json!({})).await["templateVersions"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "nothing refused was written"
    );

    // Another tenant cannot see the studio's versions, and its own changes stay its own.
    assert_eq!(
        server.ok_as(&outsider, VERSIONS, json!({})).await["templateVersions"],
        json!([])
    );

    // A reset puts the package's back, and everything is judged again.
    let reset =
        server.ok_as(&writer, RESET, json!({ "version": 1 })).await["resetTemplate"].clone();
    assert_eq!(
        reset,
        json!({ "version": 2, "change": "RESET", "content": null, "schema": null })
    );
    let done = revalidated(&mut changes, 2).await;
    assert_eq!(
        (done["checked"].clone(), done["invalid"].clone()),
        (json!(3), json!(0))
    );
    assert_eq!(entity(&server, &player, "ana").await["isValid"], true);
    assert_eq!(
        server.ok_as(&player, SCHEMA, json!({})).await["entitySchema"],
        builtin
    );
    // The package's is in force already: a second reset has nothing to do.
    server
        .fails_as(&writer, RESET, json!({}), "BAD_USER_INPUT")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_studio_writes_its_own_markdown_template_and_ai_instructions() {
    let server = TestServer::start().await;
    let admin = server.register("admin@voices.test", "Voices").await;
    let player = server
        .invite_member(&admin, "player@voices.test", "PLAYER")
        .await;
    let outsider = server
        .register("admin@other-voices.test", "Other Voices")
        .await;

    let package = server.ok(None, INSTRUCTIONS, json!({})).await["templateInstructions"].clone();
    assert_eq!(package["source"], "BUILTIN");

    // Instructions alone: a copy of the package's template with them, nothing to re-validate.
    let text = "Write weathered, soft-spoken characters with one secret each.";
    let set = server
        .ok_as(
            &admin,
            SET_INSTRUCTIONS,
            json!({ "text": text, "version": 0 }),
        )
        .await["updateTemplateInstructions"]
        .clone();
    assert_eq!(set["version"], 1);
    assert_eq!(set["change"], "INSTRUCTIONS");
    assert_eq!(set["revalidation"]["state"], "NOT_NEEDED");
    assert!(
        set["content"].as_str().unwrap_or_default().contains(text),
        "{set}"
    );
    assert_eq!(
        server.ok_as(&player, INSTRUCTIONS, json!({})).await["templateInstructions"],
        json!({ "entityType": "CHARACTER", "instructions": text, "source": "TENANT" })
    );
    assert_eq!(
        server.ok(None, INSTRUCTIONS, json!({})).await["templateInstructions"],
        package
    );
    assert_eq!(
        server.ok_as(&outsider, INSTRUCTIONS, json!({})).await["templateInstructions"],
        package
    );
    let template =
        "query { template(name: \"Standard/CHARACTER_TEMPLATE\") { source frontmatter } }";
    let ours = server.ok_as(&player, template, json!({})).await["template"].clone();
    assert_eq!(ours["source"], "TENANT");
    assert_eq!(ours["frontmatter"]["generation_instructions"], text);
    server
        .fails_as(
            &player,
            SET_INSTRUCTIONS,
            json!({ "text": "mine" }),
            "FORBIDDEN",
        )
        .await;
    let body = server
        .gql_as(
            &admin,
            SET_INSTRUCTIONS,
            json!({ "text": "x".repeat(16 * 1024 + 1) }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");

    // The studio's own markdown template: its key order is the order of the studio's files,
    // its version is stamped on them.
    let content = format!(
        "---\nentity_type: character\ntemplate_version: \"7.1\"\ngeneration_instructions: {text}\n\
         zz: \"\"\nalpha_note: \"\"\n---\n# Name\n"
    );
    let written = server
        .ok_as(
            &admin,
            UPDATE,
            json!({ "input": { "content": content }, "version": 1 }),
        )
        .await["updateTemplate"]
        .clone();
    assert_eq!(written["version"], 2);
    assert_eq!(written["content"], content);
    assert_eq!(
        written["revalidation"]["state"], "PENDING",
        "a new template_version"
    );
    // A new body alone cannot change a verdict: nothing is re-validated.
    let new_body = content.replace("# Name", "# Name\n\nWho they are.");
    let body_only = server
        .ok_as(
            &admin,
            UPDATE,
            json!({ "input": { "content": new_body }, "version": 2 }),
        )
        .await["updateTemplate"]
        .clone();
    assert_eq!(body_only["version"], 3);
    assert_eq!(body_only["revalidation"]["state"], "NOT_NEEDED");
    let fields = json!({ "zz": "first", "alpha_note": "last" });
    create_entity(&server, &admin, "CHARACTER", "rex", "Rex", fields.clone()).await;
    let file =
        server.ok_as(&admin, EXPORT, json!({ "id": "rex" })).await["exportEntity"]["content"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
    let at = |key: &str| file.find(&format!("\n{key}:")).unwrap_or(usize::MAX);
    assert!(
        at("zz") < at("alpha_note"),
        "the studio's key order: {file}"
    );
    // Another tenant's file of the same fields keeps the package's order.
    create_entity(&server, &outsider, "CHARACTER", "rex", "Rex", fields).await;
    let theirs = server
        .ok_as(&outsider, EXPORT, json!({ "id": "rex" }))
        .await["exportEntity"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let at = |key: &str| theirs.find(&format!("\n{key}:")).unwrap_or(usize::MAX);
    assert!(at("alpha_note") < at("zz"), "the package's order: {theirs}");

    // New entities of the studio are stamped with its template's version.
    let version = "{ entitySchema(type: CHARACTER) { version } }";
    assert_eq!(
        server.ok_as(&player, version, json!({})).await["entitySchema"]["version"],
        "7.1"
    );
    assert_ne!(
        server.ok_as(&outsider, version, json!({})).await["entitySchema"]["version"],
        "7.1"
    );

    // Removing the instructions keeps the rest of the studio's template.
    let removed = server
        .ok_as(
            &admin,
            SET_INSTRUCTIONS,
            json!({ "text": null, "version": 3 }),
        )
        .await["updateTemplateInstructions"]
        .clone();
    let removed = removed["content"].as_str().unwrap_or_default();
    assert!(!removed.contains("generation_instructions"), "{removed}");
    assert!(removed.contains("alpha_note"), "{removed}");
    assert_eq!(
        server.ok_as(&player, INSTRUCTIONS, json!({})).await["templateInstructions"]["instructions"],
        Value::Null
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_changed_on_one_node_is_in_force_on_the_other() {
    let first = TestServer::start().await;
    let second = TestServer::start_on(first.database_url.clone(), |_| {}).await;
    let admin = first.register("admin@nodes.test", "Nodes").await;
    // The second node builds the tenant's templates (the package's) and keeps them.
    assert_eq!(
        second.ok_as(&admin, SCHEMA, json!({})).await["entitySchema"]["source"],
        "BUILTIN"
    );
    first
        .ok_as(&admin, UPDATE, json!({ "input": { "schema": ages() } }))
        .await;
    // The change's event reaches the second node, which forgets what it kept (waiting for the
    // relay, up to 20 s: ordering, not timing).
    let mut source = Value::Null;
    for _ in 0..200 {
        source = second.ok_as(&admin, SCHEMA, json!({})).await["entitySchema"]["source"].clone();
        if source == "TENANT" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(source, "TENANT");
    let ana = create_entity(&second, &admin, "CHARACTER", "ana", "Ana", json!({})).await;
    assert_eq!(ana["isValid"], false, "{ana}");
}
