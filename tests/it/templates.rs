//! Entity templates: the built-in ones, and the real StudioBrain package loaded as
//! `LOREGRAPH_TEMPLATES_DIR` — every type's schema validates real entities, layouts and
//! markdown templates are served, entity selectors join the reference map.

use std::path::PathBuf;

use loregraph::entities::templates::TemplateCatalog;
use serde_json::{Value, json};

use crate::entities::create_entity;
use crate::harness::*;

/// The real template package, read where it lives (its files are not copied into the repo):
/// `LOREGRAPH_TEST_TEMPLATES_DIR`, or `../shared/studiobrain-templates` beside the checkout.
pub fn package_dir() -> PathBuf {
    let dir = std::env::var_os("LOREGRAPH_TEST_TEMPLATES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/studiobrain-templates")
        });
    assert!(
        dir.join("schemas").is_dir(),
        "the StudioBrain template package is expected at {}",
        dir.display()
    );
    dir
}

async fn server_with_package() -> TestServer {
    let dir = package_dir();
    TestServer::start_with(move |config| config.templates_dir = Some(dir)).await
}

const TYPES: [&str; 16] = [
    "CHARACTER",
    "LOCATION",
    "DISTRICT",
    "BRAND",
    "FACTION",
    "ITEM",
    "JOB",
    "QUEST",
    "CAMPAIGN",
    "EVENT",
    "DIALOGUE",
    "TIMELINE",
    "ASSEMBLY",
    "STYLE_BIBLE",
    "UNIVERSE",
    "BIOME",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn built_in_templates_are_public_and_describe_every_type() {
    let server = TestServer::start().await;
    let data = server
        .ok(
            None,
            "{ entityTypes { type slug folderName filePrefix description }
               faction: entitySchema(type: FACTION) { source version jsonSchema references { path kind targetTypes many } }
               character: entitySchema(type: CHARACTER) { references { path kind targetTypes many } }
               entityLayout(type: LOCATION) { source layout }
               templates { name entityType source }
               template(name: \"Standard/CHARACTER_TEMPLATE\") { content category } }",
            json!({}),
        )
        .await;
    let types: Vec<&str> = data["entityTypes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, TYPES);
    assert!(
        data["entityTypes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| !t["description"].as_str().unwrap().is_empty())
    );
    assert_eq!(data["entityTypes"][15]["slug"], "biome");

    let faction = &data["faction"];
    assert_eq!(faction["source"], "BUILTIN");
    assert_eq!(
        faction["jsonSchema"]["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert!(faction["references"].as_array().unwrap().contains(
        &json!({ "path": "leader", "kind": "leader", "targetTypes": ["CHARACTER"], "many": false })
    ), "{faction}");
    assert!(data["character"]["references"].as_array().unwrap().contains(&json!({
        "path": "family[].character_id", "kind": "family.character_id", "targetTypes": ["CHARACTER"], "many": true
    })));

    assert_eq!(data["entityLayout"]["source"], "BUILTIN");
    assert_eq!(data["entityLayout"]["layout"]["entity_type"], "location");
    assert_eq!(data["templates"].as_array().unwrap().len(), 16);
    assert!(
        data["template"]["content"]
            .as_str()
            .unwrap()
            .contains("entity_type: \"character\"")
    );
    let data = server
        .ok(None, "{ template(name: \"NOPE\") { name } }", json!({}))
        .await;
    assert!(data["template"].is_null());
}

/// A property of the type's own schema that only accepts non-numeric values, to break.
fn breakable_property(schema: &Value) -> String {
    let properties = schema["properties"].as_object().expect("properties");
    let mut names: Vec<&String> = properties.keys().collect();
    names.sort();
    names
        .into_iter()
        .find(|name| {
            let types: Vec<&str> = match &properties[name.as_str()]["type"] {
                Value::String(t) => vec![t.as_str()],
                Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
                _ => return false,
            };
            !types.is_empty()
                && !types.iter().any(|t| matches!(*t, "integer" | "number"))
                && !["name", "id", "status"].contains(&name.as_str())
        })
        .expect("a property to break")
        .clone()
}

/// Values for the properties the type's schema requires beyond the shared frontmatter (which
/// loregraph fills in from the entity itself).
fn required_fields(schema: &Value) -> serde_json::Map<String, Value> {
    const SHARED: [&str; 8] = [
        "id",
        "entity_type",
        "template_version",
        "template_category",
        "created_date",
        "last_updated",
        "name",
        "status",
    ];
    let mut fields = serde_json::Map::new();
    for name in schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if SHARED.contains(&name) {
            continue;
        }
        let property = &schema["properties"][name];
        let value = if let Some(first) = property["enum"]
            .as_array()
            .and_then(|v| v.iter().find(|v| !v.is_null()))
        {
            first.clone()
        } else {
            let types: Vec<&str> = match &property["type"] {
                Value::String(t) => vec![t.as_str()],
                Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
                _ => vec!["string"],
            };
            match types.first().copied().unwrap_or("string") {
                "array" => json!([]),
                "object" => json!({}),
                "integer" | "number" => json!(1),
                "boolean" => json!(true),
                _ => json!("value"),
            }
        };
        fields.insert(name.to_owned(), value);
    }
    fields
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_studiobrain_package_validates_every_entity_type() {
    let server = server_with_package().await;
    let owner = server.register("owner@example.com", "Studio").await;
    for entity_type in TYPES {
        let slug = entity_type.to_lowercase();
        let schema: Value = serde_json::from_str(
            &std::fs::read_to_string(package_dir().join(format!("schemas/{slug}.json"))).unwrap(),
        )
        .unwrap();

        let required = required_fields(&schema);
        let valid = create_entity(
            &server,
            &owner,
            entity_type,
            &format!("good_{slug}"),
            "Good",
            Value::Object(required.clone()),
        )
        .await;
        assert_eq!(valid["isValid"], true, "{entity_type}: {valid}");

        let property = breakable_property(&schema);
        let broken = create_entity(
            &server,
            &owner,
            entity_type,
            &format!("bad_{slug}"),
            "Bad",
            {
                let mut fields = required;
                fields.insert(property.clone(), json!(12345));
                fields.insert("template_version".into(), json!("one"));
                Value::Object(fields)
            },
        )
        .await;
        assert_eq!(broken["isValid"], false, "{entity_type}");
        let mut errors: Vec<String> = broken["validationErrors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap().to_owned())
            .collect();
        errors.sort();
        assert_eq!(errors.len(), 2, "{entity_type}: {errors:?}");
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with(&format!("{property}: 12345 is not of type"))),
            "{entity_type}: {errors:?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with("template_version: \"one\" does not match")),
            "{entity_type}: {errors:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_package_wins_for_schemas_layouts_templates_and_adds_its_entity_selectors() {
    let server = server_with_package().await;
    let data = server
        .ok(
            None,
            "{ entitySchema(type: FACTION) { source jsonSchema references { path targetTypes } }
               entityLayout(type: FACTION) { source layout }
               templates { name source }
               standard: template(name: \"Standard/FACTION_TEMPLATE\") { source entityType category frontmatter }
               core: template(name: \"Core/QUEST_TEMPLATE\") { entityType category } }",
            json!({}),
        )
        .await;
    let schema = &data["entitySchema"];
    assert_eq!(schema["source"], "PACKAGE");
    assert_eq!(
        schema["jsonSchema"]["title"],
        "StudioBrain Faction Entity Schema"
    );
    let paths: Vec<&str> = schema["references"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.contains(&"leadership[].character_id"),
        "from field_config: {paths:?}"
    );
    assert!(paths.contains(&"headquarters"), "{paths:?}");
    assert!(
        paths.contains(&"leader"),
        "the built-in references stay: {paths:?}"
    );

    assert_eq!(data["entityLayout"]["source"], "PACKAGE");
    assert_eq!(
        data["entityLayout"]["layout"]["sections"][0]["fields"][0]["label"],
        "Faction ID"
    );
    let names: Vec<&str> = data["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"Standard/Documents/STYLE_BIBLE_TEMPLATE"),
        "{names:?}"
    );
    assert_eq!(data["standard"]["source"], "PACKAGE");
    assert_eq!(data["standard"]["entityType"], "FACTION");
    assert_eq!(
        data["standard"]["frontmatter"]["field_config"]["headquarters"]["reference_type"],
        "location"
    );
    assert_eq!(
        data["core"],
        json!({ "entityType": "QUEST", "category": "core" })
    );

    // The package's entity selectors drive references: a headquarters id must name a location.
    let owner = server.register("owner@example.com", "Studio").await;
    let faction = create_entity(
        &server,
        &owner,
        "FACTION",
        "raiders",
        "Raiders",
        json!({ "headquarters": "fort", "leadership": [{ "character_id": "vex", "role": "supreme_leader" }] }),
    )
    .await;
    assert_eq!(
        faction["validationErrors"],
        json!([
            "headquarters: no location with id `fort`",
            "leadership.character_id: no character with id `vex`"
        ])
    );
}

#[test]
fn a_broken_package_is_refused_with_the_file_named() {
    let missing = TemplateCatalog::load(std::path::Path::new("/nonexistent/templates"));
    assert!(format!("{:#}", missing.unwrap_err()).contains("does not exist"));

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("schemas")).unwrap();
    std::fs::write(dir.path().join("schemas/character.json"), "{ not json").unwrap();
    let error = TemplateCatalog::load(dir.path()).unwrap_err();
    assert!(format!("{error:#}").contains("character.json"), "{error:#}");

    std::fs::write(
        dir.path().join("schemas/character.json"),
        r#"{"$ref": "./_missing.json"}"#,
    )
    .unwrap();
    let error = TemplateCatalog::load(dir.path()).unwrap_err();
    assert!(format!("{error:#}").contains("character.json"), "{error:#}");
}
