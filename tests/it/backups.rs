//! Backups of the database: an operator makes one (GraphQL or the command line), sees it
//! listed, and restores it with the server stopped, which brings back the database as it was
//! when the backup began. Nobody else may make, list or remove them.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::binary::{data_dir, me_on, register_on, run_to_end, start, terminate};

/// A server process that is stopped even when the test fails half-way (it would otherwise
/// outlive the test, holding its data dir and the output pipe).
struct Running(Option<std::process::Child>);

impl Running {
    fn stop(mut self) -> bool {
        self.0
            .take()
            .is_some_and(|child| terminate(child).success())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
use crate::harness::*;

const BACKUPS: &str = "{ backups { name state startedAt bytes error } }";

/// The backups once none is running (within a minute).
async fn settled_backups(server: &TestServer, root: &Account) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let list = server.ok_as(root, BACKUPS, json!({})).await["backups"].clone();
        let list = list.as_array().cloned().unwrap_or_default();
        if list.iter().all(|backup| backup["state"] != "RUNNING") {
            return list;
        }
        assert!(
            Instant::now() < deadline,
            "the backup never finished: {list:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_makes_lists_and_removes_backups_and_no_one_else_does() {
    let folder = tempfile::tempdir().expect("a backup folder");
    let dir = folder.path().to_path_buf();
    let server = TestServer::start_with(move |config| {
        config.backups.dir = Some(dir);
        config.backups.keep = 1;
    })
    .await;
    let root = server.superuser("root@backups.test").await;
    let admin = server.register("admin@backups.test", "Backups").await;

    for operation in [
        BACKUPS,
        "mutation { createBackup { name } }",
        "mutation { deleteBackup(name: \"loregraph-20261207T140509042Z.dump\") }",
    ] {
        server
            .fails_as(&admin, operation, json!({}), "FORBIDDEN")
            .await;
    }
    let anonymous = server.gql(None, BACKUPS, json!({})).await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED", "{anonymous}");

    let begun = server
        .ok_as(&root, "mutation { createBackup { name state } }", json!({}))
        .await["createBackup"]
        .clone();
    assert_eq!(begun["state"], "RUNNING", "{begun}");
    let name = begun["name"].as_str().expect("a name").to_owned();
    let list = settled_backups(&server, &root).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["name"], name.as_str());
    assert_eq!(list[0]["state"], "COMPLETE", "{list:?}");
    assert!(
        list[0]["bytes"].as_f64().unwrap_or(0.0) > 1_000.0,
        "{list:?}"
    );
    // What was written is a dump PostgreSQL's tools read, holding our tables.
    let file = folder.path().join(&name);
    let tools = loregraph::db::backup::tools_dir(None).expect("the PostgreSQL tools");
    let contents = std::process::Command::new(tools.join("pg_restore"))
        .arg("--list")
        .arg(&file)
        .output()
        .expect("pg_restore runs");
    assert!(contents.status.success());
    let contents = String::from_utf8_lossy(&contents.stdout);
    assert!(
        contents.contains("TABLE DATA public entities"),
        "{contents}"
    );

    // Only the newest is kept (keep = 1).
    server
        .ok_as(&root, "mutation { createBackup { name } }", json!({}))
        .await;
    let list = settled_backups(&server, &root).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_ne!(list[0]["name"], name.as_str());
    assert!(!file.exists());

    // Names that are not a backup's reach nothing.
    for wrong in [
        "../postgres.log",
        "loregraph-20200101T000000000Z.dump",
        &name,
    ] {
        server
            .fails_as(
                &root,
                "mutation($name: String!) { deleteBackup(name: $name) }",
                json!({ "name": wrong }),
                "NOT_FOUND",
            )
            .await;
    }
    let newest = list[0]["name"].as_str().expect("a name").to_owned();
    let removed = server
        .ok_as(
            &root,
            "mutation($name: String!) { deleteBackup(name: $name) }",
            json!({ "name": newest }),
        )
        .await;
    assert_eq!(removed["deleteBackup"], true);
    assert!(settled_backups(&server, &root).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_restored_with_the_server_stopped_brings_back_the_database_as_it_was() {
    let data = data_dir();
    let data_path = data.path().to_str().expect("a UTF-8 path");
    let (child, address) = start(data.path());
    let server = Running(Some(child));
    let before = register_on(&address, "before@restore.test").await;

    // Made from the command line beside the running server.
    let (ok, stdout, stderr) = run_to_end(&["--data-dir", data_path, "backup", "create"], &[]);
    assert!(ok, "{stdout} | {stderr}");
    let name = stdout
        .split_whitespace()
        .find(|word| word.starts_with("loregraph-"))
        .unwrap_or_else(|| panic!("no backup named in {stdout}"))
        .to_owned();
    let after = register_on(&address, "after@restore.test").await;
    assert_eq!(me_on(&address, &after).await, "after@restore.test");

    // Never under a running server.
    let (ok, _, stderr) = run_to_end(&["--data-dir", data_path, "backup", "restore", &name], &[]);
    assert!(!ok);
    assert!(stderr.contains("stop it first"), "{stderr}");
    assert!(server.stop());

    let (ok, stdout, _) = run_to_end(&["--data-dir", data_path, "backup", "list"], &[]);
    assert!(ok && stdout.contains(&name), "{stdout}");
    let (ok, _, stderr) = run_to_end(
        &[
            "--data-dir",
            data_path,
            "backup",
            "restore",
            "loregraph-20200101T000000000Z.dump",
        ],
        &[],
    );
    assert!(!ok && stderr.contains("no backup named"), "{stderr}");
    let (ok, stdout, stderr) =
        run_to_end(&["--data-dir", data_path, "backup", "restore", &name], &[]);
    assert!(ok, "{stdout} | {stderr}");
    assert!(stdout.contains("restored"), "{stdout}");

    // The account made before the backup signs in as before (its session was in the backup,
    // and so was the signing key); the one made after it is gone.
    let (child, address) = start(data.path());
    let server = Running(Some(child));
    assert_eq!(me_on(&address, &before).await, "before@restore.test");
    assert_eq!(me_on(&address, &after).await, "UNAUTHENTICATED");
    assert!(server.stop());
}
