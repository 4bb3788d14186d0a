//! Markdown files: every entity file of the real template package imported and exported back
//! unchanged; messy files previewed, applied all-or-nothing and heard as `syncCompleted`; bad
//! files each reported; the one-file operations; and the walls between roles and tenants.
//! (A folder as a ZIP archive: `markdown_archive`.)

use std::path::Path;

use serde_json::{Value, json};

use crate::harness::*;
use crate::markdown_archive::{rest_import, zip_of};
use crate::templates::package_dir;

const IMPORT: &str = "mutation($files: [MarkdownFileInput!]!, $mode: ImportMode!) {
    importMarkdown(files: $files, mode: $mode) {
        mode applied created updated unchanged failed
        files { path action entityType entityId warnings validationErrors changesOmitted
                errors { message line column } changes { key change before after } } } }";

const EXPORT: &str = "query($type: EntityType!, $id: String!) {
    exportEntity(type: $type, entityId: $id) { fileName path content } }";

const ENTITY: &str = "query($type: EntityType!, $id: String!) {
    entity(type: $type, entityId: $id) { name status fields markdownBody } }";

async fn import(server: &TestServer, account: &Account, files: Value, mode: &str) -> Value {
    let data = server
        .ok_as(account, IMPORT, json!({ "files": files, "mode": mode }))
        .await;
    data["importMarkdown"].clone()
}

async fn export(server: &TestServer, account: &Account, entity_type: &str, id: &str) -> Value {
    let data = server
        .ok_as(account, EXPORT, json!({ "type": entity_type, "id": id }))
        .await;
    data["exportEntity"].clone()
}

/// A file's frontmatter (read by the YAML library itself, not by the server's reader) and
/// its body.
fn split(text: &str) -> (Value, String) {
    let text = text
        .strip_prefix('\u{feff}')
        .unwrap_or(text)
        .replace("\r\n", "\n");
    let rest = text.strip_prefix("---\n").expect("a frontmatter");
    let end = rest.find("\n---").expect("a closing line") + 1;
    let yaml = &rest[..end];
    let after = &rest[end..];
    let body = after.split_once('\n').map_or("", |(_, body)| body);
    let value: Value = serde_saphyr::from_str(yaml).expect("the frontmatter is YAML");
    (value, body.to_owned())
}

/// The package's markdown templates, by path under `templates/`.
fn package_files() -> Vec<(String, String)> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("read dir")
            .flatten()
            .collect();
        entries.sort_by_key(|e| e.path());
        for entry in entries {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "md")
                && path.file_name().is_some_and(|n| n != "README.md")
            {
                let relative = path.strip_prefix(root).expect("under root");
                out.push((
                    relative.to_string_lossy().replace('\\', "/"),
                    std::fs::read_to_string(&path).expect("read"),
                ));
            }
        }
    }
    let root = package_dir().join("templates");
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out
}

const TYPES: [&str; 16] = [
    "character",
    "location",
    "district",
    "brand",
    "faction",
    "item",
    "job",
    "quest",
    "campaign",
    "event",
    "dialogue",
    "timeline",
    "assembly",
    "style_bible",
    "universe",
    "biome",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_entity_file_of_the_template_package_comes_back_as_it_went_in() {
    let dir = package_dir();
    let server = TestServer::start_with(move |config| config.templates_dir = Some(dir)).await;
    let owner = server.register("files@example.com", "Files").await;
    let mut entity_files = Vec::new();
    let mut other_files = Vec::new();
    for (path, text) in package_files() {
        let (frontmatter, _) = split(&text);
        let entity_type = frontmatter["entity_type"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if TYPES.contains(&entity_type.as_str()) {
            // The templates' ids are placeholders (`[snake_case_name]`), which no entity may
            // have: each file gets an id of its own, the one line changed.
            let id: String = path
                .trim_end_matches(".md")
                .to_lowercase()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            let text = text
                .lines()
                .map(|line| {
                    if line.starts_with("id:") {
                        format!("id: \"{id}\"")
                    } else {
                        line.to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
                + if text.ends_with('\n') { "\n" } else { "" };
            entity_files.push((path, entity_type, id, text));
        } else {
            other_files.push((path, text));
        }
    }
    assert!(entity_files.len() >= 20, "{}", entity_files.len());
    let files: Vec<Value> = entity_files
        .iter()
        .map(|(path, _, _, text)| json!({ "path": path, "content": text }))
        .collect();
    let report = import(&server, &owner, json!(files), "APPLY").await;
    assert_eq!(report["applied"], true, "{report}");
    assert_eq!(report["created"], entity_files.len(), "{report}");
    for (path, entity_type, id, text) in &entity_files {
        let exported = export(&server, &owner, &entity_type.to_uppercase(), id).await;
        let (want_frontmatter, want_body) = split(text);
        let (got_frontmatter, got_body) = split(exported["content"].as_str().expect("content"));
        assert_eq!(
            got_frontmatter, want_frontmatter,
            "{path}: the frontmatter changed"
        );
        assert_eq!(got_body, want_body, "{path}: the body changed");
        // Importing the export again changes nothing.
        let again = import(
            &server,
            &owner,
            json!([{ "path": exported["path"], "content": exported["content"] }]),
            "PREVIEW",
        )
        .await;
        assert_eq!(again["files"][0]["action"], "UNCHANGED", "{path}: {again}");
    }
    // The package's other templates (maps, design documents) are not entity types.
    let files: Vec<Value> = other_files
        .iter()
        .map(|(path, text)| json!({ "path": path, "content": text }))
        .collect();
    let report = import(&server, &owner, json!(files), "PREVIEW").await;
    for file in report["files"].as_array().expect("files") {
        assert_eq!(file["action"], "ERROR", "{file}");
        assert!(
            file["errors"][0]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("entity type"),
            "{file}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messy_files_are_previewed_then_applied_all_or_nothing() {
    let server = TestServer::start().await;
    let owner = server.register("messy@example.com", "Messy").await;
    let mut socket = subscribe_as(
        &server,
        &owner,
        "subscription { syncCompleted { source created updated unchanged sequence } }",
        json!({}),
    )
    .await;
    // A BOM, CRLF, a tab-indented list, the id under `character_id`, an unknown key.
    let rex = "\u{feff}---\r\ncharacter_id: rex\r\nentity_type: character\r\nname: Rex\r\nstatus: draft\r\nfriends:\r\n\t- mara\r\nmood_ring: teal\r\n---\r\n\r\n# Rex\r\n";
    // No `entity_type` and no `id`: both from the file name.
    let dock = "---\nname: The Dock\nage: 3\n---\nSalt.\n";
    let files = json!([
        { "path": "Characters/CH_rex.md", "content": rex },
        { "path": "Locations/LOC_old_dock.md", "content": dock },
    ]);
    let preview = import(&server, &owner, files.clone(), "PREVIEW").await;
    assert_eq!(preview["applied"], false);
    assert_eq!(preview["created"], 2, "{preview}");
    let rex_report = &preview["files"][0];
    assert_eq!(rex_report["entityId"], "rex");
    let warnings = rex_report["warnings"].to_string();
    for said in ["byte-order mark", "LF", "tab", "character_id"] {
        assert!(warnings.contains(said), "{said}: {warnings}");
    }
    assert_eq!(preview["files"][1]["entityType"], "LOCATION");
    assert_eq!(preview["files"][1]["entityId"], "old_dock");
    let nothing = server
        .ok_as(&owner, ENTITY, json!({ "type": "CHARACTER", "id": "rex" }))
        .await;
    assert!(nothing["entity"].is_null(), "a preview wrote: {nothing}");

    let applied = import(&server, &owner, files, "APPLY").await;
    assert_eq!(applied["applied"], true, "{applied}");
    let event = next_data(&mut socket, "syncCompleted").await;
    assert_eq!(event["source"], "IMPORT");
    assert_eq!(event["created"], 2);
    let stored = server
        .ok_as(&owner, ENTITY, json!({ "type": "CHARACTER", "id": "rex" }))
        .await;
    assert_eq!(stored["entity"]["status"], "DRAFT");
    assert_eq!(stored["entity"]["fields"]["mood_ring"], "teal");
    assert_eq!(stored["entity"]["fields"]["friends"], json!(["mara"]));
    assert_eq!(stored["entity"]["markdownBody"], "\n# Rex\n");
    let exported = export(&server, &owner, "CHARACTER", "rex").await;
    assert_eq!(exported["fileName"], "CH_rex.md");
    assert_eq!(exported["path"], "Characters/CH_rex.md");
    let (frontmatter, body) = split(exported["content"].as_str().expect("content"));
    // (The YAML library refuses the tab the server turned into spaces.)
    let (given, given_body) = split(&rex.replace('\t', "  "));
    for (key, value) in given.as_object().expect("mapping") {
        assert_eq!(&frontmatter[key], value, "{key}");
    }
    assert_eq!(frontmatter["id"], "rex", "a file without `id` gains one");
    assert_eq!(body, given_body);

    // The next import changes one key and the body: the preview says exactly that.
    let changed = exported["content"]
        .as_str()
        .expect("content")
        .replace("teal", "amber")
        .replace("# Rex", "# Rex Marshall");
    let files = json!([{ "path": "CH_rex.md", "content": changed }]);
    let preview = import(&server, &owner, files.clone(), "PREVIEW").await;
    let changes = &preview["files"][0]["changes"];
    assert_eq!(preview["files"][0]["action"], "UPDATE", "{preview}");
    let keys: Vec<&str> = changes
        .as_array()
        .expect("changes")
        .iter()
        .filter_map(|c| c["key"].as_str())
        .collect();
    assert_eq!(keys, ["markdown_body", "mood_ring"], "{changes}");
    assert_eq!(changes[1]["before"], "teal");
    assert_eq!(changes[1]["after"], "amber");

    // One bad file among good ones: nothing is written, every problem is reported.
    let bad = json!([
        { "path": "CH_rex.md", "content": changed },
        { "path": "CH_broken.md", "content": "---\nid: broken\nlist: [a, b\n---\n" },
        { "path": "CH_list.md", "content": "---\n- a\n- b\n---\n" },
        { "path": "notes.md", "content": "just text\n" },
        { "path": "XX_thing.md", "content": "---\nid: thing\n---\n" },
        { "path": "a/CH_twin.md", "content": "---\nid: twin\n---\n" },
        { "path": "b/CH_twin.md", "content": "---\nid: twin\n---\n" },
        { "path": "CH_odd.md", "content": "---\nid: odd\nstatus: pending\n---\n" },
    ]);
    let failed = import(&server, &owner, bad, "APPLY").await;
    assert_eq!(failed["applied"], false, "{failed}");
    assert_eq!(failed["failed"], 7, "{failed}");
    let files = failed["files"].as_array().expect("files");
    assert_eq!(files[0]["action"], "UPDATE");
    assert!(
        files[1]["errors"][0]["line"].as_u64().is_some(),
        "{}",
        files[1]
    );
    assert!(
        files[2]["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("mapping")
    );
    assert!(
        files[3]["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("no frontmatter")
    );
    assert!(
        files[4]["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("prefix")
    );
    assert!(
        files[5]["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("b/CH_twin.md")
    );
    assert!(
        files[6]["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("a/CH_twin.md")
    );
    assert!(
        files[7]["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("status")
    );
    let still = server
        .ok_as(&owner, ENTITY, json!({ "type": "CHARACTER", "id": "rex" }))
        .await;
    assert_eq!(
        still["entity"]["fields"]["mood_ring"], "teal",
        "half-applied"
    );

    let applied = import(&server, &owner, files_of(&changed), "APPLY").await;
    assert_eq!(applied["updated"], 1, "{applied}");
    let event = next_data(&mut socket, "syncCompleted").await;
    assert_eq!(event["updated"], 1);
}

fn files_of(content: &str) -> Value {
    json!([{ "path": "CH_rex.md", "content": content }])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_one_file_operations_check_format_and_fix() {
    let server = TestServer::start().await;
    let owner = server.register("ops@example.com", "Ops").await;
    let data = server
        .ok_as(
            &owner,
            "query($c: String!) { validateFrontmatter(content: $c) {
                valid entityType entityId errors { message line column } keyErrors { key message } } }",
            json!({ "c": "---\nid: rex\nentity_type: character\nname: Rex\nage: old\n---\n" }),
        )
        .await;
    let check = &data["validateFrontmatter"];
    assert_eq!(check["valid"], false, "{check}");
    assert_eq!(check["entityId"], "rex");
    assert!(
        check["keyErrors"]
            .as_array()
            .expect("key errors")
            .iter()
            .any(|e| e["key"] == "age"),
        "{check}"
    );
    let data = server
        .ok_as(
            &owner,
            "query($c: String!) { validateFrontmatter(content: $c) { valid errors { message line column } } }",
            json!({ "c": "---\nid: rex\nentity_type: character\nfriends: [a, b\n---\n" }),
        )
        .await;
    let error = &data["validateFrontmatter"]["errors"][0];
    assert!(
        error["line"].as_u64().is_some() && error["column"].as_u64().is_some(),
        "{error}"
    );

    const FORMAT: &str =
        "query($c: String!) { formatMarkdown(content: $c) { content changed changes } }";
    let messy = "---\r\nfriends: [mara]\r\nname: Rex\r\nentity_type: character\r\nid: rex\r\n---\r\n\r\n# Rex   \r\ntext\t\r\n\r\n\r\n";
    let once = server.ok_as(&owner, FORMAT, json!({ "c": messy })).await;
    let formatted = once["formatMarkdown"]["content"]
        .as_str()
        .expect("content")
        .to_owned();
    assert_eq!(once["formatMarkdown"]["changed"], true);
    assert!(
        formatted.starts_with("---\nid: rex\nentity_type: character\nname: Rex\n"),
        "{formatted}"
    );
    assert!(formatted.ends_with("---\n\n# Rex\ntext\n"), "{formatted}");
    let twice = server
        .ok_as(&owner, FORMAT, json!({ "c": formatted }))
        .await;
    assert_eq!(twice["formatMarkdown"]["changed"], false, "{twice}");
    assert_eq!(twice["formatMarkdown"]["content"], formatted.as_str());

    const FIX: &str = "query($type: EntityType!, $id: String, $c: String) {
        fixValidation(type: $type, entityId: $id, content: $c) { content fixes remainingErrors } }";
    let broken = "---\nid: CH_Rex Marshall\nentity_type: character\nname: Rex\nstatus: Active\ncreated_date: June 1, 2024\nsecondary_locations: docks, tower\n---\nBody\n";
    let data = server
        .ok_as(&owner, FIX, json!({ "type": "CHARACTER", "c": broken }))
        .await;
    let fixed = &data["fixValidation"];
    let (frontmatter, body) = split(fixed["content"].as_str().expect("content"));
    assert_eq!(frontmatter["id"], "rex_marshall", "{fixed}");
    assert_eq!(frontmatter["status"], "active");
    assert_eq!(frontmatter["created_date"], "2024-06-01");
    assert_eq!(
        frontmatter["secondary_locations"],
        json!(["docks", "tower"])
    );
    assert_eq!(body, "Body\n");
    assert_eq!(
        fixed["fixes"].as_array().expect("fixes").len(),
        4,
        "{fixed}"
    );
    assert_eq!(fixed["remainingErrors"], json!([]), "{fixed}");
    // A required key that is missing gets the template's default.
    let data = server
        .ok_as(
            &owner,
            FIX,
            json!({ "type": "UNIVERSE", "c": "---\nid: verse\nname: Verse\n---\n" }),
        )
        .await;
    let (frontmatter, _) = split(data["fixValidation"]["content"].as_str().expect("content"));
    assert_eq!(frontmatter["genre"], "", "{data}");
    assert_eq!(frontmatter["entity_type"], "universe", "{data}");
    // The fixed file imports.
    let report = import(
        &server,
        &owner,
        json!([{ "path": "CH_rex_marshall.md", "content": fixed["content"] }]),
        "APPLY",
    )
    .await;
    assert_eq!(report["applied"], true, "{report}");
    let data = server
        .ok_as(
            &owner,
            FIX,
            json!({ "type": "CHARACTER", "id": "rex_marshall" }),
        )
        .await;
    assert!(
        data["fixValidation"]["content"]
            .as_str()
            .unwrap_or_default()
            .contains("rex_marshall")
    );
    let body = server
        .gql_as(&owner, FIX, json!({ "type": "CHARACTER" }))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn players_cannot_import_and_tenants_never_meet() {
    let server = TestServer::start().await;
    let owner = server.register("a@example.com", "A").await;
    let player = server
        .invite_member(&owner, "player@example.com", "PLAYER")
        .await;
    let stranger = server.register("b@example.com", "B").await;
    let file = json!([{ "path": "CH_rex.md", "content": "---\nname: Rex\nage: 40\n---\n" }]);
    server
        .fails_as(
            &player,
            IMPORT,
            json!({ "files": file, "mode": "PREVIEW" }),
            "FORBIDDEN",
        )
        .await;
    let (status, _) = rest_import(&server, &player, "preview", zip_of(&[], None)).await;
    assert_eq!(status, 403);
    assert_eq!(
        import(&server, &owner, file.clone(), "APPLY").await["applied"],
        true
    );
    // A player may read the file; another tenant cannot see it at all.
    let exported = export(&server, &player, "CHARACTER", "rex").await;
    assert!(
        exported["content"]
            .as_str()
            .unwrap_or_default()
            .contains("age: 40")
    );
    server
        .fails_as(
            &stranger,
            EXPORT,
            json!({ "type": "CHARACTER", "id": "rex" }),
            "NOT_FOUND",
        )
        .await;
    // The same file in another tenant makes that tenant's own entity; A's is untouched.
    let mut socket = subscribe_as(
        &server,
        &owner,
        "subscription { syncCompleted { created updated } }",
        json!({}),
    )
    .await;
    let theirs = json!([{ "path": "CH_rex.md", "content": "---\nname: Rex\nage: 7\n---\n" }]);
    let report = import(&server, &stranger, theirs, "APPLY").await;
    assert_eq!(report["created"], 1, "{report}");
    let exported = export(&server, &owner, "CHARACTER", "rex").await;
    assert!(
        exported["content"]
            .as_str()
            .unwrap_or_default()
            .contains("age: 40")
    );
    // A hears only its own tenant's sync.
    let again = json!([{ "path": "CH_rex.md", "content": "---\nname: Rex\nage: 41\n---\n" }]);
    import(&server, &owner, again, "APPLY").await;
    let event = next_data(&mut socket, "syncCompleted").await;
    assert_eq!(event, json!({ "created": 0, "updated": 1 }));
}
