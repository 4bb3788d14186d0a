//! The retention sweeper removes exactly what is past its retention, a batch at a time, and
//! nothing else; only a SUPERUSER may run it on demand.

use std::time::{Duration, SystemTime};

use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::json;

use crate::assets::{png, post_upload, processed};
use crate::entities::create_entity;
use crate::harness::*;

const SWEEP: &str = "mutation { runRetentionSweep { ran assetJobs assetObjects
    ollamaConversations stripeEvents revisions signInWindows } }";

async fn exec(db: &mut AsyncPgConnection, sql: &str) {
    diesel::sql_query(sql)
        .execute(db)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Writes `bytes` at `relative` under the asset directory, last modified `age` ago.
fn stored_file(server: &TestServer, relative: &str, age: Duration) -> std::path::PathBuf {
    let path = server.assets_dir.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, b"bytes").unwrap();
    let file = std::fs::File::options().write(true).open(&path).unwrap();
    file.set_modified(SystemTime::now() - age).unwrap();
    path
}

const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_removes_exactly_what_is_past_retention() {
    const DAY: Duration = Duration::from_secs(24 * 3600);
    let server = TestServer::start_with(|config| {
        config.retention.revisions = DAY;
        config.retention.revisions_kept = 2;
    })
    .await;
    let root = server.superuser("root@retention.test").await;
    let owner = server.register("owner@retention.test", "Retention").await;
    let mut db = server.db().await;

    // Entity revisions: "old" has five, all two days old (the newest two stay); "new" has
    // five from now.
    for id in ["old", "new"] {
        create_entity(&server, &owner, "LOCATION", id, id, json!({})).await;
        for n in 0..4 {
            server
                .ok_as(
                    &owner,
                    "mutation($id: String!, $name: String!) { updateEntity(type: LOCATION,
                        entityId: $id, input: { name: $name }) { version } }",
                    json!({ "id": id, "name": format!("{id} {n}") }),
                )
                .await;
        }
    }
    exec(
        &mut db,
        "UPDATE entity_revisions SET created_at = now() - interval '2 days' WHERE entity_id = 'old'",
    )
    .await;

    // Asset jobs: two uploads, processed; one finished eight days ago.
    let mut sha = Vec::new();
    for side in [8, 9] {
        let (status, body) =
            post_upload(&server, &owner, "p.png", "image/png", png(side, side)).await;
        assert_eq!(status, 201, "{body}");
        processed(&server, &owner, body["id"].as_str().unwrap()).await;
        sha.push(body["sha256"].as_str().unwrap().to_owned());
    }
    exec(
        &mut db,
        &format!(
            "UPDATE asset_jobs SET updated_at = now() - interval '8 days' WHERE asset_id IN
             (SELECT id FROM assets WHERE sha256 = '{}')",
            sha[0]
        ),
    )
    .await;

    // Stored bytes: an old file no row records (gone), a fresh one (kept for now), an old
    // one of a tenant that no longer exists (gone), and a used one made old (kept).
    let tenant = &owner.tenant_id;
    let orphan = stored_file(&server, &format!("originals/{tenant}/01/{}", &HEX), 2 * DAY);
    let fresh_hash = HEX.replace('0', "f");
    let fresh = stored_file(
        &server,
        &format!("originals/{tenant}/ff/{fresh_hash}"),
        Duration::ZERO,
    );
    let gone_tenant = uuid::Uuid::new_v4();
    let deleted = stored_file(
        &server,
        &format!("thumbnails/{gone_tenant}/01/{HEX}.png"),
        2 * DAY,
    );
    let used = server
        .assets_dir
        .join(format!("originals/{tenant}/{}/{}", &sha[1][..2], sha[1]));
    assert!(used.is_file(), "{}", used.display());
    std::fs::File::options()
        .write(true)
        .open(&used)
        .unwrap()
        .set_modified(SystemTime::now() - 2 * DAY)
        .unwrap();
    let unknown = stored_file(&server, "elsewhere/notes.txt", 30 * DAY);

    // Ollama conversations: the owner's live session's (kept), one of no session (gone),
    // and a live session's left idle for 31 days (gone).
    let user = &owner.user_id;
    let live_session: String = {
        #[derive(diesel::QueryableByName)]
        struct Id {
            #[diesel(sql_type = diesel::sql_types::Text)]
            id: String,
        }
        diesel::sql_query(format!(
            "SELECT id::text AS id FROM sessions WHERE user_id = '{user}' AND revoked_at IS NULL LIMIT 1"
        ))
        .get_result::<Id>(&mut db)
        .await
        .unwrap()
        .id
    };
    let idle_session = server.login("owner@retention.test", PASSWORD).await;
    assert!(idle_session.get("errors").is_none(), "{idle_session}");
    // A live API key's conversation is kept too.
    let key = server
        .ok_as(
            &owner,
            "mutation { createApiKey(name: \"ollama\") { apiKey { id } } }",
            json!({}),
        )
        .await["createApiKey"]["apiKey"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (owner_key, age) in [
        (live_session.clone(), "0 days"),
        (key.clone(), "0 days"),
        (uuid::Uuid::new_v4().to_string(), "0 days"),
        (
            format!(
                "(SELECT id::text FROM sessions WHERE user_id = '{user}' AND id <> '{live_session}' LIMIT 1)"
            ),
            "31 days",
        ),
    ] {
        let key = if owner_key.starts_with('(') {
            owner_key
        } else {
            format!("'{owner_key}'")
        };
        exec(
            &mut db,
            &format!(
                "INSERT INTO ollama_conversations (owner_key, tenant_id, user_id, server_url, model, messages, updated_at)
                 VALUES ({key}::uuid, '{tenant}', '{user}', 'http://o', 'm', '[]', now() - interval '{age}')"
            ),
        )
        .await;
    }

    // Stripe event ids: one from 100 days ago (gone), one from yesterday (kept). Sign-in
    // windows: one that ended (gone), one running (kept).
    exec(
        &mut db,
        "INSERT INTO stripe_events (id, event_type, received_at) VALUES
         ('evt_old', 'x', now() - interval '100 days'), ('evt_new', 'x', now() - interval '1 day')",
    )
    .await;
    exec(
        &mut db,
        "INSERT INTO login_throttle (key, window_started, attempts) VALUES
         ('address:10.0.0.1', now() - interval '1 day', 3), ('address:10.0.0.2', now(), 3)",
    )
    .await;

    // A member below SUPERUSER may not run it.
    server.fails_as(&owner, SWEEP, json!({}), "FORBIDDEN").await;

    let report = server.ok_as(&root, SWEEP, json!({})).await["runRetentionSweep"].clone();
    assert_eq!(
        report,
        json!({ "ran": true, "assetJobs": 1, "assetObjects": 2, "ollamaConversations": 2,
                "stripeEvents": 1, "revisions": 3, "signInWindows": 1 })
    );
    assert!(!orphan.exists() && !deleted.exists());
    assert!(fresh.exists() && used.exists() && unknown.exists());
    assert_eq!(
        count_rows(
            &mut db,
            "SELECT count(*) AS n FROM entity_revisions WHERE entity_id = 'old'"
        )
        .await,
        2
    );
    assert_eq!(
        count_rows(
            &mut db,
            "SELECT count(*) AS n FROM entity_revisions WHERE entity_id = 'new'"
        )
        .await,
        5
    );
    assert_eq!(
        count_rows(&mut db, "SELECT count(*) AS n FROM asset_jobs").await,
        1
    );
    assert_eq!(
        count_rows(
            &mut db,
            &format!(
                "SELECT count(*) AS n FROM ollama_conversations WHERE owner_key = '{live_session}'"
            )
        )
        .await,
        1
    );
    assert_eq!(
        count_rows(&mut db, "SELECT count(*) AS n FROM ollama_conversations").await,
        2
    );
    // The placeholder rows of the claims are gone with the bytes.
    assert_eq!(
        count_rows(&mut db, "SELECT count(*) AS n FROM asset_blobs").await,
        2
    );

    // The history that is left still reads; the used image is still served.
    let history = server
        .ok_as(
            &owner,
            "{ entityHistory(type: LOCATION, entityId: \"old\") { total } }",
            json!({}),
        )
        .await;
    assert_eq!(history["entityHistory"]["total"], 2);

    // A second run finds nothing more.
    let report = server.ok_as(&root, SWEEP, json!({})).await["runRetentionSweep"].clone();
    assert_eq!(
        report,
        json!({ "ran": true, "assetJobs": 0, "assetObjects": 0, "ollamaConversations": 0,
                "stripeEvents": 0, "revisions": 0, "signInWindows": 0 })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_node_sweeps_at_a_time() {
    use diesel_async::SimpleAsyncConnection;
    let server = TestServer::start().await;
    let root = server.superuser("root@one-at-a-time.test").await;
    // Another node's run holds the lock (as this connection now does).
    let mut other_node = server.db().await;
    other_node
        .batch_execute(
            "BEGIN; SELECT pg_advisory_xact_lock(hashtextextended('loregraph-retention', 0))",
        )
        .await
        .unwrap();
    let report = server.ok_as(&root, SWEEP, json!({})).await;
    assert_eq!(report["runRetentionSweep"]["ran"], false, "{report}");
    other_node.batch_execute("COMMIT").await.unwrap();
    let report = server.ok_as(&root, SWEEP, json!({})).await;
    assert_eq!(report["runRetentionSweep"]["ran"], true, "{report}");
}
