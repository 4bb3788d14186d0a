//! The README runs as written: every GraphQL snippet and every `curl` command in it, in the order
//! a reader meets them, on a fresh server (billing through a fake Stripe, as the README's billing
//! section assumes a configured one).
//!
//! How the README is read:
//! - each ```graphql block holds operations one after another; each runs as the account the
//!   first snippet registers (queries and mutations over HTTP, subscriptions on a socket, which
//!   must be accepted);
//! - `"<field from operation>"` stands for a value an earlier answer gave: the first `field`
//!   found in the answer of the last operation whose root field is `operation`;
//! - an operation whose line ends with a comment `# → CODE…` must fail with that
//!   `extensions.code` (the README shows the refusal); any other must succeed;
//! - in ```sh blocks, `curl` commands run with `$TOKEN` set and `http://localhost:8201` pointing at
//!   the server (the quick start's `cargo` commands are how this test itself runs).

use serde_json::{Value, json};

use crate::billing_checkout::billed_server;
use crate::harness::{TestServer, connect_as, ws_next, ws_send};

const README: &str = include_str!("../../README.md");

/// One operation of a snippet, and the error code its comment says it fails with.
#[derive(Debug)]
struct Operation {
    text: String,
    fails_with: Option<String>,
}

/// The fenced blocks of `markdown` in order: (language, body).
fn blocks(markdown: &str) -> Vec<(&str, String)> {
    let mut found = Vec::new();
    let mut lines = markdown.lines();
    while let Some(line) = lines.next() {
        let Some(language) = line.strip_prefix("```") else {
            continue;
        };
        let body: Vec<&str> = lines
            .by_ref()
            .take_while(|l| !l.starts_with("```"))
            .collect();
        found.push((language.trim(), body.join("\n")));
    }
    found
}

/// The operations of a GraphQL snippet: each ends where its outermost braces close; a comment
/// on the line where one ends belongs to it.
fn operations(snippet: &str) -> Vec<Operation> {
    let mut found: Vec<Operation> = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    let mut in_string = false;
    let mut ended_on_this_line = false;
    let mut chars = snippet.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            current.push(c);
            match c {
                '\\' => current.extend(chars.next()),
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '#' => {
                let comment: String = chars.by_ref().take_while(|&c| c != '\n').collect();
                if ended_on_this_line
                    && let Some(last) = found.last_mut()
                    && let Some(code) = comment.trim().strip_prefix('→')
                {
                    let code = code.trim_start();
                    let end = code.find(|c: char| !(c.is_ascii_uppercase() || c == '_'));
                    last.fails_with = Some(code[..end.unwrap_or(code.len())].to_owned());
                }
                ended_on_this_line = false;
                current.push('\n');
                continue;
            }
            '\n' => ended_on_this_line = false,
            '"' => in_string = true,
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        current.push(c);
        if c == '}' && depth == 0 {
            found.push(Operation {
                text: std::mem::take(&mut current).trim().to_owned(),
                fails_with: None,
            });
            ended_on_this_line = true;
        }
    }
    assert!(
        current.trim().is_empty(),
        "a README snippet ends inside an operation: {current}"
    );
    found
}

/// The operation's root field (`createCharacter` in `mutation { createCharacter(...) ... }`).
fn root_field(operation: &str) -> String {
    let after_brace = &operation[operation.find('{').map_or(0, |i| i + 1)..];
    after_brace
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// The first value under `key` in `value`, depth first.
fn first_value<'v>(value: &'v Value, key: &str) -> Option<&'v Value> {
    match value {
        Value::Object(map) => map
            .get(key)
            .filter(|found| !found.is_null())
            .or_else(|| map.values().find_map(|v| first_value(v, key))),
        Value::Array(items) => items.iter().find_map(|v| first_value(v, key)),
        _ => None,
    }
}

/// The operation with each `"<field from operation>"` replaced by that earlier answer's value.
fn with_earlier_values(operation: &str, answers: &[(String, Value)]) -> String {
    let mut text = operation.to_owned();
    while let Some(start) = text.find("\"<") {
        let end = start + text[start..].find(">\"").expect("a closed placeholder");
        let placeholder = &text[start + 2..end];
        let (field, source) = placeholder
            .split_once(" from ")
            .unwrap_or_else(|| panic!("`{placeholder}` is not `<field from operation>`"));
        let answer = answers
            .iter()
            .rev()
            .find(|(root, _)| root == source)
            .unwrap_or_else(|| panic!("no `{source}` ran before `{operation}`"));
        let value = first_value(&answer.1, field)
            .unwrap_or_else(|| panic!("`{source}` answered no `{field}`: {}", answer.1));
        let literal = match value {
            Value::String(s) => Value::String(s.clone()).to_string(),
            other => other.to_string(),
        };
        text.replace_range(start..end + 2, &literal);
    }
    text
}

/// Runs a `curl` command of the README against the server as the user holding `token`, in a
/// directory with the files the README's commands upload.
fn run_curl(command: &str, server: &TestServer, token: &str) {
    let dir = tempfile::tempdir().expect("a directory");
    let mut png = Vec::new();
    image::DynamicImage::new_rgb8(8, 8)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("a PNG");
    std::fs::write(dir.path().join("portrait.png"), png).expect("write the image");
    let command = command.replace("http://localhost:8201", &server.base);
    let output = std::process::Command::new("sh")
        .args(["-c", &command])
        .current_dir(dir.path())
        .env("TOKEN", token)
        .output()
        .expect("run the README's command");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "`{command}` failed: {stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let body: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|_| panic!("`{command}` answered no JSON: {stdout}"));
    assert!(
        body.get("detail").is_none(),
        "`{command}` was refused: {body}"
    );
}

/// Pings the socket and reads up to the pong: no subscription on it may have been refused,
/// ended, or sent errors meanwhile.
async fn still_subscribed(socket: &mut crate::harness::Socket) {
    ws_send(socket, json!({ "type": "ping" })).await;
    loop {
        let message = ws_next(socket).await.expect("the socket stays open");
        if message["type"] == "pong" {
            return;
        }
        let failed = message["type"] == "error"
            || message["type"] == "complete"
            || !message["payload"]["errors"].is_null();
        assert!(!failed, "a README subscription failed: {message}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_snippet_of_the_readme_runs_in_order() {
    let (_stripe, server) = billed_server().await;
    let mut token: Option<String> = None;
    let mut answers: Vec<(String, Value)> = Vec::new();
    let mut socket = None;
    let mut subscriptions = 0;
    let mut ran = 0;
    for (language, body) in blocks(README) {
        match language {
            "graphql" => {}
            "sh" => {
                for command in body.lines().map(str::trim) {
                    if command.starts_with("curl ") {
                        let token = token.as_deref().expect("a snippet registered first");
                        run_curl(
                            command.split(" #").next().unwrap_or(command),
                            &server,
                            token,
                        );
                        ran += 1;
                    }
                }
                continue;
            }
            _ => continue,
        }
        for operation in operations(&body) {
            let text = with_earlier_values(&operation.text, &answers);
            if text.starts_with("subscription") {
                let token = token.as_deref().expect("a snippet registered first");
                if socket.is_none() {
                    socket = Some(connect_as(&server, token).await);
                }
                let socket = socket.as_mut().expect("the socket");
                subscriptions += 1;
                let id = subscriptions.to_string();
                ws_send(
                    socket,
                    json!({ "id": id, "type": "subscribe", "payload": { "query": text } }),
                )
                .await;
                // Messages are answered in order: a subscription refused is answered before
                // the ping that follows it.
                still_subscribed(socket).await;
                ran += 1;
                continue;
            }
            let answer = server.gql(token.as_deref(), &text, json!({})).await;
            match &operation.fails_with {
                Some(code) => assert_eq!(
                    answer["errors"][0]["extensions"]["code"],
                    code.as_str(),
                    "`{text}` should fail with {code}: {answer}"
                ),
                None => assert!(answer["errors"].is_null(), "`{text}` failed: {answer}"),
            }
            if token.is_none() {
                token = answer["data"]["register"]["accessToken"]
                    .as_str()
                    .map(str::to_owned);
            }
            answers.push((root_field(&text), answer["data"].clone()));
            ran += 1;
        }
    }
    // Every subscription still runs after everything else ran (one that failed on its first
    // event would have said so by now).
    if let Some(socket) = socket.as_mut() {
        still_subscribed(socket).await;
    }
    // Every section's snippets ran (a README that lost its blocks would pass vacuously).
    assert!(ran > 30, "only {ran} snippets ran");
    assert!(subscriptions >= 4, "only {subscriptions} subscriptions ran");
}

#[test]
fn snippets_are_read_as_a_reader_reads_them() {
    let parsed = operations(
        "mutation { a(x: \"}\") { b } }   # → FORBIDDEN: not yours\n{ c { d } }  # a remark\n",
    );
    assert_eq!(parsed.len(), 2, "{parsed:?}");
    assert_eq!(parsed[0].text, "mutation { a(x: \"}\") { b } }");
    assert_eq!(parsed[0].fails_with.as_deref(), Some("FORBIDDEN"));
    assert_eq!(parsed[1].fails_with, None);
    assert_eq!(root_field(&parsed[0].text), "a");
    let answers = vec![("create".to_owned(), json!({ "create": { "id": "c-1" } }))];
    assert_eq!(
        with_earlier_values("{ x(id: \"<id from create>\") }", &answers),
        "{ x(id: \"c-1\") }"
    );
}
