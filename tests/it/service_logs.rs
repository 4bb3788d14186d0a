//! The operators read the server's recent log lines, and browsers report theirs: bounded in
//! size, count and rate, kept in memory only, each line unable to pose as another.

use serde_json::{Value, json};

use crate::harness::*;

const LOGS: &str = "query($level: LogLevel!, $source: LogSource) {
    serviceLogs(level: $level, source: $source, limit: 2000) { level source target message } }";

async fn report(server: &TestServer, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(server.url("/api/logs/frontend"))
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsers_report_their_errors_and_only_the_operators_read_them() {
    let server = TestServer::start().await;
    let root = server.superuser("root@logs.test").await;
    let admin = server.register("admin@logs.test", "Logs").await;
    let marker = format!("marker-{}", uuid::Uuid::new_v4());

    let (status, body) = report(
        &server,
        json!({ "entries": [
            { "level": "error", "message": format!("boom {marker}\nERROR forged line"), "url": "/map" },
            { "level": "warn", "message": format!("meh {marker}") },
        ] }),
    )
    .await;
    assert_eq!(
        (status, body["accepted"].as_i64()),
        (202, Some(2)),
        "{body}"
    );

    let lines = server
        .ok_as(
            &root,
            LOGS,
            json!({ "level": "ERROR", "source": "FRONTEND" }),
        )
        .await["serviceLogs"]
        .clone();
    let ours: Vec<&Value> = lines
        .as_array()
        .expect("lines")
        .iter()
        .filter(|line| {
            line["message"]
                .as_str()
                .unwrap_or_default()
                .contains(&marker)
        })
        .collect();
    assert_eq!(ours.len(), 1, "{lines}");
    assert_eq!(
        ours[0]["message"],
        format!("boom {marker} ERROR forged line")
    );
    assert_eq!(ours[0]["target"], "/map");
    assert_eq!(ours[0]["source"], "FRONTEND");
    let warned = server
        .ok_as(
            &root,
            LOGS,
            json!({ "level": "WARN", "source": "FRONTEND" }),
        )
        .await["serviceLogs"]
        .to_string();
    assert!(warned.contains(&format!("meh {marker}")));

    server
        .fails_as(&admin, LOGS, json!({ "level": "ERROR" }), "FORBIDDEN")
        .await;

    // Bounded: entries per report, bytes per body, reports per minute.
    let many: Vec<Value> = (0..51)
        .map(|n| json!({ "message": format!("{n}") }))
        .collect();
    assert_eq!(report(&server, json!({ "entries": many })).await.0, 400);
    let huge = "x".repeat(70 * 1024);
    assert_eq!(report(&server, json!({ "message": huge })).await.0, 413);
    let mut statuses = Vec::new();
    for _ in 0..60 {
        statuses.push(report(&server, json!({ "message": "again" })).await.0);
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 202 || *s == 429),
        "{statuses:?}"
    );
}
