//! The real `loregraph` binary with no configuration: it starts its own PostgreSQL in a data
//! directory, serves, and stops everything on SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::send_json;

const BINARY: &str = env!("CARGO_BIN_EXE_loregraph");

/// A data directory the unprivileged PostgreSQL user can reach when tests run as root.
pub(crate) fn data_dir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("loregraph-bin-")
        .tempdir()
        .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// Starts the binary and returns it with the address it printed.
pub(crate) fn start(data: &Path) -> (Child, String) {
    let mut child = Command::new(BINARY)
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let address = loop {
        let line = lines
            .next()
            .expect("the server exited before announcing its address")
            .unwrap();
        if let Some(rest) = line.split("serving on http://").nth(1) {
            break rest.trim().to_owned();
        }
    };
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, address)
}

fn get(address: &str, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

pub(crate) fn postgres_running_on(data: &Path) -> bool {
    let needle = data.join("postgres");
    std::fs::read_dir("/proc").unwrap().flatten().any(|entry| {
        std::fs::read(entry.path().join("cmdline"))
            .map(|cmdline| {
                let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
                text.contains("postgres") && text.contains(needle.to_str().unwrap())
            })
            .unwrap_or(false)
    })
}

pub(crate) fn terminate(mut child: Child) -> std::process::ExitStatus {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Registers an account on the server at `address`; its access token.
pub(crate) async fn register_on(address: &str, email: &str) -> String {
    let query = format!(
        "mutation {{ register(input: {{email: \"{email}\", password: \"a long enough password\",
           displayName: \"Someone\", tenantName: \"Somewhere\"}}) {{ accessToken }} }}"
    );
    let request = reqwest::Client::new()
        .post(format!("http://{address}/graphql"))
        .json(&serde_json::json!({ "query": query }));
    let body = send_json(request).await;
    body["data"]["register"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned()
}

/// The email `token` signs in as on the server at `address`, or the error's code.
pub(crate) async fn me_on(address: &str, token: &str) -> String {
    let request = reqwest::Client::new()
        .post(format!("http://{address}/graphql"))
        .bearer_auth(token)
        .json(&serde_json::json!({ "query": "{ me { email } }" }));
    let body = send_json(request).await;
    body["data"]["me"]["email"]
        .as_str()
        .or(body["errors"][0]["extensions"]["code"].as_str())
        .unwrap_or("<nothing>")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_with_no_configuration_and_stops_cleanly() {
    let data = data_dir();
    let (child, address) = start(data.path());
    let health = get(&address, "/health/detailed").unwrap();
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.contains("\"database_status\":\"ok\""), "{health}");
    assert!(postgres_running_on(data.path()));
    // The signing secret was generated into the database, not the data dir.
    let token = register_on(&address, "first@example.com").await;
    assert!(!data.path().join("jwt_secret").exists());

    let status = terminate(child);
    assert!(status.success(), "exit status {status}");
    assert!(
        !postgres_running_on(data.path()),
        "PostgreSQL outlived the server"
    );

    // A second start reuses the cluster and the secret (a token from before still signs in);
    // so does a start after a crash that left a stale postmaster.pid behind (here a pid that no
    // longer exists).
    std::fs::write(
        data.path().join("postgres/postmaster.pid"),
        format!("999999\n{}\n", data.path().join("postgres").display()),
    )
    .unwrap();
    let (child, address) = start(data.path());
    let health = get(&address, "/health/detailed").unwrap();
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert_eq!(me_on(&address, &token).await, "first@example.com");
    assert!(terminate(child).success());
    assert!(!postgres_running_on(data.path()));
}

#[test]
fn a_killed_server_takes_its_database_down_and_restarts_cleanly() {
    let data = data_dir();
    let (mut child, _) = start(data.path());
    child.kill().unwrap();
    child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while postgres_running_on(data.path()) {
        assert!(
            Instant::now() < deadline,
            "PostgreSQL outlived a killed server"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (child, address) = start(data.path());
    assert!(
        get(&address, "/health")
            .unwrap()
            .starts_with("HTTP/1.1 200")
    );
    assert!(terminate(child).success());
}

#[test]
fn missing_postgres_binaries_give_one_clear_message() {
    let data = data_dir();
    let output = Command::new(BINARY)
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .env_remove("DATABASE_URL")
        .env("LOREGRAPH_PG_BIN_DIR", data.path().join("no-such-dir"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("PostgreSQL server binaries"), "{stderr}");
    assert!(stderr.contains("apt-get install postgresql"), "{stderr}");
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
}

#[test]
fn help_lists_every_option_with_its_environment_variable() {
    let output = Command::new(BINARY).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for name in [
        "LOREGRAPH_BIND",
        "LOREGRAPH_DATA_DIR",
        "DATABASE_URL",
        "LOREGRAPH_JWT_SECRET",
        "LOREGRAPH_MAX_QUERY_DEPTH",
    ] {
        assert!(
            help.contains(name),
            "--help does not mention {name}:\n{help}"
        );
    }
    let schema = Command::new(BINARY).arg("schema").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&schema.stdout),
        loregraph::graphql::sdl()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_and_create_superuser_from_the_command_line() {
    let data = data_dir();
    let run = |args: &[&str]| {
        let output = Command::new(BINARY)
            .args(args)
            .arg("--data-dir")
            .arg(data.path())
            .env_remove("DATABASE_URL")
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    assert!(run(&["migrate", "status"]).contains("pending"));
    assert!(run(&["migrate", "run"]).contains("applied"));
    let status = run(&["migrate", "status"]);
    assert!(
        status.contains("applied") && !status.contains("pending"),
        "{status}"
    );
    assert!(run(&["migrate", "revert"]).contains("reverted"));
    assert!(run(&["migrate", "status"]).contains("pending"));
    // create-superuser applies what is pending before it writes.
    let created = run(&[
        "admin",
        "create-superuser",
        "--email",
        "Root@Example.com",
        "--password",
        "a very good password",
    ]);
    assert!(created.contains("root@example.com"), "{created}");

    let (child, address) = start(data.path());
    let client = reqwest::Client::new();
    let login: serde_json::Value = send_json(client
        .post(format!("http://{address}/graphql"))
        .json(&serde_json::json!({ "query":
            "mutation { login(email: \"root@example.com\", password: \"a very good password\") { accessToken role } }" }))).await;
    assert_eq!(login["data"]["login"]["role"], "SUPERUSER", "{login}");
    let token = login["data"]["login"]["accessToken"].as_str().unwrap();
    let tenants: serde_json::Value = send_json(
        client
            .post(format!("http://{address}/graphql"))
            .bearer_auth(token)
            .json(&serde_json::json!({ "query": "{ tenants { total tenants { name } } }" })),
    )
    .await;
    assert_eq!(tenants["data"]["tenants"]["total"], 1, "{tenants}");
    let graphiql = client
        .get(format!("http://{address}/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(graphiql.status(), 200);
    let page = graphiql.text().await.unwrap();
    assert!(page.to_lowercase().contains("graphiql") && page.contains("/graphql/ws"));
    assert!(terminate(child).success());
}

/// The pid in the cluster's `postmaster.pid`, when it holds one.
fn postmaster_pid(data: &Path) -> Option<i32> {
    std::fs::read_to_string(data.join("postgres/postmaster.pid"))
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_embedded_database_is_restarted_and_service_returns() {
    let data = data_dir();
    let (child, address) = start(data.path());
    let client = reqwest::Client::new();
    let graphql = |query: &'static str| {
        let request = client
            .post(format!("http://{address}/graphql"))
            .json(&serde_json::json!({ "query": query }));
        async move { send_json(request).await }
    };
    let registered = graphql(
        "mutation { register(input: {email: \"kept@example.com\", password: \"a long enough password\",
           displayName: \"Kept\", tenantName: \"Kept\"}) { accessToken } }",
    )
    .await;
    assert!(registered.get("errors").is_none(), "{registered}");

    let killed = postmaster_pid(data.path()).expect("a running postmaster");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(killed),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();

    // The server starts its cluster again by itself and serves what was written before.
    let login = "mutation { login(email: \"kept@example.com\", password: \"a long enough password\") { accessToken } }";
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let body = graphql(login).await;
        if body["data"]["login"]["accessToken"].is_string() {
            break;
        }
        assert!(Instant::now() < deadline, "service did not return: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let restarted = postmaster_pid(data.path()).expect("a running postmaster");
    assert_ne!(restarted, killed);
    let ready = loop {
        let health = get(&address, "/health").unwrap();
        if health.starts_with("HTTP/1.1 200") || Instant::now() > deadline {
            break health;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");
    assert!(
        get(&address, "/health/live")
            .unwrap()
            .starts_with("HTTP/1.1 200")
    );

    // It still stops cleanly, and takes the restarted cluster with it.
    assert!(terminate(child).success());
    assert!(!postgres_running_on(data.path()));
}

/// Runs the binary to its end with these arguments and environment (no DATABASE_URL unless
/// given); its exit success, stdout and stderr.
pub(crate) fn run_to_end(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut command = Command::new(BINARY);
    command
        .args(args)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "info");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_busy_port_is_named_before_any_database_starts() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let data = data_dir();
    let data_path = data.path().to_str().unwrap();
    let (ok, stdout, stderr) =
        run_to_end(&["serve", "--bind", &address, "--data-dir", data_path], &[]);
    assert!(!ok);
    assert!(stderr.contains(&address), "{stderr}");
    assert!(
        stderr.contains("--bind") && stderr.contains("LOREGRAPH_BIND"),
        "{stderr}"
    );
    // Said once, and nothing was started: no cluster in the data directory.
    assert_eq!(stderr.matches(&address).count(), 1, "{stderr}");
    assert!(!stdout.contains(&address), "{stdout}");
    assert!(!data.path().join("postgres").exists());

    // With a JSON log, stdout is JSON only and the error is one of its lines.
    let (ok, stdout, stderr) = run_to_end(
        &[
            "serve",
            "--log-format",
            "json",
            "--bind",
            &address,
            "--data-dir",
            data_path,
        ],
        &[],
    );
    assert!(!ok);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let errors: Vec<_> = lines.iter().filter(|l| l["level"] == "ERROR").collect();
    assert_eq!(errors.len(), 1, "{stdout} | {stderr}");
    assert!(
        errors[0]["message"].as_str().unwrap().contains(&address),
        "{stdout}"
    );
    assert!(!stderr.contains(&address), "{stderr}");
    drop(taken);
}

#[test]
fn a_busy_metrics_address_is_named_before_any_database_starts() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let data = data_dir();
    let data_path = data.path().to_str().unwrap();
    let (ok, _, stderr) = run_to_end(
        &["serve", "--bind", "127.0.0.1:0", "--data-dir", data_path],
        &[("LOREGRAPH_METRICS_BIND", &address)],
    );
    assert!(!ok);
    assert!(
        stderr.contains(&address) && stderr.contains("LOREGRAPH_METRICS_BIND"),
        "{stderr}"
    );
    assert!(!data.path().join("postgres").exists());
    drop(taken);
}

#[test]
fn a_database_that_cannot_be_reached_is_named_without_its_password() {
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let url = format!("postgres://ada:s3cret-pw@127.0.0.1:{port}/lore_nowhere");
    let (ok, stdout, stderr) = run_to_end(&["migrate", "status"], &[("DATABASE_URL", &url)]);
    assert!(!ok);
    for part in ["127.0.0.1", &port.to_string(), "lore_nowhere"] {
        assert!(stderr.contains(part), "{part}: {stderr}");
    }
    assert!(!stderr.contains("s3cret-pw") && !stdout.contains("s3cret-pw"));
    assert_eq!(stderr.matches("lore_nowhere").count(), 1, "{stderr}");
}

#[test]
fn global_options_go_before_or_after_the_subcommand() {
    let data = data_dir();
    let data_path = data.path().to_str().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let url = format!("postgres://ada@127.0.0.1:{port}/lore_either_side");
    for args in [
        vec![
            "--data-dir",
            data_path,
            "--log-format",
            "json",
            "migrate",
            "status",
        ],
        vec![
            "migrate",
            "status",
            "--data-dir",
            data_path,
            "--log-format",
            "json",
        ],
        vec![
            "--log-format",
            "json",
            "migrate",
            "--data-dir",
            data_path,
            "status",
        ],
    ] {
        let (ok, stdout, stderr) = run_to_end(&args, &[("DATABASE_URL", &url)]);
        assert!(!ok);
        // The JSON log took effect wherever the option stood: the failure is one JSON line.
        let line: serde_json::Value = serde_json::from_str(stdout.trim())
            .unwrap_or_else(|_| panic!("{args:?}: {stdout} | {stderr}"));
        assert!(
            line["message"]
                .as_str()
                .unwrap()
                .contains("lore_either_side"),
            "{line}"
        );
    }
    // `serve`'s own options before another subcommand would be ignored there: refused.
    let (ok, _, stderr) = run_to_end(&["--bind", "127.0.0.1:1", "migrate", "status"], &[]);
    assert!(!ok);
    assert!(
        stderr.contains("--bind") && stderr.contains("serve"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_and_create_superuser_run_beside_a_running_server() {
    let data = data_dir();
    let data_path = data.path().to_str().unwrap();
    let (child, address) = start(data.path());

    // The tools reach the running server's cluster through its socket instead of refusing.
    let (ok, stdout, stderr) = run_to_end(&["--data-dir", data_path, "migrate", "status"], &[]);
    assert!(ok, "{stdout} | {stderr}");
    let applied = stdout.lines().filter(|line| line.starts_with("applied"));
    assert!(applied.count() > 5, "{stdout}");
    assert!(!stdout.contains("pending"), "{stdout}");
    // With a JSON log, what they say is JSON too.
    let (ok, stdout, stderr) = run_to_end(
        &["migrate", "--data-dir", data_path, "--log-format", "json"],
        &[],
    );
    assert!(ok, "{stdout} | {stderr}");
    for line in stdout.lines() {
        let line: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert!(line["message"].is_string(), "{line}");
    }
    assert!(stdout.contains("no pending migrations"), "{stdout}");

    let (ok, stdout, stderr) = run_to_end(
        &[
            "admin",
            "create-superuser",
            "--data-dir",
            data_path,
            "--email",
            "root@beside.test",
            "--password",
            "a long enough password",
        ],
        &[],
    );
    assert!(ok, "{stdout} | {stderr}");
    assert!(stdout.contains("root@beside.test"), "{stdout}");

    // The running server sees the new account at once, and still serves.
    let login = reqwest::Client::new()
        .post(format!("http://{address}/graphql"))
        .json(&serde_json::json!({ "query":
            "mutation { login(email: \"root@beside.test\", password: \"a long enough password\") { user { isSuperuser } } }" }));
    let body = send_json(login).await;
    assert_eq!(body["data"]["login"]["user"]["isSuperuser"], true, "{body}");
    // Serving twice on one data dir is still refused.
    let (ok, _, stderr) = run_to_end(
        &["serve", "--bind", "127.0.0.1:0", "--data-dir", data_path],
        &[],
    );
    assert!(!ok);
    assert!(
        stderr.contains("in use by another running server"),
        "{stderr}"
    );
    assert!(terminate(child).success());
    assert!(!postgres_running_on(data.path()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_sharing_a_database_agree_on_the_signing_key_they_generated() {
    let database_url = crate::harness::fresh_database().await;
    let no_secret = |command: &mut Command| {
        command.env_remove("LOREGRAPH_JWT_SECRET");
    };
    let first = crate::harness::TestServer::spawn_binary_on(database_url.clone(), no_secret).await;
    let second = crate::harness::TestServer::spawn_binary_on(database_url.clone(), no_secret).await;
    let first_address = first.base.trim_start_matches("http://").to_owned();
    let second_address = second.base.trim_start_matches("http://").to_owned();

    let token = register_on(&first_address, "roams@nodes.test").await;
    assert_eq!(me_on(&second_address, &token).await, "roams@nodes.test");
    let other = register_on(&second_address, "stays@nodes.test").await;
    assert_eq!(me_on(&first_address, &other).await, "stays@nodes.test");

    first.shutdown().await;
    second.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_kept_in_the_data_dir_by_an_earlier_version_moves_into_the_database() {
    let database_url = crate::harness::fresh_database().await;
    let pool = loregraph::db::build_pool(&database_url, &Default::default()).unwrap();
    let legacy = b"the secret an earlier version generated".to_vec();
    let shared = loregraph::auth::signing_secret::shared(&pool, Some(legacy.clone()))
        .await
        .unwrap();
    assert_eq!(shared, legacy);
    // Every later node reads it, whatever it would have made itself.
    assert_eq!(
        loregraph::auth::signing_secret::shared(&pool, None)
            .await
            .unwrap(),
        legacy
    );
    assert_eq!(
        loregraph::auth::signing_secret::shared(&pool, Some(b"another".to_vec()))
            .await
            .unwrap(),
        legacy
    );
}
