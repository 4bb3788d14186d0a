//! A studio exports its whole tenant (in the background, with progress), downloads the ZIP, and
//! imports it into a new tenant, which then holds every entity, relationship, note and asset
//! (the same bytes). A tampered archive is refused whole; outsiders and lower roles get nothing.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::assets::{png, upload_to};
use crate::entities::create_entity;
use crate::harness::*;

const EXPORT: &str =
    "{ tenantExport(id: $id) { id state done total bytes sha256 error downloadPath } }";

/// Starts an export as `admin` and waits (a minute at most) until it is no longer running.
async fn exported(server: &TestServer, admin: &Account) -> Value {
    let begun = server
        .ok_as(admin, "mutation { exportTenant { id state } }", json!({}))
        .await["exportTenant"]
        .clone();
    let id = begun["id"].as_str().expect("an export id").to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let query = format!("query($id: ID!) {}", EXPORT);
        let export = server.ok_as(admin, &query, json!({ "id": id })).await["tenantExport"].clone();
        if export["state"] != "RUNNING" {
            return export;
        }
        assert!(
            Instant::now() < deadline,
            "the export never finished: {export}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn download(server: &TestServer, account: &Account, path: &str) -> reqwest::Response {
    server
        .http
        .get(server.url(path))
        .bearer_auth(&account.token)
        .send()
        .await
        .expect("the download answers")
}

fn unzip(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("a ZIP");
    let mut files = BTreeMap::new();
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).expect("an entry");
        let mut content = Vec::new();
        entry.read_to_end(&mut content).expect("its bytes");
        let name = entry.name().map(|name| name.into_owned()).expect("a name");
        files.insert(name, content);
    }
    files
}

/// Imports `archive` over the GraphQL multipart request.
async fn import_graphql(server: &TestServer, admin: &Account, archive: &[u8]) -> Value {
    let operations = json!({
        "query": "mutation($a: Upload!) { importTenant(archive: $a) { applied problems entities relationships notes assets } }",
        "variables": { "a": null },
    });
    let boundary = "loregraph-tenant-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{operations}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{{\"0\": [\"variables.a\"]}}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"0\"; filename=\"tenant.zip\"\r\nContent-Type: application/zip\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(archive);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let request = server
        .http
        .post(server.url("/graphql"))
        .bearer_auth(&admin.token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body);
    send_json(request).await
}

/// Imports `archive` through `POST /api/migration/import`: the status and the answer.
async fn import_rest(server: &TestServer, admin: &Account, archive: Vec<u8>) -> (u16, Value) {
    let response = server
        .http
        .post(server.url("/api/migration/import"))
        .bearer_auth(&admin.token)
        .header("content-type", "application/zip")
        .body(archive)
        .send()
        .await
        .expect("the import answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

const REX: &str = "{ entity(type: CHARACTER, entityId: \"rex\") { name
    relationships(direction: OUTGOING) { kind origin attributes entity { entityId } }
    primaryAsset { sha256 publicUrl tags } } notes(entity: { type: CHARACTER, entityId: \"rex\" }) { notes { title content } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_exported_and_imported_into_another_is_reproduced_whole() {
    let server = TestServer::start().await;
    let admin = server.register("admin@source.test", "Source").await;
    let writer = server
        .invite_member(&admin, "writer@source.test", "WORLDBUILDER")
        .await;
    let outsider = server.register("admin@outside.test", "Outside").await;

    create_entity(&server, &admin, "CHARACTER", "rex", "Rex", json!({})).await;
    create_entity(&server, &admin, "LOCATION", "keep", "The Keep", json!({})).await;
    server
        .ok_as(
            &admin,
            "mutation { createRelationship(from: { type: CHARACTER, entityId: \"rex\" },
                to: { type: LOCATION, entityId: \"keep\" }, kind: \"lives_in\",
                attributes: { since: 3 }) { kind } }",
            json!({}),
        )
        .await;
    server
        .ok_as(
            &admin,
            "mutation { createNote(input: { title: \"Rex's secret\", content: \"He fears the dark.\",
                entity: { type: CHARACTER, entityId: \"rex\" } }) { id } }",
            json!({}),
        )
        .await;
    let picture = png(7, 5);
    let (status, body) = upload_to(
        &server,
        &admin,
        "/api/upload/character/rex/image",
        "rex.png",
        "image/png",
        picture.clone(),
        &[],
    )
    .await;
    assert_eq!(status, 201, "{body}");

    // Lower roles and other tenants may not export, follow, or download.
    server
        .fails_as(
            &writer,
            "mutation { exportTenant { id } }",
            json!({}),
            "FORBIDDEN",
        )
        .await;
    let export = exported(&server, &admin).await;
    assert_eq!(export["state"], "COMPLETE", "{export}");
    assert_eq!(export["done"], 4, "{export}");
    assert_eq!(export["total"], 4, "{export}");
    let id = export["id"].as_str().expect("an id");
    let query = format!("query($id: ID!) {}", EXPORT);
    server
        .fails_as(&outsider, &query, json!({ "id": id }), "NOT_FOUND")
        .await;
    server
        .fails_as(&writer, &query, json!({ "id": id }), "FORBIDDEN")
        .await;
    let path = export["downloadPath"].as_str().expect("a download path");
    assert_eq!(download(&server, &outsider, path).await.status(), 404);
    assert_eq!(download(&server, &writer, path).await.status(), 403);
    let response = download(&server, &admin, path).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/zip");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let archive = response.bytes().await.expect("the archive").to_vec();
    assert_eq!(
        loregraph::studio_archive::format::sha256(&archive),
        export["sha256"].as_str().expect("a checksum")
    );
    let files = unzip(&archive);
    assert!(files.contains_key("manifest.json"), "{:?}", files.keys());
    assert!(
        files.contains_key("entities/Characters/CH_rex.md"),
        "{:?}",
        files.keys()
    );

    // Into a new tenant: everything, the image's very bytes included.
    let target = server.register("admin@target.test", "Target").await;
    let imported = import_graphql(&server, &target, &archive).await;
    assert_eq!(
        imported["data"]["importTenant"],
        json!({ "applied": true, "problems": [], "entities": 2, "relationships": 1,
                "notes": 1, "assets": 1 }),
        "{imported}"
    );
    let rex = server.ok_as(&target, REX, json!({})).await;
    assert_eq!(rex["entity"]["name"], "Rex", "{rex}");
    let drawn: Vec<&Value> = rex["entity"]["relationships"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["origin"] == "EXPLICIT")
        .collect();
    assert_eq!(drawn.len(), 1, "{rex}");
    assert_eq!(drawn[0]["kind"], "lives_in");
    assert_eq!(drawn[0]["attributes"], json!({ "since": 3 }));
    assert_eq!(drawn[0]["entity"]["entityId"], "keep");
    assert_eq!(
        rex["notes"]["notes"],
        json!([{ "title": "Rex's secret", "content": "He fears the dark." }])
    );
    let url = rex["entity"]["primaryAsset"]["publicUrl"]
        .as_str()
        .expect("the imported image is rex's primary asset");
    let served = server
        .http
        .get(server.url(url))
        .send()
        .await
        .expect("the image answers");
    assert_eq!(served.bytes().await.expect("its bytes").to_vec(), picture);

    // A second import finds the entities there already and writes nothing.
    let again = import_graphql(&server, &target, &archive).await;
    let again = &again["data"]["importTenant"];
    assert_eq!(again["applied"], false, "{again}");
    assert!(
        again["problems"][0]
            .as_str()
            .is_some_and(|p| p.contains("already exists")),
        "{again}"
    );
    let notes = server
        .ok_as(&target, "{ notes { total } }", json!({}))
        .await;
    assert_eq!(notes["notes"]["total"], 1, "{notes}");

    // Tampered archives are refused whole, over REST too: a changed file, an extra one, a
    // missing one. The tenant they were sent to stays empty.
    let fresh = server.register("admin@fresh.test", "Fresh").await;
    let rezip = |files: &BTreeMap<String, Vec<u8>>| {
        loregraph::archive::write(files).unwrap_or_else(|_| panic!("a ZIP"))
    };
    let mut changed = files.clone();
    changed.insert(
        "entities/Characters/CH_rex.md".to_owned(),
        b"---\nname: Not Rex\n---\n".to_vec(),
    );
    let mut extra = files.clone();
    extra.insert(
        "entities/Characters/CH_spy.md".to_owned(),
        b"---\nname: Spy\n---\n".to_vec(),
    );
    let mut missing = files.clone();
    missing.remove("notes.json");
    for (tampered, says) in [
        (changed, "checksum"),
        (extra, "not in the manifest"),
        (missing, "not in the archive"),
    ] {
        let (status, answer) = import_rest(&server, &fresh, rezip(&tampered)).await;
        assert_eq!(status, 422, "{answer}");
        assert_eq!(answer["applied"], false, "{answer}");
        let problems = answer["problems"].to_string();
        assert!(problems.contains(says), "{says}: {answer}");
    }
    let counts = server
        .ok_as(&fresh, "{ entityCounts { live } }", json!({}))
        .await;
    let live: i64 = counts["entityCounts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|count| count["live"].as_i64())
        .sum();
    assert_eq!(live, 0, "{counts}");
    // A lower role may not import.
    let (status, _) = import_rest(&server, &writer, archive).await;
    assert_eq!(status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_export_reads_failed_and_expired_ones_are_swept() {
    use diesel_async::RunQueryDsl;
    let server = TestServer::start().await;
    let root = server.superuser("root@exports.test").await;
    let admin = server.register("admin@exports.test", "Exports").await;
    let export = exported(&server, &admin).await;
    assert_eq!(export["state"], "COMPLETE", "{export}");
    let done = export["id"].as_str().expect("an id").to_owned();

    // An export whose server stopped mid-way: running, not heard of for ten minutes. It does
    // not hold up a new one, and reads FAILED with why.
    let mut db = server.db().await;
    diesel::sql_query(
        "INSERT INTO tenant_exports (tenant_id, id, state, updated_at, expires_at)
         SELECT tenant_id, gen_random_uuid(), 'running', now() - interval '10 minutes',
                now() + interval '1 day'
         FROM tenant_exports WHERE id = $1::uuid",
    )
    .bind::<diesel::sql_types::Text, _>(&done)
    .execute(&mut db)
    .await
    .expect("an interrupted export");
    let listed = server
        .ok_as(&admin, "{ tenantExports { id state error } }", json!({}))
        .await;
    let interrupted = listed["tenantExports"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["id"] != done.as_str())
        .cloned()
        .expect("the interrupted export is listed");
    assert_eq!(interrupted["state"], "FAILED", "{listed}");
    assert!(
        interrupted["error"]
            .as_str()
            .is_some_and(|e| e.contains("stopped"))
    );
    assert_eq!(exported(&server, &admin).await["state"], "COMPLETE");

    // Past its 24 hours an export goes, archive and all.
    diesel::sql_query("UPDATE tenant_exports SET expires_at = now() - interval '1 minute'")
        .execute(&mut db)
        .await
        .expect("expiring the exports");
    let report = server
        .ok_as(
            &root,
            "mutation { runRetentionSweep { tenantExports } }",
            json!({}),
        )
        .await;
    assert_eq!(report["runRetentionSweep"]["tenantExports"], 3, "{report}");
    let query = format!("query($id: ID!) {}", EXPORT);
    server
        .fails_as(&admin, &query, json!({ "id": done }), "NOT_FOUND")
        .await;
    let path = format!("/api/migration/export/{done}");
    assert_eq!(download(&server, &admin, &path).await.status(), 404);
}

/// An archive of these files with a manifest that matches them.
fn archive_of(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    use loregraph::studio_archive::format::{self, Counts, Manifest};
    let mut all: BTreeMap<String, Vec<u8>> = files
        .iter()
        .map(|(path, bytes)| ((*path).to_owned(), bytes.clone()))
        .collect();
    let manifest = Manifest {
        format: format::FORMAT.to_owned(),
        version: format::VERSION,
        server_version: "test".to_owned(),
        exported_at: chrono::Utc::now(),
        tenant_name: "Handmade".to_owned(),
        counts: Counts::default(),
        files: format::entries_of(&all),
    };
    all.insert(
        format::MANIFEST.to_owned(),
        serde_json::to_vec(&manifest).expect("a manifest"),
    );
    loregraph::archive::write(&all).unwrap_or_else(|_| panic!("a ZIP"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archive_whose_parts_do_not_hold_together_is_refused_with_every_reason() {
    let server = TestServer::start().await;
    let admin = server.register("admin@handmade.test", "Handmade").await;
    let rex = b"---\nid: rex\nentity_type: character\nname: Rex\n---\n".to_vec();
    let relationships = json!([
        { "from": { "type": "character", "id": "rex" }, "to": { "type": "location", "id": "ghost" },
          "kind": "Not A Kind!", "attributes": {} }
    ]);
    let notes = json!([
        { "title": "Lost note", "content": "Attached to no one.", "entity": { "type": "character", "id": "nobody" } }
    ]);
    let archive = archive_of(&[
        ("entities/Characters/CH_rex.md", rex.clone()),
        ("relationships.json", relationships.to_string().into_bytes()),
        ("notes.json", notes.to_string().into_bytes()),
        ("stray.txt", b"not part of an export".to_vec()),
    ]);
    let (status, answer) = import_rest(&server, &admin, archive).await;
    assert_eq!(status, 422, "{answer}");
    let problems = answer["problems"].to_string();
    for says in [
        "the kind must be",
        "location/ghost, which the archive does not hold",
        "character/nobody, which the archive does not hold",
        "`stray.txt` is not part of a tenant export",
    ] {
        assert!(problems.contains(says), "{says}: {answer}");
    }

    // Bytes that are not an image are refused as an upload of them would be.
    let bytes = b"plain text, not a picture".to_vec();
    let sha = loregraph::studio_archive::format::sha256(&bytes);
    let assets = json!([{ "sha256": sha, "filename": "fake.png", "status": "active" }]);
    let archive = archive_of(&[
        ("entities/Characters/CH_rex.md", rex),
        ("assets.json", assets.to_string().into_bytes()),
        (&format!("assets/{sha}"), bytes),
    ]);
    let (status, answer) = import_rest(&server, &admin, archive).await;
    assert_eq!(status, 422, "{answer}");
    assert!(
        answer["problems"][0]
            .as_str()
            .is_some_and(|p| p.contains("fake.png")),
        "{answer}"
    );

    // Neither wrote anything.
    let rex = server
        .ok_as(
            &admin,
            "{ entity(type: CHARACTER, entityId: \"rex\") { name } }",
            json!({}),
        )
        .await;
    assert_eq!(rex["entity"], Value::Null, "{rex}");
}
