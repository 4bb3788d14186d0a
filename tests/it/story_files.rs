//! Story files over the binary routes: a character's cover in and out, the card as a `.chr`
//! archive that another tenant imports as the same card (content and cover byte for byte),
//! and data packages that move a story resource with everything it refers to — whole, or not
//! at all when the package is broken (bad counts, a dangling reference, an id the tenant has,
//! a ZIP bomb, a path out of the archive).

use std::io::{Cursor, Read, Write};

use serde_json::{Value, json};

use crate::assets::png;
use crate::harness::*;

const CREATE_CHARACTER: &str = "mutation($input: CharacterCardInput!) {
    createCharacterCard(input: $input) { id coverAssetId } }";
const EXPORT: &str = "mutation($ids: [ID!]!, $deps: Boolean!) {
    prepareExport(ids: $ids, includeDependencies: $deps) { exportId downloadPath
        contents { presets schemas lorebooks playerProfiles characters storyResources stories } } }";
const PREPARE_IMPORT: &str = "mutation { prepareImport { importId uploadPath } }";
const COMMIT: &str = "mutation($id: ID!) { commitImport(importId: $id) {
    contents { schemas lorebooks characters storyResources stories } ids } }";
const RESOURCE: &str = "query($id: ID!) { storyResource(id: $id) {
    displayName characters { name coverAssetId } lorebooks { entries { title } } playerSchemaSeed { displayName } } }";

async fn send(server: &TestServer, account: &Account, path: &str, bytes: Vec<u8>) -> (u16, Value) {
    let response = server
        .http
        .post(server.url(path))
        .bearer_auth(&account.token)
        .body(bytes)
        .send()
        .await
        .expect("upload");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn fetch(server: &TestServer, account: &Account, path: &str) -> (u16, String, Vec<u8>) {
    let response = server
        .http
        .get(server.url(path))
        .bearer_auth(&account.token)
        .send()
        .await
        .expect("download");
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, kind, response.bytes().await.expect("body").to_vec())
}

fn unzip(bytes: &[u8]) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("a ZIP");
    (0..archive.len())
        .map(|i| {
            let mut entry = archive.by_index(i).unwrap();
            let mut content = Vec::new();
            entry.read_to_end(&mut content).unwrap();
            (entry.name().unwrap().into_owned(), content)
        })
        .collect()
}

fn rezip(files: &std::collections::BTreeMap<String, Vec<u8>>) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, content) in files {
        writer.start_file(name.as_str(), options).unwrap();
        writer.write_all(content).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

async fn card(server: &TestServer, account: &Account, input: Value) -> String {
    server
        .ok_as(account, CREATE_CHARACTER, json!({ "input": input }))
        .await["createCharacterCard"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn documents(server: &TestServer, tenant_id: &str) -> i64 {
    let mut db = server.db().await;
    count_rows(
        &mut db,
        &format!("SELECT count(*) AS n FROM story_documents WHERE tenant_id = '{tenant_id}'"),
    )
    .await
}

async fn assets_of(server: &TestServer, tenant_id: &str) -> i64 {
    let mut db = server.db().await;
    count_rows(
        &mut db,
        &format!("SELECT count(*) AS n FROM assets WHERE tenant_id = '{tenant_id}'"),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_and_its_cover_travel_as_a_chr_archive_byte_for_byte() {
    let server = TestServer::start().await;
    let studio = server.register("cards@example.com", "Card Studio").await;
    let id = card(
        &server,
        &studio,
        json!({ "name": "Arya", "personality": "Wry.",
        "tags": ["north"], "folder": "Starks" }),
    )
    .await;
    let cover = png(24, 16);

    let (status, stored) = send(
        &server,
        &studio,
        &format!("/upload/{id}/cover"),
        cover.clone(),
    )
    .await;
    assert_eq!(status, 201, "{stored}");
    assert_eq!(stored["document_id"], id.as_str());
    let (status, kind, bytes) = fetch(&server, &studio, &format!("/download/{id}/cover")).await;
    assert_eq!((status, kind.as_str()), (200, "image/png"));
    assert_eq!(bytes, cover);
    // An update of the card keeps its cover.
    server
        .ok_as(&studio, "mutation($id: ID!) { updateCharacterCard(id: $id, input: { name: \"Arya Stark\" }) { id } }", json!({ "id": id }))
        .await;

    let (status, kind, chr) = fetch(&server, &studio, &format!("/download/{id}/chr")).await;
    assert_eq!((status, kind.as_str()), (200, "application/zip"));
    let files = unzip(&chr);
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert_eq!(manifest["format"], "sillystage_character_card");
    assert_eq!(manifest["character_id"], id.as_str());
    assert_eq!(manifest["cover_mime_type"], "image/png");
    assert_eq!(files[manifest["cover_path"].as_str().unwrap()], cover);

    // Another studio imports it as the same card; its own export is the same content and cover.
    let other = server
        .register("other-cards@example.com", "Other Card Studio")
        .await;
    let (status, imported) = send(
        &server,
        &other,
        "/upload/character_import/archive",
        chr.clone(),
    )
    .await;
    assert_eq!(status, 201, "{imported}");
    assert_eq!(imported["document_id"], id.as_str());
    let (_, _, again) = fetch(&server, &other, &format!("/download/{id}/chr")).await;
    let again = unzip(&again);
    assert_eq!(again["content.json"], files["content.json"]);
    assert_eq!(again[manifest["cover_path"].as_str().unwrap()], cover);

    // Twice is a conflict, unless as a copy.
    let (status, _) = send(
        &server,
        &other,
        "/upload/character_import/archive",
        chr.clone(),
    )
    .await;
    assert_eq!(status, 409);
    let (status, copy) = send(
        &server,
        &other,
        "/upload/character_import/archive?copy=true",
        chr.clone(),
    )
    .await;
    assert_eq!(status, 201);
    assert_ne!(copy["document_id"], id.as_str());

    // Not an image, a GIF, a broken or hostile archive: refused, nothing made.
    let before = documents(&server, &other.tenant_id).await;
    let (status, _) = send(
        &server,
        &studio,
        &format!("/upload/{id}/cover"),
        b"not an image".to_vec(),
    )
    .await;
    assert_eq!(status, 415);
    let mut traversal = files.clone();
    traversal.insert("../escape.json".into(), b"{}".to_vec());
    let mut bomb = files.clone();
    bomb.insert("padding.bin".into(), vec![0; 48 * 1024 * 1024]);
    let mut too_long = files.clone();
    too_long.insert(
        "content.json".into(),
        serde_json::to_vec(&json!({ "id": id, "name": "x".repeat(101) })).unwrap(),
    );
    let assets_before = assets_of(&server, &other.tenant_id).await;
    let (status, _) = send(
        &server,
        &other,
        "/upload/character_import/archive?copy=true",
        rezip(&too_long),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        assets_of(&server, &other.tenant_id).await,
        assets_before,
        "no cover left behind"
    );
    let mut lying = files.clone();
    lying.insert(
        "content.json".into(),
        serde_json::to_vec(&json!({ "id": "someone-else", "name": "X" })).unwrap(),
    );
    for archive in [
        b"PK not really".to_vec(),
        rezip(&traversal),
        rezip(&bomb),
        rezip(&lying),
    ] {
        let (status, body) = send(
            &server,
            &other,
            "/upload/character_import/archive?copy=true",
            archive,
        )
        .await;
        assert_eq!(status, 422, "{body}");
    }
    assert_eq!(documents(&server, &other.tenant_id).await, before);

    // Another tenant's or a lower role's hands stay off.
    let (status, _, _) = fetch(
        &server,
        &other,
        &format!("/download/{}/cover", copy["document_id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(status, 200, "their own copy's cover");
    let stranger = server
        .register("stranger-cards@example.com", "Stranger Studio")
        .await;
    let (status, _, _) = fetch(&server, &stranger, &format!("/download/{id}/cover")).await;
    assert_eq!(status, 404);
    let player = server
        .invite_member(&studio, "card-player@example.com", "PLAYER")
        .await;
    let (status, _, _) = fetch(&server, &player, &format!("/download/{id}/cover")).await;
    assert_eq!(status, 200, "players see covers");
    let (status, _) = send(
        &server,
        &player,
        &format!("/upload/{id}/cover"),
        cover.clone(),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _, _) = fetch(&server, &player, &format!("/download/{id}/chr")).await;
    assert_eq!(status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_package_moves_a_story_resource_whole_or_not_at_all() {
    let server = TestServer::start().await;
    let studio = server.register("pack@example.com", "Pack Studio").await;
    let schema = server
        .ok_as(&studio, "mutation { createStateSchema(displayName: \"Player\", input: { fields: [{ key: \"hp\", valueType: INT, default: 10 }] }) { id } }", json!({}))
        .await["createStateSchema"]["id"].clone();
    let book = server
        .ok_as(&studio, "mutation { createLorebook(displayName: \"North\", entries: [{ title: \"The Wall\", content: \"Ice.\" }]) { id } }", json!({}))
        .await["createLorebook"]["id"].clone();
    let arya = card(
        &server,
        &studio,
        json!({ "name": "Arya", "schemaId": schema }),
    )
    .await;
    let jon = card(&server, &studio, json!({ "name": "Jon" })).await;
    let cover = png(8, 8);
    assert_eq!(
        send(
            &server,
            &studio,
            &format!("/upload/{jon}/cover"),
            cover.clone()
        )
        .await
        .0,
        201
    );
    let resource = server
        .ok_as(&studio, "mutation($input: StoryResourceInput!) { createStoryResource(input: $input) { id } }",
            json!({ "input": { "storyConcept": "Two siblings and a wall.", "characterIds": [arya, jon],
                "lorebookIds": [book], "playerSchemaIdSeed": schema } }))
        .await["createStoryResource"]["id"].clone();

    let story = server
        .ok_as(&studio, "mutation($input: CreateStoryInput!) { createStory(displayName: \"Two\", input: $input) { id } }",
            json!({ "input": { "resourceId": resource, "playerSchemaId": schema, "graph": {
                "startNode": "wall", "nodes": [{ "id": "wall", "title": "The Wall", "characters": [jon] }] } } }))
        .await["createStory"]["id"]
        .clone();
    let export = server
        .ok_as(&studio, EXPORT, json!({ "ids": [story], "deps": true }))
        .await["prepareExport"]
        .clone();
    assert_eq!(
        export["contents"],
        json!({ "presets": 0, "schemas": 1, "lorebooks": 1,
        "playerProfiles": 0, "characters": 2, "storyResources": 1, "stories": 1 })
    );
    let (status, _, package) =
        fetch(&server, &studio, export["downloadPath"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    let files = unzip(&package);
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert_eq!(manifest["format"], "sillystage_data_package");
    assert_eq!(manifest["contents"]["characters"]["count"], 2);
    assert!(files.contains_key(&format!(
        "story_resources/{}.json",
        resource.as_str().unwrap()
    )));
    assert!(files.contains_key(&format!("characters/{jon}/cover.png")));

    let elsewhere = server.register("unpack@example.com", "Unpack Studio").await;
    let import = |account: Account, archive: Vec<u8>| {
        let server = &server;
        async move {
            let slot =
                server.ok_as(&account, PREPARE_IMPORT, json!({})).await["prepareImport"].clone();
            let (status, body) = send(
                server,
                &account,
                slot["uploadPath"].as_str().unwrap(),
                archive,
            )
            .await;
            assert_eq!(status, 201, "{body}");
            server
                .gql_as(&account, COMMIT, json!({ "id": slot["importId"] }))
                .await
        }
    };

    // Broken packages change nothing: not the documents, not the assets.
    let mut miscounted = files.clone();
    let mut bad = manifest.clone();
    bad["contents"]["lorebooks"]["count"] = json!(2);
    miscounted.insert("manifest.json".into(), serde_json::to_vec(&bad).unwrap());
    let mut traversal = files.clone();
    traversal.insert("presets/../../x.json".into(), b"{}".to_vec());
    let mut bomb = files.clone();
    bomb.insert("presets/zeros.bin".into(), vec![0; 40 * 1024 * 1024]);
    let shallow = server
        .ok_as(&studio, EXPORT, json!({ "ids": [resource], "deps": false }))
        .await["prepareExport"]
        .clone();
    let (_, _, dangling) = fetch(&server, &studio, shallow["downloadPath"].as_str().unwrap()).await;
    let mut broken_cover = files.clone();
    broken_cover.insert(format!("characters/{jon}/cover.png"), cover[..40].to_vec());
    for (archive, code) in [
        (rezip(&broken_cover), "UNSUPPORTED_MEDIA_TYPE"),
        (rezip(&miscounted), "BAD_USER_INPUT"),
        (rezip(&traversal), "BAD_USER_INPUT"),
        (rezip(&bomb), "BAD_USER_INPUT"),
        (dangling, "BAD_USER_INPUT"),
    ] {
        let refused = import(elsewhere.clone(), archive).await;
        assert_eq!(error_code(&refused), code, "{refused}");
        assert_eq!(documents(&server, &elsewhere.tenant_id).await, 0);
        assert_eq!(assets_of(&server, &elsewhere.tenant_id).await, 0);
    }

    // The whole package comes in, ids kept, the cast's cover with it.
    let done = import(elsewhere.clone(), package.clone()).await;
    assert_eq!(
        done["data"]["commitImport"]["contents"],
        json!({ "schemas": 1, "lorebooks": 1, "characters": 2, "storyResources": 1, "stories": 1 }),
        "{done}"
    );
    let seen = server
        .ok_as(&elsewhere, RESOURCE, json!({ "id": resource }))
        .await["storyResource"]
        .clone();
    assert_eq!(seen["characters"][0]["name"], "Arya");
    assert_eq!(seen["lorebooks"][0]["entries"][0]["title"], "The Wall");
    assert_eq!(seen["playerSchemaSeed"]["displayName"], "Player");
    let arrived = server
        .ok_as(
            &elsewhere,
            "query($id: ID!) { story(id: $id) { graphVersion graph { startNode } } }",
            json!({ "id": story }),
        )
        .await["story"]
        .clone();
    assert_eq!(
        arrived,
        json!({ "graphVersion": 1, "graph": { "startNode": "wall" } })
    );
    let (status, _, bytes) = fetch(&server, &elsewhere, &format!("/download/{jon}/cover")).await;
    assert_eq!((status, bytes), (200, cover));

    // Twice: every id is taken now.
    let again = import(elsewhere.clone(), package.clone()).await;
    assert_eq!(error_code(&again), "CONFLICT");

    // An import slot is its tenant's: nobody else uploads into it or commits it.
    let slot = server.ok_as(&elsewhere, PREPARE_IMPORT, json!({})).await["prepareImport"].clone();
    let (status, _) = send(
        &server,
        &studio,
        slot["uploadPath"].as_str().unwrap(),
        package.clone(),
    )
    .await;
    assert_eq!(status, 404);
    server
        .fails_as(
            &studio,
            COMMIT,
            json!({ "id": slot["importId"] }),
            "NOT_FOUND",
        )
        .await;

    // Exports are the exporter's; PLAYERs make none; keys never leave.
    let (status, _, _) = fetch(
        &server,
        &elsewhere,
        export["downloadPath"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, 404);
    let player = server
        .invite_member(&studio, "pack-player@example.com", "PLAYER")
        .await;
    server
        .fails_as(
            &player,
            EXPORT,
            json!({ "ids": [resource], "deps": true }),
            "FORBIDDEN",
        )
        .await;
    server
        .fails_as(&player, PREPARE_IMPORT, json!({}), "FORBIDDEN")
        .await;
    let connection = crate::story_connections::create_connection(
        &server,
        &studio,
        crate::story_connections::openai_input("https://llm.example", Some("sk-0123456789")),
    )
    .await;
    server
        .fails_as(
            &studio,
            EXPORT,
            json!({ "ids": [connection["id"]], "deps": false }),
            "BAD_USER_INPUT",
        )
        .await;
}
