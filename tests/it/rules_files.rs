//! Rule sets as files: a set's YAML saved whole or not at all, guarded by its revision (which
//! goes on rising when a set is let go and made again); the package's rules and templates read
//! again from disk, a broken file changing nothing.

use serde_json::json;

use crate::entities::create_entity;
use crate::harness::*;
use crate::rules::{NAMING, outcome, set_of, verdicts};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_set_is_saved_as_yaml_whole_or_not_at_all_and_guarded_by_its_revision() {
    let server = TestServer::start().await;
    let writer = server.register("writer@yaml.test", "Yaml").await;
    let save = "mutation($source: String!, $revision: Int) {
        saveRuleSet(source: $source, expectedRevision: $revision) { id origin revision } }";

    let broken = "rule_id: naming\napplies_to: [location, dragon]\nrules:\n  - id: x\n    rule: r\n    validation_type: fatal\n    field: id\n    pattern: '('\n";
    let body = server
        .gql_as(&writer, save, json!({ "source": broken }))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    let message = body["errors"][0]["message"].as_str().expect("message");
    for problem in [
        "name: is required",
        "\"dragon\" is not an entity type",
        "validation_type \"fatal\"",
        "pattern is not a regular expression",
    ] {
        assert!(message.contains(problem), "{problem} in {message}");
    }
    let body = server
        .gql_as(&writer, save, json!({ "source": "rule_id: [unclosed" }))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    // A set past 256 KiB is refused before its YAML is read.
    let huge = format!("{NAMING}# {}\n", "x".repeat(256 * 1024));
    let body = server
        .gql_as(&writer, save, json!({ "source": huge }))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert!(body.to_string().contains("at most 256 KiB"), "{body}");
    assert!(
        set_of(&server, &writer, "naming").await.is_null(),
        "nothing was saved"
    );

    let saved = server
        .ok_as(&writer, save, json!({ "source": NAMING, "revision": 0 }))
        .await;
    assert_eq!(
        saved["saveRuleSet"],
        json!({ "id": "naming", "origin": "TENANT", "revision": 1 })
    );
    // A second writer working from revision 0 is told, not silently overwritten.
    server
        .fails_as(
            &writer,
            save,
            json!({ "source": NAMING, "revision": 0 }),
            "CONFLICT",
        )
        .await;
    let again = server
        .ok_as(
            &writer,
            save,
            json!({ "source": NAMING.replace("error", "warning"), "revision": 1 }),
        )
        .await;
    assert_eq!(again["saveRuleSet"]["revision"], 2);
    // Let go and made again, a set's revisions go on: a client still holding 2 is told.
    let reset = "mutation { resetRuleSet(id: \"naming\") }";
    assert_eq!(
        server.ok_as(&writer, reset, json!({})).await["resetRuleSet"],
        true
    );
    assert_eq!(
        server.ok_as(&writer, reset, json!({})).await["resetRuleSet"],
        false
    );
    assert!(set_of(&server, &writer, "naming").await.is_null());
    server
        .fails_as(
            &writer,
            save,
            json!({ "source": NAMING, "revision": 2 }),
            "CONFLICT",
        )
        .await;
    let back = server
        .ok_as(&writer, save, json!({ "source": NAMING, "revision": 0 }))
        .await;
    assert_eq!(
        back["saveRuleSet"]["revision"], 4,
        "2, then 3 when let go, then 4: {back}"
    );
    // A pattern must read on its own: one that only reads inside the anchors would match
    // more than whole values.
    let escaping = NAMING
        .replace("rule_id: naming", "rule_id: escaping")
        .replace("loc_ids", "loc_any")
        .replace("'[a-z][a-z0-9_]*'", "'x)|(?:.*'");
    let body = server
        .gql_as(&writer, save, json!({ "source": escaping }))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    // A rule id is the tenant's once: another set may not reuse it.
    let thief = NAMING.replace("rule_id: naming", "rule_id: other");
    let body = server
        .gql_as(&writer, save, json!({ "source": thief }))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert!(
        body.to_string()
            .contains("already a rule of the set naming"),
        "{body}"
    );

    create_entity(
        &server,
        &writer,
        "LOCATION",
        "old_mill",
        "Old Mill",
        json!({}),
    )
    .await;
    let (_, list) = verdicts(&server, &writer, "LOCATION", "old_mill").await;
    assert_eq!(outcome(&list, "loc_ids").map(|o| o.0), Some("PASSED"));
    // A pattern over a list checks each item.
    server
        .ok_as(
            &writer,
            "mutation($input: CreateRuleInput!) { addRule(type: LOCATION, input: $input) { id } }",
            json!({ "input": { "id": "tag_case", "text": "Tags are lower case", "severity": "WARNING",
                "check": { "field": "tags", "pattern": "[a-z ]+" } } }),
        )
        .await;
    server
        .ok_as(
            &writer,
            "mutation { updateEntity(type: LOCATION, entityId: \"old_mill\", input: { fields: { tags: [\"ruin\", \"Haunted\"] } }) { version } }",
            json!({}),
        )
        .await;
    let (_, list) = verdicts(&server, &writer, "LOCATION", "old_mill").await;
    assert_eq!(
        outcome(&list, "tag_case"),
        Some((
            "FAILED",
            &["tags[1] is \"Haunted\", which does not match [a-z ]+".to_owned()][..]
        ))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_package_rules_and_templates_reload_from_disk_and_a_broken_file_changes_nothing() {
    let dir = tempfile::tempdir().expect("a package directory");
    let rules_dir = dir.path().join("rules").join("Studio");
    std::fs::create_dir_all(&rules_dir).expect("rules/Studio");
    let file = rules_dir.join("naming.yaml");
    std::fs::write(&file, NAMING).expect("writing the rule file");
    let package = dir.path().to_owned();
    let server = TestServer::start_with(move |config| config.templates_dir = Some(package)).await;
    let root = server.superuser("root@reload.test").await;
    let writer = server.register("writer@reload.test", "Reload").await;

    let naming = set_of(&server, &writer, "naming").await;
    assert_eq!(naming["origin"], "PACKAGE");
    assert!(
        !set_of(&server, &writer, "dialogue_flow").await.is_null(),
        "the built-in sets stay beside the package's"
    );

    std::fs::write(
        &file,
        "rule_id: naming\napplies_to: [location]\nrules: {}\n",
    )
    .expect("breaking the file");
    let body = server
        .gql_as(
            &root,
            "mutation { reloadRules { ruleSets rules } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert!(
        body.to_string().contains("Studio/naming.yaml"),
        "the file is named: {body}"
    );
    assert_eq!(
        set_of(&server, &writer, "naming").await["rules"],
        naming["rules"],
        "the rules in force are kept"
    );

    let grown = format!(
        "{NAMING}  - id: loc_named\n    rule: Locations have a name\n    required_fields: [name]\n"
    );
    std::fs::write(&file, grown).expect("fixing the file");
    let reloaded = server
        .ok_as(
            &root,
            "mutation { reloadRules { ruleSets rules } }",
            json!({}),
        )
        .await;
    assert_eq!(reloaded["reloadRules"]["ruleSets"], 3);
    let naming = set_of(&server, &writer, "naming").await;
    assert!(
        naming["rules"].to_string().contains("loc_named"),
        "{naming}"
    );

    // The templates reload the same way: a layout added to the package takes the built-in's
    // place once it reads.
    let layout = "{ entityLayout(type: CHARACTER) { source layout } }";
    assert_eq!(
        server.ok_as(&writer, layout, json!({})).await["entityLayout"]["source"],
        "BUILTIN"
    );
    let layouts = dir.path().join("templates").join("Layouts");
    std::fs::create_dir_all(&layouts).expect("templates/Layouts");
    std::fs::write(layouts.join("character.layout.json"), "{ \"sections\": [")
        .expect("a broken layout");
    let reload = "mutation { reloadTemplates { packageSchemas packageLayouts templates } }";
    let body = server.gql_as(&root, reload, json!({})).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert!(
        body.to_string().contains("character.layout.json"),
        "the file is named: {body}"
    );
    assert_eq!(
        server.ok_as(&writer, layout, json!({})).await["entityLayout"]["source"],
        "BUILTIN"
    );
    std::fs::write(
        layouts.join("character.layout.json"),
        "{ \"sections\": [{ \"title\": \"Who\" }] }",
    )
    .expect("a layout");
    let reloaded = server.ok_as(&root, reload, json!({})).await;
    assert_eq!(
        reloaded["reloadTemplates"]["packageLayouts"], 1,
        "{reloaded}"
    );
    assert_eq!(
        reloaded["reloadTemplates"]["packageSchemas"], 0,
        "{reloaded}"
    );
    let now = server.ok_as(&writer, layout, json!({})).await;
    assert_eq!(
        now["entityLayout"],
        json!({ "source": "PACKAGE", "layout": { "sections": [{ "title": "Who" }] } })
    );
    server
        .fails_as(&writer, reload, json!({}), "FORBIDDEN")
        .await;
}
