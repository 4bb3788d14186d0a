//! A project folder as a ZIP archive: ten thousand files imported in one REST request, hostile
//! entries (a path leaving the archive, a link, a file too large, bytes that are not UTF-8)
//! each reported with nothing written, a body that is no archive refused, and the same import
//! over the GraphQL multipart request.

use std::io::Write as _;

use serde_json::{Value, json};

use crate::harness::*;

/// A ZIP archive of `(name, bytes)` entries, deflated.
pub fn zip_of(entries: &[(String, Vec<u8>)], symlink: Option<&str>) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        writer.start_file(name.as_str(), options).expect("entry");
        writer.write_all(bytes).expect("write");
    }
    if let Some(name) = symlink {
        writer
            .add_symlink(name, "/etc/passwd", options)
            .expect("symlink");
    }
    writer.finish().expect("finish").into_inner()
}

pub async fn rest_import(
    server: &TestServer,
    account: &Account,
    mode: &str,
    zip: Vec<u8>,
) -> (u16, Value) {
    let response = server
        .http
        .post(server.url(&format!("/api/import/markdown?mode={mode}")))
        .bearer_auth(&account.token)
        .header("content-type", "application/zip")
        .body(zip)
        .send()
        .await
        .expect("send");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_folder_comes_as_a_zip_archive() {
    let server = TestServer::start().await;
    let owner = server.register("zip@example.com", "Zip").await;
    // Ten thousand files in one request, over the REST upload.
    let entries: Vec<(String, Vec<u8>)> = (0..10_000)
        .map(|i| {
            (
                format!("Project/Characters/CH_npc_{i:05}.md"),
                format!("---\nname: NPC {i}\nage: {}\n---\n\n# NPC {i}\n", i % 90).into_bytes(),
            )
        })
        .chain([
            ("Project/README.md".to_owned(), b"# My world\n".to_vec()),
            (
                "Project/Characters/images/a.png".to_owned(),
                vec![0x89, b'P', b'N', b'G'],
            ),
            (
                "Project/.obsidian/CH_hidden.md".to_owned(),
                b"---\nid: hidden\n---\n".to_vec(),
            ),
        ])
        .collect();
    let (status, report) = rest_import(&server, &owner, "apply", zip_of(&entries, None)).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["applied"], true, "{}", report["failed"]);
    assert_eq!(report["created"], 10_000);
    assert_eq!(report["skipped"], 3, "{}", report["skipped_paths"]);
    let mut db = server.db().await;
    assert_eq!(
        count_rows(
            &mut db,
            "SELECT count(*) AS n FROM entities WHERE entity_id LIKE 'npc_%'"
        )
        .await,
        10_000
    );

    // Hostile entries: each reported, nothing written.
    let hostile = zip_of(
        &[
            (
                "../../etc/CH_passwd.md".to_owned(),
                b"---\nid: passwd\n---\n".to_vec(),
            ),
            (
                "CH_latin1.md".to_owned(),
                b"---\nid: latin\nname: caf\xe9\n---\n".to_vec(),
            ),
            ("CH_huge.md".to_owned(), vec![b'a'; 2 * 1024 * 1024]),
            ("CH_fine.md".to_owned(), b"---\nname: Fine\n---\n".to_vec()),
        ],
        Some("CH_link.md"),
    );
    let (status, report) = rest_import(&server, &owner, "apply", hostile).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["applied"], false, "{report}");
    let problems: Vec<(String, String)> = report["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_owned(),
                f["errors"].to_string(),
            )
        })
        .collect();
    let problem = |path: &str| {
        problems
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, e)| e.clone())
            .unwrap_or_else(|| panic!("{path} not reported: {problems:?}"))
    };
    assert!(problem("../../etc/CH_passwd.md").contains("plain path"));
    assert!(problem("CH_latin1.md").contains("UTF-8"));
    assert!(problem("CH_huge.md").contains("too large"));
    assert!(problem("CH_link.md").contains("symbolic link"));
    assert_eq!(problem("CH_fine.md"), "[]");
    assert_eq!(
        count_rows(
            &mut db,
            "SELECT count(*) AS n FROM entities WHERE entity_id = 'fine'"
        )
        .await,
        0
    );
    let (status, body) = rest_import(&server, &owner, "apply", b"not a zip".to_vec()).await;
    assert_eq!(status, 422, "{body}");

    // The same over the GraphQL multipart request.
    let archive = zip_of(
        &[("CH_fine.md".to_owned(), b"---\nname: Fine\n---\n".to_vec())],
        None,
    );
    let operations = json!({
        "query": "mutation($a: Upload!) { importMarkdownArchive(archive: $a, mode: PREVIEW) { created files { entityId action } } }",
        "variables": { "a": null },
    });
    let boundary = "loregraph-markdown-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{operations}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{{\"0\": [\"variables.a\"]}}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"0\"; filename=\"project.zip\"\r\nContent-Type: application/zip\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&archive);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let answer = send_json(
        server
            .http
            .post(server.url("/graphql"))
            .bearer_auth(&owner.token)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body),
    )
    .await;
    assert_eq!(
        answer["data"]["importMarkdownArchive"]["created"], 1,
        "{answer}"
    );
    assert_eq!(
        answer["data"]["importMarkdownArchive"]["files"][0]["entityId"],
        "fine"
    );
}
